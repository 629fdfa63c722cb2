/*
 * The MLP model family (reference/model.c): configuration table and
 * parameter counts, canonical layout, counter-based initial values and data,
 * split_range, config validation and the FLOP count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "ref_util.h"
#include "rng.h"

typedef struct expected_count {
    const char *name;
    int64_t n_params;
} expected_count;

static const expected_count EXPECTED[] = {
    {"mlp-odd", 5209},      {"mlp-small", 26122},     {"mlp-deep", 15989},
    {"mlp-100k", 101386},
    {"mlp-1m", 1055242},    {"mlp-8m", 8403978},      {"mlp-20m", 18915344},
    {"mlp-100m", 109081600}, {"mlp-240m", 239119360}, {"mlp-420m", 419488768},
    {"mlp-650m", 650189824},
};
enum { N_EXPECTED = sizeof EXPECTED / sizeof EXPECTED[0] };

/* The width family: names parsed strictly, counts from the closed form
 * agree with the layer-by-layer count, named members are the same model. */
static void check_width_family(ref_checker *c)
{
    mlp_config_generated g;
    static const char *const bad[] = {"mlp-w", "mlp-w0", "mlp-w015", "mlp-w15", "mlp-w32769",
                                      "mlp-w64x", "mlp-w-64", "mlp-w99999999999999999999",
                                      "mlp-x64", NULL};
    for (int i = 0; bad[i]; i++)
        ref_check(c, mlp_config_generate(bad[i], &g) == NULL, "'%s' is not a width-family name",
                  bad[i]);
    ref_check(c, mlp_config_generate(NULL, &g) == NULL, "NULL is not a width-family name");
    static const int64_t widths[] = {16, 1000, 4096, 6144, 8192, 12288, 32768};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "mlp-w%lld", (long long)widths[i]);
        const mlp_config *cfg = mlp_config_generate(name, &g);
        if (!ref_check(c, cfg == &g.cfg && strcmp(cfg->name, name) == 0, "%s generated", name))
            continue;
        char err[128];
        int64_t layers = 0;
        for (int l = 0; l < cfg->n_linear; l++)
            layers += cfg->dims[l] * cfg->dims[l + 1] + cfg->dims[l + 1];
        ref_check(c, mlp_config_validate(cfg, err, sizeof err) == 0 && cfg->n_linear == 8 &&
                         cfg->dims[0] == 1024 && cfg->dims[8] == 1024 &&
                         mlp_param_count(cfg) == layers &&
                         layers == mlp_width_family_params(widths[i]),
                  "%s: valid, 8 layers, %lld params = 6W^2 + 2055W + 1024", name,
                  (long long)layers);
    }
    static const struct { const char *named; int64_t width; } same[] = {
        {"mlp-100m", 4096}, {"mlp-240m", 6144}, {"mlp-420m", 8192}, {"mlp-650m", 10240}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        const mlp_config *named = mlp_config_find(same[i].named);
        char name[32];
        snprintf(name, sizeof name, "mlp-w%lld", (long long)same[i].width);
        const mlp_config *gen = mlp_config_resolve(name, &g);
        ref_check(c, named && gen && named->n_linear == gen->n_linear &&
                         memcmp(named->dims, gen->dims, sizeof named->dims) == 0,
                  "%s is %s", same[i].named, name);
        ref_check(c, mlp_config_resolve(same[i].named, &g) == named,
                  "resolve finds the named %s first", same[i].named);
    }
}

