/*
 * The facts a recorded run keeps about where and from what it ran: git
 * commit and whether the tree was dirty (git in the current directory's
 * repository; unknown when there is no git or no repository), host, CPU
 * model (/proc/cpuinfo), GPU (nvidia-smi; none when it is absent or fails)
 * cores, the BLAS and its threads per rank, the MPI library's version
 * and the full command line (/proc/self/cmdline, shell-quoted). Collecting
 * never fails a run: what cannot be found is left unknown (NULL).
 */
#ifndef DTB_HARNESS_RUN_ENV_H
#define DTB_HARNESS_RUN_ENV_H

typedef struct run_env_facts {
    char commit[64];        /* "" unknown */
    int dirty;              /* 0, 1, -1 unknown */
    char host[256];         /* "" unknown */
    char cpu_model[256];    /* "" unknown */
    char gpu[512];          /* "" none */
    int cpu_cores;          /* online cores, -1 unknown */
    char blas[256];         /* the BLAS's build line and chosen core */
    int blas_threads;       /* BLAS threads each rank runs with (the launcher sets it) */
    char mpi_version[256];  /* MPI_Get_library_version, first line; "" unknown */
    char *command_line;     /* malloc'd; NULL when out of memory */
} run_env_facts;

/* argc/argv: the arguments after "run", used when /proc/self/cmdline is
 * unreadable. */
void run_env_collect(run_env_facts *f, int argc, char **argv);
void run_env_free(run_env_facts *f);

#endif
