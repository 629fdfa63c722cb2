#include "results_refs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_NAME_MAX 64

/* "12" -> 12; 0 when text is not a plain positive decimal integer. */
static int64_t parse_id(const char *text)
{
    if (!*text || strlen(text) > 18)
        return 0;
    for (const char *p = text; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    return errno == 0 && v > 0 ? (int64_t)v : 0;
}

/* Runs `sql` with one optional text or integer parameter; *found and *id
 * from the first row's first column. */
static int lookup(results_db *db, const char *sql, const char *text, int64_t num, int *found,
                  int64_t *id, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    *found = 0;
    if (results_prepare(db, sql, &st, err, err_len))
        return -1;
    int b = SQLITE_OK;
    if (text)
        results_bind_text(st, 1, text, &b);
    else if (num)
        results_bind_int64(st, 1, num, &b);
    int rc = b == SQLITE_OK ? sqlite3_step(st) : b;
    if (rc == SQLITE_ROW) {
        *found = 1;
        *id = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_DONE) {
        results_error(db, rc, "looking up a run", err, err_len);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int results_resolve_ref(results_db *db, const char *ref, int64_t *run_id, char *err,
                        size_t err_len)
{
    int found = 0;
    if (!ref || !*ref) {
        snprintf(err, err_len, "an empty run reference (give a run id, a tag or latest)");
        return -1;
    }
    int64_t id = parse_id(ref);
    if (id > 0) {
        if (lookup(db, "SELECT id FROM runs WHERE id = ?1", NULL, id, &found, run_id, err,
                   err_len))
            return -1;
        if (!found) {
            snprintf(err, err_len, "unknown run %lld in %s (see dtbench runs)", (long long)id,
                     db->path);
            return -1;
        }
        return 0;
    }
    if (strcmp(ref, "latest") == 0) {
        if (lookup(db, "SELECT max(id) FROM runs HAVING count(*) > 0", NULL, 0, &found, run_id,
                   err, err_len))
            return -1;
        if (!found) {
            snprintf(err, err_len, "latest: %s holds no runs yet", db->path);
            return -1;
        }
        return 0;
    }
    if (lookup(db, "SELECT run_id FROM tags WHERE name = ?1", ref, 0, &found, run_id, err,
               err_len))
        return -1;
    if (!found) {
        snprintf(err, err_len, "unknown run or tag '%.64s' in %s (a run id, a tag or latest; "
                 "see dtbench runs)", ref, db->path);
        return -1;
    }
    return 0;
}

int results_tag_name_check(const char *name, char *err, size_t err_len)
{
    size_t n = strlen(name);
    int ok = n >= 1 && n <= TAG_NAME_MAX && isalpha((unsigned char)name[0]) &&
             strcmp(name, "latest") != 0;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        ok = isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
    }
    if (!ok) {
        snprintf(err, err_len, "tag: '%.64s%s' is not a tag name (1..%d of A-Z a-z 0-9 . _ -, "
                 "starting with a letter, not latest)", name, n > 64 ? "..." : "",
                 TAG_NAME_MAX);
        return -1;
    }
    return 0;
}

typedef struct tag_ctx {
    int64_t run_id;
    const char *name;
    int64_t previous;
} tag_ctx;

static int tag_body(results_db *db, void *ctx, char *err, size_t err_len)
{
    tag_ctx *t = ctx;
    int found = 0;
    t->previous = 0;
    if (lookup(db, "SELECT run_id FROM tags WHERE name = ?1", t->name, 0, &found, &t->previous,
               err, err_len))
        return -1;
    sqlite3_stmt *st;
    int r = results_prepare(db,
                            "INSERT INTO tags (name, run_id, tagged_at) VALUES (?1, ?2, "
                            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (name) DO "
                            "UPDATE SET run_id = excluded.run_id, tagged_at = excluded.tagged_at",
                            &st, err, err_len);
    if (r)
        return r;
    int b = SQLITE_OK;
    results_bind_text(st, 1, t->name, &b);
    results_bind_int64(st, 2, t->run_id, &b);
    r = results_step_done(db, st, b, "tagging", err, err_len);
    sqlite3_finalize(st);
    return r;
}

int results_tag(results_db *db, int64_t run_id, const char *name, int64_t *previous,
                char *err, size_t err_len)
{
    if (results_tag_name_check(name, err, err_len))
        return -1;
    tag_ctx t = {run_id, name, 0};
    if (results_write(db, tag_body, &t, err, err_len))
        return -1;
    *previous = t.previous;
    return 0;
}