static void check_configs(ref_checker *c)
{
    ref_check(c, mlp_config_count() == N_EXPECTED, "%zu configurations (expect %d)",
              mlp_config_count(), N_EXPECTED);
    ref_check(c, mlp_config_at(mlp_config_count()) == NULL && mlp_config_find("no-such") == NULL &&
                     mlp_config_find(NULL) == NULL,
              "out-of-range index, unknown name and NULL find nothing");
    for (int k = 0; k < N_EXPECTED; k++) {
        const mlp_config *cfg = mlp_config_find(EXPECTED[k].name);
        if (!ref_check(c, cfg != NULL && cfg == mlp_config_at((size_t)k),
                       "config %s found at index %d", EXPECTED[k].name, k)) {
            continue;
        }
        /* Independent count: sum of out*in + out. */
        int64_t by_hand = 0;
        for (int l = 0; l < cfg->n_linear; l++) {
            by_hand += cfg->dims[l + 1] * cfg->dims[l] + cfg->dims[l + 1];
        }
        char err[160];
        ref_check(c,
                  mlp_param_count(cfg) == EXPECTED[k].n_params && by_hand == EXPECTED[k].n_params &&
                      mlp_config_validate(cfg, err, sizeof err) == 0,
                  "%s: %lld parameters (expect %lld), valid", cfg->name,
                  (long long)mlp_param_count(cfg), (long long)EXPECTED[k].n_params);
        char count_text[32];
        snprintf(count_text, sizeof count_text, "%lld", (long long)EXPECTED[k].n_params);
        ref_check(c, cfg->summary != NULL && strstr(cfg->summary, count_text) != NULL,
                  "%s: summary states the count: \"%s\"", cfg->name, cfg->summary);
    }
    const mlp_config *odd = mlp_config_find("mlp-odd");
    const int64_t n = mlp_param_count(odd);
    mlp_layout L;
    mlp_layout_init(odd, &L);
    int64_t smallest = n;
    for (int t = 0; t < L.n_tensors; t++) {
        smallest = L.numel[t] < smallest ? L.numel[t] : smallest;
    }
    ref_check(c, n % 2 != 0 && n % 3 != 0 && n % 4 != 0,
              "mlp-odd: %lld is not divisible by 2, 3 or 4", (long long)n);
    ref_check(c, smallest < 4, "mlp-odd: smallest tensor has %lld < 4 elements",
              (long long)smallest);
}

static void check_layout(ref_checker *c)
{
    /* mlp-odd written out: 37-53-56-3. */
    const mlp_config *odd = mlp_config_find("mlp-odd");
    mlp_layout L;
    mlp_layout_init(odd, &L);
    static const char *names[] = {"W0", "b0", "W1", "b1", "W2", "b2"};
    static const int64_t offsets[] = {0, 1961, 2014, 4982, 5038, 5206, 5209};
    static const int64_t rows[] = {53, 53, 56, 56, 3, 3};
    static const int64_t cols[] = {37, 1, 53, 1, 56, 1};
    int ok = L.n_tensors == 6 && L.n_params == 5209;
    for (int t = 0; t < 6; t++) {
        ok = ok && strcmp(L.name[t], names[t]) == 0 && L.offset[t] == offsets[t] &&
             L.rows[t] == rows[t] && L.cols[t] == cols[t] && L.numel[t] == rows[t] * cols[t];
    }
    ok = ok && L.offset[6] == offsets[6];
    ref_check(c, ok,
              "mlp-odd layout: W0@0 [53x37], b0@1961 [53], W1@2014 [56x53], b1@4982 [56], "
              "W2@5038 [3x56], b2@5206 [3], end 5209");
    /* Every config: contiguous, W then b per layer, names W<l>/b<l>. */
    for (size_t k = 0; k < mlp_config_count(); k++) {
        const mlp_config *cfg = mlp_config_at(k);
        mlp_layout_init(cfg, &L);
        int good = L.n_tensors == 2 * cfg->n_linear && L.offset[0] == 0 &&
                   L.offset[L.n_tensors] == L.n_params && L.n_params == mlp_param_count(cfg);
        for (int t = 0; t < L.n_tensors && good; t++) {
            const int l = t / 2;
            char name[16];
            snprintf(name, sizeof name, "%c%d", t % 2 == 0 ? 'W' : 'b', l);
            good = L.offset[t + 1] - L.offset[t] == L.numel[t] && L.rows[t] == cfg->dims[l + 1] &&
                   L.cols[t] == (t % 2 == 0 ? cfg->dims[l] : 1) &&
                   L.numel[t] == L.rows[t] * L.cols[t] && strcmp(L.name[t], name) == 0;
        }
        ref_check(c, good, "%s layout: %d tensors, contiguous, offsets end at %lld", cfg->name,
                  L.n_tensors, (long long)L.n_params);
    }
}

