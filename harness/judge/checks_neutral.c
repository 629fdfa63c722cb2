/*
 * The implementation-neutral communication and memory checks: any correct
 * implementation passes them whatever its partition, padding, bucketing or
 * collective shape (theory_neutral.h has the rules and docs/plugins.md the
 * reasons). Calls are reported, never judged.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checks_internal.h"
#include "model.h"
#include "theory_neutral.h"

/* The counters a volume is judged on: the worker's own measurement of the
 * training steps when it counted (PMPI, and the Python bridge's counting
 * group): what create moved once is setup, not per-step traffic, and is
 * shown, not judged. Else what the plugin reported, create included. */
static dtb_counters judged_counters(const rank_result *r, const char **source)
{
    int measured;
    dtb_counters k = rank_step_traffic(r, &measured);
    *source = measured ? "measured (train_step)" : "reported (create and train_step)";
    return k;
}

static void diag_calls(tap_diag *d, const dtb_counters *k)
{
    char list[512] = "";
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++) {
        if (k->calls[i] == 0 && k->bytes[i] == 0)
            continue;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s %llu calls %llu B", used ? ", " : "",
                 theory_collective_name(i), (unsigned long long)k->calls[i],
                 (unsigned long long)k->bytes[i]);
    }
    diag_text(d, "calls", "%s", list[0] ? list : "none");
}

void check_communication_volume(const check_inputs *in, check_list *out)
{
    check_result *c = check_list_add(out, "communication volume");
    if (!c)
        return;
    theory_case tc;
    case_config_theory(in->cfg, in->world_size, -1, &tc);
    theory_neutral nb;
    if (theory_neutral_bounds(&tc, &nb) != 0) {
        check_fail(c, "no neutral communication bound for this stage, precision and optimizer");
        return;
    }
    /* The rank that moves the most decides. */
    int worst = 0;
    double worst_bus = -1;
    const char *source = "reported";
    for (int r = 0; r < in->world_size; r++) {
        const dtb_counters k = judged_counters(&in->run1[r], &source);
        double bus = theory_bus_bytes_per_step(&k, in->world_size, in->cfg->steps);
        if (bus > worst_bus)
            worst_bus = bus, worst = r;
    }
    const dtb_counters k = judged_counters(&in->run1[worst], &source);
    const double ratio = nb.min_bus_per_step > 0 ? worst_bus / nb.min_bus_per_step : 0;
    if (worst_bus > nb.allowed_bus_per_step) {
        char msg[256];
        snprintf(msg, sizeof msg, "rank %d moves %.2fx the minimum of %s (%.0f bus bytes per "
                 "step, minimum %.0f, allowed %.0f)", worst, ratio,
                 theory_stage_title(in->cfg->stage), worst_bus, nb.min_bus_per_step,
                 nb.allowed_bus_per_step);
        check_fail(c, msg);
    }
    diag_int(&c->diag, "rank", worst);
    diag_text(&c->diag, "counters", "%s", source);
    diag_int(&c->diag, "bus_bytes_per_step", llround(worst_bus));
    diag_int(&c->diag, "minimum_bus_bytes_per_step", llround(nb.min_bus_per_step));
    diag_int(&c->diag, "allowed_bus_bytes_per_step", llround(nb.allowed_bus_per_step));
    diag_real(&c->diag, "ratio_to_minimum", ratio);
    diag_calls(&c->diag, &k);
    if (in->run1[worst].measured_valid) {
        const dtb_counters *setup = &in->run1[worst].measured_create;
        double setup_bus = theory_bus_bytes_per_step(setup, in->world_size, 1);
        if (setup_bus > 0)
            diag_int(&c->diag, "create_bus_bytes_not_judged", llround(setup_bus));
    }
}

/* peak(PARAMS) + peak(GRADS) + peak(OPTIM) of one rank. */
static int64_t model_states(const rank_result *r)
{
    return r->mem_peak[DTB_MEM_PARAMS] + r->mem_peak[DTB_MEM_GRADS] +
           r->mem_peak[DTB_MEM_OPTIM];
}

/* One rank against formula + its declarations; 0 pass, else -1 with msg. */
static int judge_rank_memory(const check_inputs *in, int r, theory_neutral *nb, char *msg,
                             size_t len)
{
    const rank_result *rr = &in->run1[r];
    theory_case tc;
    case_config_theory(in->cfg, in->world_size, rr->facts.prefetch_depth, &tc);
    if (theory_neutral_bounds(&tc, nb) != 0) {
        snprintf(msg, len, "no memory formula for this stage, precision and optimizer");
        return -1;
    }
    const int64_t pad = rr->facts.mem_padding_bytes, work = rr->facts.mem_working_bytes;
    if (pad < 0 || work < 0) {
        snprintf(msg, len, "rank %d declares negative memory allowances (%lld, %lld)", r,
                 (long long)pad, (long long)work);
        return -1;
    }
    if (pad > nb->padding_bound) {
        snprintf(msg, len, "rank %d declares %lld bytes of padding; the suite allows at most "
                 "%lld", r, (long long)pad, (long long)nb->padding_bound);
        return -1;
    }
    if (work > nb->working_bound) {
        snprintf(msg, len, "rank %d declares %lld bytes of materialised parameters; the suite "
                 "allows %lld for %s", r, (long long)work, (long long)nb->working_bound,
                 theory_stage_title(in->cfg->stage));
        return -1;
    }
    const int64_t states = model_states(rr);
    if (states <= 0) {
        snprintf(msg, len, "rank %d tracks no model-state memory (PARAMS, GRADS, OPTIM through "
                 "the host's mem_track), so there is nothing to compare", r);
        return -1;
    }
    const double bound = ceil(nb->formula) + (double)pad + (double)work;
    if ((double)states > bound) {
        snprintf(msg, len, "rank %d holds %.2fx the %s formula in model states (%lld bytes, "
                 "formula %.0f, declared allowances %lld)", r, (double)states / nb->formula,
                 theory_stage_title(in->cfg->stage), (long long)states, nb->formula,
                 (long long)(pad + work));
        return -1;
    }
    return 0;
}

