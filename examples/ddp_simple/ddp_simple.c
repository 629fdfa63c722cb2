/*
 * ddp_simple: a complete, deliberately simple data-parallel (DDP) trainer
 * for dtbench's plugin ABI (dtbench/plugin.h, version 2). It is the example
 * docs/plugins.md walks through; it builds against an installed dtbench
 * only (CMakeLists.txt: find_package(dtbench); Makefile: pkg-config).
 *
 * What every rank does in one optimizer step of a global batch of B
 * samples in M micro-batches over N ranks (docs/model-spec.md):
 *   - micro-batch m is samples split_range(B, M, m); this rank takes
 *     split_range(count_m, N, rank) of it (shares may differ or be empty);
 *   - forward and backward of its share, with the logit gradient scaled by
 *     1/B (the GLOBAL batch), accumulated into one flat fp32 gradient: the
 *     sum over ranks is then exactly the gradient of the mean loss;
 *   - ONE MPI_Allreduce (sum) of the flat gradient, and one of the loss sum;
 *   - g *= min(1, clip / (||g|| + 1e-6)) from the norm of the reduced
 *     gradient, which every rank holds identically;
 *   - SGD with momentum or AdamW over every element (torch.optim's
 *     expressions, as plugin.h states them).
 * Every rank then holds bitwise the same parameters. fp32 only: the plugin
 * declares no bf16-mixed capability, so dtbench skips those cases.
 *
 * Sections 1-5 are a small kit (state, model, forward/backward, optimizer,
 * plugin plumbing) that any data-parallel scheme needs; section 6 is DDP.
 * dtbench's tests (tests/fair) build other schemes and broken DDPs from it
 * by including this file with DDP_SIMPLE_KIT_ONLY defined (sections 1-5
 * only), or DDP_SIMPLE_NO_ENTRY (all but the entry point) and their own
 * DDP_SIMPLE_NAME.
 *
 * Compile as strict C11 (-std=c11): GCC then contracts no a*b + c into a
 * fused multiply-add, so the optimizer's element expressions round exactly
 * as the spec writes them.
 */
#include <dtbench/plugin.h>

#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== 1. The state of one rank ============================================= */

/* Linear layer l: W_l [out x in] row-major at canonical offset w, b_l [out]
 * at offset b; its activations z_l (and a_{l+1} = gelu(z_l) for hidden
 * layers) at z_at and a_at in the activation buffer. */
typedef struct kit_layer {
    int64_t in, out, w, b;
    int64_t z_at, a_at;
} kit_layer;

#define KIT_MAX_ALLOCS 16

struct dtb_state {
    const char *name;            /* prefix of every error message */
    dtb_host_api host;
    dtb_run_spec spec;           /* our copy; spec.model stays valid until destroy */
    const dtb_model_desc *model;
    int n_layers;
    kit_layer *layers;
    int64_t n_params;            /* Psi */

    MPI_Comm comm;               /* a duplicate of the harness's; MPI_COMM_NULL at N = 1 */
    int rank, world;
    dtb_counters counters;       /* what we issued, nccl-tests sizes */

    /* Model states (the memory checks judge these three categories). */
    float *params;               /* PARAMS: full canonical parameters, [params_len] */
    float *grads;                /* GRADS: [grads_len] */
    float *opt_a, *opt_b;        /* OPTIM: momentum, or AdamW m and v; [opt_len] each */
    int64_t params_len, grads_len, opt_len;

    /* Activations: samples, per-layer z and a, two buffers of gradient rows. */
    float *x;
    int32_t *y;
    float *acts, *dz, *da;

    struct kit_alloc {
        void *ptr;
        int64_t bytes;
        int32_t category;
    } allocs[KIT_MAX_ALLOCS];
    int n_allocs;
};