/* The initial value of one element straight from the spec's formula. */
static float init_by_spec(uint64_t seed, const mlp_config *cfg, int32_t t, int64_t i)
{
    const philox4x32_ctr ctr = {{(uint32_t)i, (uint32_t)((uint64_t)i >> 32), (uint32_t)t, 0}};
    const double u = philox_unit_open(philox4x32_10(ctr, philox_key_from_seed(seed)).v[0]);
    return (float)((1.0 / sqrt((double)cfg->dims[t / 2])) * (2.0 * u - 1.0));
}

static void check_init(ref_checker *c)
{
    const uint64_t seed = 20260511;
    ref_rand r = {0x1417u};
    const char *models[] = {"mlp-odd", "mlp-small"};
    for (int m = 0; m < 2; m++) {
        const mlp_config *cfg = mlp_config_find(models[m]);
        mlp_layout L;
        mlp_layout_init(cfg, &L);
        float *full = malloc((size_t)L.n_params * sizeof(float));
        float *other = malloc((size_t)L.n_params * sizeof(float));
        float *part = malloc((size_t)L.n_params * sizeof(float));
        if (!ref_check(c, full && other && part, "allocate %lld floats", (long long)L.n_params)) {
            free(full), free(other), free(part);
            return;
        }
        for (int t = 0; t < L.n_tensors; t++) {
            const int64_t numel = L.numel[t];
            float *v = full + L.offset[t];
            const int rc = mlp_init_values(seed, cfg, t, 0, numel, v);
            const int rc2 = mlp_init_values(seed + 1, cfg, t, 0, numel, other + L.offset[t]);
            const float bound = (float)(1.0 / sqrt((double)cfg->dims[t / 2]));
            float lo = v[0], hi = v[0];
            double sum_sq = 0.0;
            int64_t same_as_other_seed = 0, bad_by_spec = 0;
            for (int64_t i = 0; i < numel; i++) {
                lo = fminf(lo, v[i]);
                hi = fmaxf(hi, v[i]);
                sum_sq += (double)v[i] * v[i];
                same_as_other_seed += v[i] == other[L.offset[t] + i];
                bad_by_spec += v[i] != init_by_spec(seed, cfg, t, i);
            }
            ref_check(c, rc == 0 && rc2 == 0 && fabsf(lo) <= bound && fabsf(hi) <= bound && lo < hi,
                      "%s %s: %lld values in [%.6f, %.6f] within +-1/sqrt(%lld) = %.6f, not constant",
                      cfg->name, L.name[t], (long long)numel, lo, hi, (long long)cfg->dims[t / 2],
                      bound);
            ref_check(c, bad_by_spec == 0,
                      "%s %s: every value equals the spec formula (ctr (i, 0, %d, 0))", cfg->name,
                      L.name[t], t);
            /* Uniform on [-b, b] has mean square b^2/3; allow 5 sigma. */
            if (numel >= 50) {
                const double ms = sum_sq / (double)numel, want = (double)bound * bound / 3.0;
                const double sigma = want * sqrt(0.8 / (double)numel) * 1.0;
                ref_check(c, fabs(ms - want) < 5.0 * sigma + 1e-12,
                          "%s %s: mean square %.5g vs b^2/3 = %.5g", cfg->name, L.name[t], ms, want);
            }
            ref_check(c, same_as_other_seed * 100 < numel || numel < 4,
                      "%s %s: seeds %llu and %llu differ in %lld of %lld values", cfg->name,
                      L.name[t], (unsigned long long)seed, (unsigned long long)seed + 1,
                      (long long)(numel - same_as_other_seed), (long long)numel);
            /* Random sub-ranges, including empty and single ones, equal the slice. */
            int slices_ok = 1;
            for (int trial = 0; trial < 40; trial++) {
                int64_t first = ref_rand_below(&r, numel + 1);
                int64_t count = ref_rand_below(&r, numel - first + 1);
                if (trial == 0) {
                    first = 0, count = 0;
                } else if (trial == 1) {
                    first = numel - 1, count = 1;
                }
                slices_ok = slices_ok && mlp_init_values(seed, cfg, t, first, count, part) == 0 &&
                            (count == 0 ||
                             memcmp(part, v + first, (size_t)count * sizeof(float)) == 0);
            }
            ref_check(c, slices_ok, "%s %s: 40 random sub-ranges equal the slice of the full range",
                      cfg->name, L.name[t]);
            ref_check(c,
                      mlp_init_values(seed, cfg, t, 0, numel + 1, part) != 0 &&
                          mlp_init_values(seed, cfg, t, numel, 1, part) != 0 &&
                          mlp_init_values(seed, cfg, t, -1, 1, part) != 0 &&
                          mlp_init_values(seed, cfg, t, 0, -1, part) != 0,
                      "%s %s: ranges past the end or negative are refused", cfg->name, L.name[t]);
        }
        ref_check(c,
                  mlp_init_values(seed, cfg, -1, 0, 1, part) != 0 &&
                      mlp_init_values(seed, cfg, L.n_tensors, 0, 1, part) != 0,
                  "%s: tensor indices -1 and %d are refused", cfg->name, L.n_tensors);
        free(full), free(other), free(part);
    }
    /* A tensor of the big model, far into it: the counter's low word is i. */
    const mlp_config *big = mlp_config_find("mlp-100m");
    float v[3];
    const int64_t i0 = 16777213; /* last three of W1 [4096 x 4096] */
    int ok = mlp_init_values(7, big, 2, i0, 3, v) == 0;
    for (int k = 0; k < 3 && ok; k++) {
        ok = v[k] == init_by_spec(7, big, 2, i0 + k);
    }
    ref_check(c, ok && mlp_init_values(7, big, 2, i0, 4, v) != 0,
              "mlp-100m W1: the last 3 of 16777216 values follow the formula; one more is refused");
}

