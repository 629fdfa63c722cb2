/*
 * Handles are never dlclosed: a table returned by a plugin must stay valid
 * for the life of the process (plugin.h), and unloading code that
 * registered atexit handlers or thread-local destructors (OpenBLAS, MPI
 * components) crashes at exit, which would also hide leaks under ASan.
 */
#include "plugin_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    uint64_t bit;
    const char *name;
} cap_names[] = {
    {DTB_CAP_SINGLE_DEVICE, "single-device"},
    {DTB_CAP_DDP, "ddp"},
    {DTB_CAP_ZERO1, "zero1"},
    {DTB_CAP_ZERO2, "zero2"},
    {DTB_CAP_ZERO3, "zero3"},
    {DTB_CAP_FP32, "fp32"},
    {DTB_CAP_BF16_MIXED, "bf16-mixed"},
    {DTB_CAP_SGD_MOMENTUM, "sgd-momentum"},
    {DTB_CAP_ADAMW, "adamw"},
    {DTB_CAP_GRAD_CLIP, "grad-clip"},
    {DTB_CAP_GRAD_ACCUM, "grad-accum"},
    {DTB_CAP_UNEVEN_BATCH, "uneven-batch"},
    {DTB_CAP_CHECKPOINT, "checkpoint"},
    {DTB_CAP_MODEL_MLP, "model-mlp"},
    {DTB_CAP_MODEL_GPT, "model-gpt"},
    {DTB_CAP_CPU, "cpu"},
    {DTB_CAP_CUDA, "cuda"},
};
#define N_CAP_NAMES (sizeof cap_names / sizeof cap_names[0])

const char *plugin_cap_name(uint64_t bit)
{
    for (size_t i = 0; i < N_CAP_NAMES; i++)
        if (cap_names[i].bit == bit)
            return cap_names[i].name;
    return NULL;
}

void plugin_caps_format(uint64_t caps, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int b = 0; b < 64; b++) {
        uint64_t bit = 1ull << b;
        if (!(caps & bit))
            continue;
        const char *name = plugin_cap_name(bit);
        char unknown[24];
        if (!name) {
            snprintf(unknown, sizeof unknown, "bit%d", b);
            name = unknown;
        }
        int n = snprintf(out + used, out_len - used, "%s%s", used ? "," : "", name);
        if (n < 0 || (size_t)n >= out_len - used)
            return; /* truncated but terminated */
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(out, out_len, "none");
}

