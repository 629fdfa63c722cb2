/*
 * `dtbench list`: suites, models and the implementations in the plugins
 * directory. Every *.so there goes through the same loader as `run`; one that
 * is refused is listed with the refusal, never fatal. Plugins named zoo-*
 * (deliberately broken, for proving the suites catch bugs) get their own
 * heading. `dtbench list --suite NAME` prints one suite's recipe instead
 * (suite_recipe.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "commands.h"
#include "gpt_configs.h"
#include "model.h"
#include "plan.h"
#include "plugin_loader.h"
#include "plugin_probe.h"
#include "registry.h"
#include "suite_recipe.h"

void usage_list(FILE *f)
{
    fprintf(f, "usage: dtbench list [--suite NAME]\n"
               "\n"
               "Lists the suites (cases, description), the models (parameters, widths or a\n"
               "GPT's vocabulary, context, blocks, heads and width) and\n"
               "the implementations found in the plugins directory next to dtbench (name,\n"
               "version, stages and precisions, description; broken ones with the reason).\n"
               "\n"
               "  --suite NAME   instead, every parameter of one suite: a conformance suite's\n"
               "                 required and per-case capabilities, models, world sizes,\n"
               "                 batch, micro-batches, steps, checked steps, seed, bucket\n"
               "                 bytes, prefetch depths and recipes (optimizer, lr, momentum,\n"
               "                 betas, eps, weight decay, clip norm); a benchmark suite's\n"
               "                 defaults (implementations, sizes, world sizes, precisions,\n"
               "                 warm-up, repetitions) and the recipe it trains with\n"
               "  --help         this text\n");
}

static void list_suites(FILE *f)
{
    fprintf(f, "suites:\n");
    for (size_t i = 0; i < suite_count(); i++) {
        const dtb_suite *s = suite_at(i);
        if (s->kind == DTB_SUITE_BENCH)
            fprintf(f, "  %-12s benchmark   %s\n", s->name, s->description);
        else
            fprintf(f, "  %-12s %4d cases  %s\n", s->name, suite_case_count(s), s->description);
    }
}

static void list_models(FILE *f)
{
    fprintf(f, "models:\n");
    for (size_t i = 0; i < mlp_config_count(); i++) {
        const mlp_config *m = mlp_config_at(i);
        char dims[160] = "";
        size_t used = 0;
        for (int l = 0; l <= m->n_linear && used < sizeof dims; l++)
            used += (size_t)snprintf(dims + used, sizeof dims - used, "%s%lld", l ? "-" : "",
                                     (long long)m->dims[l]);
        fprintf(f, "  %-12s %10lld params  %-24s %s\n", m->name, (long long)mlp_param_count(m),
                dims, m->summary);
    }
    fprintf(f, "  %-12s %10s params  %-24s %s\n", "mlp-w<W>", "6W^2+2055W+1024", "1024-Wx7-1024",
            "the width family, W in 16..32768, for --sizes and the memory budget search");
    for (size_t i = 0; i < gpt_config_count(); i++) {
        const gpt_named_config *g = gpt_config_at(i);
        char shape[160];
        snprintf(shape, sizeof shape, "V%lld T%lld L%lld H%lld C%lld", (long long)g->cfg.vocab,
                 (long long)g->cfg.context, (long long)g->cfg.n_layer, (long long)g->cfg.n_head,
                 (long long)g->cfg.d_model);
        fprintf(f, "  %-12s %10lld params  %-24s %s\n", g->name,
                (long long)gpt_param_count(&g->cfg), shape, g->summary);
    }
    fprintf(f, "  %-12s %10s params  %-24s %s\n", "gpt2-w<C>", "144C^2+51439C",
            "V50257 T1024 L12 H C/64", "the GPT-2 width family, C in 64..8192 by 64, for --sizes "
            "and the memory budget search (gpt2-w768 is gpt2-124m)");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, malloc'd names of the *<suffix> files in dir; NULL and *n = 0 if none. */
static char **plugin_files(const char *dir, const char *suffix, int *n)
{
    const size_t suffix_len = strlen(suffix);
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= suffix_len || strcmp(e->d_name + len - suffix_len, suffix) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(names, (size_t)cap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[*n] = malloc(len + 1)))
            break;
        memcpy(names[(*n)++], e->d_name, len + 1);
    }
    closedir(d);
    if (names)
        qsort(names, (size_t)*n, sizeof *names, by_name);
    return names;
}

