/*
 * Fixtures for the `dtbench report` tests: results databases recorded with
 * the results library's own API (results_run_begin / results_record_case /
 * results_run_finish), holding synthetic throughput, memory and comm runs
 * that follow docs/benchmarks.md's contract (keys and metric names), with
 * fixed-seed random but plausible values; and the lines the report must
 * show for them, formatted the way docs/benchmarks.md's Report section says.
 *
 * usage: report_make_db DIR    writes into DIR:
 *   bench.db        runs 1 throughput (complete, superseded by 3), 2 ddp with one
 *                   failed check, 3 throughput, 4 memory (tagged nightly), 5 comm,
 *                   6 throughput (incomplete: the default report must skip it)
 *   machine.db      the same, with the runs table's schema-3 machine columns set
 *   conformance.db  one ddp run and no benchmark run
 *   norun.db        a dtbench database without runs
 *   corrupt.db      the SQLite header followed by garbage
 *   expected.txt, expected-machine.txt, expected-conformance.txt: lines the
 *                   report.md must contain (fixed strings, one a line)
 *   absent.txt      lines it must not contain
 *   svgs.txt        the SVG files the default report must make
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results_db.h"
#include "results_record.h"
#include "results_refs.h"

#define REPS 7
#define WARMUP 2

static void die(const char *what, const char *err)
{
    fprintf(stderr, "report_make_db: %s: %s\n", what, err);
    exit(1);
}

/* ---- fixed-seed random numbers (splitmix64) ---------------------------------------- */
static uint64_t rng_state = 20240611;

