/*
 * The ensemble's members and their training driver (ensemble.h).
 */
#include "ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "mlp_train.h"
#include "model.h"
#include "optim.h"

/* Chosen to cover the legitimate differences between correct
 * implementations (docs/tolerance.md): every matmul grouping, both
 * element-wise and optimizer groupings, world sizes 1..8 with even and
 * uneven shares, every reduction order, both accumulations and both norms;
 * and, in the last five, the case's own micro-batch split (M 0: the run
 * spec's), the structure every implementation of the case shares, with the
 * samples dealt to the ranks strided (as torch's DistributedSampler does)
 * or at a world size above the suites' 4. No member is arithmetically
 * identical to the baseline or to a reference implementation (contiguous
 * shares at 1..4 ranks), so the measured false-positive rate of those is
 * not flattered. */
static const ensemble_member MEMBERS[ENSEMBLE_MEMBERS] = {
    {"blas n1 m2", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 1, 2, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"blas n2 m5", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 2, 5, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"blas n5 m2 ring chunk", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 5, 2, ENS_REDUCE_RING,
     ENS_ACC_CHUNK, ENS_NORM_F64, 0},
    {"blas n8 tree torch", {ENS_MATMUL_BLAS, ENS_EW_TORCH, ENS_OPT_TORCH}, 8, 1,
     ENS_REDUCE_TREE, ENS_ACC_DIRECT, ENS_NORM_F32, 0},
    {"blas n7 m3 reverse torch-ew chunk", {ENS_MATMUL_BLAS, ENS_EW_TORCH, ENS_OPT_REF}, 7, 3,
     ENS_REDUCE_REVERSE, ENS_ACC_CHUNK, ENS_NORM_F64, 0},
    {"dot4 n1 chunk", {ENS_MATMUL_DOT4, ENS_EW_REF, ENS_OPT_REF}, 1, 1, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_CHUNK, ENS_NORM_F64, 0},
    {"dot4 n6 torch chunk", {ENS_MATMUL_DOT4, ENS_EW_TORCH, ENS_OPT_TORCH}, 6, 1,
     ENS_REDUCE_SEQUENTIAL, ENS_ACC_CHUNK, ENS_NORM_F64, 0},
    {"reverse n3 m4 reverse torch-ew chunk", {ENS_MATMUL_REVERSE, ENS_EW_TORCH, ENS_OPT_REF}, 3,
     4, ENS_REDUCE_REVERSE, ENS_ACC_CHUNK, ENS_NORM_F64, 0},
    {"reverse n4 m4 tree", {ENS_MATMUL_REVERSE, ENS_EW_REF, ENS_OPT_REF}, 4, 4, ENS_REDUCE_TREE,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"fma n2 m3 ring torch", {ENS_MATMUL_FMA, ENS_EW_TORCH, ENS_OPT_TORCH}, 2, 3,
     ENS_REDUCE_RING, ENS_ACC_DIRECT, ENS_NORM_F32, 0},
    {"fma n1 m6 torch-opt chunk", {ENS_MATMUL_FMA, ENS_EW_REF, ENS_OPT_TORCH}, 1, 6,
     ENS_REDUCE_SEQUENTIAL, ENS_ACC_CHUNK, ENS_NORM_F32, 0},
    {"blas n2 mM strided", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 2, 0,
     ENS_REDUCE_SEQUENTIAL, ENS_ACC_DIRECT, ENS_NORM_F64, 1},
    {"blas n3 mM strided ring", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 3, 0,
     ENS_REDUCE_RING, ENS_ACC_DIRECT, ENS_NORM_F64, 1},
    {"blas n4 mM strided tree", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 4, 0,
     ENS_REDUCE_TREE, ENS_ACC_DIRECT, ENS_NORM_F64, 1},
    {"blas n5 mM", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 5, 0, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"blas n2 mM strided torch", {ENS_MATMUL_BLAS, ENS_EW_TORCH, ENS_OPT_TORCH}, 2, 0,
     ENS_REDUCE_REVERSE, ENS_ACC_DIRECT, ENS_NORM_F32, 1},
};

