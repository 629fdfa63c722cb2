/*
 * ref_gpt_train: the GPT family's named configurations (reference/gpt_configs.h)
 * and the single-device trainer (reference/gpt_train.h):
 *  1. the table: sizes and parameter counts of docs/model-spec.md 16.1, valid
 *     configurations, gpt-odd's odd sizes, lookup, the FLOPs formula;
 *  2. training gpt-odd on the Markov chain: step 1's loss is ln V (a random
 *     init predicts about uniformly), the loss falls by more than 1.5 nats, and
 *     stays above the chain's true conditional entropy (less a margin);
 *  3. micro-batches: M = 1 and M = 3 give the same loss and gradient to rounding;
 *  4. clipping: the used gradient has the threshold's norm;
 *  5. weight decay reaches the 2-D tensors only (one SGD step, bit for bit);
 *  6. refusals of bad settings;
 *  7. bf16-mixed: step 1 equals fp32 from the rounded values bit for bit, the
 *     compute parameters are the rounded masters, the masters stay fp32, it trains;
 *  8. gpt-3m's step time for B = 8 (printed, not asserted).
 * Fixed seeds; the parameters are the spec's initial values, the data its chain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "bf16.h"
#include "gpt.h"
#include "gpt_configs.h"
#include "gpt_init_data.h"
#include "gpt_train.h"
#include "optim.h"
#include "ref_util.h"

#define SEED 20240611ull
#define STEPS 200
#define TAIL 10    /* the last TAIL steps give the final loss */
#define BATCH 16
#define U32 0x1p-24 /* unit roundoff of float */
#define ODD_V 67   /* gpt-odd's vocabulary and context, for fixed arrays */
#define ODD_T 7

static const gpt_train_optim ADAMW = {.optimizer = DTB_OPT_ADAMW, .lr = 5e-3, .momentum = 0.0,
                                      .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8,
                                      .weight_decay = 0.1, .clip_norm = 1.0};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- 1. the table ------------------------------------------------------------- */

