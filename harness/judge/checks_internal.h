/*
 * What the check files of this folder share: marking a check failed or
 * skipped, and the checks that live outside checks.c (checks_run calls
 * them in order). Not for other layers.
 */
#ifndef DTB_HARNESS_CHECKS_INTERNAL_H
#define DTB_HARNESS_CHECKS_INTERNAL_H

#include "checks.h"

/* Status FAIL, and the one-line message as the YAML key "message". */
void check_fail(check_result *c, const char *message);
/* Status SKIP with the reason TAP shows after "# SKIP". */
void check_skip(check_result *c, const char *reason);

/* checks_neutral.c: "communication volume" and "memory within formula". */
void check_communication_volume(const check_inputs *in, check_list *out);
void check_memory_formula(const check_inputs *in, check_list *out);
/* Activations, communication buffers and scratch against the neutral bounds
 * ("activations and buffers within bounds") or, strict, the reference's exact
 * figures ("activations and buffers match theory"), theory_neutral.h. */
void check_buffers_neutral(const check_inputs *in, check_list *out);
void check_buffers_strict(const check_inputs *in, check_list *out);

/* checks_recipe.c: "clip coefficient exact" (cases that clip) and "compute
 * parameters are the rounding of the masters". */
void check_clip_coefficient(const check_inputs *in, check_list *out);
void check_compute_params(const check_inputs *in, check_list *out);

/* hints.c: a "likely_cause" line on failing points whose signature matches
 * a known bug class (never a verdict). Runs after every check. */
void checks_hint(const check_inputs *in, check_list *out);

#endif
