#include "plugin_declaration.h"


#include "plan.h"
#include "plugin_loader.h"
#include "registry.h"

/* Whether `dtbench run --suite s` accepts a plugin declaring caps, as the
 * run command decides it: a conformance suite by plan_required_caps, a
 * benchmark suite by its own capabilities and the CPU and model kind; then
 * which of its cases it would skip. */
static void suite_line(const dtb_suite *s, uint64_t caps, FILE *f)
{
    char names[256];
    fprintf(f, "                %-12s ", s->name);
    if (s->kind == DTB_SUITE_BENCH && s->n_bench_impls == 0) {
        fprintf(f, "takes no plugin (it benchmarks the communicator)\n");
        return;
    }
    uint64_t need = s->kind == DTB_SUITE_BENCH ? s->required_caps | DTB_CASE_BASE_CAPS
                                               : plan_required_caps(s);
    uint64_t lacking = need & ~caps;
    if (lacking) {
        plugin_caps_format(lacking, names, sizeof names);
        fprintf(f, "no: lacks %s\n", names);
        return;
    }
    uint64_t skipped = 0;
    for (int p = 0; p < s->n_precisions; p++)
        skipped |= precision_cap(s->precisions[p]) & ~caps;
    fprintf(f, "yes");
    if (skipped) {
        plugin_caps_format(skipped, names, sizeof names);
        fprintf(f, ", its %s cases skipped", names);
    }
    uint64_t distributed = DTB_CAP_DDP | DTB_CAP_ZERO1 | DTB_CAP_ZERO2 | DTB_CAP_ZERO3;
    if (s->kind == DTB_SUITE_BENCH && !(caps & distributed))
        fprintf(f, ", single-device: its cases at more than one rank skipped");
    fputc('\n', f);
}

void plugin_declaration_print(const char *path, const plugin_probe *p, FILE *f)
{
    char caps[512];
    plugin_caps_format(p->caps, caps, sizeof caps);
    fprintf(f, "plugin %s\n", path);
    fprintf(f, "  name          %s\n", p->name);
    fprintf(f, "  version       %s\n", p->version);
    fprintf(f, "  description   %s\n", p->description[0] ? p->description : "(none)");
    fprintf(f, "  abi           %u (table of %u bytes)\n", (unsigned)p->abi_version,
            (unsigned)p->struct_size);
    fprintf(f, "  capabilities  %s\n", caps);
    fprintf(f, "  optional      get_compute_params: %s; save_checkpoint, load_checkpoint: %s\n",
            p->has_get_compute_params ? "provided" : "not provided",
            p->has_checkpoint ? "provided" : "not provided");
    fprintf(f, "  suites\n");
    for (size_t i = 0; i < suite_count(); i++)
        suite_line(suite_at(i), p->caps, f);
}

/* Why plugin-check runs no case with a declared capability. */
static const char *why_unexercised(uint64_t bit)
{
    switch (bit) {
    case DTB_CAP_CUDA:
        return "cases run on the CPU";
    case DTB_CAP_MODEL_GPT:
        return "no GPT model yet";
    case DTB_CAP_UNEVEN_BATCH:
        return "needs a world of more than one rank";
    default:
        return "no case of plugin-check uses it";
    }
}

void plugin_unexercised_print(uint64_t declared, uint64_t exercised, FILE *f)
{
    uint64_t left = declared & ~exercised;
    if (!left)
        return;
    fprintf(f, "  not exercised ");
    int first = 1;
    for (int b = 0; b < 64; b++) {
        uint64_t bit = 1ull << b;
        if (!(left & bit))
            continue;
        const char *name = plugin_cap_name(bit);
        fprintf(f, "%s", first ? "" : ", ");
        if (name)
            fprintf(f, "%s (%s)", name, why_unexercised(bit));
        else
            fprintf(f, "bit%d (not a capability this dtbench knows)", b);
        first = 0;
    }
    fputc('\n', f);
}
