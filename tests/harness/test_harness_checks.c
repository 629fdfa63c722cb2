/*
 * checks.h on synthetic results: a faithful implementation passes every
 * check, and each check fails (with its diagnostics) on the defect it exists
 * for, so none of them is vacuous.
 *
 * The fixture is mlp-odd (Psi = 5209, units 2014, 3024, 171) over NP = 2
 * ranks, M = 2 micro-batches, 3 steps, SGD fp32 (p = g = K = 4). As DDP:
 * allreduce 3*(4*5209 + 8) = 62532 bytes in 3*(3 buckets + 1) = 12 calls;
 * model states (4+4+4)*5209 = 62508 bytes, 20836 per category. Activations
 * for the largest share, 8 of a 15-sample micro-batch: 4*8*(37 + 1 + (53 +
 * 56 + 3) + 2*(53 + 56) + 2*56) + 8*(4*37 + 4) = 16576 bytes (the hidden
 * widths twice: post-activations and GELU's kept tanh).
 */
#include <math.h>
#include <stdlib.h>

#include "bf16.h"
#include "check.h"
#include "checks.h"
#include "optim.h"
#include "rank_check.h"

enum { STEPS = 3, NP = 2 };

typedef struct fixture {
    case_config cfg;
    mlp_layout lay;
    oracle_trace oracle;
    rank_result baseline;
    rank_result run1[NP], run2[NP];
} fixture;

static void alloc_rank(fixture *f, rank_result *r, int rank, int world)
{
    memset(r, 0, sizeof *r);
    r->rank = rank;
    r->world_size = world;
    r->steps = STEPS;
    r->n_params = f->lay.n_params;
    r->n_checks = f->cfg.n_checks;
    r->has_compute_params = 1;
    r->compute_dtype = DTB_DTYPE_FP32;
    CHECK(rank_result_alloc(r) == 0);
}

/* Oracle: losses 2.0, 1.9, 1.8, norms 0.5, 0.4, 0.3; parameters = init +
 * 1e-3 (after step 1) or + 3e-3 (after step 3). Baseline and both runs are
 * the oracle rounded to fp32. */
static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->cfg.model = mlp_config_find("mlp-odd");
    CHECK(f->cfg.model != NULL);
    f->cfg.opt = (dtb_optimizer_config){"sgd", DTB_OPT_SGD_MOMENTUM, 0.05, 0.9, 0, 0, 0, 1e-4};
    f->cfg.global_batch = 30;
    f->cfg.micro_batches = 2;
    f->cfg.steps = STEPS;
    f->cfg.seed = 7;
    f->cfg.clip_norm = 0.05;
    f->cfg.stage = DTB_STAGE_DDP;
    f->cfg.precision = DTB_PREC_FP32;
    f->cfg.n_checks = 2;
    f->cfg.check_steps[0] = 1;
    f->cfg.check_steps[1] = STEPS;
    mlp_layout_init(f->cfg.model, &f->lay);
    int64_t n = f->lay.n_params;

    oracle_trace *o = &f->oracle;
    o->steps = STEPS;
    o->n_checks = 2;
    o->n_params = n;
    o->loss = calloc(STEPS, sizeof *o->loss);
    o->grad_norm = calloc(STEPS, sizeof *o->grad_norm);
    o->check_steps = calloc(2, sizeof *o->check_steps);
    o->params = calloc(2 * (size_t)n, sizeof *o->params);
    float *init = calloc((size_t)n, sizeof *init);
    CHECK(o->loss && o->grad_norm && o->check_steps && o->params && init);
    for (int t = 0; t < f->lay.n_tensors; t++)
        CHECK(mlp_init_values(f->cfg.seed, f->cfg.model, t, 0, f->lay.numel[t],
                              init + f->lay.offset[t]) == 0);
    for (int s = 0; s < STEPS; s++) {
        o->loss[s] = 2.0 - 0.1 * s;
        o->grad_norm[s] = 0.5 - 0.1 * s;
    }
    o->check_steps[0] = 1;
    o->check_steps[1] = STEPS;
    for (int64_t i = 0; i < n; i++) {
        o->params[i] = (double)init[i] + 1e-3;
        o->params[n + i] = (double)init[i] + 3e-3;
    }
    free(init);

    rank_result *all[1 + 2 * NP] = {&f->baseline, &f->run1[0], &f->run1[1], &f->run2[0],
                                    &f->run2[1]};
    for (int k = 0; k < 1 + 2 * NP; k++) {
        rank_result *r = all[k];
        alloc_rank(f, r, k == 0 ? 0 : (k - 1) % NP, k == 0 ? 1 : NP);
        for (int s = 0; s < STEPS; s++) {
            r->loss[s] = (float)o->loss[s];
            r->grad_norm[s] = (float)o->grad_norm[s];
            r->clip_coef[s] = clip_coefficient(r->grad_norm[s], f->cfg.clip_norm);
        }
        r->check_steps[0] = 1;
        r->check_steps[1] = STEPS;
        for (int64_t i = 0; i < 2 * n; i++)
            r->params[i] = (float)o->params[i];
        memcpy(r->compute_params, r->params, 2 * (size_t)n * sizeof(float));
        r->facts = (dtb_facts){sizeof r->facts, DTB_STAGE_DDP, DTB_PREC_FP32, DTB_DTYPE_FP32,
                               DTB_DTYPE_FP32, 4096, -1, 0, 0};
        r->counters.calls[DTB_COLL_ALLREDUCE] = 12;
        r->counters.bytes[DTB_COLL_ALLREDUCE] = 62532;
        r->mem_peak[DTB_MEM_PARAMS] = r->mem_peak[DTB_MEM_GRADS] = 20836;
        r->mem_peak[DTB_MEM_OPTIM] = 20836;
        r->mem_peak[DTB_MEM_ACTIVATIONS] = 16576;
        r->mem_total_peak = 62508 + 16576;
        /* what the worker measured agrees (check_measured.h) */
        r->measured = r->counters;
        r->measured_valid = 1;
        r->rss_base = 100 << 20;
        r->rss_hwm = r->rss_base + r->mem_total_peak;
    }
    f->cfg.prefetch_depth = -1;
}

