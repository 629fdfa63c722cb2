/*
 * The bf16-mixed recipe of the baseline plugin (loaded with dlopen, as the
 * harness loads it) and of the fp64 oracle, over 10 steps of mlp-odd and
 * mlp-small, batch 30, SGD-momentum with clipping and AdamW:
 *   - the baseline says what it ran (facts: bf16-mixed, bf16 compute
 *     parameters, fp32 reduction) and tracks PARAMS 2, GRADS 4, OPTIM 8/12
 *     bytes per parameter and one widened layer under OTHER;
 *   - the oracle's compute parameters are bf16 rounded from fp64: its step-1
 *     loss is exactly the fp64 loss at bf16(initial values);
 *   - the fp32-arithmetic baseline and the fp64 oracle, both under bf16,
 *     stay close every step (loss, gradient norm, every tensor of the
 *     masters), while the bf16 recipe differs clearly from the fp32 recipe
 *     (so it is not a no-op, and comparing a bf16 run with the fp32 oracle
 *     would be comparing unlike things);
 *   - how often the baseline's and the oracle's compute parameters round to
 *     different bf16 values ("flips": masters within rounding distance of a
 *     bf16 tie) is printed with the errors.
 *
 * Usage: ref_baseline_bf16 <path to baseline.so>
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "dtbench/plugin.h"
#include "mlp_f64.h"
#include "model.h"
#include "model_host.h"
#include "oracle.h"
#include "ref_util.h"
#include "test_spec_model.h"

enum { STEPS = 10 };

static dtb_run_spec make_spec(const char *model, int optimizer, double clip, int precision)
{
    const mlp_config *cfg = mlp_config_find(model);
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    test_spec_set_model(&s, cfg);
    s.optimizer = optimizer;
    s.lr = optimizer == DTB_OPT_ADAMW ? 1e-2 : 5e-2;
    s.momentum = 0.9;
    s.beta1 = 0.9, s.beta2 = 0.999, s.eps = 1e-8;
    s.weight_decay = 0.01;
    s.clip_norm = clip;
    s.precision = precision;
    s.global_batch = 30;
    s.micro_batches = 1;
    s.steps = STEPS;
    s.seed = 20261123;
    s.world_size = 1;
    s.local_size = 1;
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    s.prefetch_depth = -1;
    return s;
}

/* A baseline run: loss, norm and parameters after every step. */
typedef struct run {
    int ok;
    double loss[STEPS], norm[STEPS];
    float *params; /* [STEPS x n] */
    dtb_facts facts;
    int64_t mem[DTB_MEM_CATEGORY_COUNT], peak[DTB_MEM_CATEGORY_COUNT];
    int64_t left_after_destroy;
} run;

static run train(const dtb_plugin *p, const dtb_run_spec *spec)
{
    run o = {0};
    const int64_t n = spec->model->n_params;
    model_host h;
    dtb_host_api api;
    model_host_init(&h, spec, &api);
    dtb_state *st = NULL;
    o.params = malloc((size_t)(STEPS * n) * sizeof(float));
    if (o.params == NULL || p->create(spec, &api, &st) != 0) {
        printf("  create failed: %s\n", h.error);
        return o;
    }
    memcpy(o.mem, h.current, sizeof o.mem);
    int ok = p->get_facts(st, &o.facts) == 0;
    for (int64_t s = 1; s <= STEPS && ok; s++) {
        dtb_step_report rep;
        ok = p->train_step(st, s, &rep) == 0 &&
             p->get_params(st, o.params + (size_t)(s - 1) * (size_t)n, n) == 0;
        o.loss[s - 1] = rep.loss;
        o.norm[s - 1] = rep.grad_norm;
    }
    memcpy(o.peak, h.peak, sizeof o.peak);
    p->destroy(st);
    o.left_after_destroy = h.current_total;
    o.ok = ok;
    return o;
}

typedef struct errors {
    double loss, norm, params; /* worst over the steps; params per tensor max abs / max |o| */
    int64_t flips;             /* compute-parameter roundings that differ, summed over steps */
    int64_t worst_flips;       /* the most at one step */
} errors;

