#include "check_measured.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "theory.h"

double measured_compared_bytes(const dtb_counters *k, int world_size)
{
    double sum = 0;
    for (int kind = 0; kind < DTB_COLL_KIND_COUNT; kind++) {
        double factor = world_size > 1 ? theory_bus_factor(kind, world_size) : 1.0;
        sum += (double)k->bytes[kind] * factor;
    }
    return sum;
}

int64_t measured_rss_slack(int64_t tracked)
{
    double rel = MEASURED_RSS_SLACK_REL * (double)(tracked > 0 ? tracked : 0);
    return MEASURED_RSS_SLACK_ABS + llround(rel);
}

int measured_rss_comparable(const char **why)
{
#if defined(__SANITIZE_ADDRESS__)
    *why = "a sanitizer build: AddressSanitizer's shadow memory, redzones and quarantine "
           "inflate the resident size";
    return 0;
#else
    (void)why;
    return 1;
#endif
}

/* 1234567 -> "1,234,567" (rounded to a whole number). */
static void grouped(double x, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", llabs(llround(x)));
    size_t n = strlen(digits), o = 0;
    if (llround(x) < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < n && o + 1 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 1 < len)
            buf[o++] = ',';
        if (o + 1 < len)
            buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static double mib(int64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* ---- communication ----------------------------------------------------------- */

typedef struct comm_verdict {
    int compared;              /* 0: a rank could not count */
    char why_not[160];
    int worst, failing;        /* rank with the largest |R-M| / tolerance; ranks over it */
    double reported, measured, tolerance; /* of `worst`, totals over all steps */
} comm_verdict;

static void judge_comm(const check_inputs *in, comm_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->worst = -1;
    const int64_t steps = in->cfg->steps;
    double worst_excess = -1;
    for (int r = 0; r < in->world_size; r++) {
        const rank_result *rr = &in->run1[r];
        if (!rr->measured_valid) {
            snprintf(v->why_not, sizeof v->why_not,
                     "rank %d's worker could not count its MPI calls (wrappers absent or a "
                     "size it could not determine)", r);
            return;
        }
        double rep = measured_compared_bytes(&rr->counters, in->world_size);
        double mea = measured_compared_bytes(&rr->measured, in->world_size);
        double tol =
            MEASURED_COMM_REL * fmax(rep, mea) + MEASURED_COMM_ABS_PER_STEP * (double)steps;
        double excess = fabs(rep - mea) / tol;
        v->failing += excess > 1;
        if (excess > worst_excess) {
            worst_excess = excess;
            v->worst = r;
            v->reported = rep;
            v->measured = mea;
            v->tolerance = tol;
        }
    }
    v->compared = v->worst >= 0;
    if (!v->compared)
        snprintf(v->why_not, sizeof v->why_not, "no rank");
}

/* "rank 1 reports 41,672 bus bytes per step, the worker measured 83,344 (reports 0.50x)" */
static void comm_message(const comm_verdict *v, int world_size, int64_t steps, char *msg,
                         size_t len)
{
    const double s = steps > 0 ? (double)steps : 1;
    const char *unit = world_size > 1 ? "bus bytes" : "bytes";
    char rep[32], mea[32];
    grouped(v->reported / s, rep, sizeof rep);
    grouped(v->measured / s, mea, sizeof mea);
    if (v->measured > 0)
        snprintf(msg, len,
                 "rank %d reports %s %s per step, the worker measured %s (reports %.2fx)",
                 v->worst, rep, unit, mea, v->reported / v->measured);
    else
        snprintf(msg, len, "rank %d reports %s %s per step, the worker measured none", v->worst,
                 rep, unit);
}

static void comm_diag(const check_inputs *in, const comm_verdict *v, tap_diag *d)
{
    const rank_result *rr = &in->run1[v->worst];
    const double s = in->cfg->steps > 0 ? (double)in->cfg->steps : 1;
    diag_int(d, "rank", v->worst);
    diag_text(d, "compared", "%s",
              in->world_size > 1 ? "bus bytes (nccl-tests factors, p2p 1), all kinds summed"
                                 : "bytes (a world of one: factor 1), all kinds summed");
    diag_int(d, "reported_bus_bytes_per_step", llround(v->reported / s));
    diag_int(d, "measured_bus_bytes_per_step", llround(v->measured / s));
    if (v->measured > 0)
        diag_real(d, "reported_over_measured", v->reported / v->measured);
    diag_int(d, "tolerance_bytes_per_step", llround(v->tolerance / s));
    diag_int(d, "failing_ranks_comm", v->failing);
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        const dtb_counters *a = &rr->counters, *m = &rr->measured;
        if (!a->calls[k] && !a->bytes[k] && !m->calls[k] && !m->bytes[k])
            continue;
        diag_text(d, theory_collective_name(k),
                  "reported %llu calls %llu bytes, measured %llu calls %llu bytes",
                  (unsigned long long)a->calls[k], (unsigned long long)a->bytes[k],
                  (unsigned long long)m->calls[k], (unsigned long long)m->bytes[k]);
    }
}

/* ---- memory ------------------------------------------------------------------ */

typedef struct mem_verdict {
    int compared;
    char why_not[200];
    int judged, over;          /* the rank least over its slack; ranks over it */
    int64_t tracked, growth, slack;  /* of `judged` */
    int most;                  /* the rank most over, for the diagnostics */
    int64_t most_untracked;
} mem_verdict;

static void judge_mem(const check_inputs *in, mem_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->judged = v->most = -1;
    const char *why = NULL;
    if (!measured_rss_comparable(&why)) {
        snprintf(v->why_not, sizeof v->why_not, "%s", why);
        return;
    }
    int64_t least = 0, most = 0;
    for (int r = 0; r < in->world_size; r++) {
        const rank_result *rr = &in->run1[r];
        if (rr->rss_base < 0 || rr->rss_hwm < 0) {
            snprintf(v->why_not, sizeof v->why_not,
                     "rank %d's resident size is unknown (no /proc/self/status or "
                     "/proc/self/clear_refs)", r);
            return;
        }
        int64_t growth = rr->rss_hwm - rr->rss_base;
        int64_t slack = measured_rss_slack(rr->mem_total_peak);
        int64_t excess = growth - rr->mem_total_peak - slack;
        v->over += excess > 0;
        if (v->judged < 0 || excess < least) {
            least = excess;
            v->judged = r;
            v->tracked = rr->mem_total_peak;
            v->growth = growth;
            v->slack = slack;
        }
        if (v->most < 0 || excess > most) {
            most = excess;
            v->most = r;
            v->most_untracked = growth - rr->mem_total_peak;
        }
    }
    v->compared = v->judged >= 0;
    if (!v->compared)
        snprintf(v->why_not, sizeof v->why_not, "no rank");
}

static int mem_fails(const check_inputs *in, const mem_verdict *v)
{
    return v->compared && v->over == in->world_size;
}

static void mem_diag(const mem_verdict *v, tap_diag *d)
{
    diag_int(d, "mem_rank", v->judged);
    diag_int(d, "tracked_peak_bytes", v->tracked);
    diag_int(d, "rss_growth_bytes", v->growth);
    diag_int(d, "untracked_bytes", v->growth - v->tracked);
    diag_int(d, "slack_bytes", v->slack);
    diag_int(d, "ranks_over_slack", v->over);
    diag_int(d, "most_untracked_rank", v->most);
    diag_int(d, "most_untracked_bytes", v->most_untracked);
}

/* ---- the point ----------------------------------------------------------------- */

void check_measured(const check_inputs *in, check_result *c)
{
    if (!c)
        return;
    comm_verdict cv;
    mem_verdict mv;
    judge_comm(in, &cv);
    judge_mem(in, &mv);
    if (!cv.compared && !mv.compared) {
        c->status = CHECK_SKIP;
        snprintf(c->skip_reason, sizeof c->skip_reason,
                 "the worker measured neither communication nor memory");
        diag_text(&c->diag, "communication_not_compared", "%s", cv.why_not);
        diag_text(&c->diag, "memory_not_compared", "%s", mv.why_not);
        return;
    }
    char msg[600] = "";
    if (cv.compared && cv.failing)
        comm_message(&cv, in->world_size, in->cfg->steps, msg, sizeof msg);
    if (mem_fails(in, &mv)) {
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof msg - used,
                 "%srank %d tracks %.1f MiB at peak, its process grew by %.1f MiB (slack "
                 "%.1f MiB%s)",
                 used ? "; " : "", mv.judged, mib(mv.tracked), mib(mv.growth), mib(mv.slack),
                 in->world_size > 1 ? ", and every other rank grew more beyond its own" : "");
    }
    if (msg[0]) {
        c->status = CHECK_FAIL;
        diag_text(&c->diag, "message", "%s", msg);
    }
    if (cv.compared)
        comm_diag(in, &cv, &c->diag);
    else
        diag_text(&c->diag, "communication_not_compared", "%s", cv.why_not);
    if (mv.compared)
        mem_diag(&mv, &c->diag);
    else
        diag_text(&c->diag, "memory_not_compared", "%s", mv.why_not);
}