/* A world of one: no collectives at all. */
static void set_world_of_one(fixture *f)
{
    memset(&f->run1[0].counters, 0, sizeof f->run1[0].counters);
    memset(&f->run2[0].counters, 0, sizeof f->run2[0].counters);
    memset(&f->run1[0].measured, 0, sizeof f->run1[0].measured);
}

static void teardown(fixture *f)
{
    oracle_trace_free(&f->oracle);
    rank_result_free(&f->baseline);
    for (int r = 0; r < NP; r++) {
        rank_result_free(&f->run1[r]);
        rank_result_free(&f->run2[r]);
    }
}

static check_inputs inputs(fixture *f, int world)
{
    check_inputs in = {&f->cfg, world, f->run1, f->run2, NULL, &f->baseline, NULL, &f->oracle,
                       NULL, 1, 0, NULL, NULL};
    return in;
}

static const check_result *find(const check_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    fprintf(stderr, "no check named '%s'\n", name);
    return NULL;
}

/* The status of check `name`, and its diagnostic text `key` when asked. */
static check_status status_of(const check_list *l, const char *name)
{
    const check_result *c = find(l, name);
    return c ? c->status : (check_status)-1;
}

static const char *skip_reason_of(const check_list *l, const char *name)
{
    const check_result *c = find(l, name);
    return c ? c->skip_reason : "";
}

/* Points of l that failed. */
static int checks_failed(const check_list *l)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        n += l->items[i].status == CHECK_FAIL;
    return n;
}

static int64_t diag_int_of(const check_list *l, const char *name, const char *key)
{
    const check_result *c = find(l, name);
    for (int i = 0; c && i < c->diag.n; i++)
        if (c->diag.items[i].kind == DIAG_INT && strcmp(c->diag.items[i].key, key) == 0)
            return c->diag.items[i].i;
    return -999;
}

static double diag_real_of(const check_list *l, const char *name, const char *key)
{
    const check_result *c = find(l, name);
    for (int i = 0; c && i < c->diag.n; i++)
        if (c->diag.items[i].kind == DIAG_REAL && strcmp(c->diag.items[i].key, key) == 0)
            return c->diag.items[i].r;
    return -999;
}

static const char *diag_text_of(const check_list *l, const char *name, const char *key)
{
    const check_result *c = find(l, name);
    return c ? diag_get_text(&c->diag, key) : NULL;
}

static void test_all_pass(void)
{
    fixture f;
    setup(&f);
    check_list l;
    check_list_init(&l);
    check_inputs in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(l.n == 18);
    for (int i = 0; i < l.n; i++) {
        if (l.items[i].status != CHECK_PASS)
            fprintf(stderr, "unexpected: %s: %s\n", l.items[i].name,
                    diag_get_text(&l.items[i].diag, "message"));
        CHECK(l.items[i].status == CHECK_PASS);
    }
    CHECK(find(&l, "ranks bitwise identical") != NULL);
    CHECK(find(&l, "params after step 3") != NULL);
    check_list_free(&l);

    /* world of one: no "ranks bitwise identical", a collective count instead */
    set_world_of_one(&f);
    in = inputs(&f, 1);
    checks_run(&in, &l);
    CHECK(l.n == 17 && status_of(&l, "world of 1 issues no collectives") == CHECK_PASS);
    CHECK(status_of(&l, "communication matches theory") == CHECK_PASS);
    CHECK(status_of(&l, "memory within theory") == CHECK_PASS);
    check_list_free(&l);
    f.run1[0].counters.calls[DTB_COLL_ALLREDUCE] = 2;
    f.run1[0].counters.bytes[DTB_COLL_ALLREDUCE] = 80;
    checks_run(&in, &l);
    CHECK(status_of(&l, "world of 1 issues no collectives") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "world of 1 issues no collectives", "calls") == 2);
    CHECK(status_of(&l, "communication matches theory") == CHECK_FAIL);
    check_list_free(&l);
    teardown(&f);
}

