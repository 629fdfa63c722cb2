/*
 * The checks of one case (one TAP test point each), computed only from
 * rank files already read back (rank_file.h) and from the baseline and
 * oracle results: a check never talks to a plugin, so the harness process is
 * the only one that decides or records anything.
 */
#ifndef DTB_HARNESS_CHECKS_H
#define DTB_HARNESS_CHECKS_H

#include "case_config.h"
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
    char ratio_where[64];     /* e.g. "W1 after step 10", "loss step 4" */
} check_result;

#define CHECKS_MAX 24

typedef struct check_list {
    check_result items[CHECKS_MAX];
    int n;
} check_list;

void check_list_init(check_list *l);
void check_list_free(check_list *l);
/* Appends a check (status pass, no diag) and returns it; NULL when full. */
check_result *check_list_add(check_list *l, const char *name);

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
} check_inputs;

/* Appends, in order: ran what was asked, loss every step, grad norm every
 * step, clipping active (cases that clip), params after each check step,
 * every row changed, ranks bitwise identical (np > 1), bitwise
 * deterministic run to run, world of 1 issues no collectives (np = 1), clip
 * coefficient exact, compute parameters are the rounded masters, and for
 * the DDP and ZeRO stages the neutral communication volume and memory
 * within formula (theory_neutral.h), then, strict only, communication
 * matches theory and memory within theory (theory.h). Their YAML carries
 * the bus bytes and measured/theory ratios on passing points too. */
void checks_run(const check_inputs *in, check_list *out);

#endif
