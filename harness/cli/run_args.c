#include "run_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_parse.h"

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
        snprintf(err, err_len, "mpirun '%s' not found or not executable (use --mpirun PATH "
                 "or DTB_MPIRUN)", m);
        return -1;
    }
    env->mpirun.mpirun = mpirun;
    env->mpirun.as_root = geteuid() == 0;
    if (a->hostfile) {
        struct stat st;
        if (stat(a->hostfile, &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, err_len, "--hostfile: %s does not exist", a->hostfile);
            return -1;
        }
        env->mpirun.hostfile = a->hostfile;
    }
    env->timeout_s = 120;
    if (a->timeout &&
        cli_parse_double("--timeout", a->timeout, 1e-3, 86400, &env->timeout_s, err, err_len))
        return -1;
    env->keep = a->keep;
    return 0;
}
