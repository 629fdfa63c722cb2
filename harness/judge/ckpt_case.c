#include "ckpt_case.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_points.h"
#include "checkpoint_files.h"
#include "checks_internal.h"
#include "clock.h"
#include "model.h"
#include "plugin_loader.h"
#include "worker_ckpt.h"
#include "world_kill.h"

/* ---- the two sides of a transition ---------------------------------------- */

/* The lowest data-parallel stage caps declare; 0 when none. */
static int32_t own_stage(uint64_t caps)
{
    static const int32_t stages[] = {DTB_STAGE_DDP, DTB_STAGE_ZERO1, DTB_STAGE_ZERO2,
                                     DTB_STAGE_ZERO3};
    for (int k = 0; k < 4; k++)
        if (caps & stage_cap(stages[k]))
            return stages[k];
    return 0;
}

typedef struct side {
    char path[PATH_MAX];
    char name[DTB_NAME_LEN];
    int32_t stage;
} side;

/* DTB_CKPT_SELF, or a stage the implementation runs when it declares it and
 * the reference of that stage (ref-<stage>.so beside the baseline) runs
 * otherwise. 0, or -1 with one line. */
static int resolve_side(const run_config *cfg, uint64_t impl_caps, int32_t which, side *out,
                        char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->stage = which == DTB_CKPT_SELF ? own_stage(impl_caps) : which;
    if (!out->stage) {
        snprintf(err, err_len, "%s declares none of the stages ddp, zero1, zero2, zero3",
                 cfg->impl_name);
        return -1;
    }
    if (impl_caps & stage_cap(out->stage)) {
        snprintf(out->path, sizeof out->path, "%s", cfg->impl_path);
        snprintf(out->name, sizeof out->name, "%s", cfg->impl_name);
        return 0;
    }
    const char *slash = strrchr(cfg->baseline_path, '/');
    const int dir_len = slash ? (int)(slash - cfg->baseline_path) : 1;
    snprintf(out->name, sizeof out->name, "ref-%s", stage_name(out->stage));
    if (snprintf(out->path, sizeof out->path, "%.*s/%s.so", dir_len,
                 slash ? cfg->baseline_path : ".", out->name) >= (int)sizeof out->path ||
        access(out->path, R_OK) != 0) {
        snprintf(err, err_len, "the reference %s is not at %.1000s", out->name, out->path);
        return -1;
    }
    return 0;
}

/* The case's config for one side: its stage, and check steps after `after`. */
static void side_config(const dtb_case *cs, const side *sd, int64_t after, case_config *out)
{
    *out = cs->cfg;
    out->stage = sd->stage;
    out->required_caps = cs->cfg.required_caps | stage_cap(sd->stage);
    out->n_checks = 0;
    for (int k = 0; k < cs->cfg.n_checks; k++)
        if (cs->cfg.check_steps[k] > after)
            out->check_steps[out->n_checks++] = cs->cfg.check_steps[k];
}

/* ---- the checkpoint root ---------------------------------------------------- */

/* The last "save" or "load" line of <root>/.timing (worker_ckpt.h): its
 * bytes and total seconds into d as diagnostics. */
static void diag_timing(tap_diag *d, const char *root, const char *what)
{
    char path[PATH_MAX + 16], line[256], kind[16];
    snprintf(path, sizeof path, "%s/%s", root, WORKER_CKPT_TIMING);
    FILE *f = fopen(path, "r");
    long long bytes = 0, found = 0;
    double total = 0;
    while (f && fgets(line, sizeof line, f)) {
        long long b;
        double t;
        if (sscanf(line, "%15s step=%*d bytes=%lld first_s=%*f second_s=%*f total_s=%lf", kind,
                   &b, &t) == 3 &&
            strcmp(kind, what) == 0)
            bytes = b, total = t, found = 1;
    }
    if (f)
        fclose(f);
    if (!found)
        return;
    char key[32];
    snprintf(key, sizeof key, "%s_seconds", what);
    diag_real(d, key, total);
    snprintf(key, sizeof key, "%s_mb_per_s", what);
    diag_real(d, key, total > 0 ? (double)bytes / 1e6 / total : 0);
}

