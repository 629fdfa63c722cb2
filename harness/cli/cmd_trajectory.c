/*
 * `dtbench trajectory`: a golden trajectory for third parties
 * (docs/trajectories.md). Every input is validated before anything is
 * computed (one line, exit 2); the folder is written into a staging
 * directory beside --out and renamed onto it only when complete
 * (core/staged_dir.h), so a failure leaves nothing at --out.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "case_config.h"
#include "cli_parse.h"
#include "commands.h"
#include "trajectory_bounds.h"
#include "registry.h"
#include "staged_dir.h"
#include "trajectory.h"
#include "trajectory_files.h"

/* What the trajectory, its envelope and the training may hold in memory at
 * once (trajectory_bytes + trajectory_bounds_bytes, an upper estimate). */
#define TRAJECTORY_MAX_BYTES (4LL << 30)
#define TRAJECTORY_MAX_STEPS 100000
#define TRAJECTORY_MAX_BATCH (1 << 20)

void usage_trajectory(FILE *f)
{
    fprintf(f,
            "usage: dtbench trajectory --model NAME --recipe NAME --out DIR [options]\n"
            "\n"
            "Writes a golden trajectory to debug an implementation with: the inputs and\n"
            "labels of every step and micro-batch, the initial parameters and, after every\n"
            "step, the loss, pre-clip gradient norm, clip coefficient and parameters of the\n"
            "fp32 baseline and of the fp64 oracle, with the tolerance envelope the\n"
            "conformance checks apply; .npy files and recipe.json, which NumPy and PyTorch\n"
            "load without dtbench (docs/trajectories.md). Computed in this process (no MPI).\n"
            "Exit status: 0 written, 2 bad input or not written (one line on stderr; then\n"
            "nothing is left at DIR).\n"
            "\n"
            "  --model NAME        model (see dtbench list), e.g. mlp-odd\n"
            "  --recipe NAME       a training recipe of the suite; ddp has sgd, sgd noclip\n"
            "                      (also written sgd-noclip) and adamw\n"
            "  --out DIR           folder to write: must not exist, or be empty\n"
            "  --suite NAME        conformance suite whose recipe and defaults apply\n"
            "                      (default ddp; zero1, zero2, zero3 share its recipes)\n"
            "  --steps N           optimizer steps (default: the suite's, 10; 1..%d)\n"
            "  --precision P       fp32 or bf16 (bf16-mixed) (default fp32)\n"
            "  --seed N            data and init seed (default: the suite's)\n"
            "  --batch B           global batch (default: the suite's, 30)\n"
            "  --micro-batches M   micro-batches the data files are split into (default:\n"
            "                      the suite's, 3); the references do not depend on it\n"
            "  --help              this text\n",
            TRAJECTORY_MAX_STEPS);
}

static int bad(const char *msg)
{
    fprintf(stderr, "dtbench: %s\n", msg);
    return EXIT_BAD_INPUT;
}

typedef struct trajectory_args {
    const char *model, *recipe, *out, *suite, *steps, *precision, *seed, *batch, *micro;
    int help;
} trajectory_args;

/* `given` names `recipe` when equal, a '-' standing for a space. */
static int recipe_matches(const char *given, const char *recipe)
{
    for (; *given && *recipe; given++, recipe++)
        if (*given != *recipe && !(*given == '-' && *recipe == ' '))
            return 0;
    return *given == *recipe;
}

static const dtb_recipe *find_recipe(const dtb_suite *suite, const char *given, char *err,
                                     size_t err_len)
{
    char names[256] = "";
    size_t used = 0;
    for (int i = 0; i < suite->n_recipes; i++) {
        if (recipe_matches(given, suite->recipes[i].name))
            return &suite->recipes[i];
        used += (size_t)snprintf(names + used, used < sizeof names ? sizeof names - used : 0,
                                 "%s'%s'", i ? ", " : "", suite->recipes[i].name);
        if (used >= sizeof names)
            used = sizeof names - 1;
    }
    snprintf(err, err_len, "--recipe: suite %s has no recipe '%s' (%s)", suite->name, given,
             names);
    return NULL;
}

static int parse_precision(const char *text, int32_t *out, char *err, size_t err_len)
{
    if (strcmp(text, "fp32") == 0)
        *out = DTB_PREC_FP32;
    else if (strcmp(text, "bf16") == 0 || strcmp(text, "bf16-mixed") == 0)
        *out = DTB_PREC_BF16_MIXED;
    else {
        snprintf(err, err_len, "--precision: '%s' is not fp32 or bf16", text);
        return -1;
    }
    return 0;
}

/* The suite's defaults, then the options given. */
static int parse_numbers(const trajectory_args *a, const dtb_suite *suite, case_config *c,
                         char *err, size_t err_len)
{
    int64_t micro = suite->micro_batches;
    c->steps = suite->steps;
    c->seed = suite->seed;
    c->global_batch = suite->global_batch;
    c->precision = DTB_PREC_FP32;
    if ((a->steps && cli_parse_i64("--steps", a->steps, 1, TRAJECTORY_MAX_STEPS, &c->steps, err,
                                   err_len)) ||
        (a->seed && cli_parse_u64("--seed", a->seed, &c->seed, err, err_len)) ||
        (a->batch && cli_parse_i64("--batch", a->batch, 1, TRAJECTORY_MAX_BATCH,
                                   &c->global_batch, err, err_len)) ||
        (a->micro && cli_parse_i64("--micro-batches", a->micro, 1, TRAJECTORY_MAX_BATCH, &micro,
                                   err, err_len)) ||
        (a->precision && parse_precision(a->precision, &c->precision, err, err_len)))
        return -1;
    if (micro > c->global_batch) {
        snprintf(err, err_len, "--micro-batches: %lld micro-batches%s exceed the global batch "
                 "of %lld samples", (long long)micro, a->micro ? "" : " (the suite's)",
                 (long long)c->global_batch);
        return -1;
    }
    c->micro_batches = (int32_t)micro;
    return 0;
}

