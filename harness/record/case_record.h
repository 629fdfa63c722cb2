/*
 * One finished case (run.h's case_result) as the results database records
 * it (results_record.h): its key and configuration, every check with its
 * diagnostics, and its metrics:
 *   step_seconds        timing, s: train_step wall time of every rank, step
 *                       and world run (1, 2); step 1 is warm-up
 *   case_seconds        timing, s: the case's wall time, references included
 *   comm_calls.<kind>   exact, per rank: collective calls (allreduce, ...)
 *   comm_bytes.<kind>   exact, B, per rank: their sizes as nccl-tests counts
 *   mem_peak.<category> exact, B, per rank: tracked peak memory (params,
 *                       grads, optim, activations, comm, other, total)
 * Counters and memory come from world run 1 (run 2 is bitwise the same
 * training, checked).
 */
#ifndef DTB_HARNESS_CASE_RECORD_H
#define DTB_HARNESS_CASE_RECORD_H

#include "results_record.h"
#include "run.h"

typedef struct case_record {
    results_case c;            /* points into the storage below */
    char key[256];
    char *config;              /* JSON, malloc'd */
    results_check checks[CHECKS_MAX];
    char *diagnostics[CHECKS_MAX];
    results_metric *metrics;
    int n_metrics;
    char (*metric_names)[48];
    results_sample *samples;
} case_record;

/* "ddp mlp-odd sgd noclip fp32 np=2 mb=3": what matches a case across runs
 * (the case label, plan.h, with the suite in place of the implementation). */
void case_record_key(const dtb_case *cs, char *buf, size_t len);

/* Builds the record of r (impl_version may be NULL). Returns -1 when out of
 * memory (out is then empty). */
int case_record_build(const case_result *r, const char *impl_version, case_record *out);
void case_record_free(case_record *rec);

#endif