/* ---- points ------------------------------------------------------------------ */

static check_result *add_point(case_result *r, const char *name)
{
    return check_list_add(&r->checks, name);
}

static void fail_point(case_result *r, const char *name, const char *message)
{
    check_result *c = add_point(r, name);
    if (c)
        check_fail(c, message);
}

/* Tensor and element of canonical index i. */
static void locate(const mlp_layout *lay, int64_t i, int *tensor, int64_t *element)
{
    int t = 0;
    while (t + 1 < lay->n_tensors && lay->offset[t + 1] <= i)
        t++;
    *tensor = t;
    *element = i - lay->offset[t];
}

/* 0 when a and b hold the same bits; else the first difference in msg. */
static int first_difference(const mlp_layout *lay, const float *a, const float *b, int64_t n,
                            const char *what, char *msg, size_t len)
{
    if (memcmp(a, b, (size_t)n * sizeof *a) == 0)
        return 0;
    int64_t i = 0, differ = 0;
    while (memcmp(&a[i], &b[i], sizeof *a) == 0)
        i++;
    for (int64_t j = i; j < n; j++)
        differ += memcmp(&a[j], &b[j], sizeof *a) != 0;
    int t;
    int64_t e;
    locate(lay, i, &t, &e);
    snprintf(msg, len, "%lld of %lld %s differ; first %s[%lld]: %.9g vs %.9g", (long long)differ,
             (long long)n, what, lay->name[t], (long long)e, a[i], b[i]);
    return 1;
}

/* "checkpoint committed": no save refused, and the step's checkpoint opens
 * (manifest, sizes, headers, checksums). The reader stays open for the
 * next points (0), or the point failed (-1). */
static int check_committed(case_result *r, const char *root, int64_t step, ckpt_reader *rd)
{
    check_result *c = add_point(r, "checkpoint committed");
    if (!c)
        return -1;
    if (r->run1.ckpt_errors) {
        char line[600];
        snprintf(line, sizeof line, "the harness refused the checkpoint: %s",
                 r->run1.ckpt_errors);
        line[strcspn(line, "\n")] = 0;
        check_fail(c, line);
        diag_block(&c->diag, "refused", r->run1.ckpt_errors);
        return -1;
    }
    char dir[PATH_MAX], err[1200];
    if (ckpt_dir_of(root, step, dir, sizeof dir) != 0 || ckpt_open(rd, dir, err, sizeof err)) {
        check_fail(c, err);
        return -1;
    }
    diag_text(&c->diag, "writer", "%s", rd->meta.writer_impl);
    diag_timing(&c->diag, root, "save");
    return 0;
}

/* "checkpoint params exact": the saved parameters are the saving run's own
 * after the save step (its first check step), bit for bit. */
static void check_saved_params(case_result *r, ckpt_reader *rd, const mlp_layout *lay)
{
    check_result *c = add_point(r, "checkpoint params exact");
    if (!c)
        return;
    const int64_t n = lay->n_params;
    float *saved = malloc((size_t)n * sizeof *saved);
    char err[600];
    if (!saved || ckpt_read(rd, DTB_CKPT_PARAMS, 0, n, saved, err, sizeof err) != 0) {
        check_fail(c, saved ? err : "out of memory reading the checkpoint");
        free(saved);
        return;
    }
    char msg[400];
    if (first_difference(lay, saved, r->run1.ranks[0].params, n, "saved parameters and the "
                         "run's own at the save step", msg, sizeof msg))
        check_fail(c, msg);
    free(saved);
}

/* The worst tensor of one state array against the oracle's envelope. */
typedef struct state_verdict {
    int failing_tensors;
    int64_t failing;
    int worst_tensor;
    envelope_result worst;
} state_verdict;

