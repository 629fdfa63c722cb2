#include "staged_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many staging names to try when one is taken. */
#define STAGE_TRIES 100

/* 1 when path is a directory (not a link to one) holding no entries. */
static int is_empty_dir(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    DIR *dir = opendir(path);
    if (dir == NULL)
        return 0;
    int empty = 1;
    const struct dirent *e;
    while (empty && (e = readdir(dir)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(dir);
    return empty;
}

/* Splits d->final_path into parent and last name. */
static int split_final(const staged_dir *d, char *parent, size_t parent_len, const char **name,
                       char *err, size_t err_len)
{
    const char *slash = strrchr(d->final_path, '/');
    if (slash == NULL) {
        snprintf(parent, parent_len, ".");
        *name = d->final_path;
    } else {
        const size_t n = slash == d->final_path ? 1 : (size_t)(slash - d->final_path);
        snprintf(parent, parent_len, "%.*s", (int)n, d->final_path);
        *name = slash + 1;
    }
    if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) {
        snprintf(err, err_len, "%s does not name a new directory", d->final_path);
        return -1;
    }
    return 0;
}

int staged_dir_begin(staged_dir *d, const char *final_path, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    strvec_init(&d->dirs);
    strvec_init(&d->files);
    size_t n = strlen(final_path);
    while (n > 1 && final_path[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof d->final_path) {
        snprintf(err, err_len, "'%.200s' is not a usable directory path", final_path);
        return -1;
    }
    memcpy(d->final_path, final_path, n);
    d->final_path[n] = '\0';
    struct stat st;
    errno = 0;
    if (lstat(d->final_path, &st) == 0) {
        if (!is_empty_dir(d->final_path)) {
            snprintf(err, err_len, "%s exists and is not an empty directory", d->final_path);
            return -1;
        }
    } else if (errno != ENOENT) {
        snprintf(err, err_len, "%s: %s", d->final_path, strerror(errno));
        return -1;
    }
    char parent[PATH_MAX];
    const char *name;
    if (split_final(d, parent, sizeof parent, &name, err, err_len) != 0)
        return -1;
    for (int k = 0; k < STAGE_TRIES; k++) {
        const int w = snprintf(d->stage_path, sizeof d->stage_path, "%s/.%s.partial-%ld-%d",
                               parent, name, (long)getpid(), k);
        if (w < 0 || (size_t)w >= sizeof d->stage_path) {
            snprintf(err, err_len, "%s: path too long", d->final_path);
            return -1;
        }
        if (mkdir(d->stage_path, 0777) == 0) {
            d->active = 1;
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    snprintf(err, err_len, "cannot create a directory in %s: %s", parent, strerror(errno));
    return -1;
}

/* out = "<stage>/<rel[0..len)>"; -1 when it does not fit PATH_MAX. */
static int join(const staged_dir *d, const char *rel, size_t len, char *out)
{
    const int w = snprintf(out, PATH_MAX, "%s/%.*s", d->stage_path, (int)len, rel);
    return w < 0 || w >= PATH_MAX ? -1 : 0;
}

/* rel is relative and every part is a plain name. */
static int valid_rel(const char *rel)
{
    if (*rel == '\0' || *rel == '/')
        return 0;
    for (const char *p = rel; *p;) {
        const char *end = strchr(p, '/');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!end)
            break;
        p = end + 1;
        if (*p == '\0')
            return 0; /* trailing slash: no file name */
    }
    return 1;
}

/* Makes stage/rel[0..len) unless it exists (everything inside the staging
 * directory was made here, so an existing entry is one of our directories). */
static int make_dir(staged_dir *d, const char *rel, size_t len, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (join(d, rel, len, path) != 0) {
        snprintf(err, err_len, "%s/%.200s: path too long", d->stage_path, rel);
        return -1;
    }
    if (mkdir(path, 0777) != 0) {
        if (errno == EEXIST)
            return 0;
        snprintf(err, err_len, "cannot create directory %s: %s", path, strerror(errno));
        return -1;
    }
    strvec_pushf(&d->dirs, "%.*s", (int)len, rel);
    if (!strvec_ok(&d->dirs)) {
        rmdir(path);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

int staged_dir_path(staged_dir *d, const char *rel, char *out, size_t out_len, char *err,
                    size_t err_len)
{
    if (!d->active) {
        snprintf(err, err_len, "staged_dir_path: no staging directory");
        return -1;
    }
    if (!valid_rel(rel)) {
        snprintf(err, err_len, "staged_dir_path: '%.200s' is not a relative file path", rel);
        return -1;
    }
    char path[PATH_MAX];
    if (join(d, rel, strlen(rel), path) != 0 || strlen(path) >= out_len) {
        snprintf(err, err_len, "%s/%.200s: path too long", d->stage_path, rel);
        return -1;
    }
    for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/'))
        if (make_dir(d, rel, (size_t)(slash - rel), err, err_len) != 0)
            return -1;
    memcpy(out, path, strlen(path) + 1);
    strvec_push(&d->files, rel);
    if (!strvec_ok(&d->files)) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

int staged_dir_commit(staged_dir *d, char *err, size_t err_len)
{
    if (!d->active) {
        snprintf(err, err_len, "staged_dir_commit: no staging directory");
        return -1;
    }
    if (rename(d->stage_path, d->final_path) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            snprintf(err, err_len, "%s is no longer an empty directory", d->final_path);
        else
            snprintf(err, err_len, "cannot rename %s to %s: %s", d->stage_path, d->final_path,
                     strerror(errno));
        return -1;
    }
    d->active = 0;
    strvec_free(&d->dirs);
    strvec_free(&d->files);
    return 0;
}

void staged_dir_abort(staged_dir *d)
{
    if (d->active) {
        char path[PATH_MAX];
        /* Every recorded path fitted when it was recorded. */
        for (size_t i = d->files.n; i-- > 0;)
            if (join(d, d->files.items[i], strlen(d->files.items[i]), path) == 0)
                unlink(path); /* ENOENT: handed out but never created */
        /* A directory was recorded before any of its subdirectories. */
        for (size_t i = d->dirs.n; i-- > 0;)
            if (join(d, d->dirs.items[i], strlen(d->dirs.items[i]), path) == 0)
                rmdir(path);
        rmdir(d->stage_path);
        d->active = 0;
    }
    strvec_free(&d->dirs);
    strvec_free(&d->files);
}