/* Pinned values: mlp-odd, seed 1234, the first three elements of every
 * tensor, the first sample's first inputs and labels. They were computed
 * independently by the numpy sketch of docs/model-spec.md (bit-identical);
 * a change here changes every run and every third-party reproduction. */
static void check_pinned_values(ref_checker *c)
{
    static const float init[6][3] = {
        {-0x1.f60f64p-4f, 0x1.4576a6p-5f, -0x1.51cda2p-4f},
        {0x1.aa911p-4f, -0x1.3e15ccp-3f, -0x1.b9d474p-4f},
        {0x1.8c158ep-7f, -0x1.88a0eap-5f, -0x1.dbe2d4p-7f},
        {0x1.6842a6p-5f, -0x1.b53c92p-4f, -0x1.274p-5f},
        {-0x1.f30feap-5f, 0x1.8ca332p-5f, 0x1.7b4936p-6f},
        {0x1.03438ep-3f, -0x1.30c77ap-5f, -0x1.7e055ap-4f},
    };
    const mlp_config *odd = mlp_config_find("mlp-odd");
    int ok = 1;
    for (int t = 0; t < 6; t++) {
        float v[3];
        ok = ok && mlp_init_values(1234, odd, t, 0, 3, v) == 0 && memcmp(v, init[t], sizeof v) == 0;
    }
    ref_check(c, ok, "mlp-odd seed 1234: first 3 initial values of W0..b2 equal the pinned values");
    float x[2 * 37];
    int32_t y[5];
    ok = mlp_sample_batch(1234, odd, 1, 0, 2, x, NULL) == 0 && x[0] == 0x1.20e422p-4f &&
         x[1] == -0x1.f9e36cp-3f && x[2] == -0x1.a53a82p-1f && x[73] == -0x1.7c98bap-2f;
    static const int32_t y1[5] = {2, 0, 0, 0, 0}, y7[5] = {1, 1, 2, 0, 2};
    ok = ok && mlp_sample_batch(1234, odd, 1, 0, 5, NULL, y) == 0 && memcmp(y, y1, sizeof y) == 0;
    ok = ok && mlp_sample_batch(1234, odd, 7, 100, 5, NULL, y) == 0 && memcmp(y, y7, sizeof y) == 0;
    ref_check(c, ok, "mlp-odd seed 1234: pinned x of step 1 and labels of steps 1 (0..4) and 7 (100..104)");
    /* The reference values of model-spec.md section 13 (seed 1); 9 significant
     * digits identify a float32 exactly. */
    static const float w0[4] = {0.128316432f, 0.0565526821f, -0.0830538869f, 0.0847070739f};
    static const float b2[3] = {0.10815499f, 0.0390394852f, 0.0687475279f};
    static const float x0[4] = {-0.256092757f, -0.381506532f, -0.199365348f, -0.658636928f};
    static const int32_t ys[4] = {1, 2, 2, 1};
    float v[4];
    ok = mlp_init_values(1, odd, 0, 0, 4, v) == 0 && memcmp(v, w0, sizeof w0) == 0;
    ok = ok && mlp_init_values(1, odd, 5, 0, 3, v) == 0 && memcmp(v, b2, sizeof b2) == 0;
    ok = ok && mlp_sample_batch(1, odd, 1, 0, 2, x, y) == 0 && memcmp(x, x0, sizeof x0) == 0 &&
         x[37] == -0.00166484318f && memcmp(y, ys, 2 * sizeof(int32_t)) == 0;
    ok = ok && mlp_sample_batch(1, odd, 1, 0, 4, NULL, y) == 0 && memcmp(y, ys, sizeof ys) == 0;
    ref_check(c, ok, "mlp-odd seed 1: the reference values of model-spec.md section 13");
}

