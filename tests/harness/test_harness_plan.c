/*
 * plan.h and case_config.h: the suites' matrices expand into the cases they
 * declare (precisions, ZeRO-3 prefetch depths), labels name precision and
 * depth, capabilities split between the suite (refusal) and the case (skip),
 * the baseline keeps the case's precision, and a case's worker arguments
 * read back into the same config.
 */
#include <stdlib.h>

#include "check.h"
#include "plan.h"
#include "registry.h"

static int count_label(const dtb_case *cases, int n, const char *impl, const char *needle)
{
    int hits = 0;
    for (int i = 0; i < n; i++) {
        char label[256];
        case_label(&cases[i], impl, label, sizeof label);
        hits += strstr(label, needle) != NULL;
    }
    return hits;
}

static void test_registry(void)
{
    const char *names[] = {"ddp", "zero1", "zero2", "zero3"};
    const int32_t stages[] = {DTB_STAGE_DDP, DTB_STAGE_ZERO1, DTB_STAGE_ZERO2, DTB_STAGE_ZERO3};
    const char *impls[] = {"ref-ddp", "ref-zero1", "ref-zero2", "ref-zero3"};
    const uint64_t stage_caps[] = {DTB_CAP_DDP, DTB_CAP_ZERO1, DTB_CAP_ZERO2, DTB_CAP_ZERO3};
    for (int i = 0; i < 4; i++) {
        const dtb_suite *s = suite_find(names[i]);
        CHECK(s != NULL);
        if (!s)
            continue;
        CHECK(s->stage == stages[i] && strcmp(s->default_impl, impls[i]) == 0);
        CHECK((s->required_caps & stage_caps[i]) != 0);
        CHECK(s->n_precisions == 2 && s->precisions[0] == DTB_PREC_FP32 &&
              s->precisions[1] == DTB_PREC_BF16_MIXED);
        /* Neither precision is needed by every case: each is skippable. */
        uint64_t caps = plan_required_caps(s);
        CHECK(!(caps & DTB_CAP_FP32) && !(caps & DTB_CAP_BF16_MIXED));
        CHECK((caps & (DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP | DTB_CAP_CPU)) ==
              (DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP | DTB_CAP_CPU));
    }
    /* 2 models x 3 recipes x 2 precisions x 4 world sizes, and zero3's
     * depth 0 on mlp-odd: 1 model x 3 x 2 x 4 more. */
    CHECK(suite_case_count(suite_find("ddp")) == 54); /* 48 of the matrix, 6 edge cases */
    CHECK(suite_case_count(suite_find("zero1")) == 54);
    CHECK(suite_case_count(suite_find("zero3")) == 78);
    CHECK(precision_cap(DTB_PREC_FP32) == DTB_CAP_FP32);
    CHECK(precision_cap(DTB_PREC_BF16_MIXED) == DTB_CAP_BF16_MIXED);
    CHECK(precision_cap(7) == 0);
}

