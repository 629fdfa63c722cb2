/*
 * `dtbench report`: the sections. Runs and machine first; then per run, by
 * its suite: throughput (a table per model and precision, samples/s and step
 * time plots per model), memory (measured against theory, memory against
 * parameters per precision and world size, the budget tables), comm (busbw
 * against message size per world size, ours over raw MPI), or for any other
 * suite a pass/fail summary. Metric names and keys: docs/benchmarks.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "report.h"

typedef struct build {
    const report_input *in;
    report_doc *doc;
    report_plots *plots;
    int oom;
} build;

/* ---- small helpers ------------------------------------------------------------------- */

static double median_of(const report_case *c, const char *metric)
{
    const report_metric *m = report_metric_find(c, metric);
    return m && m->s.n ? m->s.median : NAN;
}

/* Exact per-rank figures: the worst rank. */
static double max_of(const report_case *c, const char *metric)
{
    const report_metric *m = report_metric_find(c, metric);
    return m && m->s.n ? m->s.max : NAN;
}

static void fmt_ratio(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3f", v);
}

/* A message size: "512 B", "64 KiB", "1 MiB"; not a whole unit: 4 digits. */
static void fmt_size(int64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    int64_t v = bytes;
    while (u < 4 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (v < 1024)
        snprintf(buf, len, "%lld %s", (long long)v, units[u]);
    else
        report_fmt_bytes((double)bytes, buf, len);
}

/* "zero2" for our reference of that stage, "peer-x (zero2)" for another
 * implementation; with the precision when a plot mixes them. */
static void series_name(const report_case *c, int with_precision, char *buf, size_t len)
{
    char ref[96];
    snprintf(ref, sizeof ref, "ref-%s", c->stage);
    int n = strcmp(c->impl, ref) == 0 ? snprintf(buf, len, "%s", c->stage)
                                      : snprintf(buf, len, "%s (%s)", c->impl, c->stage);
    if (with_precision && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " %s", c->precision);
}

/* The stage's colour (ddp 0 .. zero3 3) for our reference; a peer gets
 * another; a second precision shifts it. */
static int series_colour(const report_case *c, int precision_index)
{
    char ref[96];
    snprintf(ref, sizeof ref, "ref-%s", c->stage);
    int rank = report_stage_rank(c->stage);
    int base;
    if (rank >= 1 && rank <= 4 && strcmp(c->impl, ref) == 0) {
        base = rank - 1;
    } else {
        unsigned h = 5381;
        for (const char *s = c->impl; *s; s++)
            h = h * 33u + (unsigned char)*s;
        base = 4 + (int)(h % 6u);
    }
    return base + 4 * precision_index;
}

static void point(build *b, report_series *s, double x, double y, double lo, double hi)
{
    if (!s || report_series_point(s, x, y, lo, hi))
        b->oom = 1;
}

static report_series *series(build *b, report_plot *p, const char *title, report_style st,
                             int colour)
{
    report_series *s = p ? report_plot_series(p, title, st, colour) : NULL;
    if (!s)
        b->oom = 1;
    return s;
}

static report_plot *plot(build *b, const char *name, const char *title, const char *xlabel,
                         const char *ylabel)
{
    report_plot *p = report_plot_add(b->plots, name, title, xlabel, ylabel);
    if (!p)
        b->oom = 1;
    return p;
}

static void image(build *b, const report_plot *p, const char *alt)
{
    if (p && report_plot_points(p) > 0) {
        char file[160];
        snprintf(file, sizeof file, "%s.svg", p->name);
        report_doc_image(b->doc, alt, file);
    }
}

/* ---- runs and machine -------------------------------------------------------------- */

static void runs_section(build *b)
{
    const report_input *in = b->in;
    char text[1024];
    report_doc_heading(b->doc, 2, "Runs");
    if (in->note)
        report_doc_para(b->doc, in->note);
    static const char *const h[] = {"run", "suite", "implementations", "status",
                                    "started (UTC)", "ended (UTC)", "commit", "cases",
                                    "points", "failed"};
    report_doc_table(b->doc, 10, h, "rlllllrrrr");
    for (int i = 0; i < in->n_runs; i++) {
        const report_run *r = &in->runs[i];
        char id[24], commit[96], cases[16], points[16], failed[16];
        snprintf(id, sizeof id, "%lld", (long long)r->id);
        snprintf(commit, sizeof commit, "%.12s%s", r->git_commit,
                 r->git_dirty == 1 ? " (dirty)" : "");
        snprintf(cases, sizeof cases, "%d", r->n_cases);
        snprintf(points, sizeof points, "%d", r->n_checks);
        snprintf(failed, sizeof failed, "%d", r->n_failed);
        const char *row[] = {id,           r->suite,    r->impl, r->status, r->started_at,
                             r->ended_at,  commit,      cases,   points,    failed};
        report_doc_row(b->doc, row);
    }
    report_doc_table_end(b->doc);

    report_doc_heading(b->doc, 2, "Machine");
    if (in->machine_columns) {
        static const char *const hm[] = {"run", "host", "CPU", "cores", "BLAS", "BLAS threads",
                                         "MPI", "GPU", "backend", "dtbench"};
        report_doc_table(b->doc, 10, hm, "rllrlrllll");
    } else {
        static const char *const hm[] = {"run", "host", "CPU", "GPU", "backend", "dtbench"};
        report_doc_table(b->doc, 6, hm, "rlllll");
    }
    for (int i = 0; i < in->n_runs; i++) {
        const report_run *r = &in->runs[i];
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)r->id);
        if (in->machine_columns) {
            const char *row[] = {id,     r->host,         r->cpu_model,  r->cpu_cores,
                                 r->blas, r->blas_threads, r->mpi_version, r->gpu,
                                 r->backend, r->dtbench_version};
            report_doc_row(b->doc, row);
        } else {
            const char *row[] = {id, r->host, r->cpu_model, r->gpu, r->backend,
                                 r->dtbench_version};
            report_doc_row(b->doc, row);
        }
    }
    report_doc_table_end(b->doc);
    if (!in->machine_columns) {
        snprintf(text, sizeof text,
                 "This database predates the machine columns (cores, BLAS and its threads, MPI "
                 "version: results schema 3); they are left out.");
        report_doc_para(b->doc, text);
    }
}