static void judge_state(const envelope_constants *k, const mlp_layout *lay, const double *o,
                        const double *env, const float *x, state_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->worst_tensor = -1;
    for (int t = 0; t < lay->n_tensors; t++) {
        const int64_t off = lay->offset[t];
        envelope_result res;
        envelope_compare_tensor(k, o + off, env + off, envelope_layer_max(env, lay, t), x + off,
                                lay->numel[t], &res);
        v->failing_tensors += !res.pass;
        v->failing += res.failing;
        if (v->worst_tensor < 0 || res.worst.ratio > v->worst.worst.ratio) {
            v->worst_tensor = t;
            v->worst = res;
        }
    }
}

/* "checkpoint optimizer state": each state array after the save step
 * against the fp64 oracle's, element by element, within the envelope of
 * the ensemble's own optimizer state (the same bound as the parameters'). */
static void check_saved_state(case_result *r, ckpt_reader *rd, const mlp_layout *lay,
                              const reference_entry *ref, int32_t precision)
{
    check_result *c = add_point(r, "checkpoint optimizer state");
    if (!c)
        return;
    if (!ref || !ref->oracle_ok || !ref->envelope_ok || ref->env.state_members == 0) {
        char msg[1200];
        snprintf(msg, sizeof msg, "no oracle optimizer state and envelope to compare with: %s",
                 !ref ? "out of memory" : !ref->oracle_ok ? ref->oracle_reason
                                                          : ref->envelope_reason);
        check_fail(c, msg);
        return;
    }
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int n_arrays = ckpt_arrays_of(rd->meta.optimizer, arrays);
    const int64_t n = lay->n_params;
    float *x = malloc((size_t)n * sizeof *x);
    if (!x) {
        check_fail(c, "out of memory reading the checkpoint");
        return;
    }
    const envelope_constants k = envelope_constants_for(precision);
    c->ratio = 0;
    for (int a = 1; a < n_arrays && a - 1 < ref->oracle.n_state; a++) {
        char err[600];
        if (ckpt_read(rd, arrays[a], 0, n, x, err, sizeof err) != 0) {
            check_fail(c, err);
            break;
        }
        /* Check index 0 of the references is the save step (set_ckpt_check_steps). */
        state_verdict v;
        judge_state(&k, lay, ref->oracle.state[a - 1], ref->env.state[a - 1], x, &v);
        const char *array = ckpt_array_name(arrays[a]);
        if (v.worst.worst.ratio > c->ratio) {
            c->ratio = v.worst.worst.ratio;
            snprintf(c->ratio_where, sizeof c->ratio_where, "%s %s[%lld]", array,
                     lay->name[v.worst_tensor], (long long)v.worst.worst.index);
        }
        if (!v.failing_tensors || c->status == CHECK_FAIL)
            continue;
        const envelope_point *p = &v.worst.worst;
        char msg[300];
        snprintf(msg, sizeof msg, "%s: %lld element(s) of %d tensor(s) differ from the fp64 "
                 "oracle's beyond tolerance; worst %s[%lld]", array, (long long)v.failing,
                 v.failing_tensors, lay->name[v.worst_tensor], (long long)p->index);
        check_fail(c, msg);
        diag_text(&c->diag, "array", "%s", array);
        diag_text(&c->diag, "tensor", "%s", lay->name[v.worst_tensor]);
        diag_int(&c->diag, "element", p->index);
        diag_real(&c->diag, "value", p->value);
        diag_real(&c->diag, "oracle", p->oracle);
        diag_real(&c->diag, "envelope", p->envelope);
        diag_real(&c->diag, "tolerance", p->tolerance);
        diag_real(&c->diag, "ratio", p->ratio);
        diag_int(&c->diag, "ensemble_runs", ref->env.state_members);
        char formula[256];
        envelope_param_formula(&k, formula, sizeof formula);
        diag_text(&c->diag, "tolerance_model", "%s", formula);
    }
    c->single_ratio = -1;
    free(x);
}

