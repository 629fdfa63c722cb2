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

int worker_main(int argc, char **argv);

#endif