static void check_configs(ref_checker *c)
{
    static const struct {
        const char *name;
        int64_t V, T, L, H, C, params;
    } want[6] = {{"gpt-odd", 67, 7, 2, 5, 35, 32970},
                 {"gpt-3m", 1024, 128, 4, 4, 256, 3454464},
                 {"gpt2-124m", 50257, 1024, 12, 12, 768, 124439808},
                 {"gpt2-355m", 50257, 1024, 24, 16, 1024, 354823168},
                 {"gpt2-774m", 50257, 1024, 36, 20, 1280, 774030080},
                 {"gpt2-1558m", 50257, 1024, 48, 25, 1600, 1557611200}};
    int ok = gpt_config_count() == 6 && gpt_config_at(6) == NULL;
    char why[200] = "";
    for (size_t i = 0; ok && i < 6; i++) {
        const gpt_named_config *n = gpt_config_at(i);
        const gpt_config *g = &n->cfg;
        ok = strcmp(n->name, want[i].name) == 0 && gpt_config_find(want[i].name) == n &&
             n->summary != NULL && n->summary[0] != '\0' && g->vocab == want[i].V &&
             g->context == want[i].T && g->n_layer == want[i].L && g->n_head == want[i].H &&
             g->d_model == want[i].C && g->eps == 1e-5 &&
             gpt_param_count(g) == want[i].params &&
             gpt_config_validate(g, why, sizeof why) == 0;
        printf("  %-10s %13lld params  %s\n", n->name, (long long)gpt_param_count(g), n->summary);
    }
    ref_check(c, ok && gpt_config_find("gpt-2m") == NULL && gpt_config_find(NULL) == NULL,
              "6 named configurations in order with the spec's sizes and parameter counts "
              "(32,970 .. 1,557,611,200), each valid; unknown names give NULL %s", why);
    const gpt_config *odd = ref_gpt_config("gpt-odd");
    const int64_t sizes[4] = {odd->vocab, odd->context, odd->n_head, odd->d_model};
    int odd_ok = 1;
    for (int k = 0; k < 4; k++) {
        for (int64_t d = 2; d <= 4; d++) {
            odd_ok = odd_ok && sizes[k] % d != 0;
        }
    }
    ref_check(c, odd_ok, "gpt-odd: 2, 3 and 4 divide none of V=%lld, T=%lld, H=%lld, C=%lld",
              (long long)sizes[0], (long long)sizes[1], (long long)sizes[2], (long long)sizes[3]);
    /* 6 Psi + 12 L H D T per token, times B T tokens; all terms are exact in double. */
    const gpt_config *g = &gpt_config_find("gpt2-124m")->cfg;
    const double per_token = 6.0 * 124439808.0 + 12.0 * 12.0 * 12.0 * 64.0 * 1024.0;
    const double f = gpt_step_flops(g, 8);
    ref_check(c, f == per_token * 8.0 * 1024.0 && per_token == 859885056.0,
              "gpt2-124m: %.6g FLOPs per token (6 Psi + 12 L H D T), %.4g per step of 8 "
              "sequences", per_token, f);

    /* The gpt2-w<C> family: C a multiple of 64 in 64..8192, written plainly. */
    gpt_config_generated gen;
    const gpt_named_config *w768 = gpt_config_generate("gpt2-w768", &gen);
    int fam_ok = w768 != NULL && strcmp(w768->name, "gpt2-w768") == 0 &&
                 gpt_param_count(&w768->cfg) == 124439808 &&
                 gpt2_width_family_params(768) == 124439808 && w768->cfg.n_head == 12 &&
                 w768->cfg.n_layer == 12 && w768->cfg.vocab == 50257 &&
                 w768->cfg.context == 1024 && gpt_config_validate(&w768->cfg, why, sizeof why) == 0;
    for (int64_t C = 64; fam_ok && C <= 8192; C += 64) {
        char name[24];
        snprintf(name, sizeof name, "gpt2-w%lld", (long long)C);
        const gpt_named_config *g2 = gpt_config_resolve(name, &gen);
        fam_ok = g2 != NULL && g2->cfg.d_model == C && g2->cfg.n_head == C / 64 &&
                 gpt_param_count(&g2->cfg) == gpt2_width_family_params(C);
    }
    const char *bad[] = {"gpt2-w0", "gpt2-w32", "gpt2-w100", "gpt2-w0768", "gpt2-w8256",
                         "gpt2-w768x", "gpt2-w", "gpt2-w+768", NULL};
    for (int k = 0; bad[k] != NULL; k++)
        fam_ok = fam_ok && gpt_config_resolve(bad[k], &gen) == NULL;
    ref_check(c, fam_ok && gpt_config_resolve("gpt-odd", &gen) == gpt_config_find("gpt-odd"),
              "gpt2-w<C>: every C = 64 .. 8192 by 64 has H = C / 64 and Psi = 144 C^2 + 51439 C "
              "(gpt2-w768 is gpt2-124m); off-step, out-of-range and malformed names refused %s",
              why);
}

/* ---- 2. training on the chain -------------------------------------------------- */

/* H(a) = -sum p log p over the distinct successors of a, p = multiplicity / 4. */
static void chain_entropy(const gpt_config *cfg, double *h)
{
    for (int32_t a = 0; a < (int32_t)cfg->vocab; a++) {
        int32_t s[4];
        for (int k = 0; k < 4; k++) {
            s[k] = gpt_successor(SEED, cfg->vocab, a, k);
        }
        h[a] = 0.0;
        for (int k = 0; k < 4; k++) {
            int first = 1, mult = 0;
            for (int j = 0; j < 4; j++) {
                first = first && !(j < k && s[j] == s[k]);
                mult += s[j] == s[k];
            }
            if (first) {
                const double p = mult / 4.0;
                h[a] -= p * log(p);
            }
        }
    }
}