/* The references' check inputs for ranks judged under cfg. */
static check_inputs inputs_for(const case_config *cfg, int world, const rank_result *ranks,
                               const reference_entry *ref)
{
    return (check_inputs){
        .cfg = cfg,
        .world_size = world,
        .run1 = ranks,
        .baseline = ref && ref->baseline_ok ? &ref->baseline : NULL,
        .baseline_reason = ref ? ref->baseline_reason : "out of memory",
        .oracle = ref && ref->oracle_ok ? &ref->oracle : NULL,
        .oracle_reason = ref ? ref->oracle_reason : "out of memory",
        .envelope = ref && ref->envelope_ok ? &ref->env : NULL,
        .envelope_reason = !ref ? "out of memory" : ref->envelope_ok ? NULL : ref->envelope_reason,
    };
}

/* Every rank of world w holds rank 0's parameters after each of its check
 * steps, bit for bit ("saving run ranks identical": a save that changed
 * one rank's state; "resumed ranks identical": a load that did). */
static void check_ranks_identical(case_result *r, const world_outcome *w, const mlp_layout *lay,
                                  const char *name)
{
    if (w->world_size < 2)
        return;
    check_result *c = add_point(r, name);
    if (!c)
        return;
    const size_t n = (size_t)lay->n_params;
    for (int k = 1; k < w->world_size; k++) {
        for (int j = 0; j < w->ranks[0].n_checks; j++) {
            char what[300], msg[400];
            if (!first_difference(lay, w->ranks[k].params + j * n, w->ranks[0].params + j * n,
                                  (int64_t)n, "parameters", what, sizeof what))
                continue;
            snprintf(msg, sizeof msg, "rank %d differs from rank 0 after step %lld: %s", k,
                     (long long)w->ranks[0].check_steps[j], what);
            check_fail(c, msg);
            return;
        }
    }
}

/* Losses of steps after..T and the parameters at every check step of b
 * equal a's (whose check steps include b's), bit for bit. */
static void check_bit_identical(case_result *r, const char *name, const rank_result *a,
                                const rank_result *b, int64_t after, const mlp_layout *lay)
{
    check_result *c = add_point(r, name);
    if (!c)
        return;
    char msg[500];
    for (int64_t s = after; s < a->steps; s++) {
        if (memcmp(&a->loss[s], &b->loss[s], sizeof a->loss[s]) != 0) {
            snprintf(msg, sizeof msg, "loss of step %lld: %.17g uninterrupted, %.17g resumed",
                     (long long)(s + 1), a->loss[s], b->loss[s]);
            check_fail(c, msg);
            return;
        }
    }
    const size_t n = (size_t)lay->n_params;
    for (int j = 0; j < b->n_checks; j++) {
        int ka = 0;
        while (ka < a->n_checks && a->check_steps[ka] != b->check_steps[j])
            ka++;
        if (ka == a->n_checks)
            continue;
        char what[300];
        if (first_difference(lay, a->params + (size_t)ka * n, b->params + (size_t)j * n,
                             (int64_t)n, "parameters (uninterrupted vs resumed)", what,
                             sizeof what)) {
            snprintf(msg, sizeof msg, "after step %lld: %s", (long long)b->check_steps[j], what);
            check_fail(c, msg);
            return;
        }
    }
}

/* The resumed run against the oracle: the loss of steps S+1..T and the
 * parameters after each check step past S. Its rank file holds only those
 * checks, so its parameters are laid into a copy of rank 0's result with
 * the case's full check list. */
