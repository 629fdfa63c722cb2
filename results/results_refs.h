/*
 * References to runs, as every command takes them: a run id ("12"), a tag
 * name ("baseline"), or "latest" (the most recently started run). Tags are
 * names for runs; tagging an existing name moves it (like `git tag -f`).
 */
#ifndef DTB_RESULTS_REFS_H
#define DTB_RESULTS_REFS_H

#include <stddef.h>
#include <stdint.h>

#include "results_db.h"

/* The run a REF names; fails with "unknown run or tag 'x' ..." */
int results_resolve_ref(results_db *db, const char *ref, int64_t *run_id, char *err,
                        size_t err_len);

/* A tag name: 1..64 of [A-Za-z0-9._-], starting with a letter, not "latest"
 * (so a tag never reads as a run id or as latest). */
int results_tag_name_check(const char *name, char *err, size_t err_len);

/* Names run_id `name`. *previous is the run the name was on before, or 0. */
int results_tag(results_db *db, int64_t run_id, const char *name, int64_t *previous,
                char *err, size_t err_len);

#endif
