/*
 * `dtbench worker`: one rank of a rank world, started by mpirun. It
 * initialises MPI, builds the run spec and the host API, loads the plugin,
 * trains, and writes rank-<rank>.bin into --out (rank_file.h). When the
 * plugin (or the worker's own setup) fails it writes error-<rank>.txt with
 * the one-line reason and aborts the world with exit code 3; when the plugin
 * crashes, hangs or exits, no rank file appears and the harness, which only
 * ever reads files, reports the case as not completed.
 *
 *   dtbench worker --impl PATH --out DIR <case_config arguments>
 */
#ifndef DTB_HARNESS_WORKER_H
#define DTB_HARNESS_WORKER_H

#define WORKER_EXIT_PLUGIN_ERROR 3

/* Markers a training worker leaves in --out beside its rank file, for the
 * harness to say which rank did what when a world fails: started-<rank>
 * once MPI has given it its rank; exited-<rank> when the process exits
 * (exit(), a return from main of a library) before the worker finished,
 * written by an atexit handler, so never by a rank killed by a signal
 * (mpirun killing the others after one rank left, for instance). */
#define WORKER_STARTED_MARK "started-%d"
#define WORKER_EXITED_MARK "exited-%d"
/* Open MPI's job id ($OMPI_MCA_ess_base_jobid, decimal), written by rank 0
 * under Open MPI: the shared-memory segments of a world that did not end
 * cleanly (/dev/shm/vader_segment.<host>.<job id in hex>.<local rank>) are
 * found by it and removed (world.c). */
#define WORKER_MPI_JOB_FILE "ompi-job"

int worker_main(int argc, char **argv);

/* Every worker command's way to fail: writes `message` (newlines made
 * spaces) as one line to <out_dir>/error-<rank>.txt through a temporary
 * name (out_dir may be NULL: nothing written), says it on stderr prefixed
 * by `who`, and aborts the world with WORKER_EXIT_PLUGIN_ERROR. The harness
 * reads the file back as the world's reason (world_failure_reason). */
_Noreturn void worker_abort_world(const char *who, const char *out_dir, int rank,
                                  const char *message);

#endif