static void test_each_defect(void)
{
    fixture f;
    check_list l;
    check_inputs in;

    setup(&f); /* silent downgrade */
    f.run1[1].facts.stage = DTB_STAGE_SINGLE;
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "ran what was asked") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "ran what was asked", "rank") == 1);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* loss wrong from step 2 */
    f.run1[0].loss[1] += 1e-3;
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "loss every step") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "loss every step", "first_bad_step") == 2);
    CHECK(status_of(&l, "ranks bitwise identical") == CHECK_FAIL);
    CHECK(status_of(&l, "bitwise deterministic run to run") == CHECK_FAIL);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* no gradient norms: skipped, not failed */
    for (int r = 0; r < NP; r++)
        for (int s = 0; s < STEPS; s++)
            f.run1[r].grad_norm[s] = f.run2[r].grad_norm[s] = -1;
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "grad norm every step") == CHECK_SKIP);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* the clip threshold is not reached at step 3: vacuous, and the
                  oracle's doing, not the implementation's: skipped, naming the step */
    f.oracle.grad_norm[2] = 0.04;
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "clipping active") == CHECK_SKIP);
    CHECK(strstr(skip_reason_of(&l, "clipping active"), "at step 3") != NULL);
    CHECK(checks_failed(&l) == 0);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* clip_mixed, but the norm is above the threshold at every step */
    in = inputs(&f, NP);
    in.clip_mixed = 1;
    checks_run(&in, &l);
    CHECK(status_of(&l, "clipping active") == CHECK_SKIP);
    CHECK(strstr(skip_reason_of(&l, "clipping active"), "stays above") != NULL);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* one element of b1 wrong after step 3, on every rank and run */
    int64_t off = f.lay.offset[3] + 5;
    for (int r = 0; r < NP; r++) {
        f.run1[r].params[f.lay.n_params + off] += 0.01f;
        f.run2[r].params[f.lay.n_params + off] += 0.01f;
    }
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "params after step 1") == CHECK_PASS);
    CHECK(status_of(&l, "params after step 3") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "params after step 3", "first_bad_element") == 5);
    CHECK(diag_int_of(&l, "params after step 3", "first_bad_step") == 3);
    const check_result *c = find(&l, "params after step 3");
    CHECK(c && c->ratio > 1);
    CHECK(status_of(&l, "ranks bitwise identical") == CHECK_PASS);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* row 4 of W1 never moved */
    {
        int t = 2;
        int64_t cols = f.lay.cols[t];
        float *row = f.run1[0].params + f.lay.n_params + f.lay.offset[t] + 4 * cols;
        CHECK(mlp_init_values(f.cfg.seed, f.cfg.model, t, 4 * cols, cols, row) == 0);
    }
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "every row changed") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "every row changed", "row") == 4);
    CHECK(diag_int_of(&l, "every row changed", "unchanged_rows") == 1);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* row 4 of W1 never moved, nor did the baseline's: excused */
    {
        int t = 2;
        int64_t cols = f.lay.cols[t];
        const size_t at = (size_t)(f.lay.n_params + f.lay.offset[t] + 4 * cols);
        CHECK(mlp_init_values(f.cfg.seed, f.cfg.model, t, 4 * cols, cols,
                              f.run1[0].params + at) == 0);
        CHECK(mlp_init_values(f.cfg.seed, f.cfg.model, t, 4 * cols, cols,
                              f.baseline.params + at) == 0);
    }
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "every row changed") == CHECK_PASS);
    check_list_free(&l);
    teardown(&f);

    setup(&f); /* run 2 differs in one parameter; run 2 missing */
    f.run2[1].params[17] = nextafterf(f.run2[1].params[17], 1.0f);
    in = inputs(&f, NP);
    checks_run(&in, &l);
    CHECK(status_of(&l, "bitwise deterministic run to run") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "bitwise deterministic run to run", "rank") == 1);
    CHECK(status_of(&l, "ranks bitwise identical") == CHECK_PASS);
    check_list_free(&l);
    in.run2 = NULL;
    in.run2_reason = "rank 0 killed by signal 11 (SIGSEGV)";
    checks_run(&in, &l);
    CHECK(status_of(&l, "bitwise deterministic run to run") == CHECK_FAIL);
    CHECK_CONTAINS(diag_get_text(&find(&l, "bitwise deterministic run to run")->diag, "message"),
                   "signal 11");
    check_list_free(&l);

    /* No baseline: every comparison fails and says why. */
    in = inputs(&f, NP);
    in.baseline = NULL;
    in.baseline_reason = "baseline crashed";
    checks_run(&in, &l);
    CHECK(status_of(&l, "loss every step") == CHECK_FAIL);
    CHECK_CONTAINS(diag_get_text(&find(&l, "params after step 1")->diag, "message"),
                   "baseline crashed");
    check_list_free(&l);
    teardown(&f);
}

#define COMM "communication matches theory"
#define MEM "memory within theory"

/* Runs the checks of f at NP ranks into l and returns the status of `name`. */
static check_status run_status(fixture *f, check_list *l, const char *name)
{
    check_inputs in = inputs(f, NP);
    check_list_init(l);
    checks_run(&in, l);
    return status_of(l, name);
}