static double uniform(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* ---- the report's number formats (docs/benchmarks.md, Report) ----------------------- */
static void fmt_sig(double v, char *buf, size_t len)
{
    double a = fabs(v);
    if (a == 0)
        snprintf(buf, len, "0");
    else if (a < 1e-3 || a >= 1e7)
        snprintf(buf, len, "%.3e", v);
    else {
        int d = 3 - (int)floor(log10(a));
        snprintf(buf, len, "%.*f", d < 0 ? 0 : d, v);
    }
}

static void fmt_bytes(double b, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    char num[32];
    fmt_sig(b, num, sizeof num);
    snprintf(buf, len, "%s %s", num, units[u]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stat3 {
    double median, min, max;
} stat3;

static stat3 stats(const double *v, int n)
{
    double s[64];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    stat3 r = {n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]), s[0], s[n - 1]};
    return r;
}

/* ---- building cases ------------------------------------------------------------------ */
#define MAX_METRICS 24
#define MAX_SAMPLES 64

typedef struct builder {
    results_metric metrics[MAX_METRICS];
    results_sample samples[MAX_METRICS][MAX_SAMPLES];
    char names[MAX_METRICS][64];
    int n;
} builder;

static results_metric *metric(builder *b, const char *name, const char *unit, results_kind kind,
                              int higher)
{
    results_metric *m = &b->metrics[b->n];
    snprintf(b->names[b->n], sizeof b->names[0], "%s", name);
    m->name = b->names[b->n];
    m->unit = unit;
    m->kind = kind;
    m->higher_is_better = higher;
    m->samples = b->samples[b->n];
    m->n_samples = 0;
    b->n++;
    return m;
}

static void sample(builder *b, results_metric *m, int rank, int warmup, double value)
{
    results_sample *s = &b->samples[m - b->metrics][m->n_samples];
    s->rep = 1;
    s->rank = rank;
    s->step = m->n_samples + 1;
    s->warmup = warmup;
    s->value = value;
    m->n_samples++;
}

/* A timing metric: WARMUP flagged repetitions then REPS timed ones, world-wide
 * (rank NONE); returns the timed values in out. */
static void timing(builder *b, const char *name, const char *unit, int higher, const double *v,
                   const double *warm)
{
    results_metric *m = metric(b, name, unit, RESULTS_TIMING, higher);
    for (int i = 0; i < WARMUP; i++)
        sample(b, m, RESULTS_NONE, 1, warm[i]);
    for (int i = 0; i < REPS; i++)
        sample(b, m, RESULTS_NONE, 0, v[i]);
}

/* An exact metric, one value per rank. */
static void exact_per_rank(builder *b, const char *name, const char *unit, int higher,
                           const double *per_rank, int np)
{
    results_metric *m = metric(b, name, unit, RESULTS_EXACT, higher);
    for (int r = 0; r < np; r++)
        sample(b, m, r, 0, per_rank[r]);
}

static void exact_one(builder *b, const char *name, const char *unit, int higher, double v)
{
    results_metric *m = metric(b, name, unit, RESULTS_EXACT, higher);
    sample(b, m, RESULTS_NONE, 0, v);
}

typedef struct fixture {
    results_db db;
    FILE *expected, *absent, *svgs;
    char err[1024];
    int case_index;
} fixture;

static void expect(FILE *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static void record(fixture *fx, int64_t run, const char *key, const char *impl,
                   const char *model, int np, const char *precision, const char *stage,
                   builder *b, const results_check *checks, int n_checks)
{
    char label[256], suite[32];
    snprintf(label, sizeof label, "%s %s", impl, key);
    if (sscanf(key, "%31s", suite) != 1)
        die("fixture", "empty key");
    results_case c = {.index = fx->case_index++, .key = key, .label = label,
                      .suite = suite, .impl = impl,
                      .impl_version = "0.1.0", .model = model, .precision = precision,
                      .stage = stage, .recipe = precision, .optimizer = "adamw",
                      .world_size = np, .config = "{}", .completed = 1, .seconds = 1.5,
                      .checks = checks, .n_checks = n_checks, .metrics = b->metrics,
                      .n_metrics = b->n};
    static const results_check ok = {"completed", RESULTS_PASS, NULL, -1, NULL, NULL};
    if (!checks) {
        c.checks = &ok;
        c.n_checks = 1;
    }
    if (results_record_case(&fx->db, run, &c, fx->err, sizeof fx->err))
        die("recording a case", fx->err);
}

static int64_t begin(fixture *fx, const char *suite, const char *impl, const char *commit)
{
    results_run_info info = {.suite = suite, .impl = impl, .impl_version = "0.1.0",
                             .backend = "cpu", .command_line = "dtbench run (fixture)",
                             .git_commit = commit, .git_dirty = 0, .host = "testhost",
                             .cpu_model = "Test CPU @ 3.0GHz", .gpu = NULL,
                             .pid = (int64_t)getpid()};
    int64_t id;
    fx->case_index = 0;
    if (results_run_begin(&fx->db, &info, &id, fx->err, sizeof fx->err))
        die("starting a run", fx->err);
    return id;
}

static void finish(fixture *fx, int64_t run, int complete)
{
    if (results_run_finish(&fx->db, run, complete, fx->err, sizeof fx->err))
        die("finishing a run", fx->err);
}

/* ---- the suites ------------------------------------------------------------------------ */
static const char *const STAGES[4] = {"ddp", "zero1", "zero2", "zero3"};

typedef struct model_info {
    const char *name;
    double params;            /* the reference model's parameter count */
} model_info;

static const model_info TP_MODELS[2] = {{"mlp-1m", 1055242}, {"mlp-8m", 8403978}};

static void throughput_run(fixture *fx, int64_t run, int write_expected)
{
    FILE *e = write_expected ? fx->expected : NULL;
    static const int nps[3] = {1, 2, 4};
    double peak_median[5] = {0};
    builder *b = calloc(1, sizeof *b);
    if (!b)
        die("fixture", "out of memory");
    for (int k = 0; k < 3; k++) {
        int np = nps[k];
        double v[REPS], w[WARMUP];
        for (int i = 0; i < REPS; i++)
            v[i] = 40.0 * np * (0.9 + 0.2 * uniform());
        for (int i = 0; i < WARMUP; i++)
            w[i] = 30.0 * np;
        b->n = 0;
        timing(b, "peak_gflops", "GFLOP/s", 1, v, w);
        char key[64];
        snprintf(key, sizeof key, "throughput peak np=%d", np);
        record(fx, run, key, "blas", "-", np, "fp32", "-", b, NULL, 0);
        stat3 s = stats(v, REPS);
        peak_median[np] = s.median;
        char med[32], lo[32], hi[32];
        fmt_sig(s.median, med, sizeof med);
        fmt_sig(s.min, lo, sizeof lo);
        fmt_sig(s.max, hi, sizeof hi);
        expect(e, "| %d | %s [%s, %s] |", np, med, lo, hi);
    }
    for (int mi = 0; mi < 2; mi++)
        for (int si = 0; si < 4; si++)
            for (int k = 0; k < 3; k++) {
                const model_info *m = &TP_MODELS[mi];
                int np = nps[k];
                const double batch = 64, flops = 6.0 * batch * m->params;
                double base = flops / (peak_median[np] * 1e9 * (0.55 - 0.05 * si));
                double step[REPS], warm[WARMUP], sps[REPS], gf[REPS], pf[REPS], comp[REPS],
                    comm[REPS], ov[REPS], hid[REPS];
                for (int i = 0; i < REPS; i++) {
                    step[i] = base * (0.95 + 0.15 * uniform());
                    sps[i] = batch / step[i];
                    gf[i] = flops / step[i] / 1e9;
                    pf[i] = gf[i] / peak_median[np];
                    comp[i] = 0.7 * step[i];
                    comm[i] = (np > 1 ? 0.4 : 0.0) * step[i] * (0.9 + 0.2 * uniform());
                    ov[i] = step[i] / (comp[i] + comm[i]);
                    hid[i] = np > 1 ? 0.3 + 0.2 * uniform() : 0;
                }
                for (int i = 0; i < WARMUP; i++)
                    warm[i] = 3 * base;
                b->n = 0;
                timing(b, "step_seconds", "s", 0, step, warm);
                timing(b, "samples_per_second", "samples/s", 1, sps, warm);
                timing(b, "achieved_gflops", "GFLOP/s", 1, gf, warm);
                timing(b, "peak_fraction", "ratio", 1, pf, warm);
                timing(b, "compute_only_seconds", "s", 0, comp, warm);
                timing(b, "comm_only_seconds", "s", 0, comm, warm);
                timing(b, "overlap_ratio", "ratio", 0, ov, warm);
                timing(b, "hidden_fraction", "ratio", 1, hid, warm);
                exact_one(b, "comm_bus_bytes", "B", 0,
                          np > 1 ? 2.0 * 4 * m->params * (np - 1) / np : 0);
                char key[128], impl[32];
                snprintf(key, sizeof key, "throughput %s %s fp32 np=%d", STAGES[si], m->name, np);
                snprintf(impl, sizeof impl, "ref-%s", STAGES[si]);
                record(fx, run, key, impl, m->name, np, "fp32", STAGES[si], b, NULL, 0);

                stat3 st = stats(step, REPS);
                char med[32], lo[32], hi[32], s1[32], s2[32], ovs[32];
                fmt_sig(st.median * 1e3, med, sizeof med);
                fmt_sig(st.min * 1e3, lo, sizeof lo);
                fmt_sig(st.max * 1e3, hi, sizeof hi);
                fmt_sig(stats(sps, REPS).median, s1, sizeof s1);
                fmt_sig(stats(gf, REPS).median, s2, sizeof s2);
                snprintf(ovs, sizeof ovs, "%.3f", stats(ov, REPS).median);
                if (!(st.median >= 1e-3 && st.median < 1))
                    die("fixture", "step times must be in milliseconds");
                expect(e, "| %s | %s | %d | %s ms [%s, %s] | %s | %s | %.1f%% | %s |", impl,
                       STAGES[si], np, med, lo, hi, s1, s2, 100 * stats(pf, REPS).median, ovs);
            }
    free(b);
    if (write_expected) {
        for (int mi = 0; mi < 2; mi++) {
            expect(fx->svgs, "throughput-r%lld-%s-samples.svg", (long long)run,
                   TP_MODELS[mi].name);
            expect(fx->svgs, "throughput-r%lld-%s-step.svg", (long long)run, TP_MODELS[mi].name);
            expect(fx->expected, "### %s, fp32 (%.0f parameters)", TP_MODELS[mi].name,
                   TP_MODELS[mi].params);
            expect(fx->expected, "(throughput-r%lld-%s-samples.svg)", (long long)run,
                   TP_MODELS[mi].name);
        }
        expect(fx->expected, "## Throughput: run %lld", (long long)run);
    }
}

static const model_info MEM_MODELS[3] = {
    {"mlp-100k", 101386}, {"mlp-1m", 1055242}, {"mlp-8m", 8403978}};

/* Model-state bytes per parameter: p, g, K (optimizer) for Adam. */
static void recipe_bytes(const char *precision, double *p, double *g, double *k)
{
    int bf16 = strcmp(precision, "bf16-mixed") == 0;
    *p = bf16 ? 2 : 4;
    *g = bf16 ? 2 : 4;
    *k = bf16 ? 12 : 8;
}

static double states_per_rank(int stage, double P, double p, double g, double k, int np)
{
    switch (stage) {
    case 0: return (p + g + k) * P;
    case 1: return (p + g) * P + k * P / np;
    case 2: return p * P + (g + k) * P / np;
    default: return (p + g + k) * P / np;
    }
}

static void memory_run(fixture *fx, int64_t run)
{
    static const char *const precisions[2] = {"fp32", "bf16-mixed"};
    static const int nps[2] = {2, 4};
    builder *b = calloc(1, sizeof *b);
    if (!b)
        die("fixture", "out of memory");
    for (int pi = 0; pi < 2; pi++)
        for (int k = 0; k < 2; k++)
            for (int si = 0; si < 4; si++)
                for (int mi = 0; mi < 3; mi++) {
                    const char *prec = precisions[pi];
                    int np = nps[k];
                    double P = MEM_MODELS[mi].params, p, g, kb;
                    recipe_bytes(prec, &p, &g, &kb);
                    double theory = ceil(states_per_rank(si, P, p, g, kb, np));
                    double paper = ceil(states_per_rank(si, P, 2, 2, 12, np));
                    double meas[8], total[8], over_t[8], over_p[8];
                    double worst = 0;
                    for (int r = 0; r < np; r++) {
                        meas[r] = theory + floor(4096 * uniform()) + (si ? 64.0 * r : 0);
                        total[r] = meas[r] + 65536 + floor(1e5 * uniform());
                        over_t[r] = meas[r] / theory;
                        over_p[r] = meas[r] / paper;
                        if (meas[r] > worst)
                            worst = meas[r];
                    }
                    b->n = 0;
                    exact_per_rank(b, "mem_peak.params", "B", 0, meas, np);
                    exact_per_rank(b, "mem_peak.total", "B", 0, total, np);
                    exact_per_rank(b, "model_states_bytes", "B", 0, meas, np);
                    exact_one(b, "theory_bytes", "B", 0, theory);
                    exact_one(b, "paper_bytes", "B", 0, paper);
                    exact_per_rank(b, "measured_over_theory", "ratio", 0, over_t, np);
                    exact_per_rank(b, "measured_over_paper", "ratio", 0, over_p, np);
                    char key[128], impl[32];
                    snprintf(key, sizeof key, "memory %s %s %s np=%d", STAGES[si],
                             MEM_MODELS[mi].name, prec, np);
                    snprintf(impl, sizeof impl, "ref-%s", STAGES[si]);
                    record(fx, run, key, impl, MEM_MODELS[mi].name, np, prec, STAGES[si], b,
                           NULL, 0);
                    char ms[48], ts[48], ps[48];
                    fmt_bytes(worst, ms, sizeof ms);
                    fmt_bytes(theory, ts, sizeof ts);
                    fmt_bytes(paper, ps, sizeof ps);
                    expect(fx->expected, "| %s | %s | %s | %s | %.0f | %d | %s | %s | %s | %.3f | "
                           "%.3f |", STAGES[si], impl, prec, MEM_MODELS[mi].name, P, np, ms, ts,
                           ps, worst / theory, worst / paper);
                }
    /* the budget: 8 GiB per rank at 4 ranks, fp32 */
    const double budget = 8.0 * 1024 * 1024 * 1024;
    double ddp = 0;
    for (int si = 0; si < 4; si++) {
        double p, g, kb;
        recipe_bytes("fp32", &p, &g, &kb);
        double per_param = states_per_rank(si, 1, p, g, kb, 4);
        double largest = floor(budget / per_param / 1000) * 1000;
        double bytes = largest * per_param;
        if (si == 0)
            ddp = largest;
        b->n = 0;
        exact_one(b, "largest_params", "params", 1, largest);
        exact_one(b, "largest_total_bytes", "B", 0, bytes);
        char key[128], impl[32], bs[48];
        snprintf(key, sizeof key, "memory budget %s fp32 np=4 8G", STAGES[si]);
        snprintf(impl, sizeof impl, "ref-%s", STAGES[si]);
        record(fx, run, key, impl, "-", 4, "fp32", STAGES[si], b, NULL, 0);
        fmt_bytes(bytes, bs, sizeof bs);
        expect(fx->expected, "| %s | %s | %.0f | %s | %.2fx |", STAGES[si], impl, largest, bs,
               largest / ddp);
    }
    free(b);
    expect(fx->expected, "## Memory: run %lld", (long long)run);
    expect(fx->expected, "### Largest model within 8G per rank at 4 ranks (fp32)");
    for (int pi = 0; pi < 2; pi++)
        for (int k = 0; k < 2; k++) {
            expect(fx->svgs, "memory-r%lld-%s-np%d.svg", (long long)run, precisions[pi], nps[k]);
            expect(fx->expected, "(memory-r%lld-%s-np%d.svg)", (long long)run, precisions[pi],
                   nps[k]);
        }
}

static void comm_run(fixture *fx, int64_t run)
{
    static const char *const collectives[3] = {"allgather", "allreduce", "reduce_scatter"};
    static const int64_t sizes[4] = {1024, 16384, 262144, 4194304};
    static const char *const size_text[4] = {"1 KiB", "16 KiB", "256 KiB", "4 MiB"};
    static const int nps[2] = {2, 4};
    builder *b = calloc(1, sizeof *b);
    if (!b)
        die("fixture", "out of memory");
    for (int k = 0; k < 2; k++)
        for (int ci = 0; ci < 3; ci++)
            for (int zi = 0; zi < 4; zi++) {
                int np = nps[k];
                double bytes = (double)sizes[zi];
                double factor = ci == 1 ? 2.0 * (np - 1) / np : (double)(np - 1) / np;
                double top = 6.0 * bytes / (bytes + 65536.0); /* GB/s: latency-bound at first */
                double raw_bw[REPS], our_bw[REPS], t[REPS], alg[REPS], ratio[REPS], w[WARMUP];
                for (int i = 0; i < WARMUP; i++)
                    w[i] = 1e-3;
                /* the raw MPI side first: ours is judged against its median */
                for (int i = 0; i < REPS; i++) {
                    raw_bw[i] = top * (0.9 + 0.2 * uniform());
                    alg[i] = raw_bw[i] / factor;
                    t[i] = bytes / (alg[i] * 1e9);
                }
                b->n = 0;
                timing(b, "seconds", "s", 0, t, w);
                timing(b, "algbw_gbps", "GB/s", 1, alg, w);
                timing(b, "busbw_gbps", "GB/s", 1, raw_bw, w);
                char key[128];
                snprintf(key, sizeof key, "comm %s %lld np=%d mpi", collectives[ci],
                         (long long)sizes[zi], np);
                record(fx, run, key, "mpi", "-", np, "fp32", "-", b, NULL, 0);
                double raw_median = stats(raw_bw, REPS).median;
                for (int i = 0; i < REPS; i++) {
                    our_bw[i] = top * (0.85 + 0.2 * uniform());
                    alg[i] = our_bw[i] / factor;
                    t[i] = bytes / (alg[i] * 1e9);
                    ratio[i] = our_bw[i] / raw_median;
                }
                b->n = 0;
                timing(b, "seconds", "s", 0, t, w);
                timing(b, "algbw_gbps", "GB/s", 1, alg, w);
                timing(b, "busbw_gbps", "GB/s", 1, our_bw, w);
                timing(b, "busbw_over_mpi", "ratio", 1, ratio, w);
                snprintf(key, sizeof key, "comm %s %lld np=%d dtbench", collectives[ci],
                         (long long)sizes[zi], np);
                record(fx, run, key, "dtbench", "-", np, "fp32", "-", b, NULL, 0);
                char so[32], sr[32];
                fmt_sig(stats(our_bw, REPS).median, so, sizeof so);
                fmt_sig(raw_median, sr, sizeof sr);
                expect(fx->expected, "| %s | %s | %s | %s | %.3f |", collectives[ci],
                       size_text[zi], so, sr, stats(ratio, REPS).median);
            }
    free(b);
    expect(fx->expected, "## Communication: run %lld", (long long)run);
    for (int k = 0; k < 2; k++) {
        expect(fx->svgs, "comm-r%lld-np%d.svg", (long long)run, nps[k]);
        expect(fx->expected, "(comm-r%lld-np%d.svg)", (long long)run, nps[k]);
    }
}

/* A ddp conformance run: 3 cases of 4 checks, one failed (ratio 1.75). */
static void ddp_run(fixture *fx, int64_t run, FILE *e)
{
    builder *b = calloc(1, sizeof *b);
    if (!b)
        die("fixture", "out of memory");
    double worst = 0;
    for (int ci = 0; ci < 3; ci++) {
        results_check checks[4];
        static const char *const names[4] = {"completed", "loss every step",
                                              "parameters at step 3", "replicas identical"};
        for (int k = 0; k < 4; k++) {
            double ratio = k == 0 ? -1 : 0.05 + 0.8 * uniform();
            if (ci == 1 && k == 2)
                ratio = 1.75;
            if (ratio > worst)
                worst = ratio;
            checks[k] = (results_check){names[k], ratio > 1 ? RESULTS_FAIL : RESULTS_PASS,
                                        NULL, ratio, ratio >= 0 ? "step 3" : NULL, NULL};
        }
        double v[REPS], w[WARMUP] = {1e-3, 1e-3};
        for (int i = 0; i < REPS; i++)
            v[i] = 3e-4 * (0.9 + 0.2 * uniform());
        b->n = 0;
        timing(b, "step_seconds", "s", 0, v, w);
        char key[128];
        snprintf(key, sizeof key, "ddp mlp-odd sgd noclip fp32 np=%d mb=1", ci + 1);
        record(fx, run, key, "ref-ddp", "mlp-odd", ci + 1, "fp32", "ddp", b, checks, 4);
    }
    free(b);
    expect(e, "## Conformance: run %lld (ddp, ref-ddp)", (long long)run);
    expect(e, "| ddp | ref-ddp | 3 | 12 | 11 | 1 | 0 | %.3f |", worst);
    expect(e, "- ref-ddp ddp mlp-odd sgd noclip fp32 np=2 mb=1: parameters at step 3 "
              "(error/tolerance 1.75)");
}

/* ---- the files ------------------------------------------------------------------------- */
static FILE *open_text(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write", path);
    return f;
}

static void close_text(FILE *f)
{
    if (f && fclose(f) != 0)
        die("writing", "a fixture file");
}

static void open_db(fixture *fx, const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (results_open(path, RESULTS_WRITE, 30000, &fx->db, fx->err, sizeof fx->err))
        die("opening", fx->err);
    /* a fixture need not survive a power cut: no fsync per case */
    if (sqlite3_exec(fx->db.db, "PRAGMA synchronous = OFF", NULL, NULL, NULL) != SQLITE_OK)
        die("PRAGMA synchronous", sqlite3_errmsg(fx->db.db));
}

static int has_machine_columns(fixture *fx)
{
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_prepare_v2(fx->db.db,
                           "SELECT count(*) FROM pragma_table_info('runs') WHERE name IN "
                           "('cpu_cores', 'blas', 'blas_threads', 'mpi_version')",
                           -1, &st, NULL) != SQLITE_OK)
        die("table_info", sqlite3_errmsg(fx->db.db));
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n == 4;
}

/* The benchmark database; machine: set the schema-3 machine columns (added
 * here when this dtbench's schema does not have them yet). */
static void bench_db(const char *dir, const char *name, int machine, FILE *expected, FILE *absent,
                     FILE *svgs)
{
    fixture fx = {.expected = expected, .absent = absent, .svgs = svgs};
    open_db(&fx, dir, name);
    int had_columns = has_machine_columns(&fx);
    rng_state = 20240611;

    int64_t r1 = begin(&fx, "throughput", "ref-ddp,ref-zero1,ref-zero2,ref-zero3", "1111111");
    fx.expected = NULL;
    throughput_run(&fx, r1, 0);
    finish(&fx, r1, 1);
    int64_t r2 = begin(&fx, "ddp", "ref-ddp", "2222222");
    ddp_run(&fx, r2, NULL);
    finish(&fx, r2, 1);
    fx.expected = expected;
    int64_t r3 = begin(&fx, "throughput", "ref-ddp,ref-zero1,ref-zero2,ref-zero3",
                       "3333333333333333333333333333333333333333");
    throughput_run(&fx, r3, 1);
    finish(&fx, r3, 1);
    int64_t r4 = begin(&fx, "memory", "ref-ddp,ref-zero1,ref-zero2,ref-zero3", "4444444");
    memory_run(&fx, r4);
    finish(&fx, r4, 1);
    int64_t r5 = begin(&fx, "comm", "dtbench,mpi", "5555555");
    comm_run(&fx, r5);
    finish(&fx, r5, 1);
    int64_t r6 = begin(&fx, "throughput", "ref-ddp", "6666666");
    fx.expected = NULL;
    throughput_run(&fx, r6, 0);
    finish(&fx, r6, 0);
    fx.expected = expected;

    int64_t prev;
    if (results_tag(&fx.db, r4, "nightly", &prev, fx.err, sizeof fx.err))
        die("tagging", fx.err);

    expect(expected, "| %lld | throughput | ref-ddp,ref-zero1,ref-zero2,ref-zero3 | complete |",
           (long long)r3);
    expect(expected, "| 333333333333 |");
    expect(expected, "| %lld | memory | ref-ddp,ref-zero1,ref-zero2,ref-zero3 | complete |",
           (long long)r4);
    expect(expected, "| %lld | comm | dtbench,mpi | complete |", (long long)r5);
    expect(absent, "| %lld | throughput |", (long long)r1);
    expect(absent, "| %lld | throughput |", (long long)r6);
    expect(absent, "| %lld | ddp |", (long long)r2);
    expect(absent, "Conformance");

    if (machine) {
        static const char *const add[4] = {
            "ALTER TABLE runs ADD COLUMN cpu_cores INTEGER", "ALTER TABLE runs ADD COLUMN blas TEXT",
            "ALTER TABLE runs ADD COLUMN blas_threads INTEGER",
            "ALTER TABLE runs ADD COLUMN mpi_version TEXT"};
        for (int i = 0; i < 4 && !had_columns; i++)
            if (sqlite3_exec(fx.db.db, add[i], NULL, NULL, NULL) != SQLITE_OK)
                die("adding the machine columns", sqlite3_errmsg(fx.db.db));
        if (sqlite3_exec(fx.db.db,
                         "UPDATE runs SET cpu_cores = 16, blas = 'OpenBLAS 0.3.21', "
                         "blas_threads = 1, mpi_version = 'Open MPI v4.1.4'",
                         NULL, NULL, NULL) != SQLITE_OK)
            die("setting the machine columns", sqlite3_errmsg(fx.db.db));
        expect(expected, "| run | host | CPU | cores | BLAS | BLAS threads | MPI | GPU | backend "
                         "| dtbench |");
        expect(expected, "| %lld | testhost | Test CPU @ 3.0GHz | 16 | OpenBLAS 0.3.21 | 1 | "
                         "Open MPI v4.1.4 | none | cpu |", (long long)r3);
    } else if (!had_columns) {
        expect(expected, "| run | host | CPU | GPU | backend | dtbench |");
        expect(expected, "| %lld | testhost | Test CPU @ 3.0GHz | none | cpu |", (long long)r3);
        expect(absent, "BLAS threads");
    }
    results_close(&fx.db);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: report_make_db DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    FILE *expected = open_text(dir, "expected.txt"), *absent = open_text(dir, "absent.txt"),
         *svgs = open_text(dir, "svgs.txt");
    bench_db(dir, "bench.db", 0, expected, absent, svgs);
    close_text(expected);
    close_text(absent);
    close_text(svgs);

    expected = open_text(dir, "expected-machine.txt");
    bench_db(dir, "machine.db", 1, expected, NULL, NULL);
    close_text(expected);

    fixture fx = {0};
    expected = open_text(dir, "expected-conformance.txt");
    open_db(&fx, dir, "conformance.db");
    int64_t r = begin(&fx, "ddp", "ref-ddp", "7777777");
    rng_state = 7;
    ddp_run(&fx, r, expected);
    finish(&fx, r, 1);
    results_close(&fx.db);
    close_text(expected);

    open_db(&fx, dir, "norun.db");
    results_close(&fx.db);

    char path[4200];
    snprintf(path, sizeof path, "%s/corrupt.db", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot write", path);
    fwrite("SQLite format 3", 1, 16, f);
    for (int i = 0; i < 8192; i++)
        fputc((int)(uniform() * 256), f);
    close_text(f);
    return 0;
}