/* Everything from the command line into c; suite and recipe for the record. */
static int configure(const trajectory_args *a, case_config *c, trajectory_names *names,
                     char *err, size_t err_len)
{
    if (!a->model || !a->recipe || !a->out) {
        snprintf(err, err_len, "trajectory: --model, --recipe and --out are required "
                 "(see dtbench trajectory --help)");
        return -1;
    }
    const char *suite_name = a->suite ? a->suite : "ddp";
    const dtb_suite *suite = suite_find(suite_name);
    if (!suite) {
        snprintf(err, err_len, "--suite: unknown suite '%s' (see dtbench list)", suite_name);
        return -1;
    }
    if (suite->kind != DTB_SUITE_CONFORMANCE || suite->n_recipes == 0) {
        snprintf(err, err_len, "--suite: %s is a benchmark suite without training recipes "
                 "(use a conformance suite: ddp, zero1, zero2, zero3)", suite->name);
        return -1;
    }
    const dtb_recipe *recipe = find_recipe(suite, a->recipe, err, err_len);
    if (!recipe)
        return -1;
    memset(c, 0, sizeof *c);
    c->model = mlp_config_resolve(a->model, &c->model_storage);
    if (!c->model) {
        snprintf(err, err_len, "--model: unknown model '%s' (see dtbench list)", a->model);
        return -1;
    }
    if (parse_numbers(a, suite, c, err, err_len) != 0)
        return -1;
    c->opt = recipe->opt;
    c->clip_norm = recipe->clip_norm;
    c->stage = DTB_STAGE_SINGLE;
    c->prefetch_depth = -1;
    names->suite = suite->name;
    names->recipe = recipe->name;
    const int64_t held = trajectory_bytes(c) + trajectory_bounds_bytes(c);
    if (held > TRAJECTORY_MAX_BYTES) {
        char need[32], limit[32];
        bench_format_bytes((double)held, need, sizeof need);
        bench_format_bytes((double)TRAJECTORY_MAX_BYTES, limit, sizeof limit);
        snprintf(err, err_len, "trajectory: %lld steps of %s with batch %lld would hold %s in "
                 "memory, over the limit of %s: ask for fewer steps, a smaller batch or a "
                 "smaller model", (long long)c->steps, c->model->name,
                 (long long)c->global_batch, need, limit);
        return -1;
    }
    return 0;
}

/* Compute, write into the staging directory, commit; on failure the staging
 * directory is removed. */
static int produce(staged_dir *dir, const case_config *c, const trajectory_names *names,
                   char *err, size_t err_len)
{
    trajectory t;
    trajectory_bounds e;
    memset(&e, 0, sizeof e);
    int rc = trajectory_compute(c, &t, err, err_len);
    if (rc == 0) {
        rc = trajectory_bounds_compute(c, &t, &e, err, err_len) ||
             trajectory_write(dir, c, names, &t, &e, err, err_len) ||
             staged_dir_commit(dir, err, err_len);
        trajectory_bounds_free(&e);
        trajectory_free(&t);
    }
    if (rc != 0)
        staged_dir_abort(dir);
    return rc ? -1 : 0;
}

int cmd_trajectory(int argc, char **argv)
{
    trajectory_args a;
    memset(&a, 0, sizeof a);
    const cli_option opts[] = {
        {"model", &a.model, NULL},         {"recipe", &a.recipe, NULL},
        {"out", &a.out, NULL},             {"suite", &a.suite, NULL},
        {"steps", &a.steps, NULL},         {"precision", &a.precision, NULL},
        {"seed", &a.seed, NULL},           {"batch", &a.batch, NULL},
        {"micro-batches", &a.micro, NULL}, {"help", NULL, &a.help},
    };
    char err[1536];
    if (cli_parse_options("trajectory", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err))
        return bad(err);
    if (a.help) {
        usage_trajectory(stdout);
        return 0;
    }
    case_config c;
    trajectory_names names;
    if (configure(&a, &c, &names, err, sizeof err) != 0)
        return bad(err);
    staged_dir dir;
    char why[1400];
    if (staged_dir_begin(&dir, a.out, why, sizeof why) != 0) {
        snprintf(err, sizeof err, "--out: %s", why);
        return bad(err);
    }
    /* The conformance baseline runs in a rank worker with one BLAS thread;
     * so does this one, so that the two are the same run bit for bit. */
    openblas_set_num_threads(1);
    if (produce(&dir, &c, &names, why, sizeof why) != 0) {
        snprintf(err, sizeof err, "trajectory: %s", why);
        return bad(err);
    }
    printf("wrote %s: %s %s %s, %lld steps, %lld parameters, batch %lld in %d micro-batches\n",
           dir.final_path, c.model->name, names.recipe, precision_name(c.precision),
           (long long)c.steps, (long long)mlp_param_count(c.model), (long long)c.global_batch,
           (int)c.micro_batches);
    return 0;
}