static void check_training(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = ref_gpt_config("gpt-odd");
    const int64_t V = cfg->vocab, T = cfg->context;
    gpt_trainer *tr = NULL;
    if (!ref_check(c, V == ODD_V && T == ODD_T &&
                          gpt_trainer_create(be, cfg, SEED, BATCH, 3, &ADAMW, &tr) == 0,
                   "trainer on gpt-odd, B=16, M=3 (5, 5, 6 sequences), AdamW: %s", be->error)) {
        return;
    }
    double loss[STEPS + 1], clipped = 0.0;
    int ok = 1;
    for (int64_t s = 1; s <= STEPS && ok; s++) {
        gpt_step_result r;
        ok = gpt_trainer_step(tr, s, &r) == 0 && isfinite(r.loss) && isfinite(r.grad_norm);
        loss[s] = r.loss;
        clipped += r.clip_coef < 1.0;
    }
    if (!ref_check(c, ok, "%d steps run, losses and norms finite %s", STEPS, be->error)) {
        gpt_trainer_destroy(tr);
        return;
    }
    /* The true conditional entropy over the inputs the last TAIL steps saw: the
     * expected loss of the chain's own probabilities on those batches. */
    double h[ODD_V], h_avg = 0.0, tail = 0.0;
    chain_entropy(cfg, h);
    int32_t in[BATCH * ODD_T];
    for (int64_t s = STEPS - TAIL + 1; s <= STEPS; s++) {
        ok = ok && gpt_sample_batch(SEED, V, T, s, 0, BATCH, in, NULL) == 0;
        for (int64_t i = 0; i < BATCH * T; i++) {
            h_avg += h[in[i]];
        }
        tail += loss[s];
    }
    h_avg /= (double)(TAIL * BATCH * T), tail /= TAIL;
    double h_min = INFINITY, h_max = 0.0;
    for (int64_t a = 0; a < V; a++) {
        h_min = fmin(h_min, h[a]), h_max = fmax(h_max, h[a]);
    }
    printf("  loss: step 1 %.4f, 10 %.4f, 25 %.4f, 50 %.4f, 100 %.4f, 150 %.4f, 200 %.4f; mean of "
           "steps %d..%d %.4f\n",
           loss[1], loss[10], loss[25], loss[50], loss[100], loss[150], loss[STEPS],
           STEPS - TAIL + 1, STEPS, tail);
    printf("  ln V = %.4f; chain entropy per token %.3f..%.3f, over the tail's inputs %.4f; "
           "clipped on %.0f of %d steps\n",
           log((double)V), h_min, h_max, h_avg, clipped, STEPS);
    ref_check(c, fabs(loss[1] - log((double)V)) < 0.15,
              "step 1 loss %.4f within 0.15 of ln 67 = %.4f", loss[1], log((double)V));
    ref_check(c, tail < log((double)V) - 1.5,
              "the loss falls: mean of the last %d steps %.4f < ln 67 - 1.5 = %.4f", TAIL, tail,
              log((double)V) - 1.5);
    ref_check(c, ok && tail >= h_avg - 0.1,
              "the final loss %.4f is not below the chain's entropy over the same inputs %.4f "
              "- 0.1 (gap %.4f)", tail, h_avg, tail - h_avg);
    gpt_trainer_destroy(tr);
}

/* ---- 3. micro-batches ------------------------------------------------------------ */

/* Splitting B into micro-batches regroups only the sums over rows: weight and
 * bias gradients (BLAS dZ^T X and column sums), LayerNorm gradients and
 * wte's scatter-add of the embedding sum N = B T = 112 row terms in one pass
 * or in three partial sums. Reordering a float sum of n terms moves it by at
 * most 2 (n-1) u sum|terms| (u = 2^-24), about 1.3e-5 sum|terms| here;
 * per-row values may also differ by rounding where BLAS blocks the rows
 * differently. Bounds, relative to each tensor's max |g| (sum|terms| is not
 * available, and an element's terms can be far larger than it where they
 * cancel): normwise ||dg|| / ||g|| < 1e-5 and per element |dg| < 1e-5 max|g_t|.
 * The loss is a double sum of per-row float losses: relative 1e-6 (per-row
 * rounding of u = 6e-8 at most amplified). */