static void check_data(ref_checker *c)
{
    const uint64_t seed = 99991;
    const char *models[] = {"mlp-odd", "mlp-small", "mlp-20m"};
    for (int m = 0; m < 3; m++) {
        const mlp_config *cfg = mlp_config_find(models[m]);
        const int64_t in = cfg->dims[0], classes = cfg->dims[cfg->n_linear];
        const int64_t N = 300;
        float *x = malloc((size_t)(N * in) * sizeof(float));
        float *xs = malloc((size_t)(N * in) * sizeof(float));
        int32_t *y = malloc((size_t)N * sizeof(int32_t));
        int32_t *ys = malloc((size_t)N * sizeof(int32_t));
        if (!ref_check(c, x && xs && y && ys, "allocate a batch of %lld", (long long)N)) {
            free(x), free(xs), free(y), free(ys);
            return;
        }
        const int64_t step = 3;
        ref_check(c, mlp_sample_batch(seed, cfg, step, 0, N, x, y) == 0, "%s: %lld samples of step %lld",
                  cfg->name, (long long)N, (long long)step);
        float lo = x[0], hi = x[0];
        double sum = 0.0;
        int64_t seen[64] = {0};
        int labels_ok = 1;
        for (int64_t k = 0; k < N * in; k++) {
            lo = fminf(lo, x[k]);
            hi = fmaxf(hi, x[k]);
            sum += x[k];
        }
        for (int64_t j = 0; j < N; j++) {
            labels_ok = labels_ok && y[j] >= 0 && y[j] < classes;
            if (labels_ok) {
                seen[y[j]]++;
            }
        }
        int64_t classes_seen = 0;
        for (int64_t k = 0; k < classes && k < 64; k++) {
            classes_seen += seen[k] > 0;
        }
        ref_check(c, lo >= -1.0f && hi <= 1.0f && lo < -0.9f && hi > 0.9f,
                  "%s: x in [%.6f, %.6f] within [-1, 1]", cfg->name, lo, hi);
        const double mean = sum / (double)(N * in);
        ref_check(c, fabs(mean) < 5.0 * sqrt(1.0 / 3.0 / (double)(N * in)),
                  "%s: mean of x %.5f is near 0", cfg->name, mean);
        ref_check(c, labels_ok && classes_seen == classes,
                  "%s: labels in 0..%lld, all %lld classes appear in %lld samples", cfg->name,
                  (long long)(classes - 1), (long long)classes, (long long)N);
        /* Element (j, i) follows the spec: ctr (i, j, s, 1) and label ctr (0, j, s, 2). */
        const philox4x32_key key = philox_key_from_seed(seed);
        int spec_ok = 1;
        for (int64_t j = 0; j < N; j += 37) {
            for (int64_t i = 0; i < in; i += 5) {
                const philox4x32_ctr ctr = {{(uint32_t)i, (uint32_t)j, (uint32_t)step, 1}};
                const float want = (float)(2.0 * philox_unit_open(philox4x32_10(ctr, key).v[0]) - 1.0);
                spec_ok = spec_ok && x[j * in + i] == want;
            }
            const philox4x32_ctr lc = {{0, (uint32_t)j, (uint32_t)step, 2}};
            const uint64_t v0 = philox4x32_10(lc, key).v[0];
            spec_ok = spec_ok && y[j] == (int32_t)((v0 * (uint64_t)classes) >> 32);
        }
        ref_check(c, spec_ok, "%s: samples follow the spec's counters and label formula", cfg->name);
        /* Sub-ranges equal the slice; x or y alone. */
        ref_rand r = {0xda7a0000u + (uint64_t)m};
        int slices_ok = 1;
        for (int trial = 0; trial < 20; trial++) {
            const int64_t first = ref_rand_below(&r, N + 1);
            const int64_t count = ref_rand_below(&r, N - first + 1);
            slices_ok = slices_ok && mlp_sample_batch(seed, cfg, step, first, count, xs, ys) == 0 &&
                        memcmp(xs, x + first * in, (size_t)(count * in) * sizeof(float)) == 0 &&
                        memcmp(ys, y + first, (size_t)count * sizeof(int32_t)) == 0;
        }
        slices_ok = slices_ok && mlp_sample_batch(seed, cfg, step, 10, 5, NULL, ys) == 0 &&
                    memcmp(ys, y + 10, 5 * sizeof(int32_t)) == 0 &&
                    mlp_sample_batch(seed, cfg, step, 10, 5, xs, NULL) == 0 &&
                    memcmp(xs, x + 10 * in, (size_t)(5 * in) * sizeof(float)) == 0;
        ref_check(c, slices_ok, "%s: 20 random sub-ranges and x-only/y-only calls equal the slices",
                  cfg->name);
        /* Other steps and seeds give other data. */
        mlp_sample_batch(seed, cfg, step + 1, 0, N, xs, ys);
        int64_t same_x = 0;
        for (int64_t k = 0; k < N * in; k++) {
            same_x += xs[k] == x[k];
        }
        mlp_sample_batch(seed + 1, cfg, step, 0, N, xs, NULL);
        for (int64_t k = 0; k < N * in; k++) {
            same_x += xs[k] == x[k];
        }
        ref_check(c, same_x * 1000 < N * in, "%s: another step or seed changes x (%lld equal of %lld)",
                  cfg->name, (long long)same_x, (long long)(2 * N * in));
        ref_check(c,
                  mlp_sample_batch(seed, cfg, 0, 0, 1, xs, ys) != 0 &&
                      mlp_sample_batch(seed, cfg, (int64_t)UINT32_MAX + 1, 0, 1, xs, ys) != 0 &&
                      mlp_sample_batch(seed, cfg, 1, -1, 1, xs, ys) != 0 &&
                      mlp_sample_batch(seed, cfg, 1, 0, -1, xs, ys) != 0 &&
                      mlp_sample_batch(seed, cfg, 1, (int64_t)UINT32_MAX, 2, xs, ys) != 0 &&
                      mlp_sample_batch(seed, cfg, (int64_t)UINT32_MAX, (int64_t)UINT32_MAX, 1, xs,
                                       ys) == 0,
                  "%s: step 0, step 2^32, negative first/count and samples past 2^32 are refused; "
                  "sample 2^32-1 of step 2^32-1 is accepted",
                  cfg->name);
        free(x), free(xs), free(y), free(ys);
    }
}

