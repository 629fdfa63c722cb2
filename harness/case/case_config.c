#include "case_config.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "plugin_loader.h"

static const char *const STAGES[] = {"single", "ddp", "zero1", "zero2", "zero3"};
static const char *const PRECISIONS[] = {"fp32", "bf16-mixed"};
static const char *const OPTIMIZERS[] = {"sgd", "adamw"};

const char *stage_name(int32_t stage)
{
    return stage >= 0 && stage < 5 ? STAGES[stage] : "unknown";
}

const char *precision_name(int32_t precision)
{
    return precision >= 0 && precision < 2 ? PRECISIONS[precision] : "unknown";
}

const char *optimizer_kind_name(int32_t kind)
{
    return kind >= 0 && kind < 2 ? OPTIMIZERS[kind] : "unknown";
}

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int case_config_set_model(case_config *c, const char *name)
{
    c->model = mlp_config_resolve(name, &c->model_storage);
    c->gpt = c->model == NULL ? gpt_config_resolve(name, &c->gpt_storage) : NULL;
    return c->model != NULL || c->gpt != NULL ? 0 : -1;
}

const char *case_config_model_name(const case_config *c)
{
    return c->gpt != NULL ? c->gpt->name : c->model != NULL ? c->model->name : "(none)";
}

int64_t case_config_n_params(const case_config *c)
{
    return c->gpt != NULL ? gpt_param_count(&c->gpt->cfg)
                          : c->model != NULL ? mlp_param_count(c->model) : 0;
}

uint64_t case_config_base_caps(const case_config *c)
{
    return DTB_CAP_CPU | (c->gpt != NULL ? DTB_CAP_MODEL_GPT : DTB_CAP_MODEL_MLP);
}

int64_t case_config_positions(const case_config *c)
{
    return c->gpt != NULL ? c->gpt->cfg.context : 1;
}

double case_config_step_flops(const case_config *c, int64_t batch)
{
    return c->gpt != NULL ? gpt_step_flops(&c->gpt->cfg, batch)
                          : c->model != NULL ? mlp_step_flops(c->model, batch) : 0.0;
}

/* Order matters: case_config_from_values reads values[] by these indices. */
enum {
    O_MODEL, O_OPTIMIZER, O_LR, O_MOMENTUM, O_BETA1, O_BETA2, O_EPS, O_WD, O_CLIP, O_BATCH,
    O_MICRO, O_STEPS, O_SEED, O_BUCKET, O_PREFETCH, O_STAGE, O_PRECISION, O_REQUIRE, O_CHECKS,
    O_SOLO
};

static const char *const OPTION_NAMES[CASE_CONFIG_N_OPTIONS] = {
    "model", "optimizer", "lr", "momentum", "beta1", "beta2", "eps", "weight-decay", "clip",
    "batch", "micro-batches", "steps", "seed", "bucket-bytes", "prefetch-depth", "stage",
    "precision",
    "require", "check-steps", "solo",
};

const char *const *case_config_option_names(void)
{
    return OPTION_NAMES;
}

/* The shortest %.Ng (N = 15..17) that reads back as exactly x. */
static void push_double(strvec *v, double x)
{
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    strvec_push(v, buf);
}

void case_config_to_args(const case_config *c, strvec *v)
{
    char caps[512];
    plugin_caps_format(c->required_caps, caps, sizeof caps);
    char checks[CASE_MAX_CHECKS * 24] = "none";
    size_t used = 0;
    for (int k = 0; k < c->n_checks; k++)
        used += (size_t)snprintf(checks + used, sizeof checks - used, "%s%lld", k ? "," : "",
                                 (long long)c->check_steps[k]);
    strvec_push(v, "--model");
    strvec_push(v, case_config_model_name(c));
    strvec_push(v, "--optimizer");
    strvec_push(v, optimizer_kind_name(c->opt.kind));
    strvec_push(v, "--lr");
    push_double(v, c->opt.lr);
    strvec_push(v, "--momentum");
    push_double(v, c->opt.momentum);
    strvec_push(v, "--beta1");
    push_double(v, c->opt.beta1);
    strvec_push(v, "--beta2");
    push_double(v, c->opt.beta2);
    strvec_push(v, "--eps");
    push_double(v, c->opt.eps);
    strvec_push(v, "--weight-decay");
    push_double(v, c->opt.weight_decay);
    strvec_push(v, "--clip");
    push_double(v, c->clip_norm);
    strvec_push(v, "--batch");
    strvec_pushf(v, "%lld", (long long)c->global_batch);
    strvec_push(v, "--micro-batches");
    strvec_pushf(v, "%d", (int)c->micro_batches);
    strvec_push(v, "--steps");
    strvec_pushf(v, "%lld", (long long)c->steps);
    strvec_push(v, "--seed");
    strvec_pushf(v, "%llu", (unsigned long long)c->seed);
    strvec_push(v, "--bucket-bytes");
    strvec_pushf(v, "%lld", (long long)c->bucket_bytes);
    strvec_push(v, "--prefetch-depth");
    strvec_pushf(v, "%d", (int)c->prefetch_depth);
    strvec_push(v, "--stage");
    strvec_push(v, stage_name(c->stage));
    strvec_push(v, "--precision");
    strvec_push(v, precision_name(c->precision));
    strvec_push(v, "--require");
    strvec_push(v, caps);
    strvec_push(v, "--check-steps");
    strvec_push(v, checks);
    strvec_push(v, "--solo");
    strvec_push(v, c->solo ? "1" : "0");
}