/* ---- throughput -------------------------------------------------------------------- */

static void throughput_peak(build *b, const report_run *r)
{
    int any = 0;
    for (int i = 0; i < r->n_cases; i++) {
        const report_case *c = &r->cases[i];
        if (c->kind != REPORT_TP_PEAK)
            continue;
        if (!any) {
            report_doc_heading(b->doc, 3, "BLAS peak");
            report_doc_para(b->doc, "Aggregate sgemm rate of N ranks at once (the peak that "
                                    "\"of peak\" is a fraction of).");
            static const char *const h[] = {"ranks", "peak GFLOP/s (median [min, max])"};
            report_doc_table(b->doc, 2, h, "rr");
            any = 1;
        }
        const report_metric *m = report_metric_find(c, "peak_gflops");
        char np[16], med[32], lo[32], hi[32], cell[128];
        snprintf(np, sizeof np, "%d", c->world_size);
        report_fmt_sig(m ? m->s.median : NAN, med, sizeof med);
        report_fmt_sig(m ? m->s.min : NAN, lo, sizeof lo);
        report_fmt_sig(m ? m->s.max : NAN, hi, sizeof hi);
        snprintf(cell, sizeof cell, "%s [%s, %s]", med, lo, hi);
        const char *row[] = {np, cell};
        report_doc_row(b->doc, row);
    }
    if (any)
        report_doc_table_end(b->doc);
}

static void throughput_row(build *b, const report_case *c)
{
    const report_metric *st = report_metric_find(c, "step_seconds");
    char np[16], step[128], sps[32], gf[32], peak[32], ov[32];
    snprintf(np, sizeof np, "%d", c->world_size);
    if (st && st->s.n) {
        double f;
        const char *unit = report_time_unit(st->s.median, &f);
        char med[32], lo[32], hi[32];
        report_fmt_sig(st->s.median * f, med, sizeof med);
        report_fmt_sig(st->s.min * f, lo, sizeof lo);
        report_fmt_sig(st->s.max * f, hi, sizeof hi);
        snprintf(step, sizeof step, "%s %s [%s, %s]", med, unit, lo, hi);
    } else {
        snprintf(step, sizeof step, "-");
    }
    report_fmt_sig(median_of(c, "samples_per_second"), sps, sizeof sps);
    report_fmt_sig(median_of(c, "achieved_gflops"), gf, sizeof gf);
    double pf = median_of(c, "peak_fraction");
    if (isnan(pf))
        snprintf(peak, sizeof peak, "-");
    else
        snprintf(peak, sizeof peak, "%.1f%%", 100.0 * pf);
    fmt_ratio(median_of(c, "overlap_ratio"), ov, sizeof ov);
    char states[32], bus[32];
    fmt_ratio(max_of(c, "model_states_over_formula"), states, sizeof states);
    fmt_ratio(max_of(c, "bus_bytes_over_minimum"), bus, sizeof bus);
    const char *row[] = {c->impl, c->stage, np, step, sps, gf, peak, ov, states, bus,
                         c->verdict[0] ? c->verdict : "-"};
    report_doc_row(b->doc, row);
}