static void check_micro_split(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = ref_gpt_config("gpt-odd");
    gpt_train_optim o = ADAMW;
    o.clip_norm = 0.0; /* compare the raw gradients */
    gpt_trainer *one = NULL, *three = NULL;
    gpt_step_result r1, r3;
    int ok = gpt_trainer_create(be, cfg, SEED, BATCH, 1, &o, &one) == 0 &&
             gpt_trainer_create(be, cfg, SEED, BATCH, 3, &o, &three) == 0 &&
             gpt_trainer_step(one, 1, &r1) == 0 && gpt_trainer_step(three, 1, &r3) == 0;
    if (!ref_check(c, ok, "M=1 and M=3 trainers, step 1 %s", be->error)) {
        gpt_trainer_destroy(one), gpt_trainer_destroy(three);
        return;
    }
    const int64_t nt = gpt_tensor_count(cfg);
    gpt_tensor_info tab[4 + 12 * 2];
    gpt_tensor_table(cfg, tab);
    const float *g1 = gpt_trainer_grads(one), *g3 = gpt_trainer_grads(three);
    double worst_norm = 0.0, worst_elem = 0.0;
    int64_t wt = 0, identical = 0;
    for (int64_t t = 0; t < nt; t++) {
        double num = 0.0, den = 0.0, gmax = 0.0, emax = 0.0;
        for (int64_t i = tab[t].offset; i < tab[t].offset + tab[t].numel; i++) {
            const double d = (double)g1[i] - (double)g3[i];
            num += d * d, den += (double)g1[i] * g1[i];
            gmax = fmax(gmax, fabs(g1[i])), emax = fmax(emax, fabs(d));
            identical += g1[i] == g3[i];
        }
        const double rn = den > 0.0 ? sqrt(num / den) : sqrt(num);
        worst_elem = fmax(worst_elem, gmax > 0.0 ? emax / gmax : emax);
        if (rn > worst_norm) {
            worst_norm = rn, wt = t;
        }
    }
    const double lrel = fabs(r1.loss - r3.loss) / r1.loss;
    const double nrel = fabs(r1.grad_norm - r3.grad_norm) / r1.grad_norm;
    ref_check(c, lrel < 1e-6 && nrel < 1e-5 && r1.clip_coef == 1.0 && r3.clip_coef == 1.0,
              "M=1 vs M=3 step 1: loss %.9f vs %.9f (rel %.2g < 1e-6), grad norm %.6g vs %.6g "
              "(rel %.2g < 1e-5); clip off: coef 1",
              r1.loss, r3.loss, lrel, r1.grad_norm, r3.grad_norm, nrel);
    ref_check(c, worst_norm < 1e-5 && worst_elem < 1e-5,
              "M=1 vs M=3 gradient: worst tensor normwise %.2g (%s) < 1e-5, worst element "
              "|dg| / max|g_t| %.2g < 1e-5 (%lld of %lld elements identical)",
              worst_norm, tab[wt].name, worst_elem, (long long)identical,
              (long long)gpt_param_count(cfg));
    gpt_trainer_destroy(one), gpt_trainer_destroy(three);
}

/* ---- 4. clipping ------------------------------------------------------------------ */

/* coef = c / (n + 1e-6) < 1, g *= fl32(coef) = coef (1 + e), |e| <= u: the
 * used gradient's norm is n coef (1 + e) (1 + d), |d| <= u (each product
 * rounded once, relative u; the double sum of squares and sqrt add ~1e-12),
 * and n coef = c n / (n + 1e-6) = c - c 1e-6 / (n + 1e-6), so
 *   |norm_after - c| <= c (1e-6 / n + 3 u)   (2 u, and one u of slack). */
static void check_clipping(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = ref_gpt_config("gpt-odd");
    gpt_train_optim o = ADAMW;
    o.clip_norm = 0.01;
    gpt_trainer *tr = NULL;
    gpt_step_result r = {0};
    const int ok = gpt_trainer_create(be, cfg, SEED, BATCH, 3, &o, &tr) == 0 &&
                   gpt_trainer_step(tr, 1, &r) == 0;
    double sumsq = 0.0;
    const float *g = ok ? gpt_trainer_grads(tr) : NULL;
    for (int64_t i = 0; ok && i < gpt_param_count(cfg); i++) {
        sumsq += (double)g[i] * (double)g[i];
    }
    const double after = sqrt(sumsq), bound = o.clip_norm * (1e-6 / r.grad_norm + 3.0 * U32);
    ref_check(c, ok && r.clip_coef < 1.0 && r.grad_norm > o.clip_norm &&
                     r.clip_coef == clip_coefficient(r.grad_norm, o.clip_norm) &&
                     fabs(after - o.clip_norm) <= bound,
              "clip 0.01: pre-clip norm %.6g, coef %.6g < 1, recomputed post-clip norm %.9g; "
              "|post - 0.01| = %.2g <= %.2g %s",
              r.grad_norm, r.clip_coef, after, fabs(after - o.clip_norm), bound, be->error);
    gpt_trainer_destroy(tr);
}