/* host->error("<name>: <message>"); returns -1 for `return kit_fail(...)`. */
static int kit_fail(const dtb_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int kit_fail(const dtb_state *s, const char *fmt, ...)
{
    char msg[400], line[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s: %s", s->name, msg);
    s->host.error(s->host.ctx, line);
    return -1;
}

/* `count` zeroed elements of `size` bytes, reported to the host's memory
 * accounting under `category` (dtb_mem_category) until kit_free_all. */
static int kit_alloc(dtb_state *s, int32_t category, int64_t count, size_t size, void **out)
{
    *out = NULL;
    if (s->n_allocs == KIT_MAX_ALLOCS)
        return kit_fail(s, "more than %d buffers", KIT_MAX_ALLOCS);
    if (count < 0 || (uint64_t)count > SIZE_MAX / size)
        return kit_fail(s, "cannot allocate %lld elements of %zu bytes", (long long)count, size);
    void *p = calloc(count > 0 ? (size_t)count : 1, size);
    if (p == NULL)
        return kit_fail(s, "out of memory allocating %lld bytes", (long long)count * (long long)size);
    const int64_t bytes = count * (int64_t)size;
    s->allocs[s->n_allocs++] = (struct kit_alloc){p, bytes, category};
    s->host.mem_track(s->host.ctx, category, bytes);
    *out = p;
    return 0;
}

static int kit_alloc_floats(dtb_state *s, int32_t category, int64_t count, float **out)
{
    void *p;
    const int rc = kit_alloc(s, category, count, sizeof(float), &p);
    *out = p;
    return rc;
}

static void kit_free_all(dtb_state *s)
{
    for (int i = s->n_allocs - 1; i >= 0; i--) {
        free(s->allocs[i].ptr);
        s->host.mem_track(s->host.ctx, s->allocs[i].category, -s->allocs[i].bytes);
    }
    s->n_allocs = 0;
}

/* 0 for MPI_SUCCESS, else a one-line error naming the call. */
static int kit_mpi(const dtb_state *s, int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return 0;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", rc);
    return kit_fail(s, "%s failed: %s", what, text);
}

/* Counts one call of kind `kind` (dtb_collective) of size S = `bytes` as
 * nccl-tests states it: allreduce the buffer, reduce-scatter the whole
 * input, allgather the whole output, point-to-point the bytes sent. */
static void kit_count(dtb_state *s, int kind, int64_t bytes)
{
    s->counters.calls[kind] += 1;
    s->counters.bytes[kind] += (uint64_t)bytes;
}

/* A struct we fill for the harness (dtb_step_report, dtb_counters,
 * dtb_facts) may be shorter in an older harness: copy only the bytes its
 * struct_size covers, and keep its struct_size. */
static void kit_copy_out(void *dst, const void *src, size_t built_size)
{
    uint32_t have;
    memcpy(&have, dst, sizeof have);
    const size_t n = have < built_size ? have : built_size;
    if (n > sizeof have)
        memcpy((char *)dst + sizeof have, (const char *)src + sizeof have, n - sizeof have);
}

/* ==== 2. The model: an MLP from the harness's description ================= */

/* split_range(total, parts, p): items [floor(p*total/parts),
 * floor((p+1)*total/parts)): contiguous, sizes differ by at most one. */
static void split_range(int64_t total, int64_t parts, int64_t p, int64_t *first, int64_t *count)
{
    *first = p * total / parts;
    *count = (p + 1) * total / parts - *first;
}

/* The largest share any rank gets of any micro-batch: the rows our
 * activation buffers must hold. */
static int64_t kit_max_rows(int64_t batch, int64_t micro, int64_t ranks)
{
    int64_t most = 0;
    for (int64_t m = 0; m < micro; m++) {
        int64_t mf, mc;
        split_range(batch, micro, m, &mf, &mc);
        for (int64_t r = 0; r < ranks; r++) {
            int64_t rf, rc;
            split_range(mc, ranks, r, &rf, &rc);
            most = rc > most ? rc : most;
        }
    }
    return most;
}

/* A field of a harness-filled struct is present only if it lies wholly
 * within the struct_size the harness built it with. */
#define KIT_HAS(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof((ptr)->field))

/* Layer l is tensors 2l (W_l, [dims[l+1] x dims[l]]) and 2l+1 (b_l,
 * [dims[l+1]]), adjacent in the canonical flat array. */
static int kit_read_model(dtb_state *s, const dtb_model_desc *d)
{
    if (d == NULL || !KIT_HAS(d, dtb_model_desc, dims))
        return kit_fail(s, "the run spec has no complete model description");
    if (d->kind != DTB_MODEL_MLP)
        return kit_fail(s, "model kind %d is not the MLP, the only kind this plugin runs",
                        (int)d->kind);
    if (d->n_layers < 1 || d->n_tensors != 2 * d->n_layers || d->dims == NULL ||
        d->tensors == NULL)
        return kit_fail(s, "MLP description of %d layers and %d tensors is inconsistent",
                        (int)d->n_layers, (int)d->n_tensors);
    void *layers;
    if (kit_alloc(s, DTB_MEM_OTHER, d->n_layers, sizeof(kit_layer), &layers) != 0)
        return -1;
    s->layers = layers;
    s->n_layers = d->n_layers;
    int64_t at = 0;
    for (int l = 0; l < d->n_layers; l++) {
        const dtb_tensor_desc *W = &d->tensors[2 * l], *b = &d->tensors[2 * l + 1];
        const int64_t in = d->dims[l], out = d->dims[l + 1];
        if (in < 1 || out < 1 || W->ndim != 2 || W->shape[0] != out || W->shape[1] != in ||
            W->offset != at || b->ndim != 1 || b->shape[0] != out || b->offset != at + out * in ||
            ((W->flags | b->flags) & DTB_TENSOR_TIED))
            return kit_fail(s, "tensors %s, %s are not layer %d's W [%lld x %lld] and b", W->name,
                            b->name, l, (long long)out, (long long)in);
        s->layers[l] = (kit_layer){.in = in, .out = out, .w = at, .b = at + out * in};
        at += out * in + out;
    }
    if (at != d->n_params)
        return kit_fail(s, "tensors hold %lld elements, the model %lld", (long long)at,
                        (long long)d->n_params);
    s->model = d;
    s->n_params = at;
    return 0;
}

/* ==== 3. Forward and backward, fp32 (dot products summed in double) ======= */

/* gelu(z) = 0.5 z (1 + tanh(u)), u = c (z + k z^3): torch's tanh form, with
 * the spec's float constants and evaluation order. */
static const float GELU_C = 0.7978845608028654f; /* sqrt(2/pi) */
static const float GELU_K = 0.044715f;

static float gelu(float z)
{
    const float u = GELU_C * (z + GELU_K * z * z * z);
    return 0.5f * z * (1.0f + tanhf(u));
}

/* gelu'(z) = 0.5 (1 + t) + 0.5 z (1 - t^2) c (1 + 3 k z^2), t = tanh(u). */
static float gelu_grad(float z)
{
    const float t = tanhf(GELU_C * (z + GELU_K * z * z * z));
    const float du = GELU_C * (1.0f + 3.0f * GELU_K * z * z);
    return 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * du;
}

/* z[j][o] = b[o] + sum_i a[j][i] W[o][i] over `rows` samples. */
static void linear_forward(const float *a, const float *W, const float *b, float *z, int64_t rows,
                           int64_t in, int64_t out)
{
    for (int64_t j = 0; j < rows; j++)
        for (int64_t o = 0; o < out; o++) {
            double sum = 0.0;
            for (int64_t i = 0; i < in; i++)
                sum += (double)a[j * in + i] * (double)W[o * in + i];
            z[j * out + o] = (float)sum + b[o];
        }
}

/* dW[o][i] += sum_j dz[j][o] a[j][i];  db[o] += sum_j dz[j][o];
 * da[j][i] = sum_o dz[j][o] W[o][i] (skipped when da is NULL). */
static void linear_backward(const float *dz, const float *a, const float *W, float *dW, float *db,
                            float *da, int64_t rows, int64_t in, int64_t out)
{
    for (int64_t o = 0; o < out; o++) {
        double bias = 0.0;
        for (int64_t j = 0; j < rows; j++)
            bias += dz[j * out + o];
        db[o] += (float)bias;
        for (int64_t i = 0; i < in; i++) {
            double sum = 0.0;
            for (int64_t j = 0; j < rows; j++)
                sum += (double)dz[j * out + o] * (double)a[j * in + i];
            dW[o * in + i] += (float)sum;
        }
    }
    for (int64_t j = 0; da != NULL && j < rows; j++)
        for (int64_t i = 0; i < in; i++) {
            double sum = 0.0;
            for (int64_t o = 0; o < out; o++)
                sum += (double)dz[j * out + o] * (double)W[o * in + i];
            da[j * in + i] = (float)sum;
        }
}

/* Softmax cross-entropy of each row: loss_j = (m + log S) - z[y_j] with
 * m = max z, S = sum_c exp(z[c] - m); the sum of loss_j in double goes to
 * *loss_sum. dz = (softmax(z) - onehot(y)) * scale. */
static void softmax_xent(const float *z, const int32_t *y, float *dz, int64_t rows,
                         int64_t classes, float scale, double *loss_sum)
{
    for (int64_t j = 0; j < rows; j++) {
        const float *row = z + j * classes;
        float m = row[0];
        for (int64_t c = 1; c < classes; c++)
            m = row[c] > m ? row[c] : m;
        float S = 0.0f;
        for (int64_t c = 0; c < classes; c++)
            S += expf(row[c] - m);
        *loss_sum += (double)((m + logf(S)) - row[y[j]]);
        const float inv_S = 1.0f / S;
        for (int64_t c = 0; c < classes; c++)
            dz[j * classes + c] = (expf(row[c] - m) * inv_S) * scale;
        dz[j * classes + y[j]] -= scale;
    }
}

/* Forward and backward of the `rows` samples in s->x, s->y with parameters
 * `params`, adding the gradient (dlogits scaled by `scale`) into `grads`;
 * adds the samples' loss sum to *loss_sum. */
static void kit_forward_backward(dtb_state *s, const float *params, float *grads, int64_t rows,
                                 float scale, double *loss_sum)
{
    const int L = s->n_layers;
    const float *a = s->x;
    for (int l = 0; l < L; l++) {
        const kit_layer *k = &s->layers[l];
        float *z = s->acts + k->z_at;
        linear_forward(a, params + k->w, params + k->b, z, rows, k->in, k->out);
        if (l == L - 1)
            break;
        float *next = s->acts + k->a_at;
        for (int64_t i = 0; i < rows * k->out; i++)
            next[i] = gelu(z[i]);
        a = next;
    }
    float *dz = s->dz, *da = s->da;
    softmax_xent(s->acts + s->layers[L - 1].z_at, s->y, dz, rows, s->layers[L - 1].out, scale,
                 loss_sum);
    for (int l = L - 1; l >= 0; l--) {
        const kit_layer *k = &s->layers[l];
        const float *a_in = l == 0 ? s->x : s->acts + s->layers[l - 1].a_at;
        linear_backward(dz, a_in, params + k->w, grads + k->w, grads + k->b, l > 0 ? da : NULL,
                        rows, k->in, k->out);
        if (l == 0)
            break;
        const float *z_prev = s->acts + s->layers[l - 1].z_at; /* dz_{l-1} = da * gelu'(z_{l-1}) */
        for (int64_t i = 0; i < rows * k->in; i++)
            da[i] *= gelu_grad(z_prev[i]);
        float *swap = dz;
        dz = da;
        da = swap;
    }
}

/* Every micro-batch of `step`: this rank's share of it from the host, its
 * forward and backward with dlogits scaled by fl32(1/B), accumulated into
 * `grads` (which the caller zeroed). *loss_sum: this rank's loss sum. */
static int kit_accumulate(dtb_state *s, const float *params, float *grads, int64_t step,
                          double *loss_sum)
{
    const int64_t B = s->spec.global_batch, M = s->spec.micro_batches;
    const float scale = (float)(1.0 / (double)B);
    *loss_sum = 0.0;
    for (int64_t m = 0; m < M; m++) {
        int64_t mf, mc, rf, rc;
        split_range(B, M, m, &mf, &mc);
        split_range(mc, s->world, s->rank, &rf, &rc);
        if (rc == 0)
            continue; /* an empty share contributes nothing */
        if (s->host.sample_batch(s->host.ctx, step, mf + rf, rc, s->x, s->y) != 0)
            return kit_fail(s, "host refused samples %lld..%lld of step %lld",
                            (long long)(mf + rf), (long long)(mf + rf + rc - 1), (long long)step);
        kit_forward_backward(s, params, grads, rc, scale, loss_sum);
    }
    return 0;
}

/* ==== 4. Clipping and the optimizers (plugin.h, docs/model-spec.md) ======== */

/* sum_i g_i^2, each square exact in double. */
static double kit_sum_squares(const float *g, int64_t n)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)g[i] * (double)g[i];
    return sum;
}

