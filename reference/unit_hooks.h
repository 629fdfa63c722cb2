/*
 * How a forward and backward pass reaches parameters and gradients one unit
 * at a time, so that every data-parallel scheme drives the same pass: the
 * baseline and DDP hand out views into flat buffers, ZeRO-3 gathers a unit
 * right before it is needed, DDP and ZeRO-2 start a reduction as soon as a
 * unit's gradient is final.
 *
 * A unit is a maximal run of adjacent canonical tensors with the same
 * dtb_tensor_desc.layer, numbered 0, 1, ... in canonical order (MLP: unit l
 * is W_l, b_l; GPT: unit 0 is wte, wpe, ln_f, unit 1 + l is block l). A view
 * P of unit u is indexed from the unit's first canonical element: P[k] is
 * canonical element unit_offset(u) + k. Each model's pass says in which
 * order it calls the hooks (mlp_train.h, gpt.h); every pass guarantees:
 *   - params: a get is followed by that unit's work before the next get
 *     of any unit, so at most one unit's parameters are in use at a time
 *     (a scheme may reuse one unit-sized buffer for every get);
 *   - grads: get_unit_grads(u) comes before the first write to u's gradient
 *     and unit_grads_ready(u) after the last; both once per pass; readiness
 *     comes in descending unit order (the last unit first, unit 0 last).
 */
#ifndef DTB_REFERENCE_UNIT_HOOKS_H
#define DTB_REFERENCE_UNIT_HOOKS_H

typedef struct unit_hooks {
    void *ctx;
    /* Unit u's parameters for its forward (backward = 0) or backward (1) work. */
    int (*get_unit_params)(void *ctx, int unit, int backward, const float **P);
    /* Done with them for this phase; NULL if nothing to do. */
    int (*put_unit_params)(void *ctx, int unit, int backward);
    /* Where unit u's gradient accumulates (the pass adds into it). */
    int (*get_unit_grads)(void *ctx, int unit, float **G);
    /* Unit u's gradient of this pass is complete; NULL if nothing to do. */
    int (*unit_grads_ready)(void *ctx, int unit);
} unit_hooks;

#endif
