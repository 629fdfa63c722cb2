/*
 * One case of the checkpoint suite (suites/checkpoint.c, docs/checkpoint.md):
 * the worlds it runs and the points it judges.
 *
 * A transition (dtb_ckpt_transition, crash 0), save step S, last step T:
 *   world 1  the "from" side at from_world ranks trains 1..T and saves after
 *            S into a fresh checkpoint root (case_result.run1);
 *   world 2  the "to" side at to_world ranks loads <root>/step-S and trains
 *            S+1..T (case_result.run2).
 * Points: completed (world 1); checkpoint committed (every element saved,
 * manifest and checksums verified); checkpoint params exact (the saved
 * parameters are world 1's own at S, bit for bit); checkpoint optimizer
 * state (each state array against the fp64 oracle's at S, within the
 * ensemble's envelope of that array, envelope.h); saving run params after
 * step T and saving run ranks identical (a save must leave the training as
 * it was, on every rank); resumed world
 * completed (skipped when there is no committed checkpoint to load); then,
 * when nothing but the process changed (same plugin,
 * stage and world size), resumed run bit-identical (losses S+1..T and the
 * parameters at the later check steps equal world 1's), otherwise resumed
 * loss steps S+1-T and resumed params after each later check step within
 * the tolerance model; and resumed ranks identical (world 2 at > 1 rank).
 *
 * A crash case (crash 1), the implementation at from_world ranks:
 *   world 1  trains 1..T uninterrupted (case_result.run1);
 *   world K  trains saving every ckpt_crash_every steps; once its first
 *            checkpoint is committed the harness SIGKILLs one rank at a
 *            random moment (seeded by the case) within the time the rest
 *            of the run takes;
 *   world 2  restarts from the latest committed checkpoint L (never a
 *            staging directory a save cut short) and trains L+1..T,
 *            saving on (case_result.run2).
 * Points: completed; checkpoints committed (world 1's saves, all of them;
 * the case ends at a refusal); crash injected (skipped when the world
 * finished before the signal landed); restart completed; restart bit-identical
 * (losses L+1..T and the final parameters equal world 1's).
 */
#ifndef DTB_HARNESS_CKPT_CASE_H
#define DTB_HARNESS_CKPT_CASE_H

#include "references.h"
#include "run_types.h"

void ckpt_run_case(const run_config *cfg, reference_cache *refs, uint64_t impl_caps,
                   const dtb_case *cs, case_result *r);

#endif