/* run against an oracle trace with every step checked. */
static errors compare(const run *r, const oracle_trace *tr, const mlp_layout *L)
{
    errors e = {0};
    const int64_t n = L->n_params;
    for (int s = 0; s < STEPS; s++) {
        e.loss = fmax(e.loss, fabs(r->loss[s] - tr->loss[s]) / fabs(tr->loss[s]));
        e.norm = fmax(e.norm, fabs(r->norm[s] - tr->grad_norm[s]) / tr->grad_norm[s]);
        const float *p = r->params + (size_t)s * (size_t)n;
        const double *o = tr->params + (size_t)s * (size_t)n;
        for (int t = 0; t < L->n_tensors; t++) {
            double err = 0.0, scale = 0.0;
            for (int64_t i = L->offset[t]; i < L->offset[t + 1]; i++) {
                err = fmax(err, fabs((double)p[i] - o[i]));
                scale = fmax(scale, fabs(o[i]));
            }
            e.params = fmax(e.params, err / scale);
        }
        int64_t flips = 0;
        for (int64_t i = 0; i < n; i++) {
            flips += float_to_bf16(p[i]) != double_to_bf16(o[i]);
        }
        e.flips += flips;
        e.worst_flips = flips > e.worst_flips ? flips : e.worst_flips;
    }
    return e;
}

static int64_t largest_layer(const mlp_layout *L)
{
    int64_t most = 0;
    for (int t = 0; t < L->n_tensors; t += 2) {
        const int64_t n = L->numel[t] + L->numel[t + 1];
        most = n > most ? n : most;
    }
    return most;
}

/* The oracle's step-1 loss under bf16 is the fp64 loss at bf16(init). */
static void check_oracle_rounds_from_fp64(ref_checker *c, const dtb_run_spec *spec,
                                          const oracle_trace *o16, const oracle_trace *o32,
                                          const mlp_layout *L)
{
    mlp_config cfg;
    mlp_config_from_spec(spec, &cfg, NULL, 0);
    const int64_t n = L->n_params, B = spec->global_batch;
    float *init = malloc((size_t)n * sizeof(float));
    double *w = malloc((size_t)n * sizeof(double));
    float *x32 = malloc((size_t)(B * cfg.dims[0]) * sizeof(float));
    double *x = malloc((size_t)(B * cfg.dims[0]) * sizeof(double));
    int32_t *y = malloc((size_t)B * sizeof(int32_t));
    mlp_f64_scratch scratch;
    if (!ref_check(c, init && w && x32 && x && y && mlp_f64_scratch_create(&cfg, B, &scratch) == 0,
                   "allocate")) {
        free(init), free(w), free(x32), free(x), free(y);
        return;
    }
    for (int t = 0; t < L->n_tensors; t++) {
        mlp_init_values(spec->seed, &cfg, t, 0, L->numel[t], init + L->offset[t]);
    }
    for (int64_t i = 0; i < n; i++) {
        w[i] = bf16_to_float(double_to_bf16(init[i]));
    }
    mlp_sample_batch(spec->seed, &cfg, 1, 0, B, x32, y);
    for (int64_t i = 0; i < B * cfg.dims[0]; i++) {
        x[i] = x32[i];
    }
    const double loss = mlp_f64_loss(&scratch, w, x, y, B) / (double)B;
    ref_check(c, loss == o16->loss[0] && o16->loss[0] != o32->loss[0],
              "%s: bf16 oracle step-1 loss %.17g == fp64 loss at bf16(init) %.17g; fp32-recipe "
              "oracle %.17g differs", spec->model->name, o16->loss[0], loss, o32->loss[0]);
    mlp_f64_scratch_free(&scratch);
    free(init), free(w), free(x32), free(x), free(y);
}

