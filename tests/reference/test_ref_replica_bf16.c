/*
 * The replica's bf16-mixed recipe (reference/replica.c, docs/zero.md "The
 * bf16-mixed recipe") on mlp-odd, batch 30, 10 steps of the baseline's
 * algorithm, SGD-momentum and AdamW:
 *   - the compute parameters are exactly bf16(master), nearest even, after
 *     init and after every optimizer step, and they are not the masters
 *     (the rounding does something);
 *   - the layer hooks hand the forward/backward exactly the widened compute
 *     parameters, one layer in a max-layer-sized scratch;
 *   - a bf16 replica's pass is bitwise an fp32 replica's pass whose
 *     parameters were set to the same bf16 values (the BLAS runs fp32 on the
 *     widened values; gradients fp32);
 *   - memory, current and peak: PARAMS 2 bytes/param, GRADS 4, OPTIM 12
 *     (AdamW: master, m, v) or 8 (SGD: master, momentum), OTHER one widened
 *     layer (4 * max_l n_l); under fp32 PARAMS 4, OPTIM 8 or 4, OTHER 0;
 *     everything back to 0 after release.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "model_host.h"
#include "optim.h"
#include "ref_util.h"
#include "replica.h"
#include "test_spec_model.h"

enum { STEPS = 10 };

static dtb_run_spec make_spec(int optimizer, int precision)
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    test_spec_set_model(&s, cfg);
    s.optimizer = optimizer;
    s.lr = optimizer == DTB_OPT_ADAMW ? 1e-2 : 5e-2;
    s.momentum = 0.9;
    s.beta1 = 0.9, s.beta2 = 0.999, s.eps = 1e-8;
    s.weight_decay = 0.01;
    s.clip_norm = 0.5;
    s.precision = precision;
    s.global_batch = 30;
    s.micro_batches = 1;
    s.steps = STEPS;
    s.seed = 777001;
    s.world_size = 1;
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    s.prefetch_depth = -1;
    return s;
}

static const char *opt_name(int optimizer)
{
    return optimizer == DTB_OPT_ADAMW ? "adamw" : "sgd";
}

/* Elements whose compute parameter is not bf16(params[i]); *rounded counts
 * those where bf16(params[i]) != params[i] (the rounding changed the value). */
static int64_t compute_mismatches(const replica *r, int64_t *rounded)
{
    int64_t bad = 0;
    *rounded = 0;
    for (int64_t i = 0; i < r->net.n_params; i++) {
        bad += r->params_bf16[i] != float_to_bf16(r->params[i]);
        *rounded += bf16_to_float(r->params_bf16[i]) != r->params[i];
    }
    return bad;
}

/* n_l = out*in + out, from the spec's MLP dims (independently of net.h's units). */
static int64_t largest_layer(const replica *r)
{
    const int64_t *d = r->spec.model->dims;
    int64_t most = 0;
    for (int l = 0; l < r->spec.model->n_layers; l++) {
        const int64_t n = d[l + 1] * d[l] + d[l + 1];
        most = n > most ? n : most;
    }
    return most;
}

/* One step of the baseline's algorithm over the replica. */
static int train_step(replica *r, int64_t step, double *loss)
{
    const int64_t B = r->spec.global_batch;
    double loss_sum = 0.0, norm = 0.0;
    if (replica_zero_grads(r) != 0 ||
        replica_forward_backward(r, NULL, step, 0, B, (float)(1.0 / (double)B), &loss_sum) != 0 ||
        replica_grad_norm(r, &norm) != 0 || replica_clip(r, norm, r->spec.clip_norm, NULL) != 0 ||
        replica_optimizer_step(r, step) != 0) {
        return -1;
    }
    *loss = loss_sum / (double)B;
    return 0;
}