/* ---- 5. weight decay ------------------------------------------------------------- */

/* One SGD step, momentum 0, t = 1: buf = d = g + wd*p, p -= lr*buf, in float
 * with lr_f = fl32(lr), wd_f = fl32(wd) (optim.c). A tensor without decay gets
 * wd = 0: d = g + 0*p = g, so p - lr_f*g. Every element of every tensor is
 * compared bit for bit with its formula. */
static void check_weight_decay(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = ref_gpt_config("gpt-odd");
    const gpt_train_optim o = {.optimizer = DTB_OPT_SGD_MOMENTUM, .lr = 0.1, .momentum = 0.0,
                               .weight_decay = 0.25, .clip_norm = 0.0};
    const int64_t n = gpt_param_count(cfg), nt = gpt_tensor_count(cfg);
    gpt_tensor_info tab[4 + 12 * 2];
    gpt_tensor_table(cfg, tab);
    gpt_trainer *tr = NULL;
    float *p0 = malloc(sizeof(float) * (size_t)n);
    int ok = p0 != NULL && gpt_trainer_create(be, cfg, SEED, BATCH, 2, &o, &tr) == 0;
    if (ok) {
        memcpy(p0, gpt_trainer_params(tr), sizeof(float) * (size_t)n);
        ok = gpt_trainer_step(tr, 1, NULL) == 0;
    }
    if (!ref_check(c, ok, "SGD trainer, one step %s", be->error)) {
        free(p0), gpt_trainer_destroy(tr);
        return;
    }
    const float *g = gpt_trainer_grads(tr), *p1 = gpt_trainer_params(tr);
    const float lr_f = (float)o.lr, wd_f = (float)o.weight_decay;
    int64_t decayed = 0, plain = 0, bad = 0, differs = 0;
    for (int64_t t = 0; t < nt; t++) {
        const int decay = tab[t].ndim == 2;
        int tensor_ok = 1;
        for (int64_t i = tab[t].offset; i < tab[t].offset + tab[t].numel; i++) {
            const float d = g[i] + wd_f * p0[i];
            const float with_decay = p0[i] - lr_f * d;
            const float without = p0[i] - lr_f * g[i];
            tensor_ok = tensor_ok && p1[i] == (decay ? with_decay : without);
            differs += decay && with_decay != without;
        }
        bad += !tensor_ok;
        decayed += decay && tensor_ok, plain += !decay && tensor_ok;
        if (!tensor_ok) {
            printf("  %s does not follow its formula (decay %d)\n", tab[t].name, decay);
        }
    }
    /* gpt-odd: wte, wpe and 4 matrices in each of 2 blocks are 2-D. */
    ref_check(c, bad == 0 && decayed == 2 + 4 * cfg->n_layer && plain == nt - decayed &&
                     differs > n / 2,
              "SGD lr 0.1, momentum 0, wd 0.25: the %lld 2-D tensors follow p - lr (g + wd p) "
              "and the %lld others (biases, LayerNorms) p - lr g, bit for bit; decay changed "
              "%lld elements",
              (long long)decayed, (long long)plain, (long long)differs);
    free(p0), gpt_trainer_destroy(tr);
}

/* ---- 6. refusals ------------------------------------------------------------------ */