static void check_split_range(ref_checker *c)
{
    static const int64_t totals[] = {0, 1, 2, 3, 7, 17, 30, 53, 100, 5209, 1000003};
    int ok = 1;
    for (size_t k = 0; k < sizeof totals / sizeof totals[0]; k++) {
        for (int64_t parts = 1; parts <= 9; parts++) {
            int64_t next = 0, min_count = totals[k], max_count = 0;
            for (int64_t p = 0; p < parts; p++) {
                int64_t first, count;
                split_range(totals[k], parts, p, &first, &count);
                ok = ok && first == next && count >= 0 &&
                     first == (p * totals[k]) / parts; /* floor(p*total/parts) */
                next = first + count;
                min_count = count < min_count ? count : min_count;
                max_count = count > max_count ? count : max_count;
            }
            ok = ok && next == totals[k] && max_count - min_count <= 1;
            if (!ok) {
                printf("  split_range(%lld, %lld) is wrong\n", (long long)totals[k], (long long)parts);
                break;
            }
        }
    }
    ref_check(c, ok,
              "split_range: parts are contiguous, start at floor(p*total/parts), cover the total, "
              "differ by at most 1 (totals 0..1000003, parts 1..9)");
    /* Large totals where p*total would overflow int64. */
    const int64_t big = (int64_t)1 << 61;
    int64_t first, count;
    split_range(big + 5, 7, 6, &first, &count);
    ref_check(c, first + count == big + 5 && count >= (big + 5) / 7 && count <= (big + 5) / 7 + 1,
              "split_range(2^61 + 5, 7) last part ends at the total without overflow");
    /* 30 samples in 3 micro-batches of 10 over 4 ranks: shares 2, 3, 2, 3;
     * 31 in 3 (10, 10, 11) over 3: 3, 3, 4 in the last; one rank: the
     * largest micro-batch. */
    ref_check(c, split_max_rank_share(30, 3, 4) == 3 && split_max_rank_share(31, 3, 3) == 4 &&
                     split_max_rank_share(31, 3, 1) == 11 && split_max_rank_share(2, 2, 4) == 1,
              "split_max_rank_share: the largest rank share of any micro-batch");
}