static void check_memory(ref_checker *c, const model_host *h, const replica *r, int bf16,
                         int optimizer)
{
    const int64_t n = r->net.n_params;
    const int64_t p = bf16 ? 2 : 4;
    const int64_t k = bf16 ? (optimizer == DTB_OPT_ADAMW ? 12 : 8)
                           : (optimizer == DTB_OPT_ADAMW ? 8 : 4);
    const int64_t other = bf16 ? 4 * largest_layer(r) : 0;
    const int ok = h->current[DTB_MEM_PARAMS] == p * n && h->peak[DTB_MEM_PARAMS] == p * n &&
                   h->current[DTB_MEM_GRADS] == 4 * n && h->peak[DTB_MEM_GRADS] == 4 * n &&
                   h->current[DTB_MEM_OPTIM] == k * n && h->peak[DTB_MEM_OPTIM] == k * n &&
                   h->current[DTB_MEM_OTHER] == other && h->peak[DTB_MEM_OTHER] == other &&
                   h->current[DTB_MEM_COMM] == 0 && h->current[DTB_MEM_ACTIVATIONS] > 0;
    ref_check(c, ok,
              "%s %s memory (current = peak): params %lld (%lld x %lld), grads %lld (4 x), "
              "optim %lld (%lld x), other %lld (4 x max layer %lld), comm %lld",
              bf16 ? "bf16" : "fp32", opt_name(optimizer), (long long)h->current[DTB_MEM_PARAMS],
              (long long)p, (long long)n, (long long)h->current[DTB_MEM_GRADS],
              (long long)h->current[DTB_MEM_OPTIM], (long long)k,
              (long long)h->current[DTB_MEM_OTHER], (long long)largest_layer(r),
              (long long)h->current[DTB_MEM_COMM]);
}

/* Every unit's hook view: the widened compute parameters (bf16) or a view
 * into params (fp32), from the unit's first element (W_l, then b_l). */
static void check_hooks(ref_checker *c, replica *r)
{
    int64_t bad = 0;
    int views_ok = 1;
    const dtb_model_desc *m = r->spec.model;
    for (int l = 0; l < m->n_layers; l++) {
        const dtb_tensor_desc *W = &m->tensors[2 * l];
        const int64_t n = W->numel + m->tensors[2 * l + 1].numel;
        for (int phase = 0; phase < 2; phase++) {
            const float *P = NULL;
            if (r->hooks.get_unit_params(r->hooks.ctx, l, phase, &P) != 0) {
                bad++;
                continue;
            }
            if (!r->bf16_mixed) {
                views_ok = views_ok && P == r->params + W->offset;
                continue;
            }
            views_ok = views_ok && P == r->layer_fp32;
            for (int64_t i = 0; i < n; i++) {
                bad += memcmp(&P[i], &(float){bf16_to_float(r->params_bf16[W->offset + i])}, 4) != 0;
            }
        }
    }
    ref_check(c, bad == 0 && views_ok,
              "%s hooks: every unit, both phases, %s (%lld wrong values)",
              r->bf16_mixed ? "bf16" : "fp32",
              r->bf16_mixed ? "W then b widened exactly from the compute params into the scratch"
                            : "views into params",
              (long long)bad);
}

static void check_recipe(ref_checker *c, int optimizer)
{
    const dtb_run_spec spec = make_spec(optimizer, DTB_PREC_BF16_MIXED);
    model_host h;
    dtb_host_api api;
    model_host_init(&h, &spec, &api);
    replica r = {0};
    if (!ref_check(c, replica_init(&r, "test", &spec, &api, spec.global_batch) == 0,
                   "bf16 %s replica_init %s", opt_name(optimizer), h.error)) {
        replica_release(&r);
        return;
    }
    ref_check(c, r.bf16_mixed && replica_param_bytes(&r) == 2 && r.params_bf16 && r.layer_fp32,
              "bf16 replica: bf16_mixed set, 2 bytes per compute parameter, buffers present");
    check_memory(c, &h, &r, 1, optimizer);
    int64_t rounded = 0;
    int64_t bad = compute_mismatches(&r, &rounded);
    ref_check(c, bad == 0 && rounded > r.net.n_params / 2,
              "after init: compute params == bf16(master) everywhere (%lld wrong); %lld of %lld "
              "differ from their master", (long long)bad, (long long)rounded,
              (long long)r.net.n_params);
    check_hooks(c, &r);

    float *before = malloc((size_t)r.net.n_params * sizeof(float));
    if (!ref_check(c, before != NULL, "allocate")) {
        replica_release(&r);
        return;
    }
    int64_t worst_bad = 0, fewest_rounded = r.net.n_params;
    int ok = 1, moved = 1;
    double loss[STEPS];
    for (int64_t s = 1; s <= STEPS && ok; s++) {
        memcpy(before, r.params, (size_t)r.net.n_params * sizeof(float));
        ok = train_step(&r, s, &loss[s - 1]) == 0;
        moved = moved && memcmp(before, r.params, (size_t)r.net.n_params * sizeof(float)) != 0;
        bad = compute_mismatches(&r, &rounded);
        worst_bad = bad > worst_bad ? bad : worst_bad;
        fewest_rounded = rounded < fewest_rounded ? rounded : fewest_rounded;
    }
    ref_check(c, ok && moved, "bf16 %s: 10 steps train, masters move every step (loss %.6f -> %.6f)",
              opt_name(optimizer), loss[0], loss[STEPS - 1]);
    ref_check(c, ok && worst_bad == 0 && fewest_rounded > r.net.n_params / 2,
              "after every step: compute params == bf16(master) (worst %lld wrong); at least "
              "%lld of %lld differ from their master", (long long)worst_bad,
              (long long)fewest_rounded, (long long)r.net.n_params);
    ref_check(c, ok && loss[STEPS - 1] < loss[0], "bf16 %s: loss goes down", opt_name(optimizer));
    check_memory(c, &h, &r, 1, optimizer);
    check_hooks(c, &r);
    free(before);
    replica_release(&r);
    int zero = 1;
    for (int k = 0; k < DTB_MEM_CATEGORY_COUNT; k++) {
        zero = zero && h.current[k] == 0;
    }
    ref_check(c, zero && h.current_total == 0, "bf16 %s: every category back to 0 after release",
              opt_name(optimizer));
}