/* coef = min(1, clip_norm / (norm + 1e-6)) in double (1 when clipping is
 * off); g *= fl32(coef) when coef < 1. Returns coef. */
static double kit_clip(const dtb_state *s, float *g, int64_t n, double norm)
{
    const double clip = s->spec.clip_norm;
    double coef = clip > 0.0 ? clip / (norm + 1e-6) : 1.0;
    coef = coef < 1.0 ? coef : 1.0;
    if (coef < 1.0)
        for (int64_t i = 0; i < n; i++)
            g[i] *= (float)coef;
    return coef;
}

/* SGD, torch.optim.SGD: d = g + wd p; buf = d (t = 1) or mu buf + d; p -= lr buf. */
static void sgd_momentum(float *p, const float *g, float *buf, int64_t n, const dtb_run_spec *o,
                         double wd, int64_t t)
{
    const float lr = (float)o->lr, mu = (float)o->momentum, wd_f = (float)wd;
    for (int64_t i = 0; i < n; i++) {
        const float d = g[i] + wd_f * p[i];
        buf[i] = t == 1 ? d : mu * buf[i] + d;
        p[i] = p[i] - lr * buf[i];
    }
}

/* AdamW, torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1-b1) g;
 * v = b2 v + (1-b2) g^2; p -= (lr / (1-b1^t)) m / (sqrt(v) / sqrt(1-b2^t) + eps).
 * Coefficients in double, rounded once to float. */