static void test_zero3_plan(void)
{
    const dtb_suite *s = suite_find("zero3");
    dtb_case *cases = NULL;
    int n = 0;
    char err[256];
    CHECK(plan_cases(s, NULL, &cases, &n, err, sizeof err) == 0);
    CHECK(n == 78 && n == suite_case_count(s));
    CHECK(count_label(cases, n, "ref-zero3", " pf=0") == 24);
    CHECK(count_label(cases, n, "ref-zero3", " pf=1") == 54); /* the edge cases too */
    CHECK(count_label(cases, n, "ref-zero3", "mlp-small") == 25); /* depth 1 only */
    CHECK(count_label(cases, n, "ref-zero3", " bf16 np=") == 37);
    CHECK(count_label(cases, n, "ref-zero3", " fp32 np=") == 41);
    /* The edge cases follow the matrix, each labelled and at its own batch. */
    CHECK(count_label(cases, n, "ref-zero3", " edge=") == 6);
    char edge[256];
    case_label(&cases[73], "ref-zero3", edge, sizeof edge);
    CHECK(strcmp(edge, "ref-zero3 mlp-odd adamw fp32 np=4 mb=2 pf=1 edge=empty-share") == 0);
    CHECK(cases[72].cfg.global_batch == 31 && cases[72].world_size == 2);
    CHECK(cases[73].cfg.global_batch == 6 && cases[73].cfg.micro_batches == 2);
    char label[256];
    case_label(&cases[0], "ref-zero3", label, sizeof label);
    CHECK(strcmp(label, "ref-zero3 mlp-odd sgd fp32 np=1 mb=3 pf=1") == 0);
    /* Ordered model, recipe, precision, depth, world size. */
    case_label(&cases[4], "ref-zero3", label, sizeof label);
    CHECK(strcmp(label, "ref-zero3 mlp-odd sgd fp32 np=1 mb=3 pf=0") == 0);
    case_label(&cases[8], "ref-zero3", label, sizeof label);
    CHECK(strcmp(label, "ref-zero3 mlp-odd sgd bf16 np=1 mb=3 pf=1") == 0);

    /* Per-case capabilities: the precision's, beside the suite's. */
    const dtb_case *bf16 = &cases[8];
    CHECK(bf16->cfg.precision == DTB_PREC_BF16_MIXED && bf16->cfg.prefetch_depth == 1);
    CHECK(bf16->cfg.required_caps & DTB_CAP_BF16_MIXED);
    CHECK(!(bf16->cfg.required_caps & DTB_CAP_FP32));
    uint64_t impl = plan_required_caps(s) | DTB_CAP_FP32;
    CHECK(plan_missing_caps(bf16, impl) == DTB_CAP_BF16_MIXED);
    CHECK(plan_missing_caps(&cases[0], impl) == 0);
    CHECK(plan_missing_caps(bf16, impl | DTB_CAP_BF16_MIXED) == 0);

    /* The baseline runs the same recipe, on one device, at no depth. */
    case_config base;
    case_baseline_config(bf16, &base);
    CHECK(base.precision == DTB_PREC_BF16_MIXED && base.stage == DTB_STAGE_SINGLE);
    CHECK(base.prefetch_depth == -1 && base.micro_batches == 1);
    CHECK((base.required_caps & (DTB_CAP_SINGLE_DEVICE | DTB_CAP_BF16_MIXED)) ==
          (DTB_CAP_SINGLE_DEVICE | DTB_CAP_BF16_MIXED));
    CHECK(!(base.required_caps & DTB_CAP_FP32));
    /* Same training for every depth; not across precisions. */
    CHECK(case_config_same_training(&cases[8].cfg, &cases[12].cfg));
    CHECK(!case_config_same_training(&cases[0].cfg, &cases[8].cfg));
    free(cases);

    /* --model mlp-small: no depth 0, its bucket-span edge case; --model mlp-odd keeps depth 0, and its three
     * edge cases; --np 1,3 leaves out those at 2 and 4 ranks, keeps clip-some at 3. */
    plan_overrides ov = {0};
    ov.model = mlp_config_find("mlp-small");
    CHECK(plan_cases(s, &ov, &cases, &n, err, sizeof err) == 0 && n == 25);
    free(cases);
    ov.model = mlp_config_find("mlp-odd");
    CHECK(plan_cases(s, &ov, &cases, &n, err, sizeof err) == 0 && n == 51);
    free(cases);
    const int np13[] = {1, 3};
    ov.world_sizes = np13;
    ov.n_world_sizes = 2;
    CHECK(plan_cases(s, &ov, &cases, &n, err, sizeof err) == 0 && n == 25);
    free(cases);
}

static void test_ddp_labels(void)
{
    dtb_case *cases = NULL;
    int n = 0;
    char err[256], label[256];
    CHECK(plan_cases(suite_find("ddp"), NULL, &cases, &n, err, sizeof err) == 0 && n == 54);
    case_label(&cases[5], "ref-ddp", label, sizeof label);
    CHECK(strcmp(label, "ref-ddp mlp-odd sgd bf16 np=2 mb=3") == 0);
    CHECK(cases[5].cfg.prefetch_depth == -1);
    free(cases);
}