static void throughput_section(build *b, const report_run *r)
{
    char text[512];
    snprintf(text, sizeof text, "Throughput: run %lld", (long long)r->id);
    report_doc_heading(b->doc, 2, text);
    throughput_peak(b, r);
    int i = 0;
    while (i < r->n_cases) {
        if (r->cases[i].kind != REPORT_TP_STEP) {
            i++;
            continue;
        }
        /* one model: cases [i, end) */
        const report_case *first = &r->cases[i];
        int end = i;
        int mixed_precision = 0;
        double slowest = 0;
        while (end < r->n_cases && r->cases[end].kind == REPORT_TP_STEP &&
               strcmp(r->cases[end].model, first->model) == 0) {
            mixed_precision |= strcmp(r->cases[end].precision, first->precision) != 0;
            double m = median_of(&r->cases[end], "step_seconds");
            if (m > slowest)
                slowest = m;
            end++;
        }
        double f;
        const char *unit = report_time_unit(slowest > 0 ? slowest : 1, &f);
        char name[192], title[256], ylabel[64];
        snprintf(name, sizeof name, "throughput-r%lld-%s-samples", (long long)r->id,
                 first->model);
        snprintf(title, sizeof title, "%s: samples/s against world size (run %lld)",
                 first->model, (long long)r->id);
        report_plot *ps = plot(b, name, title, "ranks", "samples/s (median)");
        if (ps)
            ps->x_integer = 1;
        snprintf(name, sizeof name, "throughput-r%lld-%s-step", (long long)r->id, first->model);
        snprintf(title, sizeof title, "%s: step time, median with [min, max] (run %lld)",
                 first->model, (long long)r->id);
        snprintf(ylabel, sizeof ylabel, "step time (%s)", unit);
        report_plot *pt = plot(b, name, title, "ranks", ylabel);
        if (pt)
            pt->x_integer = 1;

        /* a table per precision */
        for (int j = i; j < end; j++) {
            const report_case *c = &r->cases[j];
            if (j == i || strcmp(c->precision, r->cases[j - 1].precision) != 0) {
                if (j > i)
                    report_doc_table_end(b->doc);
                if (c->n_params > 0)
                    snprintf(text, sizeof text, "%s, %s (%lld parameters)", c->model,
                             c->precision, (long long)c->n_params);
                else
                    snprintf(text, sizeof text, "%s, %s", c->model, c->precision);
                report_doc_heading(b->doc, 3, text);
                static const char *const h[] = {
                    "implementation", "stage",   "ranks",   "step time (median [min, max])",
                    "samples/s",      "GFLOP/s", "of peak", "overlap ratio",
                    "model states / formula", "bus bytes / minimum", "conformance (latest run)"};
                report_doc_table(b->doc, 11, h, "llrrrrrrrrl");
            }
            throughput_row(b, c);
            char sname[192];
            int pi = strcmp(c->precision, first->precision) != 0;
            series_name(c, mixed_precision, sname, sizeof sname);
            int colour = series_colour(c, pi);
            double sps = median_of(c, "samples_per_second");
            if (!isnan(sps))
                point(b, series(b, ps, sname, REPORT_LINES, colour), c->world_size, sps, NAN,
                      NAN);
            const report_metric *st = report_metric_find(c, "step_seconds");
            if (st && st->s.n)
                point(b, series(b, pt, sname, REPORT_ERRORBARS, colour), c->world_size,
                      st->s.median * f, st->s.min * f, st->s.max * f);
        }
        report_doc_table_end(b->doc);
        snprintf(text, sizeof text, "%s: samples/s against world size, one line per stage",
                 first->model);
        image(b, ps, text);
        snprintf(text, sizeof text, "%s: step time against world size, median with [min, max]",
                 first->model);
        image(b, pt, text);
        i = end;
    }
}

