/* Closed-form communication and memory per stage (theory.h, docs/zero.md). */
#include "theory.h"

#include <string.h>

int theory_units(const theory_case *c, int64_t *numel, int32_t *tensors)
{
    if (c->n_units > 0) {
        for (int l = 0; l < c->n_units; l++) {
            if (numel)
                numel[l] = c->unit_numel[l];
            if (tensors)
                tensors[l] = c->unit_tensors[l];
        }
        return c->n_units;
    }
    for (int l = 0; l < c->n_linear; l++) {
        if (numel)
            numel[l] = c->dims[l + 1] * c->dims[l] + c->dims[l + 1]; /* W_l then b_l */
        if (tensors)
            tensors[l] = 2;
    }
    return c->n_linear;
}

void theory_partition_init(const theory_case *c, theory_partition *out)
{
    memset(out, 0, sizeof *out);
    int64_t n = c->world_size > 0 ? c->world_size : 1;
    out->n_units = theory_units(c, out->unit_numel, NULL);
    for (int l = 0; l < out->n_units; l++) {
        int64_t numel = out->unit_numel[l];
        int64_t shard = (numel + n - 1) / n;                           /* ceil(n_l / N) */
        out->shard_numel[l] = shard;
        out->n_params += numel;
        out->shard_total += shard;
        if (n * shard > out->max_unit_padded)
            out->max_unit_padded = n * shard;
    }
    out->padded_total = n * out->shard_total;
}

int theory_bytes_per_element(int32_t precision, int32_t optimizer, theory_bytes *out)
{
    memset(out, 0, sizeof *out);
    /* K: one fp32 state (SGD momentum) or two (AdamW m, v), plus the fp32
     * master copy under bf16-mixed, where the compute parameters are bf16. */
    int states;
    switch (optimizer) {
    case DTB_OPT_SGD_MOMENTUM:
        states = 1;
        break;
    case DTB_OPT_ADAMW:
        states = 2;
        break;
    default:
        return -1;
    }
    switch (precision) {
    case DTB_PREC_FP32:
        *out = (theory_bytes){.p = 4, .g = 4, .K = 4 * states, .paper_p = 4, .paper_g = 4};
        return 0;
    case DTB_PREC_BF16_MIXED:
        *out = (theory_bytes){.p = 2, .g = 4, .K = 4 * (states + 1), .paper_p = 2,
                              .paper_g = 2};
        return 0;
    default:
        return -1;
    }
}

int theory_communication(const theory_case *c, theory_comm *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
        out->calls_exact[k] = 1;
    theory_bytes b;
    if (theory_bytes_per_element(c->precision, c->optimizer, &b) != 0 ||
        c->stage < DTB_STAGE_SINGLE || c->stage > DTB_STAGE_ZERO3)
        return -1;
    if (c->world_size <= 1 || c->stage == DTB_STAGE_SINGLE)
        return 0; /* a world of one issues no collective at all */
    theory_partition part;
    theory_partition_init(c, &part);
    uint64_t L = (uint64_t)part.n_units, M = (uint64_t)c->micro_batches;
    uint64_t psi = (uint64_t)part.n_params, psi_p = (uint64_t)part.padded_total;
    uint64_t p = (uint64_t)b.p, g = (uint64_t)b.g;
    uint64_t calls[DTB_COLL_KIND_COUNT] = {0}, bytes[DTB_COLL_KIND_COUNT] = {0};
    if (c->stage == DTB_STAGE_DDP) {
        /* Gradient buckets (fp32 under both recipes) and the fp64 loss sum. */
        calls[DTB_COLL_ALLREDUCE] = 2;
        bytes[DTB_COLL_ALLREDUCE] = 4 * psi + 8;
        out->calls_exact[DTB_COLL_ALLREDUCE] = 0;
    } else {
        /* Loss sum and squared gradient norm, one fp64 each. */
        calls[DTB_COLL_ALLREDUCE] = 2;
        bytes[DTB_COLL_ALLREDUCE] = 16;
        /* ZeRO-1 reduce-scatters once per step; ZeRO-2/3 every micro-batch. */
        uint64_t rs_rounds = c->stage == DTB_STAGE_ZERO1 ? 1 : M;
        calls[DTB_COLL_REDUCE_SCATTER] = rs_rounds * L;
        bytes[DTB_COLL_REDUCE_SCATTER] = rs_rounds * g * psi_p;
        /* ZeRO-1/2 gather the updated parameters once per step; ZeRO-3
         * gathers every unit before its forward and its backward. */
        uint64_t ag_rounds = c->stage == DTB_STAGE_ZERO3 ? 2 * M : 1;
        calls[DTB_COLL_ALLGATHER] = ag_rounds * L;
        bytes[DTB_COLL_ALLGATHER] = ag_rounds * p * psi_p;
    }
    uint64_t steps = c->steps > 0 ? (uint64_t)c->steps : 0;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        out->expected.calls[k] = steps * calls[k];
        out->expected.bytes[k] = steps * bytes[k];
    }
    return 0;
}

