/*
 * Crash injection for the checkpoint suite's recovery cases: a thread that
 * watches a world's checkpoint root and, once a committed checkpoint
 * (step-<S>) is there, waits a given delay and sends SIGKILL to one rank,
 * whose pid the worker left in <root>/.rank-<r>.pid (worker_ckpt.h). The
 * harness, not the plugin or the worker, sends the signal, at a moment the
 * world does not choose: in a step, between steps or in the middle of a
 * save. Observing instead (rank WORLD_KILL_OBSERVE), it times how long the
 * world trains after its first checkpoint: the window a kill may land in.
 */
#ifndef DTB_HARNESS_WORLD_KILL_H
#define DTB_HARNESS_WORLD_KILL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* world_killer.rank: no kill, only time the window (below). */
#define WORLD_KILL_OBSERVE (-2)

typedef struct world_killer {
    pthread_t thread;
    char root[PATH_MAX];
    int rank;
    double delay_s;
    atomic_int stop;           /* set by world_killer_stop */
    /* results, read after the join */
    int killed;
    double after_s;            /* seconds from seeing the first checkpoint to the kill;
                                  observing: to rank 0's <root>/.trained, 0 if never seen */
    int during_save;           /* a staging directory (".step-*.partial-*") existed then */
} world_killer;

/* Starts the thread. 0, or -1 when it cannot (then no kill happens). */
int world_killer_start(world_killer *k, const char *root, int rank, double delay_s);
/* Stops and joins it; what it did into the outputs. */
void world_killer_stop(world_killer *k, int *killed, double *after_s, int *during_save);

#endif