static void test_communication_ddp(void)
{
    fixture f;
    check_list l;
    setup(&f);
    /* Passing points carry the bus bytes: 62532/3 * 2*(1/2) = 20844. */
    CHECK(run_status(&f, &l, COMM) == CHECK_PASS);
    CHECK(diag_int_of(&l, COMM, "bus_bytes_per_step") == 20844);
    CHECK(diag_real_of(&l, COMM, "bus_ratio") == 1.0);
    check_list_free(&l);

    /* One fp32 element too many on rank 1. */
    f.run1[1].counters.bytes[DTB_COLL_ALLREDUCE] += 4;
    CHECK(run_status(&f, &l, COMM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, COMM, "rank") == 1);
    CHECK(diag_int_of(&l, COMM, "expected_bytes") == 62532);
    CHECK(diag_int_of(&l, COMM, "bytes") == 62536);
    CHECK_CONTAINS(diag_text_of(&l, COMM, "collective"), "allreduce");
    check_list_free(&l);
    f.run1[1].counters.bytes[DTB_COLL_ALLREDUCE] -= 4;

    /* Bucket counts are the plugin's: more calls pass, fewer than 2 per step fail. */
    f.run1[0].counters.calls[DTB_COLL_ALLREDUCE] = 30;
    CHECK(run_status(&f, &l, COMM) == CHECK_PASS);
    check_list_free(&l);
    f.run1[0].counters.calls[DTB_COLL_ALLREDUCE] = 5;
    CHECK(run_status(&f, &l, COMM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, COMM, "expected_calls") == 6);
    CHECK_CONTAINS(diag_text_of(&l, COMM, "calls_rule"), "at least");
    check_list_free(&l);
    f.run1[0].counters.calls[DTB_COLL_ALLREDUCE] = 12;

    /* A broadcast DDP does not need. */
    f.run1[0].counters.calls[DTB_COLL_BROADCAST] = 1;
    f.run1[0].counters.bytes[DTB_COLL_BROADCAST] = 4 * 5209;
    CHECK(run_status(&f, &l, COMM) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, COMM, "collective"), "broadcast");
    check_list_free(&l);
    teardown(&f);
}

/* The fixture as ZeRO-3 with prefetch depth 1, exactly at the theory:
 * Psi_P = 5210, Psi_s = 2605. Totals over 3 steps of M = 2: reduce-scatter
 * 3*2*3 = 18 calls, 3*2*4*5210 = 125040 bytes; allgather 36 calls, 250080
 * bytes; allreduce 6 calls, 48 bytes. Model states: PARAMS 4*2605 +
 * 2*4*3024 = 34612, GRADS 4*2605 = 10420, OPTIM 10420: bound 55452. */
static void setup_zero3(fixture *f)
{
    setup(f);
    f->cfg.stage = DTB_STAGE_ZERO3;
    f->cfg.prefetch_depth = 1;
    rank_result *all[2 * NP] = {&f->run1[0], &f->run1[1], &f->run2[0], &f->run2[1]};
    for (int k = 0; k < 2 * NP; k++) {
        rank_result *r = all[k];
        r->facts.stage = DTB_STAGE_ZERO3;
        r->facts.bucket_bytes = 0;
        r->facts.prefetch_depth = 1;
        memset(&r->counters, 0, sizeof r->counters);
        r->counters.calls[DTB_COLL_REDUCE_SCATTER] = 18;
        r->counters.bytes[DTB_COLL_REDUCE_SCATTER] = 125040;
        r->counters.calls[DTB_COLL_ALLGATHER] = 36;
        r->counters.bytes[DTB_COLL_ALLGATHER] = 250080;
        r->counters.calls[DTB_COLL_ALLREDUCE] = 6;
        r->counters.bytes[DTB_COLL_ALLREDUCE] = 48;
        r->mem_peak[DTB_MEM_PARAMS] = 34612;
        r->mem_peak[DTB_MEM_GRADS] = 10420;
        r->mem_peak[DTB_MEM_OPTIM] = 10420;
        r->mem_peak[DTB_MEM_COMM] = 2 * 4 * 3024;
        /* formula(Psi_P, Psi_s) - formula(Psi, Psi/N) = 12 * 0.5; two units of 3024 */
        r->facts.mem_padding_bytes = 6;
        r->facts.mem_working_bytes = 2 * 4 * 3024;
        r->mem_peak[DTB_MEM_OTHER] = 4 * 3024; /* one unit of scratch */
        r->measured = r->counters;
    }
}