/* A bf16 replica's pass == an fp32 replica's pass on the same bf16 values. */
static void check_pass_is_fp32_on_widened(ref_checker *c)
{
    const dtb_run_spec s16 = make_spec(DTB_OPT_ADAMW, DTB_PREC_BF16_MIXED);
    const dtb_run_spec s32 = make_spec(DTB_OPT_ADAMW, DTB_PREC_FP32);
    model_host h16, h32;
    dtb_host_api a16, a32;
    model_host_init(&h16, &s16, &a16);
    model_host_init(&h32, &s32, &a32);
    replica r16 = {0}, r32 = {0};
    if (!ref_check(c, replica_init(&r16, "bf16", &s16, &a16, 30) == 0 &&
                          replica_init(&r32, "fp32", &s32, &a32, 30) == 0,
                   "two replicas, bf16 and fp32")) {
        replica_release(&r16), replica_release(&r32);
        return;
    }
    check_memory(c, &h32, &r32, 0, DTB_OPT_ADAMW);
    check_hooks(c, &r32);
    ref_check(c, !r32.bf16_mixed && replica_param_bytes(&r32) == 4 && r32.params_bf16 == NULL &&
                     r32.layer_fp32 == NULL,
              "fp32 replica: no bf16 buffers, 4 bytes per parameter");
    const int64_t n = r16.net.n_params;
    int ok = 1;
    for (int64_t step = 1; step <= 2 && ok; step++) {
        /* Step 1 from init; step 2 after one bf16 optimizer step. */
        for (int64_t i = 0; i < n; i++) {
            r32.params[i] = bf16_to_float(r16.params_bf16[i]);
        }
        double l16 = 0.0, l32 = 0.0;
        ok = replica_zero_grads(&r16) == 0 && replica_zero_grads(&r32) == 0 &&
             replica_forward_backward(&r16, NULL, step, 0, 30, 1.0f / 30, &l16) == 0 &&
             replica_forward_backward(&r32, NULL, step, 0, 30, 1.0f / 30, &l32) == 0;
        ref_check(c, ok && l16 == l32 && memcmp(r16.grads, r32.grads, (size_t)n * 4) == 0,
                  "step %lld: bf16 pass == fp32 pass on the widened values, bitwise (loss %.9f)",
                  (long long)step, l16);
        ok = ok && replica_optimizer_step(&r16, step) == 0;
    }
    replica_release(&r16), replica_release(&r32);
}

static void check_refusal(ref_checker *c)
{
    dtb_run_spec spec = make_spec(DTB_OPT_ADAMW, DTB_PREC_BF16_MIXED);
    spec.precision = 7;
    model_host h;
    dtb_host_api api;
    model_host_init(&h, &spec, &api);
    replica r = {0};
    const int rc = replica_init(&r, "test", &spec, &api, 30);
    replica_release(&r);
    ref_check(c, rc != 0 && strstr(h.error, "precision") != NULL && h.current_total == 0,
              "precision 7 refused: \"%s\"", h.error);
}

int main(void)
{
    ref_checker c = {.test = "ref_replica_bf16"};
    check_recipe(&c, DTB_OPT_SGD_MOMENTUM);
    check_recipe(&c, DTB_OPT_ADAMW);
    check_pass_is_fp32_on_widened(&c);
    check_refusal(&c);
    return ref_finish(&c);
}