static void check_refusals(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = ref_gpt_config("gpt-odd");
    static const struct {
        int64_t batch;
        int32_t micro;
        int32_t optimizer;
        double beta1, lr;
        const char *needle;
    } cases[] = {{0, 1, DTB_OPT_ADAMW, 0.9, 1e-2, "batch"},
                 {4, 0, DTB_OPT_ADAMW, 0.9, 1e-2, "micro-batches"},
                 {2, 3, DTB_OPT_ADAMW, 0.9, 1e-2, "micro-batches <= batch"},
                 {4, 1, 7, 0.9, 1e-2, "unknown optimizer"},
                 {4, 1, DTB_OPT_ADAMW, 1.0, 1e-2, "betas"},
                 {4, 1, DTB_OPT_ADAMW, 0.9, -1.0, "lr"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gpt_train_optim o = ADAMW;
        o.optimizer = cases[k].optimizer, o.beta1 = cases[k].beta1, o.lr = cases[k].lr;
        gpt_trainer *tr = (gpt_trainer *)&o; /* must come back NULL */
        const int rc = gpt_trainer_create(be, cfg, SEED, cases[k].batch, cases[k].micro, &o, &tr);
        ref_check(c, rc != 0 && tr == NULL && strstr(be->error, cases[k].needle) != NULL,
                  "refused B=%lld M=%d optimizer %d beta1 %g lr %g: \"%s\"",
                  (long long)cases[k].batch, (int)cases[k].micro, (int)cases[k].optimizer,
                  cases[k].beta1, cases[k].lr, be->error);
    }
    gpt_config bad = *cfg;
    bad.n_head = 4;
    gpt_trainer *tr = NULL;
    int rc = gpt_trainer_create(be, &bad, SEED, 4, 1, &ADAMW, &tr);
    ref_check(c, rc != 0 && tr == NULL && strstr(be->error, "heads") != NULL,
              "refused 4 heads for C=35: \"%s\"", be->error);
    rc = gpt_trainer_create(be, cfg, SEED, 4, 1, &ADAMW, &tr);
    const int step0 = rc == 0 && gpt_trainer_step(tr, 0, NULL) != 0 && strstr(be->error, "step");
    ref_check(c, step0, "step 0 refused: \"%s\"", be->error);
    gpt_trainer_destroy(tr);
}

/* ---- 7. bf16-mixed ------------------------------------------------------------------ */

/* The recipe (docs/model-spec.md section 15): the forward and backward read
 * bf16(masters) widened, in fp32. So step 1 of a bf16-mixed trainer computes
 * exactly what an fp32 trainer computes from the rounded initial values: the
 * same code on the same inputs (the kernels sum in a fixed order), bit for
 * bit, loss and gradient. And the compute parameters are the masters rounded
 * to nearest even, every element. */
static void check_bf16_mixed(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = ref_gpt_config("gpt-odd");
    gpt_train_optim o = ADAMW;
    o.clip_norm = 0.0;
    gpt_train_optim ob = o;
    ob.precision = DTB_PREC_BF16_MIXED;
    gpt_trainer *bf = NULL, *fp = NULL;
    int ok = gpt_trainer_create(be, cfg, SEED, BATCH, 3, &ob, &bf) == 0 &&
             gpt_trainer_create(be, cfg, SEED, BATCH, 3, &o, &fp) == 0;
    if (!ref_check(c, ok, "bf16-mixed and fp32 trainers %s", be->error)) {
        gpt_trainer_destroy(bf), gpt_trainer_destroy(fp);
        return;
    }
    const int64_t n = gpt_param_count(cfg);
    float *p = gpt_trainer_params(fp);
    int64_t rounded = 0;
    for (int64_t i = 0; i < n; i++) {
        const float r = round_to_bf16(p[i]);
        rounded += r != p[i];
        p[i] = r; /* the fp32 trainer starts from bf16(init) */
    }
    gpt_step_result rb, rf;
    ok = gpt_trainer_step(bf, 1, &rb) == 0 && gpt_trainer_step(fp, 1, &rf) == 0;
    if (!ref_check(c, ok, "one step each %s", be->error)) {
        gpt_trainer_destroy(bf), gpt_trainer_destroy(fp);
        return;
    }
    const float *cb = gpt_trainer_compute_params(bf);
    const float *gb = gpt_trainer_grads(bf), *gf = gpt_trainer_grads(fp);
    int64_t compute_wrong = 0, grads_differ = 0;
    float init[1]; /* the bf16 trainer's masters before step 1 are the spec's initial values */
    gpt_tensor_info tab[4 + 12 * 2];
    gpt_tensor_table(cfg, tab);
    for (int64_t t = 0; t < gpt_tensor_count(cfg); t++) {
        for (int64_t i = 0; i < tab[t].numel; i++) {
            if (gpt_init_values(SEED, cfg->n_layer, (int32_t)t, tab[t].numel, i, 1, init) != 0) {
                compute_wrong++;
                continue;
            }
            compute_wrong += cb[tab[t].offset + i] != round_to_bf16(init[0]);
        }
    }
    for (int64_t i = 0; i < n; i++) {
        grads_differ += memcmp(&gb[i], &gf[i], sizeof(float)) != 0;
    }
    ref_check(c, compute_wrong == 0 && rounded > n / 2,
              "bf16-mixed step 1 read bf16(initial values): %lld of %lld compute parameters "
              "differ from their rounding (%lld of the masters are not bf16 values)",
              (long long)compute_wrong, (long long)n, (long long)rounded);
    ref_check(c, rb.loss == rf.loss && grads_differ == 0,
              "bf16-mixed step 1 = fp32 step 1 from the rounded values, bit for bit: loss "
              "%.9f vs %.9f, %lld of %lld gradient elements differ",
              rb.loss, rf.loss, (long long)grads_differ, (long long)n);
    /* The masters stay fp32: after the update most are not bf16 values. */
    const float *mb = gpt_trainer_params(bf);
    int64_t fp32_masters = 0;
    for (int64_t i = 0; i < n; i++) {
        fp32_masters += round_to_bf16(mb[i]) != mb[i];
    }
    ref_check(c, fp32_masters > n / 2, "the masters stay fp32 after the update: %lld of %lld "
              "are not bf16 values", (long long)fp32_masters, (long long)n);
    /* And it trains: 100 steps bring the loss 1 nat below ln V. */
    gpt_trainer_destroy(bf);
    bf = NULL;
    ob.clip_norm = ADAMW.clip_norm;
    double last = 0.0;
    ok = gpt_trainer_create(be, cfg, SEED, BATCH, 3, &ob, &bf) == 0;
    for (int64_t s = 1; ok && s <= 100; s++) {
        ok = gpt_trainer_step(bf, s, &rb) == 0;
        last = rb.loss;
    }
    ref_check(c, ok && last < log((double)cfg->vocab) - 1.0,
              "bf16-mixed trains: loss %.4f after 100 steps < ln V - 1 = %.4f %s", last,
              log((double)cfg->vocab) - 1.0, be->error);
    gpt_trainer_destroy(bf), gpt_trainer_destroy(fp);
}

/* ---- 8. gpt-3m's step time ----------------------------------------------------------- */

static void report_timing(ref_checker *c, dtb_backend *be)
{
    const gpt_config *cfg = &gpt_config_find("gpt-3m")->cfg;
    gpt_trainer *tr = NULL;
    gpt_step_result r1 = {0}, r2 = {0};
    int ok = gpt_trainer_create(be, cfg, SEED, 8, 1, &ADAMW, &tr) == 0;
    const double t0 = now_s();
    ok = ok && gpt_trainer_step(tr, 1, &r1) == 0;
    const double t1 = now_s();
    ok = ok && gpt_trainer_step(tr, 2, &r2) == 0;
    const double t2 = now_s();
    if (ref_check(c, ok && fabs(r1.loss - log((double)cfg->vocab)) < 0.15 && isfinite(r2.loss),
                  "gpt-3m, B=8, two AdamW steps: loss %.4f (ln 1024 = %.4f), %.4f %s", r1.loss,
                  log((double)cfg->vocab), r2.loss, be->error)) {
        const double f = gpt_step_flops(cfg, 8);
        printf("  gpt-3m step time (informational, not asserted): step 1 %.3f s, step 2 %.3f s; "
               "%.3g FLOPs a step, %.2f GFLOP/s in step 2; trainer holds %.1f MiB\n",
               t1 - t0, t2 - t1, f, f / (t2 - t1) * 1e-9, (double)gpt_trainer_bytes(tr) / 0x1p20);
    }
    gpt_trainer_destroy(tr);
}

int main(void)
{
    ref_checker c = {.test = "ref_gpt_train"};
    check_configs(&c);
    dtb_backend *be = NULL;
    if (ref_check(&c, backend_cpu_create(&be) == 0, "cpu backend")) {
        check_training(&c, be);
        check_micro_split(&c, be);
        check_clipping(&c, be);
        check_weight_decay(&c, be);
        check_refusals(&c, be);
        check_bf16_mixed(&c, be);
        report_timing(&c, be);
    }
    backend_destroy(be);
    return ref_finish(&c);
}