/* Stage, precision, checkpoint, model-kind and device capabilities only:
 * what `list` readers compare (which suites and sizes apply). */
static void caps_summary(uint64_t caps, char *out, size_t len)
{
    uint64_t shown = DTB_CAP_SINGLE_DEVICE | DTB_CAP_DDP | DTB_CAP_ZERO1 | DTB_CAP_ZERO2 |
                     DTB_CAP_ZERO3 | DTB_CAP_FP32 | DTB_CAP_BF16_MIXED | DTB_CAP_CHECKPOINT |
                     DTB_CAP_MODEL_MLP | DTB_CAP_MODEL_GPT | DTB_CAP_CPU | DTB_CAP_CUDA;
    plugin_caps_format(caps & shown, out, len);
}

/* label: the column's name; NULL: the plugin's own name. */
static void list_one(FILE *f, const char *dir, const char *file, const char *label)
{
    char path[PATH_MAX], err[1024], caps[256];
    int w = snprintf(path, sizeof path, "%s/%s", dir, file);
    plugin_probe p; /* loaded in a child: a plugin that crashes or exits is refused */
    if (w < 0 || (size_t)w >= sizeof path) {
        fprintf(f, "  %-22s refused: path too long\n", file);
        return;
    }
    if (plugin_probe_vet(path, 0, &p, err, sizeof err) != 0) {
        fprintf(f, "  %-22s refused: %s\n", file, err);
        return;
    }
    caps_summary(p.caps, caps, sizeof caps);
    fprintf(f, "  %-22s %-10s %-64s %s\n", label ? label : p.name, p.version, caps,
            p.description);
}

/* The Python peers (docs/python.md), each probed through the bridge. */
static void list_python(FILE *f, const char *dir)
{
    char peers[PATH_MAX];
    int w = snprintf(peers, sizeof peers, "%s/" PLUGIN_PYTHON_PEERS, dir);
    int n = 0;
    char **files = w > 0 && (size_t)w < sizeof peers ? plugin_files(peers, ".py", &n) : NULL;
    if (n == 0)
        return;
    fprintf(f, "Python implementations (--impl py:NAME; %s, through the Python bridge):\n", peers);
    for (int i = 0; i < n; i++) {
        char label[DTB_NAME_LEN + 8];
        snprintf(label, sizeof label, PLUGIN_PYTHON_PREFIX "%.*s", (int)(strlen(files[i]) - 3),
                 files[i]);
        list_one(f, peers, files[i], label);
        free(files[i]);
    }
    free(files);
}

static void list_impls(FILE *f, const char *dir)
{
    int n = 0;
    char **files = plugin_files(dir, ".so", &n);
    fprintf(f, "implementations (%s):\n", dir);
    if (n == 0)
        fprintf(f, "  (none)\n");
    for (int zoo = 0; zoo < 2; zoo++) {
        int shown = 0;
        for (int i = 0; i < n; i++) {
            if ((strncmp(files[i], "zoo-", 4) == 0) != zoo)
                continue;
            if (zoo && !shown++)
                fprintf(f, "zoo (deliberately broken):\n");
            list_one(f, dir, files[i], NULL);
        }
        if (!zoo)
            list_python(f, dir);
    }
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

int cmd_list(int argc, char **argv)
{
    int help = 0;
    const char *suite_name = NULL;
    const cli_option opts[] = {{"help", NULL, &help}, {"suite", &suite_name, NULL}};
    char err[512], dir[PATH_MAX];
    if (cli_parse_options("list", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_list(stdout);
        return 0;
    }
    if (suite_name) {
        const dtb_suite *s = suite_find(suite_name);
        if (!s) {
            fprintf(stderr, "dtbench: list: unknown suite '%s' (see dtbench list)\n",
                    suite_name);
            return EXIT_BAD_INPUT;
        }
        if (suite_recipe_print(s, stdout, err, sizeof err)) {
            fprintf(stderr, "dtbench: list: %s\n", err);
            return EXIT_BAD_INPUT;
        }
        return 0;
    }
    if (plugin_dir(dir, sizeof dir, err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    list_suites(stdout);
    list_models(stdout);
    list_impls(stdout, dir);
    return 0;
}
