/* plugin_loader.h: every refusal names its problem; a valid plugin loads.
 * argv[1]: directory of the deliberately malformed plugins (and x.so, a
 * text file); argv[2]: a valid plugin with the ddp suite's capabilities. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "plugin_loader.h"

static const uint64_t DDP_CAPS = DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_GRAD_ACCUM |
                                 DTB_CAP_GRAD_CLIP | DTB_CAP_UNEVEN_BATCH | DTB_CAP_CPU |
                                 DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW | DTB_CAP_MODEL_MLP;

/* Resolves and loads dir/name.so, expecting a refusal containing `want`. */
static void refused(const char *dir, const char *name, const char *want)
{
    char path[PATH_MAX], err[1024];
    dtb_loaded_plugin p;
    int rc = plugin_resolve(name, dir, path, sizeof path, err, sizeof err);
    if (rc == 0)
        rc = plugin_load(path, DDP_CAPS, &p, err, sizeof err);
    CHECK(rc != 0);
    if (rc != 0) {
        CHECK_CONTAINS(err, want);
        CHECK(strchr(err, '\n') == NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_harness_loader BAD_PLUGIN_DIR GOOD_PLUGIN\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[PATH_MAX], err[1024], x_so[PATH_MAX];
    dtb_loaded_plugin p;

    refused(dir, "bad-abi", "built for plugin ABI 3, this dtbench speaks ABI 2");
    refused(dir, "abi-v1", "built for plugin ABI 1; this dtbench speaks ABI 2, which added the "
                           "stage and a model description");
    refused(dir, "short-table", "plugin table of 40 bytes is shorter than ABI 2's");
    refused(dir, "no-entry", "is not a dtbench plugin (no symbol dtbench_plugin_entry)");
    refused(dir, "null-function", "missing function get_params");
    refused(dir, "no-ddp-cap", "lacks capability ddp");
    refused(dir, "null-table", "dtbench_plugin_entry returned NULL");
    refused(dir, "null-name", "missing name");
    refused(dir, "no-such-plugin", "unknown implementation 'no-such-plugin'");
    snprintf(x_so, sizeof x_so, "%s/x.so", dir);
    refused(dir, x_so, "is not a loadable shared object");
    refused(dir, "/nonexistent/dir/impl.so", "plugin /nonexistent/dir/impl.so does not exist");
    refused(dir, "/tmp/", "is not a regular file");

    /* Without the capability requirement no-ddp-cap loads; with it, it names all it lacks. */
    CHECK(plugin_resolve("no-ddp-cap", dir, path, sizeof path, err, sizeof err) == 0);
    CHECK(plugin_load(path, DTB_CAP_FP32, &p, err, sizeof err) == 0);
    CHECK(plugin_load(path, DTB_CAP_DDP | DTB_CAP_ZERO3, &p, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "lacks capability ddp,zero3");
    CHECK(plugin_load("relative.so", 0, &p, err, sizeof err) != 0);

    /* A path relative to the working directory resolves to an absolute one. */
    CHECK(chdir(dir) == 0);
    CHECK(plugin_resolve("x.so", "/nowhere", path, sizeof path, err, sizeof err) == 0);
    CHECK(path[0] == '/' && strstr(path, "/x.so") != NULL);

    CHECK(plugin_resolve(argv[2], "/nowhere", path, sizeof path, err, sizeof err) == 0);
    CHECK(plugin_load(path, DDP_CAPS, &p, err, sizeof err) == 0);
    CHECK(p.table && strcmp(p.table->name, "crash") == 0);

    char caps[256];
    uint64_t parsed = 0;
    plugin_caps_format(DDP_CAPS, caps, sizeof caps);
    CHECK(strcmp(caps, "ddp,fp32,sgd-momentum,adamw,grad-clip,grad-accum,uneven-batch,model-mlp,"
                       "cpu") == 0);
    CHECK(plugin_caps_parse(caps, &parsed, err, sizeof err) == 0 && parsed == DDP_CAPS);
    CHECK(plugin_caps_parse("ddp,warp-drive", &parsed, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "unknown capability 'warp-drive'");
    plugin_caps_format(0, caps, sizeof caps);
    CHECK(strcmp(caps, "none") == 0);
    return check_report("test_harness_loader");
}