static void check_resumed_tolerance(case_result *r, const case_config *full, int64_t save_step,
                                    const reference_entry *ref, const mlp_layout *lay)
{
    const rank_result *res = &r->run2.ranks[0];
    rank_result shim = *res;
    const size_t n = (size_t)lay->n_params;
    shim.n_checks = full->n_checks;
    shim.check_steps = (int64_t *)full->check_steps;
    shim.params = calloc((size_t)full->n_checks * n, sizeof *shim.params);
    shim.has_compute_params = 0;
    if (!shim.params) {
        fail_point(r, "resumed params", "out of memory");
        return;
    }
    for (int j = 0; j < res->n_checks; j++)
        for (int k = 0; k < full->n_checks; k++)
            if (full->check_steps[k] == res->check_steps[j])
                memcpy(shim.params + (size_t)k * n, res->params + (size_t)j * n,
                       n * sizeof *shim.params);
    check_inputs in = inputs_for(full, r->run2.world_size, &shim, ref);
    char name[64];
    snprintf(name, sizeof name, "resumed loss steps %lld-%lld", (long long)(save_step + 1),
             (long long)full->steps);
    checks_loss_from(&in, &r->checks, save_step + 1, name);
    for (int k = 0; k < full->n_checks; k++) {
        if (full->check_steps[k] <= save_step)
            continue;
        snprintf(name, sizeof name, "resumed params after step %lld",
                 (long long)full->check_steps[k]);
        checks_params_point(&in, &r->checks, k, name);
    }
    free(shim.params);
}

/* ---- a transition --------------------------------------------------------------- */

static void run_transition(const run_config *cfg, reference_cache *refs, uint64_t impl_caps,
                           const dtb_case *cs, const char *root, case_result *r)
{
    const dtb_ckpt_transition *tr = &cs->ckpt;
    const int64_t S = cs->suite->ckpt_save_step;
    side from, to;
    char err[1200];
    if (resolve_side(cfg, impl_caps, tr->from_stage, &from, err, sizeof err) != 0 ||
        resolve_side(cfg, impl_caps, tr->to_stage, &to, err, sizeof err) != 0) {
        fail_point(r, "completed", err);
        return;
    }
    case_config cfg1, cfg2, full;
    side_config(cs, &from, 0, &cfg1);
    side_config(cs, &to, S, &cfg2);
    side_config(cs, &to, 0, &full);
    char steps[32];
    snprintf(steps, sizeof steps, "%lld", (long long)S);
    const world_ckpt save = {.root = root, .save_steps = steps, .kill_rank = -1};
    r->completed =
        world_run_ckpt(&cfg->env, from.path, &cfg1, tr->from_world, &save, &r->run1) == 0;
    case_world_point(&r->checks, "completed", &r->run1);
    if (!r->completed)
        return;
    if (r->checks.n > 0)
        diag_text(&r->checks.items[r->checks.n - 1].diag, "saved_by", "%s (%s) at %d rank(s)",
                  from.name, stage_name(from.stage), tr->from_world);
    case_config base;
    case_baseline_config(cs, &base);
    const reference_entry *ref =
        references_get(refs, &cfg->env, cfg->baseline_path, &base, cs->cfg.micro_batches);
    mlp_layout lay;
    mlp_layout_init(cs->cfg.model, &lay);

    ckpt_reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        fail_point(r, "checkpoint committed", "out of memory");
        return;
    }
    const int committed = check_committed(r, root, S, rd) == 0;
    if (committed) {
        check_saved_params(r, rd, &lay);
        check_saved_state(r, rd, &lay, ref, cs->cfg.precision);
        ckpt_close(rd);
    }
    free(rd);
    check_inputs in1 = inputs_for(&cfg1, tr->from_world, r->run1.ranks, ref);
    char name[64];
    snprintf(name, sizeof name, "saving run params after step %lld", (long long)cfg1.steps);
    checks_params_point(&in1, &r->checks, cfg1.n_checks - 1, name);
    check_ranks_identical(r, &r->run1, &lay, "saving run ranks identical");

    char dir[PATH_MAX];
    if (!committed) { /* failed above, on the point that names it */
        check_result *c = add_point(r, "resumed world completed");
        if (c)
            check_skip(c, "no committed checkpoint to load");
        return;
    }
    if (ckpt_dir_of(root, S, dir, sizeof dir) != 0) {
        fail_point(r, "resumed world completed", "checkpoint path too long");
        return;
    }
    const world_ckpt load = {.root = root, .resume = dir, .kill_rank = -1};
    world_run_ckpt(&cfg->env, to.path, &cfg2, tr->to_world, &load, &r->run2);
    case_world_point(&r->checks, "resumed world completed", &r->run2);
    if (!r->run2.completed)
        return;
    if (r->checks.n > 0) {
        tap_diag *d = &r->checks.items[r->checks.n - 1].diag;
        diag_text(d, "loaded_by", "%s (%s) at %d rank(s)", to.name, stage_name(to.stage),
                  tr->to_world);
        diag_timing(d, root, "load");
    }
    const int exact = strcmp(from.path, to.path) == 0 && from.stage == to.stage &&
                      tr->from_world == tr->to_world;
    if (exact)
        check_bit_identical(r, "resumed run bit-identical", &r->run1.ranks[0], &r->run2.ranks[0],
                            S, &lay);
    else
        check_resumed_tolerance(r, &full, S, ref, &lay);
    check_ranks_identical(r, &r->run2, &lay, "resumed ranks identical");
}

