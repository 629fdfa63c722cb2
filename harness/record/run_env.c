#include "run_env.h"

#include <cblas.h>
#include <mpi.h>
#include <unistd.h>

#include "launcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strvec.h"

/* The output of a shell command, lines joined by "; ", trailing space
 * trimmed; 0 only when it ran, exited 0 and printed something. */
static int command_output(const char *cmd, char *out, size_t len)
{
    out[0] = '\0';
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512];
    size_t used = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? "; " : "", line);
        if (w < 0 || (size_t)w >= len - used) {
            used = strlen(out);
            break;
        }
        used += (size_t)w;
    }
    int status = pclose(p);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out[0]) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static void cpu_model(char *out, size_t len)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (v) {
            v += strspn(v + 1, " \t") + 1;
            snprintf(out, len, "%.*s", (int)strcspn(v, "\r\n"), v);
        }
        break;
    }
    fclose(f);
}

/* /proc/self/cmdline (NUL-separated) as one shell-quoted line. */
static char *command_line(int argc, char **argv)
{
    strvec v;
    strvec_init(&v);
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (f) {
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
            strvec_push(&v, buf + i);
    }
    if (v.n == 0) {
        strvec_push(&v, "dtbench");
        strvec_push(&v, "run");
        for (int i = 0; i < argc; i++)
            strvec_push(&v, argv[i]);
    }
    char *line = strvec_ok(&v) ? strvec_shell_join(&v) : NULL;
    strvec_free(&v);
    return line;
}

/* "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" style:
 * the library's own build line and the core kernel it chose. */
static void blas_facts(char *out, size_t len)
{
    snprintf(out, len, "%s, core %s", openblas_get_config(), openblas_get_corename());
}

/* The first line of MPI_Get_library_version (callable before MPI_Init). */
static void mpi_facts(char *out, size_t len)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    out[0] = '\0';
    if (MPI_Get_library_version(v, &n) != MPI_SUCCESS)
        return;
    v[n < (int)sizeof v ? (n > 0 ? n : 0) : (int)sizeof v - 1] = '\0';
    v[strcspn(v, "\n")] = '\0';
    snprintf(out, len, "%s", v);
}

void run_env_collect(run_env_facts *f, int argc, char **argv)
{
    memset(f, 0, sizeof *f);
    f->dirty = -1;
    if (command_output("git rev-parse HEAD 2>/dev/null", f->commit, sizeof f->commit) == 0) {
        char changes[64];
        /* tracked files only: untracked build outputs do not make a tree dirty */
        int rc = command_output("git status --porcelain --untracked-files=no 2>/dev/null | "
                                "head -n 1; exit 0",
                                changes, sizeof changes);
        f->dirty = rc == 0 && changes[0] ? 1 : 0;
    }
    if (gethostname(f->host, sizeof f->host - 1) != 0)
        f->host[0] = '\0';
    cpu_model(f->cpu_model, sizeof f->cpu_model);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    f->cpu_cores = cores > 0 && cores < 1 << 20 ? (int)cores : -1;
    blas_facts(f->blas, sizeof f->blas);
    f->blas_threads = LAUNCH_BLAS_THREADS_PER_RANK;
    mpi_facts(f->mpi_version, sizeof f->mpi_version);
    command_output("nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null", f->gpu,
                   sizeof f->gpu);
    f->command_line = command_line(argc, argv);
}

void run_env_free(run_env_facts *f)
{
    free(f->command_line);
    f->command_line = NULL;
}