static void check_case(ref_checker *c, const dtb_plugin *p, const char *model, int optimizer,
                       double clip)
{
    const dtb_run_spec s16 = make_spec(model, optimizer, clip, DTB_PREC_BF16_MIXED);
    const dtb_run_spec s32 = make_spec(model, optimizer, clip, DTB_PREC_FP32);
    char what[96];
    snprintf(what, sizeof what, "%s %s%s", model, optimizer == DTB_OPT_ADAMW ? "adamw" : "sgd",
             clip > 0 ? " clip" : "");
    mlp_config cfg;
    mlp_config_from_spec(&s16, &cfg, NULL, 0);
    mlp_layout L;
    mlp_layout_init(&cfg, &L);
    const int64_t n = L.n_params;
    int64_t checks[STEPS];
    for (int k = 0; k < STEPS; k++) {
        checks[k] = k + 1;
    }
    oracle_trace o16, o32, again;
    char err[256];
    if (!ref_check(c, oracle_train_f64(&s16, checks, STEPS, &o16, err, sizeof err) == 0 &&
                          oracle_train_f64(&s32, checks, STEPS, &o32, err, sizeof err) == 0 &&
                          oracle_train_f64(&s16, checks, STEPS, &again, err, sizeof err) == 0,
                   "%s: oracles (bf16 twice, fp32) %s", what, err)) {
        return;
    }
    ref_check(c, memcmp(o16.params, again.params, (size_t)(STEPS * n) * sizeof(double)) == 0 &&
                     memcmp(o16.loss, again.loss, sizeof(double) * STEPS) == 0,
              "%s: bf16 oracle deterministic", what);
    oracle_trace_free(&again);
    check_oracle_rounds_from_fp64(c, &s16, &o16, &o32, &L);

    run b16 = train(p, &s16), b32 = train(p, &s32);
    if (!ref_check(c, b16.ok && b32.ok, "%s: baseline trains 10 steps, bf16 and fp32", what)) {
        goto done;
    }
    ref_check(c, b16.facts.stage == DTB_STAGE_SINGLE && b16.facts.precision == DTB_PREC_BF16_MIXED &&
                     b16.facts.param_dtype == DTB_DTYPE_BF16 &&
                     b16.facts.reduce_dtype == DTB_DTYPE_FP32 &&
                     b32.facts.precision == DTB_PREC_FP32 && b32.facts.param_dtype == DTB_DTYPE_FP32,
              "%s: facts bf16 (precision bf16-mixed, params bf16, reduce fp32) and fp32", what);
    const int64_t k = optimizer == DTB_OPT_ADAMW ? 12 : 8;
    const int64_t other = 4 * largest_layer(&L);
    int mem_ok = b16.left_after_destroy == 0 && b32.left_after_destroy == 0;
    for (int m = 0; m < DTB_MEM_CATEGORY_COUNT; m++) {
        const int64_t want = m == DTB_MEM_PARAMS ? 2 * n : m == DTB_MEM_GRADS ? 4 * n
                           : m == DTB_MEM_OPTIM ? k * n : m == DTB_MEM_OTHER ? other
                           : m == DTB_MEM_COMM ? 0 : b16.mem[m];
        mem_ok = mem_ok && b16.mem[m] == want && b16.peak[m] == want;
    }
    ref_check(c, mem_ok,
              "%s: bf16 memory (after create = peak): params %lld = 2n, grads %lld = 4n, optim "
              "%lld = %lld n, other %lld = 4 x %lld, 0 after destroy", what,
              (long long)b16.mem[DTB_MEM_PARAMS], (long long)b16.mem[DTB_MEM_GRADS],
              (long long)b16.mem[DTB_MEM_OPTIM], (long long)k, (long long)b16.mem[DTB_MEM_OTHER],
              (long long)largest_layer(&L));

    const errors like = compare(&b16, &o16, &L);     /* bf16 baseline vs bf16 oracle */
    const errors unlike = compare(&b16, &o32, &L);   /* bf16 baseline vs fp32 oracle */
    const errors fp32 = compare(&b32, &o32, &L);     /* fp32 baseline vs fp32 oracle */
    /* How far the bf16 recipe is from the fp32 one, in the oracles. */
    double recipe_loss = 0.0, recipe_params = 0.0;
    for (int s = 0; s < STEPS; s++) {
        recipe_loss = fmax(recipe_loss, fabs(o16.loss[s] - o32.loss[s]) / o32.loss[s]);
        for (int64_t i = 0; i < n; i++) {
            recipe_params = fmax(recipe_params, fabs(o16.params[(size_t)s * n + i] -
                                                     o32.params[(size_t)s * n + i]));
        }
    }
    printf("  %s: bf16 baseline vs bf16 oracle: loss %.2e, norm %.2e, params %.2e, flips %lld "
           "(worst step %lld of %lld params)\n", what, like.loss, like.norm, like.params,
           (long long)like.flips, (long long)like.worst_flips, (long long)n);
    printf("  %s: fp32 baseline vs fp32 oracle: loss %.2e, norm %.2e, params %.2e\n", what,
           fp32.loss, fp32.norm, fp32.params);
    printf("  %s: bf16 baseline vs fp32 oracle: loss %.2e, norm %.2e, params %.2e; bf16 vs fp32 "
           "oracle: loss %.2e, params max abs %.2e\n", what, unlike.loss, unlike.norm,
           unlike.params, recipe_loss, recipe_params);
    /* Close: far below one bf16 ulp (2^-8 relative), and of the order of the
     * fp32 recipe's own baseline error (AdamW amplifies the rounding of small
     * gradients in both; under bf16 a flip moves one compute parameter by a
     * bf16 ulp, which the gradient then carries into the masters). */
    ref_check(c, like.loss < 1e-5 && like.norm < 1e-4 && like.params < 1e-3,
              "%s: bf16 baseline follows the bf16 oracle every step: loss %.2g < 1e-5, norm "
              "%.2g < 1e-4, params %.2g < 1e-3", what, like.loss, like.norm, like.params);
    ref_check(c, unlike.loss > 10 * like.loss && unlike.params > 10 * like.params &&
                     recipe_loss > 1e-5,
              "%s: the bf16 recipe is not the fp32 one: bf16 baseline vs fp32 oracle is %.0fx "
              "(loss) and %.0fx (params) further than vs the bf16 oracle", what,
              unlike.loss / like.loss, unlike.params / like.params);
done:
    free(b16.params), free(b32.params);
    oracle_trace_free(&o16), oracle_trace_free(&o32);
}