/* ---- a crash --------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* "2,4,6": every `every` steps from `after` + 1 to before `steps`. */
static void save_list(int64_t every, int64_t after, int64_t steps, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    for (int64_t s = every; s < steps; s += every)
        if (s > after && used < len)
            used += (size_t)snprintf(out + used, len - used, "%s%lld", used ? "," : "",
                                     (long long)s);
}

/* A crash case (ckpt_case.h). Its worlds save into subfolders of root:
 * "uninterrupted" (which times the window the kill is drawn in: from its
 * first committed checkpoint to the end of its training) and "crashed"
 * (the killed world and the restart, which resumes from it). */
static void run_crash(const run_config *cfg, const dtb_case *cs, const char *root,
                      uint64_t impl_caps, case_result *r)
{
    const int np = cs->ckpt.from_world;
    const int64_t every = cs->suite->ckpt_crash_every, T = cs->cfg.steps;
    side self;
    char err[1200], whole_root[PATH_MAX], crash_root[PATH_MAX];
    if (resolve_side(cfg, impl_caps, DTB_CKPT_SELF, &self, err, sizeof err) != 0) {
        fail_point(r, "completed", err);
        return;
    }
    if (snprintf(whole_root, sizeof whole_root, "%s/uninterrupted", root) >=
            (int)sizeof whole_root ||
        snprintf(crash_root, sizeof crash_root, "%s/crashed", root) >= (int)sizeof crash_root) {
        fail_point(r, "completed", "checkpoint path too long");
        return;
    }
    case_config whole;
    side_config(cs, &self, 0, &whole);
    char saves[256];
    save_list(every, 0, T, saves, sizeof saves);
    const world_ckpt observe = {.root = whole_root, .save_steps = saves,
                                .kill_rank = WORLD_KILL_OBSERVE};
    r->completed = world_run_ckpt(&cfg->env, self.path, &whole, np, &observe, &r->run1) == 0;
    case_world_point(&r->checks, "completed", &r->run1);
    if (!r->completed)
        return;
    check_result *saved = add_point(r, "checkpoints committed");
    if (saved && r->run1.ckpt_errors) {
        char line[600];
        snprintf(line, sizeof line, "the harness refused a checkpoint: %s", r->run1.ckpt_errors);
        line[strcspn(line, "\n")] = 0;
        check_fail(saved, line);
        diag_block(&saved->diag, "refused", r->run1.ckpt_errors);
        return; /* nothing to crash-test: every later point would fail for this */
    }

    /* The kill: a rank and a moment drawn from the case's seed, uniform in
     * the time the uninterrupted world trained after its first checkpoint
     * (its step times when that could not be timed). */
    double window = r->run1.killed_after_s;
    if (window <= 0)
        for (int64_t s = every; s < T; s++)
            window += r->run1.ranks[0].step_seconds[s];
    uint64_t draw = cs->cfg.seed ^ ((uint64_t)cs->index << 32);
    const int victim = (int)(splitmix64(&draw) % (uint64_t)np);
    const double u = (double)(splitmix64(&draw) >> 11) * 0x1.0p-53;
    /* A world that finished before the signal is run again (into a fresh
     * root) with half the delay, at most twice. */
    double delay = 0.9 * u * window; /* 0.9: the killed world may train a little faster */
    world_outcome killed;
    int attempt = 0;
    for (;;) {
        const world_ckpt crash = {.root = crash_root, .save_steps = saves, .kill_rank = victim,
                                  .kill_delay_s = delay};
        world_run_ckpt(&cfg->env, self.path, &whole, np, &crash, &killed);
        if ((killed.killed && !killed.completed) || ++attempt == 3)
            break;
        world_outcome_free(&killed);
        world_remove_tree(crash_root);
        delay /= 2;
    }
    check_result *c = add_point(r, "crash injected");
    if (c) {
        diag_int(&c->diag, "rank", victim);
        diag_real(&c->diag, "window_s", window);
        diag_real(&c->diag, "planned_delay_s", delay);
        diag_int(&c->diag, "tries", attempt + (killed.killed && !killed.completed));
        if (killed.killed) {
            diag_real(&c->diag, "killed_after_first_checkpoint_s", killed.killed_after_s);
            diag_text(&c->diag, "during_save", "%s", killed.killed_during_save ? "yes" : "no");
        }
        if (!killed.killed)
            check_skip(c, "the world finished its training before the kill landed (3 tries)");
        else if (killed.completed)
            check_skip(c, "the killed rank had already written its results (3 tries)");
    }
    world_outcome_free(&killed);

    int64_t latest = 0;
    char dir[PATH_MAX];
    int found = ckpt_latest(crash_root, &latest, dir, sizeof dir, err, sizeof err);
    if (found != 0) {
        fail_point(r, "restart completed", found > 0 ? "no committed checkpoint to restart from"
                                                     : err);
        return;
    }
    case_config restart;
    side_config(cs, &self, latest, &restart);
    save_list(every, latest, T, saves, sizeof saves);
    const world_ckpt resume = {.root = crash_root, .save_steps = saves[0] ? saves : NULL,
                               .resume = dir, .kill_rank = -1};
    world_run_ckpt(&cfg->env, self.path, &restart, np, &resume, &r->run2);
    case_world_point(&r->checks, "restart completed", &r->run2);
    if (r->checks.n > 0)
        diag_int(&r->checks.items[r->checks.n - 1].diag, "restarted_from_step", latest);
    if (!r->run2.completed)
        return;
    mlp_layout lay;
    mlp_layout_init(cs->cfg.model, &lay);
    check_bit_identical(r, "restart bit-identical", &r->run1.ranks[0], &r->run2.ranks[0], latest,
                        &lay);
}