/* ---- memory ------------------------------------------------------------------------ */

static void memory_table(build *b, const report_run *r)
{
    int any = 0;
    for (int i = 0; i < r->n_cases; i++) {
        const report_case *c = &r->cases[i];
        if (c->kind != REPORT_MEM)
            continue;
        if (!any) {
            report_doc_heading(b->doc, 3, "Model states per rank: measured against theory");
            report_doc_para(b->doc,
                            "Per rank, the worst rank: measured model states (parameters, "
                            "gradients, optimizer state), the exact theory for this recipe "
                            "and the ZeRO paper's formula.");
            static const char *const h[] = {"stage",    "implementation", "precision",
                                            "model",    "parameters",     "ranks",
                                            "measured", "theory",         "paper",
                                            "measured/theory", "measured/paper"};
            report_doc_table(b->doc, 11, h, "llllrrrrrrr");
            any = 1;
        }
        char params[32], np[16], meas[48], th[48], pa[48], rt[32], rp[32];
        if (c->n_params > 0)
            snprintf(params, sizeof params, "%lld", (long long)c->n_params);
        else
            snprintf(params, sizeof params, "-");
        snprintf(np, sizeof np, "%d", c->world_size);
        report_fmt_bytes(max_of(c, "model_states_bytes"), meas, sizeof meas);
        report_fmt_bytes(max_of(c, "theory_bytes"), th, sizeof th);
        report_fmt_bytes(max_of(c, "paper_bytes"), pa, sizeof pa);
        fmt_ratio(max_of(c, "measured_over_theory"), rt, sizeof rt);
        fmt_ratio(max_of(c, "measured_over_paper"), rp, sizeof rp);
        const char *row[] = {c->stage, c->impl, c->precision, c->model, params, np,
                             meas,     th,      pa,           rt,       rp};
        report_doc_row(b->doc, row);
    }
    if (any)
        report_doc_table_end(b->doc);
}

static void memory_plots(build *b, const report_run *r)
{
    int i = 0;
    while (i < r->n_cases) {
        if (r->cases[i].kind != REPORT_MEM) {
            i++;
            continue;
        }
        const report_case *first = &r->cases[i];
        char name[192], title[256], text[256];
        snprintf(name, sizeof name, "memory-r%lld-%s-np%d", (long long)r->id, first->precision,
                 first->world_size);
        snprintf(title, sizeof title, "model states per rank, %s, %d rank%s (run %lld)",
                 first->precision, first->world_size, first->world_size == 1 ? "" : "s",
                 (long long)r->id);
        report_plot *p = plot(b, name, title, "parameters", "bytes per rank (worst rank)");
        if (p) {
            p->logx = p->logy = 10;
            p->x_si = p->y_bytes = 1;
        }
        int end = i;
        while (end < r->n_cases && r->cases[end].kind == REPORT_MEM &&
               strcmp(r->cases[end].precision, first->precision) == 0 &&
               r->cases[end].world_size == first->world_size) {
            const report_case *c = &r->cases[end++];
            if (c->n_params <= 0)
                continue;
            char sname[192], tname[224];
            series_name(c, 0, sname, sizeof sname);
            snprintf(tname, sizeof tname, "%s theory", sname);
            int colour = series_colour(c, 0);
            double meas = max_of(c, "model_states_bytes"), th = max_of(c, "theory_bytes");
            if (meas > 0)
                point(b, series(b, p, sname, REPORT_LINES, colour), (double)c->n_params, meas,
                      NAN, NAN);
            if (th > 0)
                point(b, series(b, p, tname, REPORT_DASHED, colour), (double)c->n_params, th,
                      NAN, NAN);
        }
        snprintf(text, sizeof text,
                 "model states per rank against parameters, %s, %d ranks: measured (solid) and "
                 "theory (dashed)",
                 first->precision, first->world_size);
        image(b, p, text);
        i = end;
    }
}