int main(int argc, char **argv)
{
    ref_checker c = {.test = "ref_baseline_bf16"};
    if (argc != 2) {
        fprintf(stderr, "usage: %s <path to baseline.so>\n", argv[0]);
        return 2;
    }
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!ref_check(&c, so != NULL, "dlopen %s%s%s", argv[1], so ? "" : ": ", so ? "" : dlerror())) {
        return ref_finish(&c);
    }
    dtb_plugin_entry_fn entry = NULL;
    void *sym = dlsym(so, DTB_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    const dtb_plugin *p = entry != NULL ? entry() : NULL;
    if (ref_check(&c, p != NULL && (p->caps & DTB_CAP_BF16_MIXED) && (p->caps & DTB_CAP_FP32),
                  "baseline table with caps FP32 and BF16_MIXED")) {
        check_case(&c, p, "mlp-odd", DTB_OPT_SGD_MOMENTUM, 0.05);
        check_case(&c, p, "mlp-odd", DTB_OPT_ADAMW, 0.0);
        check_case(&c, p, "mlp-small", DTB_OPT_ADAMW, 0.05);
        check_case(&c, p, "mlp-small", DTB_OPT_SGD_MOMENTUM, 0.0);
    }
    dlclose(so);

    dtb_run_spec bad = make_spec("mlp-odd", DTB_OPT_ADAMW, 0.0, 7);
    oracle_trace tr;
    char err[256] = "";
    ref_check(&c, oracle_train_f64(&bad, NULL, 0, &tr, err, sizeof err) != 0 &&
                      strstr(err, "precision") != NULL,
              "oracle refuses precision 7: \"%s\"", err);
    return ref_finish(&c);
}