void ckpt_run_case(const run_config *cfg, reference_cache *refs, uint64_t impl_caps,
                   const dtb_case *cs, case_result *r)
{
    const double start = monotonic_seconds();
    memset(r, 0, sizeof *r);
    r->cs = cs;
    r->impl_name = cfg->impl_name;
    case_label(cs, cfg->impl_name, r->label, sizeof r->label);
    check_list_init(&r->checks);
    const uint64_t missing = plan_missing_caps(cs, impl_caps);
    if (missing) {
        case_skip_missing(r, missing);
        r->seconds = monotonic_seconds() - start;
        return;
    }
    char root[PATH_MAX];
    if (snprintf(root, sizeof root, "%s/dtbench-ckpt-XXXXXX", cfg->env.tmp_root) >=
            (int)sizeof root ||
        !mkdtemp(root)) {
        char msg[PATH_MAX + 100];
        snprintf(msg, sizeof msg, "cannot create a checkpoint directory in %s: %s",
                 cfg->env.tmp_root, strerror(errno));
        fail_point(r, "completed", msg);
        r->seconds = monotonic_seconds() - start;
        return;
    }
    if (cs->ckpt.crash)
        run_crash(cfg, cs, root, impl_caps, r);
    else
        run_transition(cfg, refs, impl_caps, cs, root, r);
    if (cfg->env.keep)
        fprintf(stderr, "dtbench: kept the checkpoints of %s in %s\n", r->label, root);
    else
        world_remove_tree(root);
    r->seconds = monotonic_seconds() - start;
}