static void adamw(float *p, const float *g, float *m, float *v, int64_t n, const dtb_run_spec *o,
                  double wd, int64_t t)
{
    const float decay = (float)(1.0 - o->lr * wd);
    const float step_size = (float)(o->lr / (1.0 - pow(o->beta1, (double)t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(o->beta2, (double)t));
    const float b1 = (float)o->beta1, one_minus_b1 = (float)(1.0 - o->beta1);
    const float b2 = (float)o->beta2, one_minus_b2 = (float)(1.0 - o->beta2);
    const float eps = (float)o->eps;
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i];
        p[i] = p[i] * decay;
        m[i] = b1 * m[i] + one_minus_b1 * gi;
        v[i] = b2 * v[i] + one_minus_b2 * (gi * gi);
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] = p[i] - step_size * (m[i] / denom);
    }
}

/* The spec's optimizer, step t, over canonical elements [first, first + n):
 * p, g, a, b point at element `first` of their arrays. Weight decay only on
 * tensors flagged DTB_TENSOR_DECAY, so the range is walked tensor by tensor. */
static void kit_optimizer_step(const dtb_state *s, float *p, const float *g, float *a, float *b,
                               int64_t first, int64_t n, int64_t t)
{
    for (int i = 0; i < s->model->n_tensors; i++) {
        const dtb_tensor_desc *T = &s->model->tensors[i];
        const int64_t lo = T->offset > first ? T->offset : first;
        const int64_t hi_t = T->offset + T->numel, hi_r = first + n;
        const int64_t hi = hi_t < hi_r ? hi_t : hi_r;
        if (lo >= hi)
            continue;
        const double wd = (T->flags & DTB_TENSOR_DECAY) ? s->spec.weight_decay : 0.0;
        const int64_t at = lo - first;
        if (s->spec.optimizer == DTB_OPT_ADAMW)
            adamw(p + at, g + at, a + at, b + at, hi - lo, &s->spec, wd, t);
        else
            sgd_momentum(p + at, g + at, a + at, hi - lo, &s->spec, wd, t);
    }
}