static void memory_budget(build *b, const report_run *r)
{
    int i = 0;
    while (i < r->n_cases) {
        if (r->cases[i].kind != REPORT_MEM_BUDGET) {
            i++;
            continue;
        }
        const report_case *first = &r->cases[i];
        int end = i;
        double ddp = NAN;
        while (end < r->n_cases && r->cases[end].kind == REPORT_MEM_BUDGET &&
               strcmp(r->cases[end].budget, first->budget) == 0 &&
               strcmp(r->cases[end].precision, first->precision) == 0 &&
               r->cases[end].world_size == first->world_size) {
            if (strcmp(r->cases[end].stage, "ddp") == 0 && isnan(ddp))
                ddp = max_of(&r->cases[end], "largest_params");
            end++;
        }
        /* The key holds the budget in bytes; show it in binary units. */
        char text[256], budget[40];
        char *end_num = NULL;
        double budget_bytes = strtod(first->budget, &end_num);
        if (end_num && *end_num == '\0' && budget_bytes > 0)
            bench_format_bytes(budget_bytes, budget, sizeof budget);
        else
            snprintf(budget, sizeof budget, "%s", first->budget);
        snprintf(text, sizeof text, "Largest model within %s per rank at %d rank%s (%s)",
                 budget, first->world_size, first->world_size == 1 ? "" : "s",
                 first->precision);
        report_doc_heading(b->doc, 3, text);
        static const char *const h[] = {"stage", "implementation", "largest model (parameters)",
                                        "its bytes per rank", "ratio to DDP"};
        report_doc_table(b->doc, 5, h, "llrrr");
        for (int j = i; j < end; j++) {
            const report_case *c = &r->cases[j];
            double lp = max_of(c, "largest_params");
            char params[32], bytes[48], ratio[32];
            if (isnan(lp))
                snprintf(params, sizeof params, "-");
            else
                snprintf(params, sizeof params, "%.0f", lp);
            report_fmt_bytes(max_of(c, "largest_total_bytes"), bytes, sizeof bytes);
            if (ddp > 0 && !isnan(lp))
                snprintf(ratio, sizeof ratio, "%.2fx", lp / ddp);
            else
                snprintf(ratio, sizeof ratio, "-");
            const char *row[] = {c->stage, c->impl, params, bytes, ratio};
            report_doc_row(b->doc, row);
        }
        report_doc_table_end(b->doc);
        i = end;
    }
}

static void memory_section(build *b, const report_run *r)
{
    char text[256];
    snprintf(text, sizeof text, "Memory: run %lld", (long long)r->id);
    report_doc_heading(b->doc, 2, text);
    memory_table(b, r);
    memory_plots(b, r);
    memory_budget(b, r);
}

/* ---- comm ---------------------------------------------------------------------------- */

#define MAX_COLLECTIVES 16

static int collective_colour(char names[MAX_COLLECTIVES][32], int *n, const char *collective)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(names[i], collective) == 0)
            return i;
    if (*n < MAX_COLLECTIVES)
        snprintf(names[(*n)++], 32, "%s", collective);
    return *n - 1;
}

static void comm_section(build *b, const report_run *r)
{
    char text[256];
    char names[MAX_COLLECTIVES][32];
    int n_names = 0;
    snprintf(text, sizeof text, "Communication: run %lld", (long long)r->id);
    report_doc_heading(b->doc, 2, text);
    int i = 0;
    while (i < r->n_cases) {
        if (r->cases[i].kind != REPORT_COMM) {
            i++;
            continue;
        }
        const int np = r->cases[i].world_size;
        int end = i;
        while (end < r->n_cases && r->cases[end].kind == REPORT_COMM &&
               r->cases[end].world_size == np)
            end++;
        snprintf(text, sizeof text, "%d rank%s", np, np == 1 ? "" : "s");
        report_doc_heading(b->doc, 3, text);

        char name[96], title[256];
        snprintf(name, sizeof name, "comm-r%lld-np%d", (long long)r->id, np);
        snprintf(title, sizeof title, "bus bandwidth against message size, %d ranks (run %lld)",
                 np, (long long)r->id);
        report_plot *p = plot(b, name, title, "message size (bytes)", "busbw (GB/s, median)");
        if (p) {
            p->logx = 2;
            p->x_bytes = 1;
        }
        static const char *const h[] = {"collective", "size", "dtbench busbw (GB/s)",
                                        "mpi busbw (GB/s)", "ours/raw"};
        report_doc_table(b->doc, 5, h, "lrrrr");
        for (int j = i; j < end;) {
            /* the sides of one collective and size are adjacent */
            const report_case *ours = NULL, *raw = NULL;
            int k = j;
            while (k < end && strcmp(r->cases[k].collective, r->cases[j].collective) == 0 &&
                   r->cases[k].bytes == r->cases[j].bytes) {
                const report_case *c = &r->cases[k++];
                if (strcmp(c->side, "mpi") == 0)
                    raw = c;
                else
                    ours = c;
                char sname[96];
                snprintf(sname, sizeof sname, "%s %s", c->collective, c->side);
                int colour = collective_colour(names, &n_names, c->collective);
                double bw = median_of(c, "busbw_gbps");
                if (!isnan(bw))
                    point(b,
                          series(b, p, sname,
                                 strcmp(c->side, "mpi") == 0 ? REPORT_DASHED : REPORT_LINES,
                                 colour),
                          (double)c->bytes, bw, NAN, NAN);
            }
            const report_case *any = &r->cases[j];
            double bo = ours ? median_of(ours, "busbw_gbps") : NAN;
            double br = raw ? median_of(raw, "busbw_gbps") : NAN;
            double ratio = ours ? median_of(ours, "busbw_over_mpi") : NAN;
            if (isnan(ratio) && br > 0)
                ratio = bo / br;
            char size[48], so[32], sr[32], rt[32];
            fmt_size(any->bytes, size, sizeof size);
            report_fmt_sig(bo, so, sizeof so);
            report_fmt_sig(br, sr, sizeof sr);
            fmt_ratio(ratio, rt, sizeof rt);
            const char *row[] = {any->collective, size, so, sr, rt};
            report_doc_row(b->doc, row);
            j = k;
        }
        report_doc_table_end(b->doc);
        snprintf(text, sizeof text,
                 "busbw against message size, %d ranks: dtbench (solid) and raw MPI (dashed)",
                 np);
        image(b, p, text);
        i = end;
    }
}