const ensemble_member *ensemble_member_at(int k)
{
    return k >= 0 && k < ENSEMBLE_MEMBERS ? &MEMBERS[k] : NULL;
}

typedef struct member_run {
    const ensemble_member *m;
    const dtb_run_spec *spec;
    mlp_config cfg;
    mlp_layout lay;
    int ranks, micro;
    dtb_backend *be;
    mlp_workspace *ws;
    float *params;        /* fp32 parameters, or the fp32 masters under bf16-mixed */
    float *compute;       /* bf16(params) widened, under bf16-mixed; else == params */
    float *grads;         /* the reduced gradient */
    float *rank_grads;    /* [ranks x n_params] each simulated rank's gradient */
    float *chunk;         /* one chunk's gradient (ENS_ACC_CHUNK) */
    float *opt_a, *opt_b; /* SGD momentum or AdamW m, AdamW v */
    float *x;
    int32_t *y;
} member_run;

static void run_free(member_run *r)
{
    if (r->be != NULL) {
        mlp_workspace_destroy(r->be, r->ws);
        backend_destroy(r->be);
    }
    if (r->compute != r->params)
        free(r->compute);
    free(r->params);
    free(r->grads);
    free(r->rank_grads);
    free(r->chunk);
    free(r->opt_a);
    free(r->opt_b);
    free(r->x);
    free(r->y);
}

static float *floats(int64_t n)
{
    return calloc(n > 0 ? (size_t)n : 1, sizeof(float));
}

static int run_alloc(member_run *r)
{
    const int64_t n = r->lay.n_params;
    /* strided shares are as large as contiguous ones: ceil(count / N) */
    const int64_t chunk_max = split_max_rank_share(r->spec->global_batch, r->micro, r->ranks);
    const int bf16 = r->spec->precision == DTB_PREC_BF16_MIXED;
    int ok = ensemble_backend_create(&r->m->arith, &r->be) == 0;
    ok = ok && mlp_workspace_create(r->be, &r->cfg, chunk_max, &r->ws) == 0;
    ok = ok && (r->params = floats(n)) != NULL;
    r->compute = r->params;
    if (ok && bf16)
        ok = (r->compute = floats(n)) != NULL;
    ok = ok && (r->grads = floats(n)) != NULL;
    ok = ok && (r->rank_grads = floats(n * r->ranks)) != NULL;
    ok = ok && (r->chunk = floats(n)) != NULL;
    ok = ok && (r->opt_a = floats(n)) != NULL;
    ok = ok && (r->opt_b = floats(n)) != NULL;
    ok = ok && (r->x = floats((chunk_max > 0 ? chunk_max : 1) * r->cfg.dims[0])) != NULL;
    ok = ok && (r->y = calloc(chunk_max > 0 ? (size_t)chunk_max : 1, sizeof *r->y)) != NULL;
    return ok ? 0 : -1;
}

/* Under bf16-mixed: compute[i] = bf16(params[i]) (nearest even), widened. */
static void refresh_compute(member_run *r)
{
    if (r->compute == r->params)
        return;
    for (int64_t i = 0; i < r->lay.n_params; i++)
        r->compute[i] = round_to_bf16(r->params[i]);
}

/* The samples of one chunk into x and y: first, first+stride, ... (count of
 * them) of step t. */
static int fetch(member_run *r, int64_t t, int64_t first, int64_t stride, int64_t count)
{
    if (stride == 1)
        return mlp_sample_batch(r->spec->seed, &r->cfg, t, first, count, r->x, r->y);
    const int64_t d0 = r->cfg.dims[0];
    for (int64_t k = 0; k < count; k++)
        if (mlp_sample_batch(r->spec->seed, &r->cfg, t, first + k * stride, 1, r->x + k * d0,
                             r->y + k) != 0)
            return -1;
    return 0;
}

