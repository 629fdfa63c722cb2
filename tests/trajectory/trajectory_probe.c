/*
 * What dtbench's own pieces give for a training configuration, printed for
 * tests/trajectory/trajectory_e2e.py to compare a trajectory folder with,
 * independently of the trajectory code: the run spec is built here from the
 * hyper-parameters the script read from recipe.json, so the comparison also
 * proves that recipe.json describes the run that was written.
 *
 *   init I V              the host API's initial value of parameter I
 *                         (reference/model_host.h, init_params per tensor)
 *   oracle S L G          oracle_train_f64's loss and grad norm of step S
 *   oracle_param I V      the oracle's parameter I after the last step
 *   baseline S L G C      the `baseline` plugin (dlopen, through the ABI as
 *                         a rank worker drives it): loss, grad norm, clip
 *                         coefficient of step S
 *   baseline_param I V    its parameter I after the last step
 *
 * Values are C99 hexadecimal floats (%a: exact; Python float.fromhex).
 *
 * Usage: trajectory_probe --baseline PATH --model M --seed N --optimizer sgd|adamw
 *        --lr X --momentum X --beta1 X --beta2 X --eps X --weight-decay X --clip X
 *        --batch B --steps N --precision fp32|bf16-mixed
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "dtbench/plugin.h"
#include "model.h"
#include "model_host.h"
#include "oracle.h"
#include "test_spec_model.h"

typedef struct probe_args {
    const char *baseline, *model, *seed, *optimizer, *lr, *momentum, *beta1, *beta2, *eps, *wd,
        *clip, *batch, *steps, *precision;
} probe_args;

static int fail(const char *what)
{
    fprintf(stderr, "trajectory_probe: %s\n", what);
    return 1;
}

static int build_spec(const probe_args *a, dtb_run_spec *s, char *err, size_t len)
{
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    const char *given[] = {a->baseline, a->model, a->seed,  a->optimizer, a->lr,
                           a->momentum, a->beta1, a->beta2, a->eps,       a->wd,
                           a->clip,     a->batch, a->steps, a->precision};
    for (size_t k = 0; k < sizeof given / sizeof given[0]; k++) {
        if (!given[k]) {
            snprintf(err, len, "every option is required (see trajectory_probe.c)");
            return -1;
        }
    }
    const mlp_config *cfg = mlp_config_find(a->model);
    if (!cfg) {
        snprintf(err, len, "unknown model '%s'", a->model);
        return -1;
    }
    test_spec_set_model(s, cfg);
    s->optimizer = strcmp(a->optimizer, "adamw") == 0 ? DTB_OPT_ADAMW : DTB_OPT_SGD_MOMENTUM;
    s->precision = strcmp(a->precision, "bf16-mixed") == 0 ? DTB_PREC_BF16_MIXED : DTB_PREC_FP32;
    const char *texts[] = {a->lr, a->momentum, a->beta1, a->beta2, a->eps, a->wd, a->clip};
    double *fields[] = {&s->lr,  &s->momentum,     &s->beta1,    &s->beta2,
                        &s->eps, &s->weight_decay, &s->clip_norm};
    for (int k = 0; k < 7; k++)
        if (cli_parse_double("a hyper-parameter", texts[k], 0.0, 1e9, fields[k], err, len))
            return -1;
    if (cli_parse_u64("--seed", a->seed, &s->seed, err, len) ||
        cli_parse_i64("--batch", a->batch, 1, 1 << 20, &s->global_batch, err, len) ||
        cli_parse_i64("--steps", a->steps, 1, 100000, &s->steps, err, len))
        return -1;
    s->stage = DTB_STAGE_SINGLE;
    s->micro_batches = 1;
    s->world_size = 1, s->local_size = 1;
    s->device_kind = DTB_DEVICE_CPU, s->device_index = -1, s->prefetch_depth = -1;
    return 0;
}

static int print_init(const dtb_run_spec *spec, const dtb_host_api *api)
{
    const dtb_model_desc *m = spec->model;
    float *v = malloc((size_t)m->n_params * sizeof *v);
    if (!v)
        return fail("out of memory");
    for (int32_t t = 0; t < m->n_tensors; t++) {
        if (api->init_params(api->ctx, t, 0, m->tensors[t].numel, v + m->tensors[t].offset)) {
            free(v);
            return fail("init_params refused a tensor");
        }
    }
    for (int64_t i = 0; i < m->n_params; i++)
        printf("init %lld %a\n", (long long)i, (double)v[i]);
    free(v);
    return 0;
}

static int print_oracle(const dtb_run_spec *spec)
{
    oracle_trace tr;
    char err[512];
    const int64_t last = spec->steps;
    if (oracle_train_f64(spec, &last, 1, &tr, err, sizeof err) != 0)
        return fail(err);
    for (int64_t s = 0; s < spec->steps; s++)
        printf("oracle %lld %a %a\n", (long long)(s + 1), tr.loss[s], tr.grad_norm[s]);
    for (int64_t i = 0; i < tr.n_params; i++)
        printf("oracle_param %lld %a\n", (long long)i, tr.params[i]);
    oracle_trace_free(&tr);
    return 0;
}

static int print_baseline(const char *path, const dtb_run_spec *spec, const dtb_host_api *api,
                          const model_host *host)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return fail(dlerror());
    const dtb_plugin *(*entry)(void);
    *(void **)&entry = dlsym(lib, "dtbench_plugin_entry");
    const dtb_plugin *p = entry ? entry() : NULL;
    dtb_state *st = NULL;
    if (!p || p->create(spec, api, &st) != 0) {
        fprintf(stderr, "trajectory_probe: baseline create: %s\n", host->error);
        dlclose(lib);
        return 1;
    }
    const int64_t n = spec->model->n_params;
    float *params = malloc((size_t)n * sizeof *params);
    int rc = params ? 0 : 1;
    for (int64_t s = 1; rc == 0 && s <= spec->steps; s++) {
        dtb_step_report rep = {.struct_size = sizeof rep};
        rc = p->train_step(st, s, &rep) != 0;
        if (rc == 0)
            printf("baseline %lld %a %a %a\n", (long long)s, rep.loss, rep.grad_norm,
                   rep.clip_coef);
    }
    rc = rc || p->get_params(st, params, n) != 0;
    for (int64_t i = 0; rc == 0 && i < n; i++)
        printf("baseline_param %lld %a\n", (long long)i, (double)params[i]);
    if (rc)
        fprintf(stderr, "trajectory_probe: baseline: %s\n", host->error);
    free(params);
    p->destroy(st);
    dlclose(lib);
    return rc;
}

int main(int argc, char **argv)
{
    probe_args a;
    memset(&a, 0, sizeof a);
    const cli_option opts[] = {
        {"baseline", &a.baseline, NULL}, {"model", &a.model, NULL}, {"seed", &a.seed, NULL},
        {"optimizer", &a.optimizer, NULL}, {"lr", &a.lr, NULL}, {"momentum", &a.momentum, NULL},
        {"beta1", &a.beta1, NULL}, {"beta2", &a.beta2, NULL}, {"eps", &a.eps, NULL},
        {"weight-decay", &a.wd, NULL}, {"clip", &a.clip, NULL}, {"batch", &a.batch, NULL},
        {"steps", &a.steps, NULL}, {"precision", &a.precision, NULL},
    };
    char err[512];
    dtb_run_spec spec;
    if (cli_parse_options("trajectory_probe", argc - 1, argv + 1, opts,
                          sizeof opts / sizeof opts[0], err, sizeof err) ||
        build_spec(&a, &spec, err, sizeof err))
        return fail(err);
    model_host host;
    dtb_host_api api;
    if (model_host_init(&host, &spec, &api) != 0)
        return fail(host.error);
    if (print_init(&spec, &api) || print_oracle(&spec) || print_baseline(a.baseline, &spec, &api, &host))
        return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}