/* ---- conformance ----------------------------------------------------------------------- */

static void conformance_section(build *b, const report_run *r)
{
    char text[512];
    snprintf(text, sizeof text, "Conformance: run %lld (%s, %s)", (long long)r->id, r->suite,
             r->impl);
    report_doc_heading(b->doc, 2, text);
    static const char *const h[] = {"suite",  "implementation", "cases",   "points",
                                    "passed", "failures",       "skipped", "worst ratio"};
    report_doc_table(b->doc, 8, h, "llrrrrrr");
    char cases[16], points[16], passed[16], failed[16], skipped[16], worst[32];
    snprintf(cases, sizeof cases, "%d", r->n_cases);
    snprintf(points, sizeof points, "%d", r->n_checks);
    snprintf(passed, sizeof passed, "%d", r->n_checks - r->n_failed - r->n_skipped);
    snprintf(failed, sizeof failed, "%d", r->n_failed);
    snprintf(skipped, sizeof skipped, "%d", r->n_skipped);
    fmt_ratio(r->worst_ratio, worst, sizeof worst);
    const char *row[] = {r->suite, r->impl, cases, points, passed, failed, skipped, worst};
    report_doc_row(b->doc, row);
    report_doc_table_end(b->doc);
    if (r->n_failed == 0) {
        snprintf(text, sizeof text, "Verdict: PASS (%d of %d points passed, %d skipped).",
                 r->n_checks - r->n_skipped, r->n_checks, r->n_skipped);
        report_doc_para(b->doc, text);
        return;
    }
    snprintf(text, sizeof text, "Verdict: FAIL (%d failed point%s%s):", r->n_failed,
             r->n_failed == 1 ? "" : "s",
             r->n_failed > r->n_failures_listed ? ", the first listed" : "");
    report_doc_para(b->doc, text);
    for (int i = 0; i < r->n_failures_listed; i++)
        report_doc_list_item(b->doc, r->failures[i]);
    report_doc_list_end(b->doc);
}

int report_build(const report_input *in, report_doc *doc, report_plots *plots, char *err,
                 size_t err_len)
{
    build b = {in, doc, plots, 0};
    runs_section(&b);
    for (int i = 0; i < in->n_runs && !b.oom; i++) {
        const report_run *r = &in->runs[i];
        if (strcmp(r->suite, "throughput") == 0)
            throughput_section(&b, r);
        else if (strcmp(r->suite, "memory") == 0)
            memory_section(&b, r);
        else if (strcmp(r->suite, "comm") == 0)
            comm_section(&b, r);
        else
            conformance_section(&b, r);
        if (report_suite_is_benchmark(r->suite) && r->n_cases == 0)
            report_doc_para(doc, "No cases were recorded in this run.");
    }
    if (b.oom || ferror(doc->f)) {
        snprintf(err, err_len, "report: out of memory building the report");
        return -1;
    }
    return 0;
}
