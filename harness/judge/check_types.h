/*
 * The types every check works on: a check's result (one TAP point), the
 * list of a case's results, and the inputs of the checks. A header of its
 * own, with no .c beside it, so that checks.c and the checks kept in files
 * of their own (check_measured.c) share them without depending on each
 * other; the functions over them are in checks.h.
 */
#ifndef DTB_HARNESS_CHECK_TYPES_H
#define DTB_HARNESS_CHECK_TYPES_H

#include "case_config.h"
#include "envelope.h"
#include "oracle.h"
#include "rank_file.h"
#include "tap.h"

typedef enum check_status { CHECK_PASS = 0, CHECK_FAIL = 1, CHECK_SKIP = 2 } check_status;

typedef struct check_result {
    char name[64];            /* "loss every step", ... */
    check_status status;
    char skip_reason[128];
    tap_diag diag;            /* YAML diagnostics (failures; may be empty) */
    /* For tolerance checks, the worst err_impl / tolerance over what was
     * compared (pass or fail); negative when the check has no tolerance. */
    double ratio;
    char ratio_where[64];     /* e.g. "W1[379] after step 10", "loss step 4" */
    /* The same comparison under the single-baseline model that the envelope
     * replaced (tolerance.h), for the seed sweep's comparison; negative when
     * the check has no tolerance. */
    double single_ratio;
} check_result;

/* A case has at most 20 points plus one per checked step (CASE_MAX_CHECKS):
 * completed, ran what was asked, loss, grad norm, clipping, every row,
 * ranks identical or no collectives, deterministic, clip coefficient,
 * compute parameters, volume, formula, buffers, the three strict ones and
 * reported figures match measured. */
#define CHECKS_MAX 28

typedef struct check_list {
    check_result items[CHECKS_MAX];
    int n;
} check_list;

/* Everything the checks of a completed case compare. */
typedef struct check_inputs {
    const case_config *cfg;
    int world_size;
    const rank_result *run1;       /* [world_size], validated against cfg */
    const rank_result *run2;       /* [world_size], or NULL when run 2 failed */
    const char *run2_reason;       /* why run 2 failed (when run2 is NULL) */
    const rank_result *baseline;   /* rank 0 of the fp32 baseline, or NULL */
    const char *baseline_reason;   /* why there is no baseline */
    const oracle_trace *oracle;    /* or NULL */
    const char *oracle_reason;     /* why there is no oracle */
    /* Also hold the plugin to the reference's exact communication and
     * memory (dtbench's own plugins; --strict). */
    int strict;
    /* Clipping must bite at some steps and not at others (an edge case that
     * makes clipping below the threshold visible), not at every step. */
    int clip_mixed;
    /* The natural spread of fp32 arithmetic (envelope.h): baseline and
     * ensemble. NULL with envelope_reason NULL: the baseline's distance to
     * the oracle alone (an ensemble of one; the unit tests); NULL with a
     * reason: the ensemble failed, and so does every tolerance check. */
    const envelope *envelope;
    const char *envelope_reason;
} check_inputs;

#endif