int case_config_from_values(const char *const values[CASE_CONFIG_N_OPTIONS], case_config *c,
                            char *err, size_t err_len)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < CASE_CONFIG_N_OPTIONS; i++) {
        if (!values[i]) {
            snprintf(err, err_len, "worker: missing --%s", OPTION_NAMES[i]);
            return -1;
        }
    }
    if (case_config_set_model(c, values[O_MODEL]) != 0) {
        snprintf(err, err_len, "worker: unknown model '%s'", values[O_MODEL]);
        return -1;
    }
    int kind = find_name(OPTIMIZERS, 2, values[O_OPTIMIZER]);
    int stage = find_name(STAGES, 5, values[O_STAGE]);
    int precision = find_name(PRECISIONS, 2, values[O_PRECISION]);
    if (kind < 0 || stage < 0 || precision < 0) {
        snprintf(err, err_len, "worker: bad --optimizer, --stage or --precision");
        return -1;
    }
    c->opt.kind = kind;
    c->opt.name = OPTIMIZERS[kind];
    c->stage = stage;
    c->precision = precision;
    int64_t micro = 0, prefetch = 0, solo = 0;
    if (cli_parse_double("--lr", values[O_LR], 0, DBL_MAX, &c->opt.lr, err, err_len) ||
        cli_parse_double("--momentum", values[O_MOMENTUM], 0, 1, &c->opt.momentum, err,
                         err_len) ||
        cli_parse_double("--beta1", values[O_BETA1], 0, 1, &c->opt.beta1, err, err_len) ||
        cli_parse_double("--beta2", values[O_BETA2], 0, 1, &c->opt.beta2, err, err_len) ||
        cli_parse_double("--eps", values[O_EPS], 0, 1, &c->opt.eps, err, err_len) ||
        cli_parse_double("--weight-decay", values[O_WD], 0, 1, &c->opt.weight_decay, err,
                         err_len) ||
        cli_parse_double("--clip", values[O_CLIP], 0, DBL_MAX, &c->clip_norm, err, err_len) ||
        cli_parse_i64("--batch", values[O_BATCH], 1, INT32_MAX, &c->global_batch, err,
                      err_len) ||
        cli_parse_i64("--micro-batches", values[O_MICRO], 1, 1 << 20, &micro, err, err_len) ||
        cli_parse_i64("--steps", values[O_STEPS], 1, 1000000, &c->steps, err, err_len) ||
        cli_parse_u64("--seed", values[O_SEED], &c->seed, err, err_len) ||
        cli_parse_i64("--bucket-bytes", values[O_BUCKET], 0, INT64_MAX, &c->bucket_bytes, err,
                      err_len) ||
        cli_parse_i64("--prefetch-depth", values[O_PREFETCH], -1, DTB_MAX_LINEAR, &prefetch,
                      err, err_len) ||
        plugin_caps_parse(values[O_REQUIRE], &c->required_caps, err, err_len) ||
        (strcmp(values[O_CHECKS], "none") != 0 &&
         cli_parse_i64_list("--check-steps", values[O_CHECKS], 1, c->steps, c->check_steps,
                            CASE_MAX_CHECKS, &c->n_checks, err, err_len)) ||
        cli_parse_i64("--solo", values[O_SOLO], 0, 1, &solo, err, err_len))
        return -1;
    for (int k = 1; k < c->n_checks; k++) {
        if (c->check_steps[k] <= c->check_steps[k - 1]) {
            snprintf(err, err_len, "worker: --check-steps must be ascending");
            return -1;
        }
    }
    c->micro_batches = (int32_t)micro;
    c->prefetch_depth = (int32_t)prefetch;
    c->solo = (int32_t)solo;
    return 0;
}