static void test_zero3(void)
{
    fixture f;
    check_list l;
    setup_zero3(&f);
    check_inputs in = inputs(&f, NP);
    check_list_init(&l);
    checks_run(&in, &l);
    CHECK(l.n == 18);
    for (int i = 0; i < l.n; i++) {
        if (l.items[i].status != CHECK_PASS)
            fprintf(stderr, "unexpected: %s: %s\n", l.items[i].name,
                    diag_get_text(&l.items[i].diag, "message"));
        CHECK(l.items[i].status == CHECK_PASS);
    }
    /* The ZeRO-3 minimum: (1/2) * 2 * (4 + 8) * 5209 = 62508 bus bytes per step. */
    CHECK(diag_int_of(&l, "communication volume", "minimum_bus_bytes_per_step") == 62508);
    CHECK(diag_int_of(&l, "memory within formula", "working_bound_bytes") ==
          2 * 4 * (3024 + 2 * (2 + 64)));
    /* Bus bytes per step: (41680 + 83360) * 1/2 + 16 * 1 = 62536. */
    CHECK(diag_int_of(&l, COMM, "bus_bytes_per_step") == 62536);
    CHECK(diag_int_of(&l, COMM, "theory_bus_bytes_per_step") == 62536);
    /* The paper: 3*5209*(1/2) = 7813.5 elements, rounded. */
    CHECK(diag_int_of(&l, COMM, "paper_bus_elements_m1") == 7814);
    /* Exactly at the bound: passes, and says how far over the formula
     * 12*5209/2 = 31254 it is. */
    CHECK(diag_int_of(&l, MEM, "model_states_bytes") == 55452);
    CHECK(diag_int_of(&l, MEM, "bound_bytes") == 55452);
    CHECK(fabs(diag_real_of(&l, MEM, "ratio") - 55452.0 / 31254.0) < 1e-12);
    check_list_free(&l);

    /* One byte over on rank 1 fails, listing every category. */
    f.run1[1].mem_peak[DTB_MEM_OPTIM] += 1;
    CHECK(run_status(&f, &l, MEM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, MEM, "rank") == 1);
    CHECK(diag_int_of(&l, MEM, "failing_ranks") == 1);
    CHECK(diag_int_of(&l, MEM, "model_states_bytes") == 55453);
    CHECK(diag_int_of(&l, MEM, "materialised_allowance_bytes") == 24192);
    CHECK(diag_int_of(&l, MEM, "padding_allowance_bytes") == 6);
    CHECK(diag_int_of(&l, MEM, "peak_comm") == 24192);
    CHECK(diag_int_of(&l, MEM, "peak_activations") == 16576);
    CHECK(diag_int_of(&l, MEM, "prefetch_depth") == 1);
    CHECK_CONTAINS(diag_text_of(&l, MEM, "bytes_per_element"), "p=4 g=4 K=4");
    check_list_free(&l);
    f.run1[1].mem_peak[DTB_MEM_OPTIM] -= 1;

    /* Rank 1 gathers one fp32 element short. */
    f.run1[1].counters.bytes[DTB_COLL_ALLGATHER] -= 4;
    CHECK(run_status(&f, &l, COMM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, COMM, "rank") == 1);
    CHECK(diag_int_of(&l, COMM, "expected_bytes") == 250080);
    CHECK(diag_int_of(&l, COMM, "bytes") == 250076);
    CHECK_CONTAINS(diag_text_of(&l, COMM, "collective"), "allgather");
    CHECK_CONTAINS(diag_text_of(&l, COMM, "mismatches"), "allgather: 36 calls, 250076 bytes");
    check_list_free(&l);
    f.run1[1].counters.bytes[DTB_COLL_ALLGATHER] += 4;

    /* One reduce-scatter call too many (exact for ZeRO). */
    f.run1[0].counters.calls[DTB_COLL_REDUCE_SCATTER] += 1;
    CHECK(run_status(&f, &l, COMM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, COMM, "expected_calls") == 18);
    check_list_free(&l);
    f.run1[0].counters.calls[DTB_COLL_REDUCE_SCATTER] -= 1;

    /* Rank 0 ran prefetch depth 0 when asked for 1: a silent change, and
     * the bound shrinks to 31260 + 12096 = 43356. */
    f.run1[0].facts.prefetch_depth = 0;
    CHECK(run_status(&f, &l, "ran what was asked") == CHECK_FAIL);
    CHECK(diag_int_of(&l, "ran what was asked", "reported_prefetch_depth") == 0);
    CHECK(status_of(&l, MEM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, MEM, "bound_bytes") == 43356);
    check_list_free(&l);

    /* No depth reported: no materialised allowance to grant. */
    f.run1[0].facts.prefetch_depth = -1;
    CHECK(run_status(&f, &l, MEM) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, MEM, "message"), "prefetch depth");
    check_list_free(&l);
    f.run1[0].facts.prefetch_depth = 1;

    /* Nothing tracked: the check would be vacuous. */
    f.run1[1].mem_peak[DTB_MEM_PARAMS] = f.run1[1].mem_peak[DTB_MEM_GRADS] = 0;
    f.run1[1].mem_peak[DTB_MEM_OPTIM] = 0;
    CHECK(run_status(&f, &l, MEM) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, MEM, "message"), "tracks no model-state memory");
    check_list_free(&l);
    teardown(&f);
}

/* ZeRO-1 bf16-mixed AdamW (p = 2, g = 4, K = 12) at N = 2: bound
 * (2+4)*5210 + 12*2605 = 62520; the formula 6*5209 + 12*5209/2 = 62508. */