static void check_validate(ref_checker *c)
{
    char err[160];
    mlp_config cfg = *mlp_config_find("mlp-odd");
    err[0] = '\0';
    ref_check(c, mlp_config_validate(&cfg, err, sizeof err) == 0, "mlp-odd is valid");
    struct {
        const char *what;
        int n_linear;
        int dim_index;
        int64_t dim;
    } bad[] = {
        {"0 layers", 0, -1, 0},       {"9 layers", DTB_MAX_LINEAR + 1, -1, 0},
        {"-1 layers", -1, -1, 0},     {"width 0", 3, 2, 0},
        {"width -5", 3, 0, -5},       {"width 2^31", 3, 3, (int64_t)INT32_MAX + 1},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        mlp_config b = *mlp_config_find("mlp-odd");
        b.n_linear = bad[k].n_linear;
        if (bad[k].dim_index >= 0) {
            b.dims[bad[k].dim_index] = bad[k].dim;
        }
        err[0] = '\0';
        const int rc = mlp_config_validate(&b, err, sizeof err);
        ref_check(c, rc != 0 && strlen(err) > 10, "refuses %s: \"%s\"", bad[k].what, err);
    }
    /* The ABI's model description of a custom 5-7-2 MLP, and back from a spec. */
    const mlp_config custom = {.name = "custom", .summary = "", .n_linear = 2, .dims = {5, 7, 2}};
    mlp_model_desc desc;
    dtb_run_spec spec;
    memset(&spec, 0, sizeof spec);
    mlp_spec_set_model(&spec, &custom, &desc);
    const dtb_model_desc *m = spec.model;
    ref_check(c,
              m == &desc.desc && m->struct_size == sizeof *m && m->kind == DTB_MODEL_MLP &&
                  strcmp(m->name, "custom") == 0 && m->n_params == 5 * 7 + 7 + 7 * 2 + 2 &&
                  m->n_tensors == 4 && m->n_layers == 2 && m->dims[0] == 5 && m->dims[2] == 2,
              "model description of 5-7-2: kind MLP, %lld params, %d tensors, %d layers",
              (long long)m->n_params, m->n_tensors, m->n_layers);
    const dtb_tensor_desc *t = m->tensors;
    ref_check(c,
              strcmp(t[0].name, "W0") == 0 && t[0].ndim == 2 && t[0].shape[0] == 7 &&
                  t[0].shape[1] == 5 && t[0].offset == 0 && t[0].numel == 35 && t[0].layer == 0 &&
                  strcmp(t[1].name, "b0") == 0 && t[1].ndim == 1 && t[1].shape[0] == 7 &&
                  t[1].offset == 35 && strcmp(t[3].name, "b1") == 0 && t[3].offset == 56 &&
                  t[3].numel == 2 && t[3].layer == 1 && (t[2].flags & DTB_TENSOR_DECAY) &&
                  !(t[2].flags & DTB_TENSOR_TIED),
              "tensor table: W0 [7 x 5] at 0, b0 [7] at 35, b1 [2] at 56, layers 0 and 1");
    /* Read back before the check: its arguments are evaluated in no set
     * order, so the message's mlp_param_count(&from) may run first. */
    mlp_config from;
    const int read_back = mlp_config_from_spec(&spec, &from, err, sizeof err);
    ref_check(c,
              read_back == 0 && from.n_linear == 2 &&
                  from.dims[0] == 5 && from.dims[2] == 2 && strcmp(from.name, "custom") == 0 &&
                  mlp_param_count(&from) == m->n_params,
              "mlp_config_from_spec reads name, layers and dims back (%lld params)",
              (long long)mlp_param_count(&from));
    /* Refusals, each with a message naming the problem. */
    struct {
        const char *what, *word;
        dtb_model_desc d;
    } refused[4];
    for (int k = 0; k < 4; k++)
        refused[k].d = desc.desc;
    refused[0].what = "a GPT description", refused[0].word = "kind", refused[0].d.kind = DTB_MODEL_GPT;
    refused[1].what = "100 layers", refused[1].word = "layers", refused[1].d.n_layers = 100;
    refused[2].what = "a wrong n_params", refused[2].word = "parameters", refused[2].d.n_params = 60;
    dtb_tensor_desc shifted[4];
    memcpy(shifted, desc.tensors, sizeof shifted);
    shifted[2].offset = 43;
    refused[3].what = "a tensor off its canonical offset", refused[3].word = "offset";
    refused[3].d.tensors = shifted;
    for (int k = 0; k < 4; k++) {
        dtb_run_spec bad = spec;
        bad.model = &refused[k].d;
        err[0] = '\0';
        const int rc = mlp_config_from_spec(&bad, &from, err, sizeof err);
        ref_check(c, rc != 0 && strstr(err, refused[k].word) != NULL,
                  "mlp_config_from_spec refuses %s: \"%s\"", refused[k].what, err);
    }
}

