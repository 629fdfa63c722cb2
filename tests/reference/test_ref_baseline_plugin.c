/*
 * The fp32 single-device baseline plugin (reference/baseline_plugin.c),
 * loaded with dlopen exactly as the harness loads a third-party plugin, with
 * a small host API of our own: its table, 5 steps of mlp-odd with AdamW
 * against the fp64 oracle, its refusals, and memory accounting that returns
 * to zero after destroy.
 *
 * Usage: ref_baseline_plugin <path to baseline.so>
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtbench/plugin.h"
#include "model.h"
#include "oracle.h"
#include "ref_util.h"
#include "test_spec_model.h"

enum { STEPS = 5 };

typedef struct test_host {
    uint64_t seed;
    mlp_config cfg;
    int64_t mem[DTB_MEM_CATEGORY_COUNT];
    int bad_category;
    char last_error[512];
    int errors;
} test_host;

static int host_sample(void *ctx, int64_t step, int64_t first, int64_t count, void *x, int32_t *y)
{
    test_host *h = ctx;
    return mlp_sample_batch(h->seed, &h->cfg, step, first, count, x, y);
}

static int host_init(void *ctx, int32_t tensor, int64_t first, int64_t count, float *out)
{
    test_host *h = ctx;
    return mlp_init_values(h->seed, &h->cfg, tensor, first, count, out);
}

static void host_mem(void *ctx, int32_t category, int64_t delta)
{
    test_host *h = ctx;
    if (category < 0 || category >= DTB_MEM_CATEGORY_COUNT) {
        h->bad_category = 1;
        return;
    }
    h->mem[category] += delta;
}

static void host_error(void *ctx, const char *message)
{
    test_host *h = ctx;
    snprintf(h->last_error, sizeof h->last_error, "%s", message);
    h->errors++;
    printf("  plugin error: %s\n", message);
}

static dtb_run_spec make_spec(int world_size)
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    test_spec_set_model(&s, cfg);
    s.optimizer = DTB_OPT_ADAMW;
    s.lr = 1e-2;
    s.momentum = 0.9;
    s.beta1 = 0.9, s.beta2 = 0.999, s.eps = 1e-8;
    s.weight_decay = 0.01;
    s.clip_norm = 0.0;
    s.precision = DTB_PREC_FP32;
    s.global_batch = 30;
    s.micro_batches = 1;
    s.steps = STEPS;
    s.seed = 4242;
    s.rank = 0;
    s.world_size = world_size;
    s.local_rank = 0, s.local_size = world_size;
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    s.prefetch_depth = -1;
    return s;
}

static void host_setup(test_host *h, dtb_host_api *api, const dtb_run_spec *spec)
{
    memset(h, 0, sizeof *h);
    h->seed = spec->seed;
    mlp_config_from_spec(spec, &h->cfg, NULL, 0);
    *api = (dtb_host_api){.struct_size = sizeof *api, .ctx = h, .sample_batch = host_sample, .init_params = host_init,
                          .mem_track = host_mem, .error = host_error};
}

static void check_table(ref_checker *c, const dtb_plugin *p)
{
    ref_check(c, p->abi_version == DTB_ABI_VERSION, "abi_version %u == DTB_ABI_VERSION %u", p->abi_version,
              DTB_ABI_VERSION);
    ref_check(c, p->name != NULL && strcmp(p->name, "baseline") == 0, "name \"%s\"", p->name ? p->name : "(null)");
    ref_check(c, p->version != NULL && p->description != NULL && strlen(p->description) > 0,
              "version \"%s\", description \"%s\"", p->version ? p->version : "(null)",
              p->description ? p->description : "(null)");
    const uint64_t need = DTB_CAP_SINGLE_DEVICE | DTB_CAP_FP32 | DTB_CAP_ADAMW | DTB_CAP_SGD_MOMENTUM | DTB_CAP_CPU;
    ref_check(c, (p->caps & need) == need && (p->caps & (DTB_CAP_DDP | DTB_CAP_ZERO1 | DTB_CAP_ZERO2 | DTB_CAP_ZERO3)) == 0,
              "caps 0x%llx include SINGLE_DEVICE, FP32, SGD, ADAMW, CPU and no data-parallel stage",
              (unsigned long long)p->caps);
    ref_check(c, p->create && p->train_step && p->get_params && p->get_counters && p->get_facts && p->destroy,
              "no NULL function pointer in the table");
}

static void check_training(ref_checker *c, const dtb_plugin *p)
{
    const dtb_run_spec spec = make_spec(1);
    const int64_t n = spec.model->n_params;
    int64_t checks[STEPS];
    for (int k = 0; k < STEPS; k++) {
        checks[k] = k + 1;
    }
    oracle_trace tr;
    char err[256];
    if (!ref_check(c, oracle_train_f64(&spec, checks, STEPS, &tr, err, sizeof err) == 0, "oracle for mlp-odd AdamW %s",
                   err)) {
        return;
    }
    test_host h;
    dtb_host_api api;
    host_setup(&h, &api, &spec);
    dtb_state *st = NULL;
    float *params = malloc((size_t)n * sizeof(float));
    if (!ref_check(c, params != NULL && p->create(&spec, &api, &st) == 0 && st != NULL,
                   "create mlp-odd, AdamW, batch 30, world 1")) {
        free(params);
        oracle_trace_free(&tr);
        return;
    }
    /* Memory after create: params, grads, m and v are n floats each. */
    const int64_t fb = n * (int64_t)sizeof(float);
    ref_check(c, h.mem[DTB_MEM_PARAMS] == fb && h.mem[DTB_MEM_GRADS] == fb && h.mem[DTB_MEM_OPTIM] == 2 * fb &&
                     h.mem[DTB_MEM_ACTIVATIONS] > 0 && !h.bad_category,
              "tracked after create: params %lld, grads %lld, optim %lld (2 x %lld), activations %lld bytes",
              (long long)h.mem[DTB_MEM_PARAMS], (long long)h.mem[DTB_MEM_GRADS], (long long)h.mem[DTB_MEM_OPTIM],
              (long long)fb, (long long)h.mem[DTB_MEM_ACTIVATIONS]);
    double loss_err = 0.0, norm_err = 0.0, param_err = 0.0;
    int ok = 1;
    for (int64_t s = 1; s <= STEPS && ok; s++) {
        dtb_step_report rep = {sizeof rep, 0, 0, 0};
        ok = p->train_step(st, s, &rep) == 0 && p->get_params(st, params, n) == 0;
        if (!ok) {
            break;
        }
        loss_err = fmax(loss_err, fabs(rep.loss - tr.loss[s - 1]) / fabs(tr.loss[s - 1]));
        norm_err = fmax(norm_err, fabs(rep.grad_norm - tr.grad_norm[s - 1]) / tr.grad_norm[s - 1]);
        const double *o = tr.params + (size_t)(s - 1) * (size_t)n;
        double e = 0.0, scale = 0.0;
        for (int64_t i = 0; i < n; i++) {
            e = fmax(e, fabs((double)params[i] - o[i]));
            scale = fmax(scale, fabs(o[i]));
        }
        param_err = fmax(param_err, e / scale);
    }
    ref_check(c, ok, "5 train_step + get_params calls succeed");
    printf("  observed baseline vs oracle: loss %.2e, grad norm %.2e, params (max abs / max |p|) %.2e\n", loss_err,
           norm_err, param_err);
    ref_check(c, ok && loss_err < 1e-4 && norm_err < 1e-4 && param_err < 1e-4,
              "baseline follows the fp64 oracle every step: loss %.2g, norm %.2g, params %.2g (each < 1e-4 relative)",
              loss_err, norm_err, param_err);
    dtb_counters counters;
    memset(&counters, 0xff, sizeof counters);
    int silent = p->get_counters(st, &counters) == 0;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        silent = silent && counters.calls[k] == 0 && counters.bytes[k] == 0;
    }
    ref_check(c, silent, "no collectives at all (world of one)");
    dtb_facts facts;
    ref_check(c, p->get_facts(st, &facts) == 0 && facts.stage == DTB_STAGE_SINGLE && facts.precision == DTB_PREC_FP32 &&
                     facts.param_dtype == DTB_DTYPE_FP32,
              "facts: stage SINGLE, precision FP32, param dtype FP32");
    h.errors = 0;
    ref_check(c, p->get_params(st, params, n - 1) != 0 && h.errors == 1,
              "get_params with n - 1 is refused through host->error");
    p->destroy(st);
    int all_zero = !h.bad_category;
    for (int k = 0; k < DTB_MEM_CATEGORY_COUNT; k++) {
        all_zero = all_zero && h.mem[k] == 0;
    }
    ref_check(c, all_zero, "tracked memory returns to 0 in every category after destroy");
    p->destroy(NULL);
    free(params);
    oracle_trace_free(&tr);
}