/* Worker arguments carry the prefetch depth and the precision. */
static void test_args_round_trip(void)
{
    dtb_case *cases = NULL;
    int n = 0;
    char err[256];
    CHECK(plan_cases(suite_find("zero3"), NULL, &cases, &n, err, sizeof err) == 0);
    const int32_t want_depth[] = {1, 0};
    const int pick[] = {8, 12}; /* bf16 pf=1, bf16 pf=0 */
    for (int k = 0; k < 2; k++) {
        const case_config *c = &cases[pick[k]].cfg;
        strvec v;
        strvec_init(&v);
        case_config_to_args(c, &v);
        const char *values[CASE_CONFIG_N_OPTIONS] = {0};
        const char *const *names = case_config_option_names();
        for (size_t i = 0; i + 1 < v.n; i += 2)
            for (int o = 0; o < CASE_CONFIG_N_OPTIONS; o++)
                if (strcmp(v.items[i] + 2, names[o]) == 0)
                    values[o] = v.items[i + 1];
        case_config back;
        CHECK(case_config_from_values(values, &back, err, sizeof err) == 0);
        CHECK(back.prefetch_depth == want_depth[k] && c->prefetch_depth == want_depth[k]);
        CHECK(back.precision == DTB_PREC_BF16_MIXED && back.stage == DTB_STAGE_ZERO3);
        CHECK(back.required_caps == c->required_caps);
        CHECK(case_config_same_training(c, &back));
        dtb_run_spec spec;
        mlp_model_desc model;
        case_config_to_spec(&back, 0, 2, &model, &spec);
        CHECK(spec.prefetch_depth == want_depth[k] && spec.precision == DTB_PREC_BF16_MIXED);
        CHECK(spec.stage == DTB_STAGE_ZERO3 && spec.model == &model.desc &&
              spec.model->n_params == mlp_param_count(back.model));
        strvec_free(&v);
    }
    free(cases);
}

/* The checkpoint suite: its transitions are the innermost axis, --np keeps
 * those whose two worlds it lists, every case checks the save step, one
 * step between and the last, and labels say the shape. */
static void test_checkpoint_plan(void)
{
    const dtb_suite *s = suite_find("checkpoint");
    CHECK(s != NULL && (s->required_caps & DTB_CAP_CHECKPOINT));
    dtb_case *cases = NULL;
    int n = 0;
    char err[256];
    CHECK(plan_cases(s, NULL, &cases, &n, err, sizeof err) == 0);
    CHECK(n == 52 && n == suite_case_count(s)); /* 2 recipes x 2 precisions x 13 shapes */
    CHECK(count_label(cases, n, "ref-zero2", " ckpt=crash") == 4);
    CHECK(count_label(cases, n, "ref-zero2", " ckpt=self@2>self@2 s=4") == 4);
    CHECK(count_label(cases, n, "ref-zero2", ">ddp@3 s=4") == 4);
    char label[256];
    case_label(&cases[1], "ref-zero2", label, sizeof label);
    CHECK(strcmp(label, "ref-zero2 mlp-odd sgd fp32 np=4 mb=3 ckpt=self@4>self@3 s=4") == 0);
    for (int i = 0; i < n; i++) {
        CHECK(cases[i].is_ckpt && cases[i].world_size == cases[i].ckpt.from_world);
        CHECK(cases[i].cfg.n_checks == 3 && cases[i].cfg.check_steps[0] == 4 &&
              cases[i].cfg.check_steps[1] == 6 && cases[i].cfg.check_steps[2] == 8);
    }
    free(cases);
    const int np[] = {3, 2};
    plan_overrides ov = {.world_sizes = np, .n_world_sizes = 2};
    CHECK(plan_cases(s, &ov, &cases, &n, err, sizeof err) == 0);
    /* 2>2, 3>2 (self and from each of 4 stages) and the crash at 3, x 4 */
    CHECK(n == 28);
    for (int i = 0; i < n; i++)
        CHECK(cases[i].ckpt.from_world >= 2 && cases[i].ckpt.from_world <= 3 &&
              cases[i].ckpt.to_world >= 2 && cases[i].ckpt.to_world <= 3);
    free(cases);
    /* A suite whose save step leaves no step after it is refused. */
    dtb_suite bad = *s;
    bad.ckpt_save_step = 8;
    CHECK(plan_cases(&bad, NULL, &cases, &n, err, sizeof err) != 0 &&
          strstr(err, "needs steps after it") != NULL);
}

int main(void)
{
    test_registry();
    test_checkpoint_plan();
    test_zero3_plan();
    test_ddp_labels();
    test_args_round_trip();
    return check_report("test_harness_plan");
}