static void check_flops(ref_checker *c)
{
    /* mlp-odd: sum in*out = 37*53 + 53*56 + 56*3 = 1961 + 2968 + 168 = 5097. */
    const mlp_config *odd = mlp_config_find("mlp-odd");
    ref_check(c, mlp_step_flops(odd, 30) == 6.0 * 30 * 5097 && mlp_step_flops(odd, 0) == 0.0,
              "mlp_step_flops(mlp-odd, 30) = 6*30*5097 = %.0f", mlp_step_flops(odd, 30));
    /* mlp-100m: 1024*4096*2 + 4096*4096*6 = 8388608 + 100663296 = 109051904 MACs. */
    const mlp_config *big = mlp_config_find("mlp-100m");
    ref_check(c, mlp_step_flops(big, 8) == 6.0 * 8 * 109051904.0,
              "mlp_step_flops(mlp-100m, 8) = 6*8*109051904 = %.0f", mlp_step_flops(big, 8));
}

int main(void)
{
    ref_checker c = {.test = "ref_model"};
    check_configs(&c);
    check_width_family(&c);
    check_layout(&c);
    check_init(&c);
    check_pinned_values(&c);
    check_data(&c);
    check_split_range(&c);
    check_validate(&c);
    check_flops(&c);
    return ref_finish(&c);
}