static void test_zero1_bf16_memory(void)
{
    fixture f;
    check_list l;
    setup(&f);
    f.cfg.stage = DTB_STAGE_ZERO1;
    f.cfg.precision = DTB_PREC_BF16_MIXED;
    f.cfg.opt = (dtb_optimizer_config){"adamw", DTB_OPT_ADAMW, 1e-2, 0, 0.9, 0.999, 1e-8, 0.01};
    for (int r = 0; r < NP; r++) {
        f.run1[r].facts.stage = DTB_STAGE_ZERO1;
        f.run1[r].facts.precision = DTB_PREC_BF16_MIXED;
        f.run1[r].mem_peak[DTB_MEM_PARAMS] = 2 * 5210;
        f.run1[r].mem_peak[DTB_MEM_GRADS] = 4 * 5210;
        f.run1[r].mem_peak[DTB_MEM_OPTIM] = 12 * 2605;
    }
    CHECK(run_status(&f, &l, MEM) == CHECK_PASS);
    CHECK(diag_int_of(&l, MEM, "bound_bytes") == 62520);
    CHECK(diag_int_of(&l, MEM, "formula_bytes") == 62508);
    CHECK(fabs(diag_real_of(&l, MEM, "ratio") - 62520.0 / 62508.0) < 1e-12);
    /* The paper's formula (p = g = 2): 4*5209 + 12*5209/2 = 52090. */
    CHECK(diag_int_of(&l, MEM, "paper_formula_bytes") == 52090);
    CHECK(status_of(&l, "ran what was asked") == CHECK_PASS);
    check_list_free(&l);
    f.run1[0].mem_peak[DTB_MEM_GRADS] += 1;
    CHECK(run_status(&f, &l, MEM) == CHECK_FAIL);
    CHECK(diag_int_of(&l, MEM, "rank") == 0);
    CHECK(diag_int_of(&l, MEM, "padding_allowance_bytes") == 12);
    check_list_free(&l);
    teardown(&f);
}

#define VOLUME "communication volume"
#define FORMULA "memory within formula"
#define CLIP "clip coefficient exact"
#define COMPUTE "compute parameters are the rounded masters"

/* The neutral checks pass what the strict ones fail: a ZeRO-1 with one flat
 * partition padded to N (Psi_P = 5210), ONE reduce-scatter and ONE allgather
 * per step; and they fail twice the traffic and a full optimizer state. */
static void test_neutral(void)
{
    fixture f;
    check_list l;
    setup(&f);
    /* DDP at the theory moves 1.0004x its minimum 2*(1/2)*4*5209 = 20836. */
    CHECK(run_status(&f, &l, VOLUME) == CHECK_PASS);
    CHECK(diag_int_of(&l, VOLUME, "minimum_bus_bytes_per_step") == 20836);
    CHECK(diag_int_of(&l, VOLUME, "bus_bytes_per_step") == 20844);
    check_list_free(&l);
    /* Reporting twice the traffic it moves: the volume is judged on what the
     * worker measured, so only the cross-check minds. */
    for (int r = 0; r < NP; r++)
        f.run1[r].counters.bytes[DTB_COLL_ALLREDUCE] *= 2;
    CHECK(run_status(&f, &l, VOLUME) == CHECK_PASS);
    CHECK_CONTAINS(diag_text_of(&l, VOLUME, "counters"), "measured");
    CHECK(status_of(&l, "reported figures match measured") == CHECK_FAIL);
    check_list_free(&l);
    /* Moving twice the traffic. */
    for (int r = 0; r < NP; r++)
        f.run1[r].measured.bytes[DTB_COLL_ALLREDUCE] *= 2;
    CHECK(run_status(&f, &l, VOLUME) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, VOLUME, "message"), "moves 2.00x the minimum of DDP");
    check_list_free(&l);

    f.cfg.stage = DTB_STAGE_ZERO1;
    for (int r = 0; r < NP; r++) {
        rank_result *rr = &f.run1[r];
        rr->facts.stage = DTB_STAGE_ZERO1;
        memset(&rr->counters, 0, sizeof rr->counters);
        rr->counters.calls[DTB_COLL_REDUCE_SCATTER] = STEPS;
        rr->counters.bytes[DTB_COLL_REDUCE_SCATTER] = STEPS * 4 * 5210;
        rr->counters.calls[DTB_COLL_ALLGATHER] = STEPS;
        rr->counters.bytes[DTB_COLL_ALLGATHER] = STEPS * 4 * 5210;
        rr->counters.calls[DTB_COLL_ALLREDUCE] = 2 * STEPS;
        rr->counters.bytes[DTB_COLL_ALLREDUCE] = 2 * STEPS * 8;
        /* full params and grads of the padded flat buffer, the optimizer on a shard */
        rr->mem_peak[DTB_MEM_PARAMS] = rr->mem_peak[DTB_MEM_GRADS] = 4 * 5210;
        rr->mem_peak[DTB_MEM_OPTIM] = 4 * 2605;
        rr->facts.mem_padding_bytes = 10; /* 52100 - ceil(8*5209 + 4*5209/2) */
        rr->measured = rr->counters;
        rr->mem_total_peak = 4 * (5210 + 5210 + 2605) + rr->mem_peak[DTB_MEM_ACTIVATIONS];
        rr->rss_hwm = rr->rss_base + rr->mem_total_peak;
    }
    CHECK(run_status(&f, &l, VOLUME) == CHECK_PASS);
    CHECK(status_of(&l, FORMULA) == CHECK_PASS);
    CHECK(status_of(&l, COMM) == CHECK_FAIL);
    CHECK(status_of(&l, "ran what was asked") == CHECK_PASS);
    check_list_free(&l);
    /* Without the strict checks, the run is all green. */
    check_inputs in = inputs(&f, NP);
    in.strict = 0;
    checks_run(&in, &l);
    CHECK(find(&l, COMM) == NULL && find(&l, MEM) == NULL);
    for (int i = 0; i < l.n; i++)
        CHECK(l.items[i].status == CHECK_PASS);
    check_list_free(&l);
    /* Padding it did not declare is not excused. */
    f.run1[1].facts.mem_padding_bytes = 0;
    CHECK(run_status(&f, &l, FORMULA) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, FORMULA, "message"), "rank 1 holds 1.00x the ZeRO-1");
    check_list_free(&l);
    f.run1[1].facts.mem_padding_bytes = 10;
    /* A declaration beyond the suite's bound: 12 * 6 tensors * (2 + 64) = 4752. */
    f.run1[0].facts.mem_padding_bytes = 4753;
    CHECK(run_status(&f, &l, FORMULA) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, FORMULA, "message"), "the suite allows at most 4752");
    check_list_free(&l);
    f.run1[0].facts.mem_padding_bytes = 10;
    /* A "ZeRO-1" that keeps the whole optimizer state. */
    f.run1[0].mem_peak[DTB_MEM_OPTIM] = 4 * 5210;
    CHECK(run_status(&f, &l, FORMULA) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, FORMULA, "message"), "rank 0 holds 1.20x the ZeRO-1");
    check_list_free(&l);
    teardown(&f);
}