/* Adds one chunk (count samples of step t from first, stride apart) into
 * rank_grad. */
static int chunk_pass(member_run *r, int64_t t, int64_t first, int64_t stride, int64_t count,
                      float *rank_grad, double *loss_sum)
{
    const int64_t n = r->lay.n_params;
    if (fetch(r, t, first, stride, count) != 0)
        return -1;
    float *target = rank_grad;
    if (r->m->accumulate == ENS_ACC_CHUNK) {
        memset(r->chunk, 0, (size_t)n * sizeof *r->chunk);
        target = r->chunk;
    }
    mlp_flat_ctx flat = {.layout = r->lay, .params = r->compute, .grads = target};
    mlp_hooks hooks;
    mlp_flat_hooks(&flat, &hooks);
    const float scale = (float)(1.0 / (double)r->spec->global_batch);
    if (mlp_forward_backward(r->be, r->ws, &hooks, r->x, r->y, count, scale, loss_sum) != 0)
        return -1;
    if (target != rank_grad)
        for (int64_t i = 0; i < n; i++)
            rank_grad[i] += target[i];
    return 0;
}

/* grads = the sum of the ranks' gradients, in the member's order. The rank
 * buffers are consumed (the tree sums in place). */
static void reduce_ranks(member_run *r)
{
    const int64_t n = r->lay.n_params;
    const int N = r->ranks;
    float *g = r->rank_grads;
    switch (r->m->reduce) {
    case ENS_REDUCE_SEQUENTIAL:
    case ENS_REDUCE_REVERSE:
        for (int64_t i = 0; i < n; i++) {
            const int rev = r->m->reduce == ENS_REDUCE_REVERSE;
            float acc = g[(int64_t)(rev ? N - 1 : 0) * n + i];
            for (int k = 1; k < N; k++)
                acc += g[(int64_t)(rev ? N - 1 - k : k) * n + i];
            r->grads[i] = acc;
        }
        break;
    case ENS_REDUCE_RING:
        for (int c = 0; c < N; c++) {
            int64_t first, count;
            split_range(n, N, c, &first, &count);
            for (int64_t i = first; i < first + count; i++) {
                float acc = g[(int64_t)((c + 1) % N) * n + i];
                for (int k = 2; k <= N; k++)
                    acc += g[(int64_t)((c + k) % N) * n + i];
                r->grads[i] = acc;
            }
        }
        break;
    case ENS_REDUCE_TREE:
        for (int d = 1; d < N; d *= 2)
            for (int a = 0; a + d < N; a += 2 * d)
                for (int64_t i = 0; i < n; i++)
                    g[(int64_t)a * n + i] += g[(int64_t)(a + d) * n + i];
        memcpy(r->grads, g, (size_t)n * sizeof *g);
        break;
    }
}

/* Pre-clip norm, and the gradient clipped, as the member's norm says. */
static double norm_and_clip(member_run *r)
{
    const int64_t n = r->lay.n_params;
    const double clip = r->spec->clip_norm;
    if (r->m->norm == ENS_NORM_F64) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++)
            sum += (double)r->grads[i] * (double)r->grads[i];
        const double norm = sqrt(sum);
        const double coef = clip_coefficient(norm, clip);
        if (coef < 1.0)
            for (int64_t i = 0; i < n; i++)
                r->grads[i] *= (float)coef;
        return norm;
    }
    /* torch: per tensor ||g_t|| in float (8 lanes, added pairwise), then
     * ||(||g_0||, ||g_1||, ...)|| in float; coef = clip / (norm + 1e-6) in
     * float, clamped to 1, and multiplied in. */
    float total = 0.0f;
    for (int t = 0; t < r->lay.n_tensors; t++) {
        const float *v = r->grads + r->lay.offset[t];
        float lane[8] = {0};
        for (int64_t i = 0; i < r->lay.numel[t]; i++)
            lane[i % 8] += v[i] * v[i];
        const float s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                        ((lane[4] + lane[5]) + (lane[6] + lane[7]));
        const float tn = sqrtf(s);
        total += tn * tn;
    }
    const float norm = sqrtf(total);
    if (clip > 0) {
        float coef = (float)clip / (norm + 1e-6f);
        if (coef < 1.0f)
            for (int64_t i = 0; i < n; i++)
                r->grads[i] *= coef;
    }
    return norm;
}

