/*
 * The result of a comm benchmark world, as rank 0 of `dtbench worker-comm`
 * writes it to DIR/comm-result.txt and the harness reads it back.
 *
 * A versioned line-oriented text file; tokens separated by one space:
 *
 *   dtbench-comm-result 1
 *   np <N>
 *   cases <C>
 *   then C times:
 *     case <op> <side> bytes <S> elements <E> calls <K> warmup <W> reps <R>
 *     rep <i> <warmup 0|1> <seconds>          (i = 0 .. W+R-1, warm-ups first)
 *     check <checked> <wrong> <rank> <rep> <index> <expected> <got>
 *   end <C>
 *
 * op is a collective name (comm_ops.h) or "replay" (one training step's
 * collectives); side is "dtbench" or "mpi". S is the size in bytes as
 * nccl-tests states it (for a replay, the sum over its calls), E the count
 * or block of one call (a replay: 0), K the calls per repetition. seconds
 * is the repetition's time, the maximum over ranks. check: elements
 * compared over all ranks and repetitions, how many were wrong, and the
 * first wrong one (rank, rep, index, expected, got) or "-1 -1 -1 0 0".
 *
 * The file is written under a temporary name and renamed. The reader
 * accepts nothing else: a missing "end", a line out of order, a bad number
 * (floats must be finite, seconds >= 0) or a count that does not add up is
 * refused with one line naming the file and the line.
 */
#ifndef DTB_HARNESS_COMM_RESULT_H
#define DTB_HARNESS_COMM_RESULT_H

#include <stddef.h>
#include <stdint.h>

#define COMM_RESULT_VERSION 1
#define COMM_RESULT_FILE "comm-result.txt"
/* op of a replay case */
#define COMM_RESULT_REPLAY (-1)
/* Bounds the reader enforces. */
#define COMM_RESULT_MAX_CASES 100000
#define COMM_RESULT_MAX_REPS 100000

typedef enum comm_side { COMM_SIDE_DTBENCH = 0, COMM_SIDE_MPI = 1 } comm_side;

typedef struct comm_result_case {
    int op;                    /* dtb_collective, or COMM_RESULT_REPLAY */
    comm_side side;
    int64_t bytes;             /* S */
    int64_t elements;          /* count or block of one call; 0 for a replay */
    int64_t calls;             /* calls per repetition */
    int warmup, reps;
    double *seconds;           /* [warmup + reps], warm-ups first; owned */
    int64_t checked, wrong;
    int bad_rank, bad_rep;     /* -1 when nothing was wrong */
    int64_t bad_index;
    double expected, got;
} comm_result_case;

typedef struct comm_result {
    int np;
    int n_cases;
    comm_result_case *cases;   /* owned */
} comm_result;

/* "dtbench", "mpi" */
const char *comm_side_name(comm_side side);

/* Allocates n cases (zeroed, bad_rank/bad_rep -1) with seconds[warmup+reps]
 * each; 0, or -1 when out of memory (r left empty). */
int comm_result_alloc(comm_result *r, int np, int n_cases, int warmup, int reps);
void comm_result_free(comm_result *r);

/* Writes r to path (via path.tmp and rename); 0, or -1 with a message. */
int comm_result_write(const char *path, const comm_result *r, char *err, size_t err_len);

/* Reads and validates path into r (free with comm_result_free); 0, or -1
 * with a one-line message (r left empty). */
int comm_result_read(const char *path, comm_result *r, char *err, size_t err_len);

#endif
