/*
 * Whether the launcher can start a rank world at all, found before the first
 * case and before anything is recorded: `mpirun -np 1 dtbench worker-probe
 * --out DIR` must run dtbench, which leaves DIR/probe-ok. A launcher that is
 * no MPI launcher (/bin/true exits 0 and starts nothing), a hostfile mpirun
 * refuses, or a broken MPI installation is then one line and exit 2 instead
 * of every case failing the same way.
 */
#ifndef DTB_HARNESS_WORLD_PROBE_H
#define DTB_HARNESS_WORLD_PROBE_H

#include <stddef.h>

#include "world.h"

/* The probe world's limit: env->timeout_s, at most this. */
#define WORLD_PROBE_TIMEOUT_S 60.0
/* What the rank leaves in its --out directory. */
#define WORLD_PROBE_FILE "probe-ok"

/* Launches the probe world under env; 0, or -1 with one line naming the
 * launcher and what went wrong. */
int world_probe(const world_env *env, char *err, size_t err_len);

/* `dtbench worker-probe --out DIR` (the rank side): writes DIR/probe-ok.
 * Needs no MPI. Exit status 0, or 2 with one line on stderr. */
int world_probe_main(int argc, char **argv);

#endif