int plugin_caps_parse(const char *list, uint64_t *caps, char *err, size_t err_len)
{
    uint64_t acc = 0;
    const char *p = list;
    if (strcmp(list, "none") == 0) {
        *caps = 0;
        return 0;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        uint64_t bit = 0;
        for (size_t i = 0; i < N_CAP_NAMES; i++)
            if (strlen(cap_names[i].name) == len && strncmp(cap_names[i].name, p, len) == 0)
                bit = cap_names[i].bit;
        if (!bit) {
            snprintf(err, err_len, "unknown capability '%.*s'", (int)len, p);
            return -1;
        }
        acc |= bit;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *caps = acc;
    return 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int plugin_dir_for(const char *exe_dir, char *out, size_t out_len, char *err, size_t err_len)
{
    char installed[PATH_MAX];
    int w = snprintf(out, out_len, "%s/plugins", exe_dir);
    int wi = snprintf(installed, sizeof installed, "%s/%s", exe_dir, DTB_PLUGIN_INSTALL_RELDIR);
    if (w < 0 || (size_t)w >= out_len || wi < 0 || (size_t)wi >= sizeof installed) {
        snprintf(err, err_len, "plugin directory path too long");
        return -1;
    }
    if (is_directory(out) || !is_directory(installed))
        return 0;
    char real[PATH_MAX];
    const char *found = realpath(installed, real) ? real : installed; /* without "bin/.." */
    if (strlen(found) >= out_len) {
        snprintf(err, err_len, "plugin directory path too long");
        return -1;
    }
    snprintf(out, out_len, "%s", found);
    return 0;
}

int plugin_dir(char *out, size_t out_len, char *err, size_t err_len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        snprintf(err, err_len, "cannot read /proc/self/exe: %s", strerror(errno));
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    return plugin_dir_for(exe, out, out_len, err, err_len);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int plugin_resolve(const char *impl, const char *plugins_dir, char *path, size_t path_len,
                   char *err, size_t err_len)
{
    const int is_python_name = strncmp(impl, PLUGIN_PYTHON_PREFIX, strlen(PLUGIN_PYTHON_PREFIX)) == 0;
    int is_path = !is_python_name &&
                  (strchr(impl, '/') != NULL || ends_with(impl, ".so") || ends_with(impl, ".py"));
    char candidate[PATH_MAX];
    int w = is_path ? snprintf(candidate, sizeof candidate, "%s", impl)
            : is_python_name
                ? snprintf(candidate, sizeof candidate, "%s/" PLUGIN_PYTHON_PEERS "/%s.py",
                           plugins_dir, impl + strlen(PLUGIN_PYTHON_PREFIX))
                : snprintf(candidate, sizeof candidate, "%s/%s.so", plugins_dir, impl);
    if (is_python_name && (!impl[strlen(PLUGIN_PYTHON_PREFIX)] ||
                           strchr(impl + strlen(PLUGIN_PYTHON_PREFIX), '/'))) {
        snprintf(err, err_len, "'%s' names no Python implementation (py:NAME, NAME from dtbench list)",
                 impl);
        return -1;
    }
    if (w < 0 || (size_t)w >= sizeof candidate) {
        snprintf(err, err_len, "implementation path too long: %.64s...", impl);
        return -1;
    }
    struct stat st;
    if (stat(candidate, &st) != 0) {
        if (is_path)
            snprintf(err, err_len, "plugin %s does not exist", impl);
        else if (is_python_name)
            snprintf(err, err_len, "unknown Python implementation '%s' (no %s; see dtbench list)",
                     impl, candidate);
        else
            snprintf(err, err_len, "unknown implementation '%s' (no %s; see dtbench list)", impl,
                     candidate);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "plugin %s is not a regular file", candidate);
        return -1;
    }
    char real[PATH_MAX];
    if (!realpath(candidate, real)) {
        snprintf(err, err_len, "cannot resolve %s: %s", candidate, strerror(errno));
        return -1;
    }
    if (strlen(real) >= path_len) {
        snprintf(err, err_len, "plugin path too long: %s", real);
        return -1;
    }
    snprintf(path, path_len, "%s", real);
    return 0;
}

/* dlerror() text on one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

static const char *missing_field(const dtb_plugin *t)
{
    if (!t->name || !t->name[0])
        return "name";
    if (!t->version || !t->version[0])
        return "version";
    if (!t->create)
        return "function create";
    if (!t->train_step)
        return "function train_step";
    if (!t->get_params)
        return "function get_params";
    if (!t->get_counters)
        return "function get_counters";
    if (!t->get_facts)
        return "function get_facts";
    if (!t->destroy)
        return "function destroy";
    /* A checkpoint capability promises both functions. */
    if ((t->caps & DTB_CAP_CHECKPOINT) && !DTB_PLUGIN_OPTIONAL(t, save_checkpoint))
        return "function save_checkpoint (it declares checkpoint)";
    if ((t->caps & DTB_CAP_CHECKPOINT) && !DTB_PLUGIN_OPTIONAL(t, load_checkpoint))
        return "function load_checkpoint (it declares checkpoint)";
    return NULL;
}

int plugin_is_ours(const char *path, const char *plugins_dir)
{
    const size_t n = strlen(plugins_dir);
    return n > 0 && strncmp(path, plugins_dir, n) == 0 && path[n] == '/' &&
           strchr(path + n + 1, '/') == NULL;
}

int plugin_caps_require(const char *name, const char *path, uint64_t caps,
                        uint64_t required_caps, char *err, size_t err_len)
{
    const uint64_t lacking = required_caps & ~caps;
    if (!lacking)
        return 0;
    char names[256];
    plugin_caps_format(lacking, names, sizeof names);
    snprintf(err, err_len, "plugin '%s' (%s) lacks capability %s", name, path, names);
    return -1;
}

/* <dtbench's plugins>/python/python-bridge.so, which runs .py modules. */
static int python_bridge_path(char *out, size_t out_len, char *err, size_t err_len)
{
    char dir[PATH_MAX];
    if (plugin_dir(dir, sizeof dir, err, err_len) != 0)
        return -1;
    int w = snprintf(out, out_len, "%s/" PLUGIN_PYTHON_BRIDGE, dir);
    if (w < 0 || (size_t)w >= out_len) {
        snprintf(err, err_len, "Python bridge path too long");
        return -1;
    }
    struct stat st;
    if (stat(out, &st) != 0) {
        snprintf(err, err_len, "this dtbench was built without the Python bridge (no %s; "
                 "CMake did not find Python's embedding library: install python3-dev)", out);
        return -1;
    }
    return 0;
}

/* Names the module for the bridge's entry point and picks up its traffic
 * counter (the bridge's private exports; see impl/python/bridge.c). */
static int python_bridge_prepare(void *handle, const char *module, int to_train,
                                 dtb_loaded_plugin *out, char *err, size_t err_len)
{
    void *set = dlsym(handle, "dtbench_bridge_set_module");
    void *traffic = dlsym(handle, "dtbench_bridge_traffic");
    if (!set || !traffic) {
        snprintf(err, err_len, "the Python bridge lacks its dtbench_bridge_* exports");
        return -1;
    }
    int (*set_module)(const char *, int);
    memcpy(&set_module, &set, sizeof set_module);
    memcpy(&out->traffic, &traffic, sizeof out->traffic);
    if (set_module(module, to_train) != 0) {
        snprintf(err, err_len, "Python module path too long: %s", module);
        return -1;
    }
    return 0;
}

static void python_bridge_refusal(void *handle, const char *module, char *err, size_t err_len)
{
    void *sym = dlsym(handle, "dtbench_bridge_error");
    const char *(*why)(void) = NULL;
    if (sym)
        memcpy(&why, &sym, sizeof why);
    const char *text = why ? why() : NULL;
    if (text && text[0])
        snprintf(err, err_len, "%s", text);
    else
        snprintf(err, err_len, "%s: the Python bridge could not load it", module);
}

static int load(const char *path, uint64_t required_caps, int to_train, dtb_loaded_plugin *out,
                char *err, size_t err_len);

int plugin_load(const char *path, uint64_t required_caps, dtb_loaded_plugin *out, char *err,
                size_t err_len)
{
    return load(path, required_caps, 0, out, err, err_len);
}

int plugin_load_to_train(const char *path, uint64_t required_caps, dtb_loaded_plugin *out,
                         char *err, size_t err_len)
{
    return load(path, required_caps, 1, out, err, err_len);
}

static int load(const char *path, uint64_t required_caps, int to_train, dtb_loaded_plugin *out,
                char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->path || path[0] != '/') {
        snprintf(err, err_len, "plugin path must be absolute and shorter than %d bytes: %s",
                 PATH_MAX, path);
        return -1;
    }
    const int python = ends_with(path, ".py");
    char bridge[PATH_MAX];
    if (python && python_bridge_path(bridge, sizeof bridge, err, err_len) != 0)
        return -1;
    const char *object = python ? bridge : path;
    dlerror();
    void *handle = dlopen(object, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        char msg[512];
        snprintf(msg, sizeof msg, "%s", why ? why : "unknown dlopen error");
        one_line(msg);
        snprintf(err, err_len, "%s is not a loadable shared object: %s", object, msg);
        return -1;
    }
    if (python && python_bridge_prepare(handle, path, to_train, out, err, err_len) != 0)
        return -1;
    /* ISO C forbids converting void* to a function pointer; copy the bits. */
    void *sym = dlsym(handle, DTB_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        snprintf(err, err_len, "%s is not a dtbench plugin (no symbol %s)", path,
                 DTB_PLUGIN_ENTRY_SYMBOL);
        return -1;
    }
    dtb_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const dtb_plugin *t = entry();
    if (!t && python) {
        python_bridge_refusal(handle, path, err, err_len);
        return -1;
    }
    if (!t) {
        snprintf(err, err_len, "%s: %s returned NULL", path, DTB_PLUGIN_ENTRY_SYMBOL);
        return -1;
    }
    /* Only the first field is common to every version's table. */
    const dtb_plugin_header *head = (const dtb_plugin_header *)(const void *)t;
    if (head->abi_version == 1) {
        snprintf(err, err_len, "%s: built for plugin ABI 1; this dtbench speaks ABI %u, which "
                 "added the stage and a model description (tensor table) to the run spec, the "
                 "clip coefficient to the step report, point-to-point counters, declared memory "
                 "allowances and struct_size in every struct: rebuild against "
                 "include/dtbench/plugin.h (docs/plugins.md)", path, (unsigned)DTB_ABI_VERSION);
        return -1;
    }
    if (head->abi_version != DTB_ABI_VERSION) {
        snprintf(err, err_len, "%s: built for plugin ABI %u, this dtbench speaks ABI %u", path,
                 (unsigned)head->abi_version, (unsigned)DTB_ABI_VERSION);
        return -1;
    }
    if (t->struct_size < DTB_PLUGIN_MIN_SIZE) {
        snprintf(err, err_len, "%s: plugin table of %u bytes is shorter than ABI %u's %zu "
                 "(set struct_size = sizeof(dtb_plugin))", path, (unsigned)t->struct_size,
                 (unsigned)DTB_ABI_VERSION, (size_t)DTB_PLUGIN_MIN_SIZE);
        return -1;
    }
    const char *missing = missing_field(t);
    if (missing) {
        snprintf(err, err_len, "%s: plugin table is missing %s", path, missing);
        return -1;
    }
    if (plugin_caps_require(t->name, path, t->caps, required_caps, err, err_len) != 0)
        return -1;
    out->table = t;
    out->handle = handle;
    snprintf(out->path, sizeof out->path, "%s", path);
    return 0;
}
