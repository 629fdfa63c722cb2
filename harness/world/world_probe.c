#include "world_probe.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_parse.h"

int world_probe_main(int argc, char **argv)
{
    const char *out_dir = NULL;
    const cli_option opts[] = {{"out", &out_dir, NULL}};
    char err[512], path[PATH_MAX];
    int bad = cli_parse_options("worker-probe", argc, argv, opts, 1, err, sizeof err);
    if (bad || !out_dir) {
        fprintf(stderr, "dtbench: %s\n", bad ? err : "worker-probe: --out DIR is required");
        return 2;
    }
    if (snprintf(path, sizeof path, "%s/%s", out_dir, WORLD_PROBE_FILE) >= (int)sizeof path) {
        fprintf(stderr, "dtbench: worker-probe: --out path too long\n");
        return 2;
    }
    FILE *f = fopen(path, "w");
    int ok = f && fputs("ok\n", f) >= 0;
    int saved = errno;
    if (f && fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        fprintf(stderr, "dtbench: worker-probe: cannot write %s: %s\n", path, strerror(saved));
        return 2;
    }
    return 0;
}

/* Whether [s, e) holds a letter or digit (not a rule of dashes). */
static int has_words(const char *s, const char *e)
{
    for (; s < e; s++)
        if (isalnum((unsigned char)*s))
            return 1;
    return 0;
}

/* The first line of text with a word in it (mpirun's headline; its banners
 * open with a rule of dashes), at most max - 1 bytes, into line. */
static void first_line(const char *text, char *line, size_t max)
{
    line[0] = '\0';
    for (const char *start = text; start && *start;) {
        const char *end = strchr(start, '\n');
        if (!end)
            end = start + strlen(start);
        if (has_words(start, end)) {
            size_t n = (size_t)(end - start) < max - 1 ? (size_t)(end - start) : max - 1;
            memcpy(line, start, n);
            line[n] = '\0';
            return;
        }
        start = *end ? end + 1 : end;
    }
}

/* "a one-rank probe exited with status 1: <mpirun's headline>". */
static void probe_failure(const world_env *env, const world_outcome *out, char *err,
                          size_t err_len)
{
    char how[256], said[300];
    launch_describe(&out->launch, out->timeout_s, how, sizeof how);
    first_line(out->log_tail, said, sizeof said);
    snprintf(err, err_len, "mpirun %s cannot start a rank world: a one-rank probe %s%s%s",
             env->mpirun.mpirun, how, said[0] ? ": " : "", said);
}

int world_probe(const world_env *env, char *err, size_t err_len)
{
    world_env probe_env = *env;
    probe_env.keep = 0;
    if (probe_env.timeout_s > WORLD_PROBE_TIMEOUT_S)
        probe_env.timeout_s = WORLD_PROBE_TIMEOUT_S;
    strvec args;
    strvec_init(&args);
    strvec_push(&args, "worker-probe");
    if (!strvec_ok(&args)) {
        strvec_free(&args);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    world_outcome out;
    int launched = world_launch(&probe_env, 1, &args, &out) == 0;
    strvec_free(&args);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", out.dir, WORLD_PROBE_FILE);
    /* mpirun exiting 0 is not enough: the rank must have run. */
    int ran = launched && out.dir[0] && access(path, F_OK) == 0;
    if (!ran && launched)
        snprintf(err, err_len, "mpirun %s cannot start a rank world: a one-rank probe exited 0 "
                 "without running dtbench (is it an MPI launcher? use --mpirun PATH)",
                 env->mpirun.mpirun);
    else if (!ran && !out.dir[0])
        snprintf(err, err_len, "mpirun %s cannot start a rank world: %s", env->mpirun.mpirun,
                 out.reason);
    else if (!ran)
        probe_failure(env, &out, err, err_len);
    world_dir_done(&probe_env, &out);
    world_outcome_free(&out);
    return ran ? 0 : -1;
}