/* ==== 5. Plugin plumbing any scheme shares ================================== */

/* Checks what we can run, copies the spec, duplicates the communicator and
 * allocates the activation buffers. The model states come after
 * (kit_alloc_states), sized by the scheme. */
static int kit_create(const dtb_run_spec *spec, const dtb_host_api *host, const char *name,
                      dtb_state **out)
{
    *out = NULL;
    if (!KIT_HAS(host, dtb_host_api, error))
        return -1; /* no way even to say why */
    dtb_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        host->error(host->ctx, "out of memory for the plugin state");
        return -1;
    }
    s->name = name;
    s->host = *host;
    s->comm = MPI_COMM_NULL;
    *out = s;
    if (!KIT_HAS(spec, dtb_run_spec, device_kind)) /* the last field we read */
        return kit_fail(s, "run spec of %u bytes lacks fields this plugin reads", spec->struct_size);
    /* An older harness's spec may be shorter: fields beyond it stay zero. */
    memcpy(&s->spec, spec, spec->struct_size < sizeof s->spec ? spec->struct_size : sizeof s->spec);
    if (spec->precision != DTB_PREC_FP32)
        return kit_fail(s, "precision %d asked; this plugin runs fp32 only", (int)spec->precision);
    if (spec->device_kind != DTB_DEVICE_CPU)
        return kit_fail(s, "device kind %d asked; this plugin runs on the CPU only",
                        (int)spec->device_kind);
    if (spec->optimizer != DTB_OPT_SGD_MOMENTUM && spec->optimizer != DTB_OPT_ADAMW)
        return kit_fail(s, "unknown optimizer %d", (int)spec->optimizer);
    if (spec->global_batch < 1 || spec->micro_batches < 1 || spec->world_size < 1 ||
        spec->rank < 0 || spec->rank >= spec->world_size)
        return kit_fail(s, "batch %lld in %d micro-batches on rank %d of %d is not a valid run",
                        (long long)spec->global_batch, (int)spec->micro_batches,
                        (int)spec->rank, (int)spec->world_size);
    s->rank = spec->rank;
    s->world = spec->world_size;
    if (kit_read_model(s, spec->model) != 0)
        return -1;
    if (s->world > 1) { /* a world of one communicates nothing at all */
        MPI_Comm parent = MPI_Comm_f2c((MPI_Fint)spec->mpi_comm_fortran);
        if (kit_mpi(s, MPI_Comm_dup(parent, &s->comm), "MPI_Comm_dup") != 0)
            return -1;
        if (kit_mpi(s, MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN),
                    "MPI_Comm_set_errhandler") != 0)
            return -1;
    }
    /* Activations for the largest share: z_l of every layer, a_{l+1} of the
     * hidden ones, and two buffers of gradient rows for the backward. */
    const int64_t rows = kit_max_rows(spec->global_batch, spec->micro_batches, s->world);
    int64_t width = 0, at = 0; /* dz and da rows: the widths d_1 .. d_L */
    for (int l = 0; l < s->n_layers; l++) {
        kit_layer *k = &s->layers[l];
        width = k->out > width ? k->out : width;
        k->z_at = at;
        at += rows * k->out;
        k->a_at = at;
        if (l < s->n_layers - 1)
            at += rows * k->out;
    }
    void *labels;
    if (kit_alloc(s, DTB_MEM_ACTIVATIONS, rows, sizeof(int32_t), &labels) != 0)
        return -1;
    s->y = labels;
    if (kit_alloc_floats(s, DTB_MEM_ACTIVATIONS, rows * s->layers[0].in, &s->x) != 0 ||
        kit_alloc_floats(s, DTB_MEM_ACTIVATIONS, at, &s->acts) != 0 ||
        kit_alloc_floats(s, DTB_MEM_ACTIVATIONS, rows * width, &s->dz) != 0 ||
        kit_alloc_floats(s, DTB_MEM_ACTIVATIONS, rows * width, &s->da) != 0)
        return -1;
    return 0;
}

