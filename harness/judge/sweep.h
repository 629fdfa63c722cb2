/*
 * The seed sweep (dtbench run --seeds N; docs/tolerance.md): the suite's
 * whole matrix once per seed, N seeds derived from the suite's (or --seed's)
 * seed, so a verdict can be measured on many trajectories rather than one.
 * Over a correct implementation every failing case is a false positive, and
 * the run's summary gives their rate; over a deliberately broken one every
 * seed must fail.
 */
#ifndef DTB_HARNESS_SWEEP_H
#define DTB_HARNESS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define SWEEP_MAX_SEEDS 10000

/* Seed i (0-based) of a sweep from base: splitmix64(base + i) reduced to
 * 53 bits (exact in a double, so in JSON too). Every seed is a valid data
 * and init key (model-spec.md section 1). */
uint64_t sweep_seed(uint64_t base, int i);

/* The suite's cases for each of n_seeds seeds (1..SWEEP_MAX_SEEDS) derived
 * from ov's seed if it has one, else the suite's: seed-major, each case's
 * sweep_index its seed's, labels carrying the seed. As plan_cases
 * otherwise (malloc'd array; -1 with one line in err). */
int plan_sweep(const dtb_suite *suite, const plan_overrides *ov, int n_seeds, dtb_case **out,
               int *n, char *err, size_t err_len);

#endif
