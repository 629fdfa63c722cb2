/* plugin_dir_for: a build tree's <exe dir>/plugins wins; an installed
 * tree's <exe dir>/DTB_PLUGIN_INSTALL_RELDIR (../lib/dtbench/plugins by
 * default) is the fallback, reported resolved; with neither, errors name
 * <exe dir>/plugins. In a fresh temporary directory. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plugin_loader.h"

/* Directories made, to remove them in reverse order. */
static char made[16][PATH_MAX + 64];
static int n_made;

/* mkdir -p of an absolute path (components may be ".."). */
static void make_dirs(const char *path)
{
    char part[PATH_MAX + 64];
    snprintf(part, sizeof part, "%s", path);
    for (char *p = part + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        const char saved = *p;
        *p = '\0';
        struct stat st;
        if (stat(part, &st) != 0) {
            CHECK(mkdir(part, 0755) == 0 && n_made < 16);
            if (n_made < 16)
                snprintf(made[n_made++], sizeof made[0], "%s", part);
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
}

static void expect_dir(const char *exe_dir, const char *want)
{
    char out[PATH_MAX], err[256];
    CHECK(plugin_dir_for(exe_dir, out, sizeof out, err, sizeof err) == 0);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "plugin_dir_for(%s) = %s, want %s\n", exe_dir, out, want);
        check_failures++;
    }
}

int main(void)
{
    char tmpl[] = "/tmp/dtbench-plugin-dir-XXXXXX", base[PATH_MAX];
    char exe_dir[PATH_MAX + 8], build_dir[PATH_MAX + 16], installed[PATH_MAX + 64];
    char resolved[PATH_MAX];
    CHECK(mkdtemp(tmpl) != NULL);
    CHECK(realpath(tmpl, base) != NULL);
    snprintf(exe_dir, sizeof exe_dir, "%s/bin", base);
    snprintf(build_dir, sizeof build_dir, "%s/plugins", exe_dir);
    snprintf(installed, sizeof installed, "%s/%s", exe_dir, DTB_PLUGIN_INSTALL_RELDIR);
    make_dirs(exe_dir);

    expect_dir(exe_dir, build_dir); /* neither exists: the build-tree name */

    make_dirs(installed);
    CHECK(realpath(installed, resolved) != NULL);
    CHECK(strstr(resolved, "/../") == NULL);
    expect_dir(exe_dir, resolved); /* installed: bin/../lib/dtbench/plugins, resolved */

    make_dirs(build_dir);
    expect_dir(exe_dir, build_dir); /* a build tree's own folder wins */

    /* A path that does not fit is an error, not a truncated directory. */
    char small[8], err[256];
    CHECK(plugin_dir_for(exe_dir, small, sizeof small, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "too long");
    CHECK(rmdir(build_dir) == 0);
    CHECK(plugin_dir_for(exe_dir, small, sizeof small, err, sizeof err) != 0);
    CHECK(mkdir(build_dir, 0755) == 0);

    while (n_made > 0)
        CHECK(rmdir(made[--n_made]) == 0);
    CHECK(rmdir(base) == 0);
    return check_report("test_harness_plugin_dir");
}
