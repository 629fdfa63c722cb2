#include "run_args.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_parse.h"

/* Whether line names a host: anything but blanks before an optional '#'
 * comment (mpirun's hostfile syntax). */
static int names_a_host(const char *line)
{
    for (const char *p = line; *p && *p != '#'; p++)
        if (!isspace((unsigned char)*p))
            return 1;
    return 0;
}

/* --hostfile must be a regular file we can read that names at least one
 * host: mpirun would otherwise fail inside every case, after the database
 * row exists, with a message far from the cause. */
static int check_hostfile(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            snprintf(err, err_len, "--hostfile: %s does not exist", path);
        else
            snprintf(err, err_len, "--hostfile: cannot use %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "--hostfile: %s is %s", path,
                 S_ISDIR(st.st_mode) ? "a directory, not a file of host names"
                                     : "not a regular file");
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "--hostfile: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int hosts = 0;
    while (!hosts && fgets(line, sizeof line, f))
        hosts = names_a_host(line);
    int read_failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (read_failed) {
        snprintf(err, err_len, "--hostfile: cannot read %s: %s", path, strerror(saved));
        return -1;
    }
    if (!hosts) {
        snprintf(err, err_len, "--hostfile: %s names no host (it is empty or only comments)",
                 path);
        return -1;
    }
    return 0;
}

/* mpirun, hostfile, timeout, keep and the paths of the world environment. */
int run_args_setup_env(const run_args *a, world_env *env, char *mpirun, size_t mpirun_len,
                     char *err, size_t err_len)
{
    memset(env, 0, sizeof *env);
    if (world_env_init(env, err, err_len))
        return -1;
    const char *m = a->mpirun ? a->mpirun : getenv("DTB_MPIRUN");
    if (!m || !*m)
        m = "mpirun";
    if (launch_find_executable(m, mpirun, mpirun_len) != 0) {
        struct stat st;
        int is_dir = strchr(m, '/') && stat(m, &st) == 0 && S_ISDIR(st.st_mode);
        snprintf(err, err_len, "mpirun '%s' %s (use --mpirun PATH or DTB_MPIRUN)", m,
                 is_dir ? "is a directory, not an executable" : "not found or not executable");
        return -1;
    }
    env->mpirun.mpirun = mpirun;
    env->mpirun.as_root = geteuid() == 0;
    if (a->hostfile) {
        if (check_hostfile(a->hostfile, err, err_len))
            return -1;
        env->mpirun.hostfile = a->hostfile;
    }
    env->timeout_s = 120;
    if (a->timeout &&
        cli_parse_double("--timeout", a->timeout, 1e-3, 86400, &env->timeout_s, err, err_len))
        return -1;
    env->keep = a->keep;
    return 0;
}
