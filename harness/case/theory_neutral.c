#include "theory_neutral.h"

#include <string.h>

/* Minimum bus bytes per rank per step for `psi` elements (header comment). */
static double min_bus(int32_t stage, double psi, double n, double m, const theory_bytes *b)
{
    const double f = (n - 1) / n, p = b->p, g = b->g;
    switch (stage) {
    case DTB_STAGE_DDP:
        return 2 * f * g * psi;
    case DTB_STAGE_ZERO1:
        return f * (g + p) * psi;
    case DTB_STAGE_ZERO2:
        return f * (m * g + p) * psi;
    case DTB_STAGE_ZERO3:
        return f * m * (g + 2 * p) * psi;
    default:
        return 0;
    }
}

int theory_neutral_bounds(const theory_case *c, theory_neutral *out)
{
    memset(out, 0, sizeof *out);
    theory_bytes b;
    int64_t a, s;
    if (c->stage < DTB_STAGE_DDP || c->stage > DTB_STAGE_ZERO3 ||
        theory_bytes_per_element(c->precision, c->optimizer, &b) != 0 ||
        theory_memory_coefficients(c->stage, &b, 0, &a, &s) != 0)
        return -1;
    const int64_t n = c->world_size > 0 ? c->world_size : 1;
    int64_t numel[THEORY_MAX_UNITS];
    int32_t count[THEORY_MAX_UNITS];
    const int units = theory_units(c, numel, count);
    int64_t psi = 0, layer_max = 0, tensors = 0, t_max = 0;
    for (int l = 0; l < units; l++) {
        psi += numel[l];
        tensors += count[l];
        if (numel[l] > layer_max)
            layer_max = numel[l], t_max = count[l];
    }
    const int64_t slack = tensors * (n + THEORY_NEUTRAL_ALIGN);
    const double m = c->micro_batches > 0 ? c->micro_batches : 1;
    if (n > 1) {
        out->min_bus_per_step = min_bus(c->stage, (double)psi, (double)n, m, &b);
        out->allowed_bus_per_step =
            min_bus(c->stage, (double)(psi + slack), (double)n, m, &b) + THEORY_NEUTRAL_SCALAR_BYTES;
    }
    out->formula = (double)a * (double)psi + (double)s * (double)psi / (double)n;
    out->padding_bound = (int64_t)(b.p + b.g + b.K) * slack;
    if (c->stage == DTB_STAGE_ZERO3) {
        const int64_t d = c->prefetch_depth >= 0 ? c->prefetch_depth : 1;
        out->working_bound = (d + 1) * b.p * (layer_max + t_max * (n + THEORY_NEUTRAL_ALIGN));
    }
    return 0;
}

int theory_buffer_bounds(const theory_case *c, int64_t share, theory_buffers *out)
{
    memset(out, 0, sizeof *out);
    theory_bytes b;
    /* The activations' formula is the MLP's: given its widths only. */
    if (c->stage < DTB_STAGE_SINGLE || c->stage > DTB_STAGE_ZERO3 || c->n_linear < 1 ||
        c->n_units > 0 || theory_bytes_per_element(c->precision, c->optimizer, &b) != 0)
        return -1;
    const int64_t n = c->world_size > 0 ? c->world_size : 1, L = c->n_linear;
    const int64_t r = share > 0 ? share : 1;
    int64_t widths = 0, inner = 0, w = 0, n_max = 0, psi = 0, shard_total = 0;
    for (int l = 0; l < L; l++) {
        const int64_t d = c->dims[l + 1], layer = d * (c->dims[l] + 1);
        widths += d;
        inner += l + 1 < L ? d : 0;
        w = d > w ? d : w;
        n_max = layer > n_max ? layer : n_max;
        psi += layer;
        shard_total += (layer + n - 1) / n;
    }
    const int64_t d0 = c->dims[0];
    const int64_t u_max = n * ((n_max + n - 1) / n);
    const int bf16 = c->precision == DTB_PREC_BF16_MIXED;
    const int zero = c->stage >= DTB_STAGE_ZERO1;
    out->activations = 4 * r * (d0 + 1 + widths + 2 * inner + 2 * w) + r * (4 * d0 + 4);
    out->comm = c->stage == DTB_STAGE_ZERO1 ? b.g * shard_total
                : c->stage >= DTB_STAGE_ZERO2 ? 2 * b.g * u_max : 0;
    out->other = zero ? 4 * u_max * (bf16 ? 2 : 1) : bf16 ? 4 * n_max : 0;

    const int64_t psi_slack = psi + 2 * L * (n + THEORY_NEUTRAL_ALIGN);
    const int64_t layer_slack = n_max + 2 * (n + THEORY_NEUTRAL_ALIGN);
    out->activations_bound = out->activations * 3 / 2 + THEORY_ACT_SLACK_BYTES;
    switch (c->stage) {
    case DTB_STAGE_SINGLE:
    case DTB_STAGE_DDP:
        out->comm_bound = b.g * psi_slack;
        break;
    case DTB_STAGE_ZERO1:
        out->comm_bound = b.g * psi_slack + b.g * psi_slack / n;
        break;
    default:
        out->comm_bound = 2 * b.g * layer_slack + b.g * psi_slack / n;
        break;
    }
    out->other_bound = 2 * 4 * layer_slack;
    return 0;
}

const char *theory_stage_title(int32_t stage)
{
    switch (stage) {
    case DTB_STAGE_SINGLE:
        return "single device";
    case DTB_STAGE_DDP:
        return "DDP";
    case DTB_STAGE_ZERO1:
        return "ZeRO-1";
    case DTB_STAGE_ZERO2:
        return "ZeRO-2";
    case DTB_STAGE_ZERO3:
        return "ZeRO-3";
    default:
        return "unknown stage";
    }
}