/* Parameters, gradients and optimizer state (1 buffer for SGD, 2 for
 * AdamW), zeroed, each as long as the scheme needs (at least Psi params). */
static int kit_alloc_states(dtb_state *s, int64_t params_len, int64_t grads_len, int64_t opt_len)
{
    if (params_len < s->n_params || grads_len > INT_MAX)
        return kit_fail(s, "buffers of %lld parameters and %lld gradients do not fit the model",
                        (long long)params_len, (long long)grads_len);
    s->params_len = params_len;
    s->grads_len = grads_len;
    s->opt_len = opt_len;
    if (kit_alloc_floats(s, DTB_MEM_PARAMS, params_len, &s->params) != 0 ||
        kit_alloc_floats(s, DTB_MEM_GRADS, grads_len, &s->grads) != 0 ||
        kit_alloc_floats(s, DTB_MEM_OPTIM, opt_len, &s->opt_a) != 0)
        return -1;
    if (s->spec.optimizer == DTB_OPT_ADAMW)
        return kit_alloc_floats(s, DTB_MEM_OPTIM, opt_len, &s->opt_b);
    return 0;
}

/* params[0 .. Psi) = the host's initial values, tensor by tensor. */
static int kit_load_params(dtb_state *s)
{
    for (int t = 0; t < s->model->n_tensors; t++) {
        const dtb_tensor_desc *T = &s->model->tensors[t];
        if (s->host.init_params(s->host.ctx, t, 0, T->numel, s->params + T->offset) != 0)
            return kit_fail(s, "host refused the initial values of tensor %s", T->name);
    }
    return 0;
}

/* A double (the loss sum, a sum of squares) summed over ranks, in place:
 * one allreduce of 8 bytes (none at N = 1). */