#define BUFFERS "activations and buffers within bounds"
#define BUFFERS_EXACT "activations and buffers match theory"

/* Activations for the rank's share pass; for the whole micro-batch (15
 * rows) or the global batch (30) they do not. Communication buffers the
 * size of the model pass DDP and fail ZeRO-2. */
static void test_buffers(void)
{
    fixture f;
    check_list l;
    setup(&f);
    CHECK(run_status(&f, &l, BUFFERS) == CHECK_PASS);
    CHECK(status_of(&l, BUFFERS_EXACT) == CHECK_PASS);
    CHECK(diag_int_of(&l, BUFFERS, "largest_share") == 8);
    CHECK(diag_int_of(&l, BUFFERS, "bound_activations") == 16576 * 3 / 2 + 4096);
    check_list_free(&l);
    /* 15 rows: 4*15*480 + 15*152 = 31080 > 16576*3/2 + 4096 = 28960. */
    f.run1[1].mem_peak[DTB_MEM_ACTIVATIONS] = 31080;
    CHECK(run_status(&f, &l, BUFFERS) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, BUFFERS, "message"), "rank's share");
    CHECK(diag_int_of(&l, BUFFERS, "rank") == 1);
    check_list_free(&l);
    /* One byte off the reference's layout: only the strict check minds. */
    f.run1[1].mem_peak[DTB_MEM_ACTIVATIONS] = 16577;
    CHECK(run_status(&f, &l, BUFFERS) == CHECK_PASS);
    CHECK(status_of(&l, BUFFERS_EXACT) == CHECK_FAIL);
    check_list_free(&l);
    f.run1[1].mem_peak[DTB_MEM_ACTIVATIONS] = 16576;
    /* A gradient-sized bucket copy is PyTorch DDP's layout: allowed. */
    f.run1[0].mem_peak[DTB_MEM_COMM] = 4 * 5209;
    CHECK(run_status(&f, &l, BUFFERS) == CHECK_PASS);
    check_list_free(&l);
    /* Under ZeRO-2 two of them defeat the stage (the bound, 2 g L' + g Psi'/N =
     * 2*4*3156 + 4*5605/2 = 36458, admits two buckets of the largest layer,
     * which in mlp-odd is 58% of the model). */
    f.run1[0].mem_peak[DTB_MEM_COMM] = 2 * 4 * 5209;
    f.cfg.stage = DTB_STAGE_ZERO2;
    for (int r = 0; r < NP; r++)
        f.run1[r].facts.stage = DTB_STAGE_ZERO2;
    CHECK(run_status(&f, &l, BUFFERS) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, BUFFERS, "category"), "comm");
    check_list_free(&l);
    teardown(&f);
}

static void test_clip_coefficient(void)
{
    fixture f;
    check_list l;
    setup(&f);
    CHECK(run_status(&f, &l, CLIP) == CHECK_PASS);
    check_list_free(&l);
    /* One part in a million on one step of one rank. */
    f.run1[1].clip_coef[1] *= 1 + 1e-6;
    CHECK(run_status(&f, &l, CLIP) == CHECK_FAIL);
    CHECK(diag_int_of(&l, CLIP, "rank") == 1 && diag_int_of(&l, CLIP, "step") == 2);
    check_list_free(&l);
    /* The epsilon of the formula left out: clip / norm. */
    for (int s = 0; s < STEPS; s++)
        f.run1[1].clip_coef[s] = f.cfg.clip_norm / f.run1[1].grad_norm[s];
    CHECK(run_status(&f, &l, CLIP) == CHECK_FAIL);
    check_list_free(&l);
    /* Computed in fp32 from the fp32 norm: a few ulps, accepted. */
    for (int s = 0; s < STEPS; s++)
        f.run1[1].clip_coef[s] = (float)f.cfg.clip_norm / ((float)f.run1[1].grad_norm[s] + 1e-6f);
    CHECK(run_status(&f, &l, CLIP) == CHECK_PASS);
    check_list_free(&l);
    /* Not reported: a visible skip. */
    f.run1[0].clip_coef[0] = -1;
    CHECK(run_status(&f, &l, CLIP) == CHECK_SKIP);
    check_list_free(&l);
    /* Without clipping the coefficient is exactly 1. */
    f.cfg.clip_norm = 0;
    for (int r = 0; r < NP; r++)
        for (int s = 0; s < STEPS; s++)
            f.run1[r].clip_coef[s] = 1.0;
    CHECK(run_status(&f, &l, CLIP) == CHECK_PASS);
    check_list_free(&l);
    f.run1[0].clip_coef[2] = 0.999;
    CHECK(run_status(&f, &l, CLIP) == CHECK_FAIL);
    check_list_free(&l);
    teardown(&f);
}

