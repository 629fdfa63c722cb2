/*
 * core/staged_dir.h: a directory appears at its final path complete (after
 * commit) or not at all (after abort, or while being written), refuses a
 * final path that holds anything, and removes exactly what it made.
 *
 * Usage: trajectory_unit_staged_dir (works in a fresh directory under $TMPDIR)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/check.h"
#include "staged_dir.h"

static char root[512];

/* Entries of dir other than "." and ".."; -1 if it cannot be read. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wx");
    if (!f)
        return -1;
    const int bad = fputs(text, f) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Stages three files in nested directories. */
static int stage_files(staged_dir *d)
{
    char path[PATH_MAX], err[512];
    const char *rels[] = {"recipe.json", "step0001/micro0/x.npy", "step0001/micro1/x.npy",
                          "step0001/params.npy", "step0002/micro0/x.npy"};
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++) {
        if (staged_dir_path(d, rels[i], path, sizeof path, err, sizeof err) != 0 ||
            write_text(path, rels[i]) != 0) {
            fprintf(stderr, "staging %s: %s\n", rels[i], err);
            return -1;
        }
    }
    /* Handed out, never created: abort must not mind. */
    return staged_dir_path(d, "step0002/never.npy", path, sizeof path, err, sizeof err);
}

static void test_commit_new(void)
{
    char final[600], err[512] = "", path[PATH_MAX];
    snprintf(final, sizeof final, "%s/new", root);
    staged_dir d;
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == 0);
    CHECK(is_dir(d.stage_path) && strstr(d.stage_path, "/.new.partial-") != NULL);
    CHECK(stage_files(&d) == 0);
    CHECK(access(final, F_OK) != 0); /* nothing at the final path while writing */
    CHECK(staged_dir_commit(&d, err, sizeof err) == 0);
    CHECK(access(d.stage_path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/step0001/micro1/x.npy", final);
    CHECK(access(path, F_OK) == 0);
    CHECK(count_entries(final) == 3);   /* recipe.json, step0001, step0002 */
    CHECK(count_entries(root) == 1);    /* no staging directory left */
    staged_dir_abort(&d);               /* after commit: frees only */
    CHECK(count_entries(final) == 3);
}

static void test_commit_onto_empty(void)
{
    char final[600], err[512] = "", path[PATH_MAX];
    snprintf(final, sizeof final, "%s/empty", root);
    CHECK(mkdir(final, 0777) == 0);
    staged_dir d;
    char given[620];
    snprintf(given, sizeof given, "%s//", final); /* trailing slashes are dropped */
    CHECK(staged_dir_begin(&d, given, err, sizeof err) == 0);
    CHECK(strcmp(d.final_path, final) == 0);
    CHECK(stage_files(&d) == 0);
    CHECK(count_entries(final) == 0);
    CHECK(staged_dir_commit(&d, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/recipe.json", final);
    CHECK(access(path, F_OK) == 0);
    staged_dir_abort(&d);
}

static void test_abort(void)
{
    char final[600], err[512] = "";
    snprintf(final, sizeof final, "%s/aborted", root);
    const int before = count_entries(root);
    staged_dir d;
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == 0);
    CHECK(stage_files(&d) == 0);
    staged_dir_abort(&d);
    CHECK(access(final, F_OK) != 0);
    CHECK(count_entries(root) == before);
    staged_dir_abort(&d); /* twice is harmless */
}

static void test_refusals(void)
{
    char final[600], err[512] = "", path[PATH_MAX];
    staged_dir d;
    const int before = count_entries(root);
    /* A non-empty directory (the committed one), a file, a link to an empty
     * directory, a missing parent, a parent that is a file, a bad name. */
    snprintf(final, sizeof final, "%s/new", root);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "exists and is not an empty directory");
    staged_dir_abort(&d);
    snprintf(final, sizeof final, "%s/new/recipe.json", root);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "exists and is not an empty directory");
    snprintf(path, sizeof path, "%s/hollow", root);
    CHECK(mkdir(path, 0777) == 0);
    snprintf(final, sizeof final, "%s/link", root);
    CHECK(symlink(path, final) == 0);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "exists and is not an empty directory");
    snprintf(final, sizeof final, "%s/missing/out", root);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot create a directory in");
    CHECK_CONTAINS(err, "No such file or directory");
    snprintf(final, sizeof final, "%s/new/recipe.json/out", root);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "Not a directory");
    CHECK(staged_dir_begin(&d, "", err, sizeof err) == -1);
    snprintf(final, sizeof final, "%s/..", root);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == -1);
    CHECK(count_entries(root) == before + 2); /* hollow and link, made here */
    snprintf(final, sizeof final, "%s/link", root);
    CHECK(unlink(final) == 0);
    CHECK(rmdir(path) == 0);

    /* Paths inside: relative, plain names only. */
    snprintf(final, sizeof final, "%s/paths", root);
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == 0);
    const char *bad[] = {"", "/abs", "a/../b", "a//b", "a/", "./a", "a/.", ".."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(staged_dir_path(&d, bad[i], path, sizeof path, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "is not a relative file path");
    }
    CHECK(staged_dir_path(&d, "a/b.npy", path, 8, err, sizeof err) == -1); /* out too small */
    staged_dir_abort(&d);
    CHECK(count_entries(root) == before);
    CHECK(staged_dir_path(&d, "a.npy", path, sizeof path, err, sizeof err) == -1);
    CHECK(staged_dir_commit(&d, err, sizeof err) == -1);
}

/* The final path fills up while the staging directory is written: commit
 * refuses, abort removes the staging directory, the intruder stays. */
static void test_commit_race(void)
{
    char final[600], err[512] = "", path[PATH_MAX];
    snprintf(final, sizeof final, "%s/race", root);
    staged_dir d;
    CHECK(staged_dir_begin(&d, final, err, sizeof err) == 0);
    CHECK(stage_files(&d) == 0);
    CHECK(mkdir(final, 0777) == 0);
    snprintf(path, sizeof path, "%s/theirs.txt", final);
    CHECK(write_text(path, "theirs") == 0);
    CHECK(staged_dir_commit(&d, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is no longer an empty directory");
    CHECK(is_dir(d.stage_path));
    staged_dir_abort(&d);
    CHECK(count_entries(final) == 1);
    CHECK(unlink(path) == 0 && rmdir(final) == 0);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    const struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (is_dir(path))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/dtbench-staged-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_commit_new();
    test_commit_onto_empty();
    test_abort();
    test_refusals();
    test_commit_race();
    remove_tree(root);
    return check_report("trajectory_unit_staged_dir");
}
