/*
 * Exact checks of what a plugin reports beside its parameters (ABI v2):
 * the clipping coefficient it applied, and its compute parameters. Both
 * catch bugs too small for any tolerance on the parameters: a coefficient
 * off by a relative 1e-6 (a missing epsilon, a norm computed in a different
 * precision) moves an fp32 update by less than fp32 can show, and a bf16
 * rounding that breaks ties away from even instead of to even differs from
 * the recipe in one element in 2^16.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bf16.h"
#include "checks_internal.h"
#include "model.h"
#include "optim.h"

/* A coefficient computed in fp32 from fp32 values is within a few ulps of
 * the double formula: 2^-21 relative is 4 fp32 ulps at 1. */
#define CLIP_COEF_REL_TOL 0x1p-21

void check_clip_coefficient(const check_inputs *in, check_list *out)
{
    check_result *c = check_list_add(out, "clip coefficient exact");
    if (!c)
        return;
    const case_config *cfg = in->cfg;
    for (int r = 0; r < in->world_size; r++) {
        const rank_result *rr = &in->run1[r];
        for (int64_t s = 0; s < cfg->steps; s++) {
            const double coef = rr->clip_coef[s], norm = rr->grad_norm[s];
            if (coef < 0) {
                check_skip(c, "the plugin does not report dtb_step_report.clip_coef");
                return;
            }
            /* Without a reported norm, judge against the oracle's. */
            const double basis = norm >= 0 || !in->oracle ? norm : in->oracle->grad_norm[s];
            const double want = clip_coefficient(basis, cfg->clip_norm);
            const double off = fabs(coef - want);
            if (coef <= 1.0 && off <= CLIP_COEF_REL_TOL * want)
                continue;
            char msg[256];
            snprintf(msg, sizeof msg, "rank %d step %lld applied clip coefficient %.17g; "
                     "min(1, %g / (%.17g + 1e-6)) is %.17g (off by %.3g relative)", r,
                     (long long)s + 1, coef, cfg->clip_norm, basis, want, off / want);
            check_fail(c, msg);
            diag_int(&c->diag, "rank", r);
            diag_int(&c->diag, "step", s + 1);
            diag_real(&c->diag, "reported_clip_coef", coef);
            diag_real(&c->diag, "reported_grad_norm", norm);
            diag_real(&c->diag, "expected_clip_coef", want);
            if (in->oracle)
                diag_real(&c->diag, "oracle_clip_coef",
                          clip_coefficient(in->oracle->grad_norm[s], cfg->clip_norm));
            diag_real(&c->diag, "relative_tolerance", CLIP_COEF_REL_TOL);
            return;
        }
    }
}

/* What a wrong bf16 rounding of m into got looks like, for the message. */
static const char *rounding_kind(float m, uint16_t got)
{
    uint32_t u;
    memcpy(&u, &m, sizeof u);
    const uint16_t truncated = (uint16_t)(u >> 16);
    const uint16_t away = (uint16_t)((u + 0x8000u) >> 16); /* ties away from zero */
    if (got == truncated)
        return "truncation (round toward zero)";
    if (got == away)
        return "round half away from zero";
    return "not a rounding of the master";
}

/* First element of rank r's compute parameters at check k that is not the
 * recipe's rounding of its master; -1 when all are. */
static int64_t first_wrong(const rank_result *rr, int k)
{
    const int64_t n = rr->n_params;
    const float *master = rr->params + (size_t)k * (size_t)n;
    if (rr->compute_dtype == DTB_DTYPE_FP32) {
        const float *got = (const float *)rr->compute_params + (size_t)k * (size_t)n;
        for (int64_t i = 0; i < n; i++)
            if (memcmp(&got[i], &master[i], sizeof(float)) != 0)
                return i;
        return -1;
    }
    const uint16_t *got = (const uint16_t *)rr->compute_params + (size_t)k * (size_t)n;
    for (int64_t i = 0; i < n; i++)
        if (got[i] != float_to_bf16(master[i]))
            return i;
    return -1;
}

void check_compute_params(const check_inputs *in, check_list *out)
{
    check_result *c = check_list_add(out, "compute parameters are the rounded masters");
    if (!c)
        return;
    const case_config *cfg = in->cfg;
    if (!in->run1[0].has_compute_params) {
        check_skip(c, "the plugin provides no get_compute_params");
        return;
    }
    const int32_t want_dtype = cfg->precision == DTB_PREC_BF16_MIXED ? DTB_DTYPE_BF16
                                                                     : DTB_DTYPE_FP32;
    mlp_layout lay;
    mlp_layout_init(cfg->model, &lay);
    for (int r = 0; r < in->world_size; r++) {
        const rank_result *rr = &in->run1[r];
        char msg[320];
        if (!rr->has_compute_params || rr->compute_dtype != want_dtype) {
            snprintf(msg, sizeof msg, "rank %d returns compute parameters of dtype %d; %s asks "
                     "for %s", r, rr->has_compute_params ? (int)rr->compute_dtype : -1,
                     precision_name(cfg->precision), want_dtype == DTB_DTYPE_BF16 ? "bf16" : "fp32");
            check_fail(c, msg);
            diag_int(&c->diag, "rank", r);
            return;
        }
        for (int k = 0; k < rr->n_checks; k++) {
            const int64_t i = first_wrong(rr, k);
            if (i < 0)
                continue;
            int t = 0;
            while (t + 1 < lay.n_tensors && lay.offset[t + 1] <= i)
                t++;
            const float m = rr->params[(size_t)k * (size_t)rr->n_params + (size_t)i];
            if (want_dtype == DTB_DTYPE_FP32) {
                snprintf(msg, sizeof msg, "rank %d after step %lld: %s[%lld] computes with a "
                         "value other than its fp32 master %.9g", r, (long long)rr->check_steps[k],
                         lay.name[t], (long long)(i - lay.offset[t]), (double)m);
            } else {
                const uint16_t got = ((const uint16_t *)rr->compute_params)
                    [(size_t)k * (size_t)rr->n_params + (size_t)i];
                snprintf(msg, sizeof msg, "rank %d after step %lld: %s[%lld] is bf16 0x%04x, the "
                         "nearest-even rounding of its master %.9g is 0x%04x: %s", r,
                         (long long)rr->check_steps[k], lay.name[t],
                         (long long)(i - lay.offset[t]), got, (double)m, float_to_bf16(m),
                         rounding_kind(m, got));
            }
            check_fail(c, msg);
            diag_int(&c->diag, "rank", r);
            diag_int(&c->diag, "step", rr->check_steps[k]);
            diag_text(&c->diag, "tensor", "%s", lay.name[t]);
            diag_int(&c->diag, "element", i - lay.offset[t]);
            diag_real(&c->diag, "master", (double)m);
            return;
        }
    }
}