static int kit_allreduce_scalar(dtb_state *s, double *value, const char *what)
{
    if (s->world == 1)
        return 0;
    if (kit_mpi(s, MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_DOUBLE, MPI_SUM, s->comm), what) != 0)
        return -1;
    kit_count(s, DTB_COLL_ALLREDUCE, (int64_t)sizeof *value);
    return 0;
}

/* The end of every step, on the reduced gradient of canonical elements
 * [first, first + n) (all of them in DDP, a shard in ZeRO): clip it by the
 * global `norm` (identical on every rank), step the optimizer over it, and
 * report the mean loss, the norm and the clip coefficient. */
static void kit_update(dtb_state *s, float *p, float *g, float *a, float *b, int64_t first,
                       int64_t n, int64_t step, double norm, double loss_sum,
                       dtb_step_report *report)
{
    const double coef = kit_clip(s, g, n, norm);
    kit_optimizer_step(s, p, g, a, b, first, n, step);
    const dtb_step_report r = {
        .loss = loss_sum / (double)s->spec.global_batch, .grad_norm = norm, .clip_coef = coef};
    kit_copy_out(report, &r, sizeof r);
}

/* get_params: the full canonical parameters, identical on every rank. */
static int kit_get_params(dtb_state *s, float *out, int64_t n)
{
    if (n != s->n_params)
        return kit_fail(s, "get_params asked for %lld values, the model has %lld", (long long)n,
                        (long long)s->n_params);
    memcpy(out, s->params, (size_t)n * sizeof *out);
    return 0;
}

/* get_compute_params: under fp32 the compute parameters are the masters. */
static int kit_get_compute_params(dtb_state *s, void *out, int64_t n, int32_t *dtype)
{
    *dtype = DTB_DTYPE_FP32;
    return kit_get_params(s, out, n);
}

static int kit_get_counters(dtb_state *s, dtb_counters *out)
{
    kit_copy_out(out, &s->counters, sizeof s->counters);
    return 0;
}

static void kit_destroy(dtb_state *s)
{
    if (s == NULL)
        return;
    if (s->comm != MPI_COMM_NULL)
        MPI_Comm_free(&s->comm);
    kit_free_all(s);
    free(s);
}

/* Canonical checkpoints (docs/checkpoint.md): canonical elements
 * [first, first + n) of the parameters (KIT_CKPT_PARAMS, from params[first])
 * and of the optimizer state (KIT_CKPT_STATE, from opt_a/opt_b[state_at]),
 * stored (save) or replaced (load). The optimizer's step count needs no
 * restoring: the kit steps with t = train_step's step, and a resumed run
 * goes on at io->step + 1. */
#define KIT_CKPT_PARAMS 1
#define KIT_CKPT_STATE 2
static int kit_ckpt_range(dtb_state *s, const dtb_checkpoint_io *io, int save, int which,
                          int64_t first, int64_t n, int64_t state_at)
{
    const int adamw = s->spec.optimizer == DTB_OPT_ADAMW;
    const int32_t arrays[3] = {DTB_CKPT_PARAMS, adamw ? DTB_CKPT_EXP_AVG : DTB_CKPT_MOMENTUM,
                               DTB_CKPT_EXP_AVG_SQ};
    float *where[3] = {s->params + first, s->opt_a + state_at,
                       adamw ? s->opt_b + state_at : NULL};
    const int wanted[3] = {which & KIT_CKPT_PARAMS, which & KIT_CKPT_STATE,
                           adamw && (which & KIT_CKPT_STATE)};
    for (int k = 0; k < 3 && n > 0; k++) {
        if (!wanted[k])
            continue;
        const int rc = save ? io->write(io->ctx, arrays[k], first, n, where[k])
                            : io->read(io->ctx, arrays[k], first, n, where[k]);
        if (rc != 0)
            return kit_fail(s, "the harness refused %s elements %lld..%lld of array %d",
                            save ? "to store" : "to read", (long long)first,
                            (long long)(first + n - 1), (int)arrays[k]);
    }
    return 0;
}

/* The capabilities of every scheme built on the kit, less the stage. */
#define KIT_CAPS                                                                         \
    (DTB_CAP_FP32 | DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP |          \
     DTB_CAP_GRAD_ACCUM | DTB_CAP_UNEVEN_BATCH | DTB_CAP_MODEL_MLP | DTB_CAP_CPU)