void check_memory_formula(const check_inputs *in, check_list *out)
{
    check_result *c = check_list_add(out, "memory within formula");
    if (!c)
        return;
    int worst = 0;
    double worst_ratio = -1;
    theory_neutral nb, worst_nb;
    memset(&worst_nb, 0, sizeof worst_nb);
    for (int r = 0; r < in->world_size; r++) {
        char msg[320];
        if (judge_rank_memory(in, r, &nb, msg, sizeof msg) != 0) {
            check_fail(c, msg);
            worst = r, worst_nb = nb;
            break;
        }
        const double ratio = (double)model_states(&in->run1[r]) / nb.formula;
        if (ratio > worst_ratio)
            worst_ratio = ratio, worst = r, worst_nb = nb;
    }
    const rank_result *rr = &in->run1[worst];
    diag_int(&c->diag, "rank", worst);
    diag_int(&c->diag, "model_states_bytes", model_states(rr));
    diag_int(&c->diag, "formula_bytes", llround(worst_nb.formula));
    if (worst_nb.formula > 0)
        diag_real(&c->diag, "ratio", (double)model_states(rr) / worst_nb.formula);
    diag_int(&c->diag, "declared_padding_bytes", rr->facts.mem_padding_bytes);
    diag_int(&c->diag, "padding_bound_bytes", worst_nb.padding_bound);
    diag_int(&c->diag, "declared_working_bytes", rr->facts.mem_working_bytes);
    diag_int(&c->diag, "working_bound_bytes", worst_nb.working_bound);
}

/* ---- activations, communication buffers, scratch -------------------------- */

static const struct {
    int category;
    const char *name;
} BUFFERS[] = {
    {DTB_MEM_ACTIVATIONS, "activations"},
    {DTB_MEM_COMM, "comm"},
    {DTB_MEM_OTHER, "other"},
};
#define N_BUFFERS ((int)(sizeof BUFFERS / sizeof BUFFERS[0]))

/* The reference's figure (exact 1) or the neutral bound (exact 0) of a buffer. */
static int64_t buffer_limit(const theory_buffers *tb, int category, int exact)
{
    switch (category) {
    case DTB_MEM_ACTIVATIONS:
        return exact ? tb->activations : tb->activations_bound;
    case DTB_MEM_COMM:
        return exact ? tb->comm : tb->comm_bound;
    default:
        return exact ? tb->other : tb->other_bound;
    }
}

/* Every rank's activation, communication and scratch peaks against the
 * neutral bounds (exact 0) or the reference's figures (exact 1). */
static void check_buffers(const check_inputs *in, check_list *out, int exact)
{
    check_result *c = check_list_add(out, exact ? "activations and buffers match theory"
                                                : "activations and buffers within bounds");
    if (!c)
        return;
    theory_case tc;
    case_config_theory(in->cfg, in->world_size, -1, &tc);
    const int64_t share = split_max_rank_share(in->cfg->global_batch, in->cfg->micro_batches,
                                               in->world_size);
    theory_buffers tb;
    if (theory_buffer_bounds(&tc, share, &tb) != 0) {
        check_fail(c, "no buffer formula for this stage and precision");
        return;
    }
    for (int r = 0; r < in->world_size; r++) {
        for (int k = 0; k < N_BUFFERS; k++) {
            const int64_t held = in->run1[r].mem_peak[BUFFERS[k].category];
            const int64_t limit = buffer_limit(&tb, BUFFERS[k].category, exact);
            if (exact ? held == limit : held <= limit)
                continue;
            char msg[320];
            if (exact)
                snprintf(msg, sizeof msg, "rank %d holds %lld bytes of %s, the reference's "
                         "layout %lld", r, (long long)held, BUFFERS[k].name, (long long)limit);
            else
                snprintf(msg, sizeof msg, "rank %d holds %.2fx the bound on %s (%lld bytes, "
                         "bound %lld for a largest share of %lld samples)%s", r,
                         (double)held / (double)limit, BUFFERS[k].name, (long long)held,
                         (long long)limit, (long long)share,
                         BUFFERS[k].category == DTB_MEM_ACTIVATIONS
                             ? ": a workspace sized for more than the rank's share?"
                             : "");
            check_fail(c, msg);
            diag_int(&c->diag, "rank", r);
            diag_text(&c->diag, "category", "%s", BUFFERS[k].name);
            break;
        }
        if (c->status == CHECK_FAIL)
            break;
    }
    const rank_result *rr = &in->run1[0];
    diag_int(&c->diag, "largest_share", share);
    for (int k = 0; k < N_BUFFERS; k++) {
        char key[48];
        snprintf(key, sizeof key, "peak_%s", BUFFERS[k].name);
        diag_int(&c->diag, key, rr->mem_peak[BUFFERS[k].category]);
        snprintf(key, sizeof key, "%s_%s", exact ? "theory" : "bound", BUFFERS[k].name);
        diag_int(&c->diag, key, buffer_limit(&tb, BUFFERS[k].category, exact));
    }
}

void check_buffers_neutral(const check_inputs *in, check_list *out)
{
    check_buffers(in, out, 0);
}

void check_buffers_strict(const check_inputs *in, check_list *out)
{
    check_buffers(in, out, 1);
}
