/*
 * Loading and vetting a plugin in a child process, for commands that must
 * survive whatever the plugin does while it loads: its constructors and its
 * dtbench_plugin_entry run in a forked child (plugin_load there, with no
 * required capabilities), which sends what the table declares back over a
 * pipe and ends with _exit. A child that crashes, calls exit(), hangs past
 * the deadline or sends a malformed reply is one line in err; the calling
 * process never dlopens the plugin.
 *
 * Invariants: on return the child has been reaped (killed with SIGKILL at
 * the deadline first), both pipe ends are closed, and the caller's stdio
 * buffers were flushed before the fork (so a child that calls exit() does
 * not write them a second time). The child's stdout and stderr go to
 * /dev/null: whatever a plugin or a sanitizer prints while loading cannot
 * break the caller's one-line error. Call it while no other thread of the
 * process holds a lock the child needs (malloc, the dynamic loader): in
 * dtbench, from a command before it starts any work of its own.
 */
#ifndef DTB_HARNESS_PLUGIN_PROBE_H
#define DTB_HARNESS_PLUGIN_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* What a plugin's table declares, copied out of the child (strings
 * truncated to their buffers, always terminated). */
typedef struct plugin_probe {
    char name[128];
    char version[128];
    char description[512];
    uint32_t abi_version;
    uint32_t struct_size;          /* the table's, as the plugin was built */
    uint64_t caps;                 /* DTB_CAP_* */
    int has_get_compute_params;    /* the optional function is provided */
    int has_checkpoint;            /* save_checkpoint and load_checkpoint are provided */
} plugin_probe;

/* Loads the plugin at `path` (absolute, as plugin_resolve gives it) in a
 * child and vets it like plugin_load with no capability required. Returns 0
 * and fills out, or -1 with one line in err: the loader's refusal, or what
 * became of the child ("crashed while loading: killed by signal 11 ...",
 * "ended the process while loading: exit(0) ...", "did not finish loading
 * within 10 s"; in a sanitizer build a fault is the sanitizer's exit(1), and
 * the message says it may be either). timeout_s > 0. */
int plugin_probe_load(const char *path, double timeout_s, plugin_probe *out, char *err,
                      size_t err_len);

/* plugin_probe_load, then the capability check of plugin_load: the
 * plugin's caps must include required_caps (the same one-line refusal).
 * What the commands use to vet a plugin before any case: the harness
 * process never runs plugin code. */
#define PLUGIN_PROBE_TIMEOUT_S 10.0
int plugin_probe_vet(const char *path, uint64_t required_caps, plugin_probe *out, char *err,
                     size_t err_len);

#endif
