/*
 * Finding, loading and vetting plugins. A plugin is accepted only when its
 * file exists, dlopen takes it, it exports dtbench_plugin_entry, the entry
 * returns a table whose abi_version is DTB_ABI_VERSION (a version 1 plugin is
 * told what changed) and whose struct_size covers every required function,
 * the table has a name, a version and every required function pointer, and
 * its caps include every required capability. Each refusal is one line naming the problem (no "dtbench: "
 * prefix); the caller turns it into exit code 2 or a `dtbench list` note.
 */
#ifndef DTB_HARNESS_PLUGIN_LOADER_H
#define DTB_HARNESS_PLUGIN_LOADER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* The installed plugin directory relative to the installed executable's
 * (CMake sets it from the install layout). */
#ifndef DTB_PLUGIN_INSTALL_RELDIR
#define DTB_PLUGIN_INSTALL_RELDIR "../lib/dtbench/plugins"
#endif

/* The shortest table ABI 2 accepts: through the last required function. */
#define DTB_PLUGIN_MIN_SIZE (offsetof(dtb_plugin, destroy) + sizeof(void (*)(dtb_state *)))

/* An optional function of a table: NULL when the table's struct_size does not
 * cover it (an older table) or the plugin left it NULL. */
#define DTB_PLUGIN_OPTIONAL(t, fn)                                                        \
    ((t)->struct_size >= offsetof(dtb_plugin, fn) + sizeof((t)->fn) ? (t)->fn : NULL)

/* Both checkpoint functions present (a table declaring DTB_CAP_CHECKPOINT
 * without them is refused at load). */
#define DTB_PLUGIN_OPTIONAL_CKPT(t)                                                      \
    (DTB_PLUGIN_OPTIONAL(t, save_checkpoint) != NULL &&                                   \
     DTB_PLUGIN_OPTIONAL(t, load_checkpoint) != NULL)

/* Python implementations (docs/python.md): `--impl py:NAME` is
 * <plugins>/python/peers/NAME.py; a path ending in .py is run by
 * <plugins>/python/python-bridge.so. */
#define PLUGIN_PYTHON_PREFIX "py:"
#define PLUGIN_PYTHON_PEERS "python/peers"
#define PLUGIN_PYTHON_BRIDGE "python/python-bridge.so"

typedef struct dtb_loaded_plugin {
    const dtb_plugin *table;
    void *handle;              /* dlopen handle; never dlclosed (see plugin_loader.c) */
    char path[PATH_MAX];       /* absolute path of the shared object (or .py module) */
    /* A Python module's: the torch.distributed traffic the bridge counted
     * during create and train_step, in dtb_counters' sizes; NULL for a C
     * plugin. 0, or -1 when it could not count. */
    int (*traffic)(dtb_counters *out);
} dtb_loaded_plugin;

/* Where dtbench's own plugins are: plugin_dir_for(<directory of
 * /proc/self/exe>). */
int plugin_dir(char *out, size_t out_len, char *err, size_t err_len);

/* The plugin directory of a dtbench executable in exe_dir: exe_dir/plugins
 * when it is a directory (a build tree), else exe_dir/DTB_PLUGIN_INSTALL_RELDIR
 * when that is one (an installed tree: bin/dtbench finds
 * bin/../lib/dtbench/plugins), else exe_dir/plugins, which error messages
 * then name. -1 only when the path does not fit in out. */
int plugin_dir_for(const char *exe_dir, char *out, size_t out_len, char *err, size_t err_len);

/* Turns an --impl value into an absolute path: a value containing '/' or
 * ending in ".so" or ".py" is a path (relative to the working directory);
 * py:NAME is <plugins_dir>/python/peers/NAME.py; anything else is a name
 * looked up as <plugins_dir>/<name>.so. Fails when the file
 * does not exist or is not a regular file. */
int plugin_resolve(const char *impl, const char *plugins_dir, char *path, size_t path_len,
                   char *err, size_t err_len);

/* 1 when `path` (absolute, as plugin_resolve makes it) is one of dtbench's
 * own plugins: a file directly in plugins_dir. */
int plugin_is_ours(const char *path, const char *plugins_dir);

/* The refusal of a plugin named `name` at `path` whose caps lack some of
 * required_caps: "plugin 'x' (path) lacks capability a,b". 0 when none is
 * lacking, else -1 with that line in err. */
int plugin_caps_require(const char *name, const char *path, uint64_t caps,
                        uint64_t required_caps, char *err, size_t err_len);

/* dlopen(RTLD_NOW | RTLD_LOCAL) the file at `path` and vet it as above. */
int plugin_load(const char *path, uint64_t required_caps, dtb_loaded_plugin *out, char *err,
                size_t err_len);

/* The same in a rank worker, which trains it: a Python module's bridge
 * then also warms up torch's lazy initialisation before the harness takes
 * its memory base (docs/python.md); a probe skips that. */
int plugin_load_to_train(const char *path, uint64_t required_caps, dtb_loaded_plugin *out,
                         char *err, size_t err_len);

/* Capability names ("ddp", "fp32", "grad-accum", ...): the name of one
 * DTB_CAP_* bit (NULL for an unknown bit); a comma list of the bits set in
 * caps, "none" when empty; and the parse of such a comma list. */
const char *plugin_cap_name(uint64_t bit);
void plugin_caps_format(uint64_t caps, char *out, size_t out_len);
int plugin_caps_parse(const char *list, uint64_t *caps, char *err, size_t err_len);

#endif
