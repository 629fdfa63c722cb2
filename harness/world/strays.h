/*
 * Processes a rank world leaves behind. A plugin may start processes of its
 * own; those in a rank's process group die with the world (the launcher
 * kills mpirun's group), but one that detached (setsid, a double fork)
 * would outlive the run. dtbench makes itself a child subreaper
 * (strays_adopt), so such a process becomes dtbench's child when the rank
 * that started it exits, instead of init's. Once a world has ended and
 * mpirun has been reaped, dtbench has no child of its own (it runs one
 * world at a time and reaps every process it starts), so every child it
 * still has is a stray: strays_reap kills and reaps them, and their own
 * children in turn, which then become dtbench's.
 */
#ifndef DTB_HARNESS_STRAYS_H
#define DTB_HARNESS_STRAYS_H

#include <stddef.h>
#include <sys/types.h>

/* Makes this process a child subreaper (Linux 3.4+). 0, or -1 with a line
 * in err. */
int strays_adopt(char *err, size_t err_len);

/* Kills (SIGKILL) and reaps every child of this process but `keep` (0: no
 * exception), until none is left; returns how many there were alive (a
 * child that had already exited, a zombie, is reaped and not counted). While a
 * world runs, keep is its mpirun: a stray holding the output pipes mpirun
 * inherited to its ranks would otherwise keep mpirun waiting for their end
 * after every rank has exited. */
int strays_reap(pid_t keep);

/* After a world: reaps the children that exit by themselves within
 * `seconds` (ranks of a failed world that mpirun was tearing down, which
 * die with it by PR_SET_PDEATHSIG but may not be gone yet when mpirun has
 * been reaped), so that strays_reap then counts only what a plugin left
 * running. Returns how many children are still alive (0 at once when
 * there are none: a world that ended cleanly costs nothing). */
int strays_settle(double seconds);

#endif