static int train_step(member_run *r, int64_t t, double *loss, double *grad_norm)
{
    const int64_t n = r->lay.n_params, B = r->spec->global_batch;
    memset(r->rank_grads, 0, (size_t)(n * r->ranks) * sizeof *r->rank_grads);
    double loss_sum = 0.0;
    for (int k = 0; k < r->ranks; k++) {
        double rank_loss = 0.0;
        for (int mb = 0; mb < r->micro; mb++) {
            int64_t mf, mc, rf, rc, stride = 1;
            split_range(B, r->micro, mb, &mf, &mc);
            if (r->m->strided) { /* samples k, k+N, ... of the micro-batch */
                rf = k;
                rc = mc > k ? (mc - k + r->ranks - 1) / r->ranks : 0;
                stride = r->ranks;
            } else {
                split_range(mc, r->ranks, k, &rf, &rc);
            }
            double part = 0.0;
            if (rc > 0 &&
                chunk_pass(r, t, mf + rf, stride, rc, r->rank_grads + (int64_t)k * n, &part))
                return -1;
            rank_loss += part;
        }
        loss_sum += rank_loss;
    }
    reduce_ranks(r);
    *loss = loss_sum / (double)B;
    *grad_norm = norm_and_clip(r);
    const dtb_run_spec *p = r->spec;
    int rc;
    if (p->optimizer == DTB_OPT_ADAMW)
        rc = r->be->ops->adamw_step(r->be, r->params, r->grads, r->opt_a, r->opt_b, n, p->lr,
                                    p->beta1, p->beta2, p->eps, p->weight_decay, t);
    else
        rc = r->be->ops->sgd_momentum_step(r->be, r->params, r->grads, r->opt_a, n, p->lr,
                                           p->momentum, p->weight_decay, t);
    refresh_compute(r);
    return rc;
}

static int trace_alloc(ensemble_trace *out, int64_t steps, int n_checks, int64_t n, int n_state)
{
    out->steps = steps;
    out->n_checks = n_checks;
    out->n_params = n;
    const size_t s = steps > 0 ? (size_t)steps : 1, c = n_checks > 0 ? (size_t)n_checks : 1;
    out->loss = calloc(s, sizeof *out->loss);
    out->grad_norm = calloc(s, sizeof *out->grad_norm);
    out->params = calloc(c * (size_t)n, sizeof *out->params);
    int ok = out->loss && out->grad_norm && out->params;
    out->n_state = n_state;
    for (int k = 0; k < n_state; k++)
        ok = ok && (out->state[k] = calloc(c * (size_t)n, sizeof *out->state[k])) != NULL;
    return ok ? 0 : -1;
}

static int fail(char *err, size_t err_len, const char *who, const char *what)
{
    snprintf(err, err_len, "ensemble member '%s': %s", who, what);
    return -1;
}