/* ==== 6. DDP ================================================================= */
#ifndef DDP_SIMPLE_KIT_ONLY

/* The plugin's name (variants built from this file set their own). */
#ifndef DDP_SIMPLE_NAME
#define DDP_SIMPLE_NAME "ddp-simple"
#endif

/* Full parameters, gradients and optimizer state on every rank:
 * (p + g + K) Psi bytes, exactly the DDP formula, nothing padded. */
static int ddp_create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    dtb_state *s = NULL;
    int rc = kit_create(spec, host, DDP_SIMPLE_NAME, &s);
    if (rc == 0 && spec->stage != DTB_STAGE_DDP)
        rc = kit_fail(s, "stage %d asked; this plugin runs DDP only", (int)spec->stage);
    if (rc == 0)
        rc = kit_alloc_states(s, s->n_params, s->n_params, s->n_params);
    if (rc == 0)
        rc = kit_load_params(s);
    if (rc != 0) {
        kit_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* The gradient summed over ranks, in place: one allreduce of Psi floats. */
static int ddp_allreduce_gradient(dtb_state *s)
{
    if (s->world == 1)
        return 0;
    if (kit_mpi(s, MPI_Allreduce(MPI_IN_PLACE, s->grads, (int)s->grads_len, MPI_FLOAT, MPI_SUM,
                                 s->comm), "MPI_Allreduce of the gradient") != 0)
        return -1;
    kit_count(s, DTB_COLL_ALLREDUCE, s->grads_len * (int64_t)sizeof(float));
    return 0;
}

/* One step: accumulate, sum the gradient over ranks, clip by its norm (the
 * same on every rank) and update every element. */
static int ddp_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    double loss_sum = 0.0;
    memset(s->grads, 0, (size_t)s->grads_len * sizeof *s->grads);
    if (kit_accumulate(s, s->params, s->grads, step, &loss_sum) != 0 ||
        ddp_allreduce_gradient(s) != 0 ||
        kit_allreduce_scalar(s, &loss_sum, "MPI_Allreduce of the loss") != 0)
        return -1;
    const double norm = sqrt(kit_sum_squares(s->grads, s->n_params));
    kit_update(s, s->params, s->grads, s->opt_a, s->opt_b, 0, s->n_params, step, norm, loss_sum,
               report);
    return 0;
}

static int ddp_get_facts(dtb_state *s, dtb_facts *out)
{
    (void)s;
    const dtb_facts f = {.stage = DTB_STAGE_DDP,
                         .precision = DTB_PREC_FP32,
                         .reduce_dtype = DTB_DTYPE_FP32,
                         .param_dtype = DTB_DTYPE_FP32,
                         .bucket_bytes = 0, /* one flat allreduce, no buckets */
                         .prefetch_depth = -1,
                         .mem_padding_bytes = 0,
                         .mem_working_bytes = 0};
    kit_copy_out(out, &f, sizeof f);
    return 0;
}

/* Checkpoints: every rank holds everything, so rank 0 alone stores it
 * (one writer; the reference splits the work instead, and both are
 * canonical), and every rank reads it all back. */
static int ddp_save_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    if (s->rank != 0)
        return 0;
    return kit_ckpt_range(s, io, 1, KIT_CKPT_PARAMS | KIT_CKPT_STATE, 0, s->n_params, 0);
}

static int ddp_load_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    return kit_ckpt_range(s, io, 0, KIT_CKPT_PARAMS | KIT_CKPT_STATE, 0, s->n_params, 0);
}

#ifndef DDP_SIMPLE_NO_ENTRY
const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = DDP_SIMPLE_NAME,
        .version = "1.0.0",
        .description = "example DDP: one flat fp32 allreduce per step (docs/plugins.md)",
        .caps = KIT_CAPS | DTB_CAP_DDP | DTB_CAP_CHECKPOINT,
        .create = ddp_create,
        .train_step = ddp_train_step,
        .get_params = kit_get_params,
        .get_counters = kit_get_counters,
        .get_facts = ddp_get_facts,
        .destroy = kit_destroy,
        .get_compute_params = kit_get_compute_params,
        .save_checkpoint = ddp_save_checkpoint,
        .load_checkpoint = ddp_load_checkpoint,
    };
    return &table;
}
#endif /* DDP_SIMPLE_NO_ENTRY */
#endif /* DDP_SIMPLE_KIT_ONLY */
