/*
 * A directory that appears at its final path complete or not at all.
 *
 * staged_dir_begin checks that the final path does not exist or is an empty
 * directory, and creates a staging directory beside it (same parent, so the
 * same file system): "<parent>/.<name>.partial-<pid>-<n>", whose name says
 * it is incomplete. Files are written inside it (staged_dir_path makes their
 * parent directories); staged_dir_commit renames it onto the final path in
 * one rename(2), which replaces an empty directory atomically and fails on
 * one that is no longer empty. staged_dir_abort removes what the staging
 * directory was asked to hold (every path staged_dir_path handed out and
 * every directory it made, nothing else) and the staging directory itself.
 *
 * Invariant: until commit succeeds the final path is untouched; after
 * abort nothing this module created remains. A process killed in between
 * leaves only the ".partial-" directory.
 */
#ifndef DTB_HARNESS_STAGED_DIR_H
#define DTB_HARNESS_STAGED_DIR_H

#include <limits.h>
#include <stddef.h>

#include "strvec.h"

typedef struct staged_dir {
    char final_path[PATH_MAX]; /* without trailing slashes */
    char stage_path[PATH_MAX]; /* the staging directory */
    strvec dirs;               /* relative directories made inside it, in order */
    strvec files;              /* relative file paths handed out, in order */
    int active;                /* 1 between a successful begin and commit/abort */
} staged_dir;

/* 0, or -1 with a one-line message naming the path: it exists and is not an
 * empty directory, its parent is missing or not writable, or out of memory. */
int staged_dir_begin(staged_dir *d, const char *final_path, char *err, size_t err_len);

/* The path of `rel` ("a/b/c.npy": relative, no "." or ".." parts, no empty
 * parts) inside the staging directory, into out; makes its parent
 * directories. The caller creates the file. 0, or -1 with a message. */
int staged_dir_path(staged_dir *d, const char *rel, char *out, size_t out_len, char *err,
                    size_t err_len);

/* Renames the staging directory onto the final path. 0, or -1 with a
 * message (the staging directory is then still there: call abort). */
int staged_dir_commit(staged_dir *d, char *err, size_t err_len);

/* Removes the staging directory and what it holds (see above); frees d's
 * lists. Safe after a failed begin, after commit (then only frees), twice. */
void staged_dir_abort(staged_dir *d);

#endif