static int train(const ensemble_member *m, const dtb_run_spec *spec, const int64_t *check_steps,
                 int n_checks, int with_state, ensemble_trace *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    member_run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.spec = spec;
    char why[256];
    if (mlp_config_from_spec(spec, &r.cfg, why, sizeof why) != 0)
        return fail(err, err_len, m->name, why);
    if (spec->global_batch < 1 || spec->steps < 0 ||
        (spec->optimizer != DTB_OPT_SGD_MOMENTUM && spec->optimizer != DTB_OPT_ADAMW) ||
        (spec->precision != DTB_PREC_FP32 && spec->precision != DTB_PREC_BF16_MIXED))
        return fail(err, err_len, m->name, "unsupported batch, steps, optimizer or precision");
    mlp_layout_init(&r.cfg, &r.lay);
    r.ranks = m->ranks;
    const int64_t micro = m->micro_batches > 0 ? m->micro_batches
                          : spec->micro_batches > 0 ? spec->micro_batches
                                                    : 1;
    r.micro = micro < spec->global_batch ? (int)micro : (int)spec->global_batch;
    if (run_alloc(&r) != 0 || trace_alloc(out, spec->steps, n_checks, r.lay.n_params,
                                          !with_state                       ? 0
                                          : spec->optimizer == DTB_OPT_ADAMW ? 2
                                                                             : 1) != 0) {
        run_free(&r);
        ensemble_trace_free(out);
        return fail(err, err_len, m->name, "out of memory");
    }
    for (int t = 0; t < r.lay.n_tensors; t++) {
        if (mlp_init_values(spec->seed, &r.cfg, t, 0, r.lay.numel[t],
                            r.params + r.lay.offset[t]) != 0) {
            run_free(&r);
            ensemble_trace_free(out);
            return fail(err, err_len, m->name, "could not compute the initial parameters");
        }
    }
    refresh_compute(&r);
    int next = 0;
    for (int64_t t = 1; t <= spec->steps; t++) {
        if (train_step(&r, t, &out->loss[t - 1], &out->grad_norm[t - 1]) != 0) {
            snprintf(why, sizeof why, "step %lld failed: %.200s", (long long)t, r.be->error);
            run_free(&r);
            ensemble_trace_free(out);
            return fail(err, err_len, m->name, why);
        }
        if (next < n_checks && check_steps[next] == t) {
            const size_t at = (size_t)next * (size_t)r.lay.n_params;
            const size_t bytes = (size_t)r.lay.n_params * sizeof *r.params;
            memcpy(out->params + at, r.params, bytes);
            const float *state[2] = {r.opt_a, r.opt_b};
            for (int k = 0; k < out->n_state; k++)
                memcpy(out->state[k] + at, state[k], bytes);
            next++;
        }
    }
    run_free(&r);
    return 0;
}

int ensemble_train(const ensemble_member *m, const dtb_run_spec *spec, const int64_t *check_steps,
                   int n_checks, ensemble_trace *out, char *err, size_t err_len)
{
    return train(m, spec, check_steps, n_checks, 0, out, err, err_len);
}

int ensemble_train_with_state(const ensemble_member *m, const dtb_run_spec *spec,
                              const int64_t *check_steps, int n_checks, ensemble_trace *out,
                              char *err, size_t err_len)
{
    return train(m, spec, check_steps, n_checks, 1, out, err, err_len);
}

void ensemble_trace_free(ensemble_trace *t)
{
    if (t == NULL)
        return;
    free(t->loss);
    free(t->grad_norm);
    free(t->params);
    free(t->state[0]);
    free(t->state[1]);
    memset(t, 0, sizeof *t);
}

int ensemble_fold(const dtb_run_spec *spec, const int64_t *check_steps, int n_checks,
                  const oracle_trace *o, envelope *env, char *err, size_t err_len)
{
    for (int k = 0; k < ENSEMBLE_MEMBERS; k++) {
        ensemble_trace t;
        if (train(&MEMBERS[k], spec, check_steps, n_checks, o->n_state > 0, &t, err,
                  err_len) != 0)
            return -1;
        envelope_add_run(env, o, t.loss, t.grad_norm, t.params);
        const int rc =
            o->n_state > 0 ? envelope_add_state(env, o, (const float *const *)t.state) : 0;
        ensemble_trace_free(&t);
        if (rc != 0) {
            snprintf(err, err_len, "ensemble: out of memory for the optimizer state envelope");
            return -1;
        }
    }
    return 0;
}