double theory_bus_factor(int kind, int world_size)
{
    double n = world_size > 0 ? world_size : 1;
    switch (kind) {
    case DTB_COLL_ALLREDUCE:
        return 2.0 * (n - 1) / n;
    case DTB_COLL_REDUCE_SCATTER:
    case DTB_COLL_ALLGATHER:
        return (n - 1) / n;
    case DTB_COLL_BROADCAST:
    case DTB_COLL_REDUCE:
    case DTB_COLL_P2P:
        return 1.0;
    default:
        return 0.0;
    }
}

const char *theory_collective_name(int kind)
{
    static const char *const names[DTB_COLL_KIND_COUNT] = {
        "allreduce", "reduce_scatter", "allgather", "broadcast", "reduce", "barrier", "p2p"};
    return kind >= 0 && kind < DTB_COLL_KIND_COUNT ? names[kind] : "unknown";
}

double theory_bus_bytes_per_step(const dtb_counters *c, int world_size, int64_t steps)
{
    if (steps <= 0)
        return 0;
    double sum = 0;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
        sum += (double)c->bytes[k] * theory_bus_factor(k, world_size);
    return sum / (double)steps;
}

double theory_paper_bus_elements(int32_t stage, int64_t n_params, int world_size)
{
    if (world_size <= 1 || stage == DTB_STAGE_SINGLE)
        return 0;
    double volume = stage == DTB_STAGE_ZERO3 ? 3.0 : 2.0; /* x Psi */
    return volume * (double)n_params * (double)(world_size - 1) / (double)world_size;
}

/* Coefficients of the formula a*full + b*shard, in bytes per element. */
int theory_memory_coefficients(int32_t stage, const theory_bytes *b, int paper, int64_t *a,
                                int64_t *s)
{
    int64_t p = paper ? b->paper_p : b->p, g = paper ? b->paper_g : b->g, K = b->K;
    switch (stage) {
    case DTB_STAGE_SINGLE:
    case DTB_STAGE_DDP:
        *a = p + g + K, *s = 0;
        return 0;
    case DTB_STAGE_ZERO1:
        *a = p + g, *s = K;
        return 0;
    case DTB_STAGE_ZERO2:
        *a = p, *s = g + K;
        return 0;
    case DTB_STAGE_ZERO3:
        *a = 0, *s = p + g + K;
        return 0;
    default:
        return -1;
    }
}

int theory_memory_bounds(const theory_case *c, theory_memory *out)
{
    memset(out, 0, sizeof *out);
    theory_bytes b;
    int64_t a, s, pa, ps;
    if (theory_bytes_per_element(c->precision, c->optimizer, &b) != 0 ||
        theory_memory_coefficients(c->stage, &b, 0, &a, &s) != 0 ||
        theory_memory_coefficients(c->stage, &b, 1, &pa, &ps) != 0)
        return -1;
    if (c->stage == DTB_STAGE_ZERO3 && c->prefetch_depth < 0)
        return -1;
    theory_partition part;
    theory_partition_init(c, &part);
    double n = c->world_size > 0 ? c->world_size : 1;
    double psi = (double)part.n_params;
    /* DDP keeps whole tensors: no padding, whatever N. */
    int sharded = c->stage >= DTB_STAGE_ZERO1;
    int64_t full_p = sharded ? part.padded_total : part.n_params;
    int64_t shard_p = sharded ? part.shard_total : part.n_params;
    out->bytes = b;
    out->formula = (double)a * psi + (double)s * psi / n;
    out->paper = (double)pa * psi + (double)ps * psi / n;
    int64_t padded_formula = a * full_p + s * shard_p;
    out->padding = (double)padded_formula - out->formula;
    if (c->stage == DTB_STAGE_ZERO3)
        out->materialised = (int64_t)(c->prefetch_depth + 1) * b.p * part.max_unit_padded;
    out->bound = padded_formula + out->materialised;
    return 0;
}