/* bf16 compute parameters: nearest-even roundings of the masters pass; a
 * ties-away or truncating rounding fails on the one element it changes. */
static void test_compute_params(void)
{
    fixture f;
    check_list l;
    setup(&f);
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_PASS);
    check_list_free(&l);
    ((float *)f.run1[1].compute_params)[0] = f.run1[1].params[0] * (1 + 0x1p-20f);
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_FAIL);
    CHECK(diag_int_of(&l, COMPUTE, "rank") == 1);
    check_list_free(&l);

    f.cfg.precision = DTB_PREC_BF16_MIXED;
    const int64_t n = f.lay.n_params;
    for (int r = 0; r < NP; r++) {
        rank_result *rr = &f.run1[r];
        rr->facts.precision = DTB_PREC_BF16_MIXED;
        rr->compute_dtype = DTB_DTYPE_BF16;
        uint16_t *c = rr->compute_params;
        for (int64_t i = 0; i < 2 * n; i++)
            c[i] = float_to_bf16(rr->params[i]);
    }
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_PASS);
    check_list_free(&l);
    /* A tie: 1 + 2^-8 lies halfway between 1 (even) and 1 + 2^-7. */
    const int64_t at = f.lay.offset[2] + 5; /* W1[5] */
    f.run1[0].params[n + at] = 1.0f + 0x1p-8f;
    ((uint16_t *)f.run1[0].compute_params)[n + at] = 0x3f81;
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, COMPUTE, "message"), "round half away from zero");
    CHECK_CONTAINS(diag_text_of(&l, COMPUTE, "tensor"), "W1");
    CHECK(diag_int_of(&l, COMPUTE, "element") == 5 && diag_int_of(&l, COMPUTE, "step") == 3);
    check_list_free(&l);
    /* Above the tie, truncation keeps 1 where nearest gives 1 + 2^-7. */
    f.run1[0].params[n + at] = 1.0f + 3 * 0x1p-9f;
    ((uint16_t *)f.run1[0].compute_params)[n + at] = 0x3f80;
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, COMPUTE, "message"), "truncation");
    check_list_free(&l);
    /* fp32 compute parameters under bf16-mixed: the wrong recipe. */
    f.run1[0].compute_dtype = DTB_DTYPE_FP32;
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_FAIL);
    check_list_free(&l);
    /* None at all: a visible skip. */
    for (int r = 0; r < NP; r++)
        f.run1[r].has_compute_params = 0;
    CHECK(run_status(&f, &l, COMPUTE) == CHECK_SKIP);
    check_list_free(&l);
    for (int r = 0; r < NP; r++)
        f.run1[r].has_compute_params = 1;
    teardown(&f);
}

/* The hints: one layer off, the rest within fp32 spread, names the layer;
 * the same error spread over every layer names nothing. */
static void test_hints(void)
{
    fixture f;
    check_list l;
    setup(&f);
    const int64_t n = f.lay.n_params;
    for (int64_t i = f.lay.offset[2]; i < f.lay.offset[3]; i++) /* W1 after step 3 */
        f.run1[0].params[n + i] += 1e-3f;
    char last[64];
    snprintf(last, sizeof last, "params after step %d", STEPS);
    CHECK(run_status(&f, &l, last) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, last, "likely_cause"), "only layer 1 (W1, b1) is off");
    /* Right after step 1 and wrong at the end: state carried between steps. */
    check_list_free(&l);
    for (int64_t i = 0; i < n; i++)
        f.run1[0].params[n + i] += 1e-3f;
    CHECK(run_status(&f, &l, last) == CHECK_FAIL);
    CHECK_CONTAINS(diag_text_of(&l, last, "likely_cause"), "state carried between steps");
    check_list_free(&l);
    teardown(&f);
}

static void test_validate_rank(void)
{
    fixture f;
    setup(&f);
    char msg[512];
    CHECK(checks_validate_rank(&f.cfg, 1, NP, &f.run1[1], msg, sizeof msg) == 0);
    CHECK(checks_validate_rank(&f.cfg, 0, NP, &f.run1[1], msg, sizeof msg) != 0);
    CHECK_CONTAINS(msg, "holds rank 1 of 2");
    f.run1[0].check_steps[1] = 2;
    CHECK(checks_validate_rank(&f.cfg, 0, NP, &f.run1[0], msg, sizeof msg) != 0);
    CHECK_CONTAINS(msg, "checked step 2, expected 3");
    teardown(&f);
}

int main(void)
{
    test_all_pass();
    test_each_defect();
    test_communication_ddp();
    test_zero3();
    test_zero1_bf16_memory();
    test_neutral();
    test_buffers();
    test_clip_coefficient();
    test_compute_params();
    test_hints();
    test_validate_rank();
    return check_report("test_harness_checks");
}