static void check_refusals(ref_checker *c, const dtb_plugin *p)
{
    struct {
        const char *what;
        dtb_run_spec spec;
        const char *word;
    } bad[4];
    bad[0].what = "world size 2", bad[0].spec = make_spec(2), bad[0].word = "world";
    bad[1].what = "bf16-mixed precision", bad[1].spec = make_spec(1), bad[1].word = "precision";
    bad[1].spec.precision = DTB_PREC_BF16_MIXED;
    bad[2].what = "a wrong n_params", bad[2].spec = make_spec(1), bad[2].word = "parameters";
    static dtb_model_desc wrong_count;
    wrong_count = *bad[2].spec.model;
    wrong_count.n_params = 5208;
    bad[2].spec.model = &wrong_count;
    bad[3].what = "the CUDA device", bad[3].spec = make_spec(1), bad[3].word = "CPU";
    bad[3].spec.device_kind = DTB_DEVICE_CUDA;
    for (int k = 0; k < 4; k++) {
        /* Precision and device refusals apply only while the plugin lacks the capability. */
        if ((k == 1 && (p->caps & DTB_CAP_BF16_MIXED)) || (k == 3 && (p->caps & DTB_CAP_CUDA))) {
            continue;
        }
        test_host h;
        dtb_host_api api;
        host_setup(&h, &api, &bad[k].spec);
        dtb_state *st = (dtb_state *)&h; /* must be overwritten with NULL */
        const int rc = p->create(&bad[k].spec, &api, &st);
        int zero = 1;
        for (int m = 0; m < DTB_MEM_CATEGORY_COUNT; m++) {
            zero = zero && h.mem[m] == 0;
        }
        ref_check(c, rc != 0 && st == NULL && h.errors >= 1 && strstr(h.last_error, bad[k].word) != NULL && zero,
                  "create refuses %s with a message naming \"%s\", state NULL, no memory left tracked", bad[k].what,
                  bad[k].word);
    }
}

int main(int argc, char **argv)
{
    ref_checker c = {.test = "ref_baseline_plugin"};
    if (argc != 2) {
        fprintf(stderr, "usage: %s <path to baseline.so>\n", argv[0]);
        return 2;
    }
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!ref_check(&c, so != NULL, "dlopen %s%s%s", argv[1], so ? "" : ": ", so ? "" : dlerror())) {
        return ref_finish(&c);
    }
    dtb_plugin_entry_fn entry = NULL;
    void *sym = dlsym(so, DTB_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry); /* object -> function pointer without a cast warning */
    const dtb_plugin *p = entry != NULL ? entry() : NULL;
    if (ref_check(&c, p != NULL, "entry symbol %s returns a table", DTB_PLUGIN_ENTRY_SYMBOL)) {
        check_table(&c, p);
        check_training(&c, p);
        check_refusals(&c, p);
    }
    dlclose(so);
    return ref_finish(&c);
}