/* Every field but the model. */
static void fill_spec(const case_config *c, int32_t rank, int32_t world_size, dtb_run_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->struct_size = sizeof *spec;
    spec->stage = c->stage;
    spec->optimizer = c->opt.kind;
    spec->lr = c->opt.lr;
    spec->momentum = c->opt.momentum;
    spec->beta1 = c->opt.beta1;
    spec->beta2 = c->opt.beta2;
    spec->eps = c->opt.eps;
    spec->weight_decay = c->opt.weight_decay;
    spec->clip_norm = c->clip_norm;
    spec->precision = c->precision;
    spec->global_batch = c->global_batch;
    spec->micro_batches = c->micro_batches;
    spec->steps = c->steps;
    spec->seed = c->seed;
    spec->rank = rank;
    spec->world_size = world_size;
    spec->local_rank = 0;
    spec->local_size = 1;
    spec->device_kind = DTB_DEVICE_CPU;
    spec->device_index = -1;
    spec->bucket_bytes = c->bucket_bytes;
    spec->prefetch_depth = c->prefetch_depth;
    spec->stress_delay_us = 0;
}

void case_config_to_spec(const case_config *c, int32_t rank, int32_t world_size,
                         mlp_model_desc *model, dtb_run_spec *spec)
{
    fill_spec(c, rank, world_size, spec);
    mlp_spec_set_model(spec, c->model, model);
}

int case_config_to_spec_any(const case_config *c, int32_t rank, int32_t world_size,
                            net_desc *model, dtb_run_spec *spec, char *err, size_t err_len)
{
    fill_spec(c, rank, world_size, spec);
    if (net_desc_for_name(case_config_model_name(c), model, err, err_len) != 0)
        return -1;
    spec->model = model->desc;
    return 0;
}

void case_config_theory(const case_config *c, int world_size, int32_t prefetch_depth,
                        theory_case *tc)
{
    memset(tc, 0, sizeof *tc);
    tc->stage = c->stage;
    tc->precision = c->precision;
    tc->optimizer = c->opt.kind;
    if (c->gpt != NULL) {
        /* gpt.h's units: wte, wpe and ln_f, then each block's 12 tensors. */
        const gpt_config *g = &c->gpt->cfg;
        /* The named configurations have at most 48 blocks. */
        const int64_t blocks = g->n_layer < THEORY_MAX_UNITS ? g->n_layer : THEORY_MAX_UNITS - 1;
        tc->n_units = (int)(1 + blocks);
        tc->unit_numel[0] = (g->vocab + g->context + 2) * g->d_model;
        tc->unit_tensors[0] = GPT_GLOBAL_TENSORS;
        for (int64_t l = 1; l <= blocks; l++) {
            tc->unit_numel[l] = gpt_block_param_count(g);
            tc->unit_tensors[l] = GPT_BLOCK_TENSORS;
        }
    } else {
        tc->n_linear = c->model->n_linear;
        for (int l = 0; l <= c->model->n_linear; l++)
            tc->dims[l] = c->model->dims[l];
    }
    tc->world_size = world_size;
    tc->micro_batches = c->micro_batches;
    tc->steps = c->steps;
    tc->prefetch_depth = prefetch_depth;
}

int case_config_same_training(const case_config *a, const case_config *b)
{
    if (strcmp(case_config_model_name(a), case_config_model_name(b)) != 0 ||
        a->opt.kind != b->opt.kind ||
        a->opt.lr != b->opt.lr || a->opt.momentum != b->opt.momentum ||
        a->opt.beta1 != b->opt.beta1 || a->opt.beta2 != b->opt.beta2 || a->opt.eps != b->opt.eps ||
        a->opt.weight_decay != b->opt.weight_decay || a->global_batch != b->global_batch ||
        a->steps != b->steps || a->seed != b->seed || a->clip_norm != b->clip_norm ||
        a->precision != b->precision || a->n_checks != b->n_checks)
        return 0;
    for (int k = 0; k < a->n_checks; k++)
        if (a->check_steps[k] != b->check_steps[k])
            return 0;
    return 1;
}
