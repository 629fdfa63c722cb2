#include "results_db.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "results_schema.h"

/* The 16 bytes every SQLite 3 database file starts with. */
static const char SQLITE_HEADER[16] = "SQLite format 3";

/* Looks at the file before SQLite may: *exists, and for an existing file
 * that it is a regular file starting with the SQLite header (or empty, for
 * writing). */
static int check_file(const char *path, results_mode mode, int *exists, char *err,
                      size_t err_len)
{
    struct stat st;
    *exists = 0;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            snprintf(err, err_len, "cannot access %s: %s", path, strerror(errno));
            return -1;
        }
        if (mode == RESULTS_READ) {
            snprintf(err, err_len, "no results database %s (record a run first, or name one "
                     "with --db or DTBENCH_DB)", path);
            return -1;
        }
        return 0;
    }
    *exists = 1;
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s is not a regular file", path);
        return -1;
    }
    if (st.st_size == 0) {
        if (mode == RESULTS_READ) {
            snprintf(err, err_len, "%s is empty, not a dtbench results database", path);
            return -1;
        }
        return 0; /* an empty file is a new database, as SQLite itself treats it */
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char head[16];
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got != (ssize_t)sizeof head || memcmp(head, SQLITE_HEADER, sizeof head) != 0) {
        snprintf(err, err_len, "%s is not a SQLite database (refusing to touch it)", path);
        return -1;
    }
    if (mode == RESULTS_WRITE && access(path, W_OK) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The header fields decide whether this file is ours, new, or refused. */
static int validate_schema(const results_db *db, const results_schema_info *s, char *err,
                           size_t err_len)
{
    if (s->application_id != RESULTS_APPLICATION_ID &&
        (s->application_id != 0 || s->user_version != 0 || s->n_objects != 0)) {
        snprintf(err, err_len, "%s is a SQLite database but not a dtbench results database "
                 "(application_id %#llx, user_version %lld); refusing to touch it",
                 db->path, (unsigned long long)(uint32_t)s->application_id,
                 (long long)s->user_version);
        return -1;
    }
    if (s->user_version > RESULTS_SCHEMA_VERSION) {
        snprintf(err, err_len, "%s was written by a newer dtbench (results schema %lld, this "
                 "dtbench %s knows up to %d); refusing to touch it", db->path,
                 (long long)s->user_version, results_dtbench_version(), RESULTS_SCHEMA_VERSION);
        return -1;
    }
    if (db->mode == RESULTS_READ && s->user_version == 0) {
        snprintf(err, err_len, "%s holds no dtbench results (an empty database)", db->path);
        return -1;
    }
    return 0;
}

/* PRAGMA journal_mode=WAL needs a moment without other connections on a
 * new file: retried like a write. */
static int set_wal(results_db *db, char *err, size_t err_len)
{
    double start = results_clock_seconds();
    for (;;) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                const char *mode = (const char *)sqlite3_column_text(st, 0);
                int wal = mode && strcmp(mode, "wal") == 0;
                sqlite3_finalize(st);
                if (wal)
                    return 0;
                snprintf(err, err_len, "%s: cannot switch to WAL journal mode", db->path);
                return -1;
            }
        }
        sqlite3_finalize(st);
        if (!results_rc_busy(rc) ||
            (results_clock_seconds() - start) * 1000.0 >= db->timeout_ms) {
            results_error(db, rc, "setting WAL journal mode", err, err_len);
            return -1;
        }
        results_sleep_ms(10);
    }
}

/* Whether this process may write the file and its folder. SQLite's WAL mode
 * needs both for its -shm and -wal files, even to read. */
static int can_write_file_and_folder(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return 1; /* unknown: SQLite's ordinary path */
    int ok = access(path, W_OK) == 0 && access(dirname(copy), W_OK | X_OK) == 0;
    free(copy);
    return ok;
}

/* Whether PATH-wal exists with content: committed data that is not yet in
 * the database file itself. */
static int wal_holds_data(const char *path)
{
    char wal[4200];
    struct stat st;
    if (snprintf(wal, sizeof wal, "%s-wal", path) >= (int)sizeof wal)
        return 1;
    return stat(wal, &st) == 0 && st.st_size > 0;
}

/* "file:PATH?immutable=1" with PATH percent-encoded where a URI needs it. */
static int immutable_uri(const char *path, char *uri, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = (size_t)snprintf(uri, len, "file:%s", path[0] == '/' ? "//" : "");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (n + 4 >= len)
            return -1;
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x20 || *p >= 0x7f) {
            uri[n++] = '%';
            uri[n++] = hex[*p >> 4];
            uri[n++] = hex[*p & 15];
        } else {
            uri[n++] = (char)*p;
        }
    }
    return snprintf(uri + n, len - n, "?immutable=1") >= (int)(len - n) ? -1 : 0;
}

/* The name and flags SQLite opens path with. A read of a database whose
 * file or folder this process cannot write (a read-only mount, an archive,
 * another user's results), with no write-ahead data beside it, is opened
 * immutable: SQLite then reads the file alone and creates no -shm or -wal
 * (which it cannot, and without which a WAL database is unreadable). The
 * -wal is empty or absent only while no connection has the database open,
 * so no writer is running; one that starts during the read is the
 * remaining race, as for any reader without locks. */
static int open_name(const char *path, results_mode mode, int exists, char *name, size_t len,
                     int *flags)
{
    *flags = mode == RESULTS_READ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (mode == RESULTS_WRITE && !exists)
        *flags |= SQLITE_OPEN_CREATE;
    if (mode == RESULTS_READ && !can_write_file_and_folder(path) && !wal_holds_data(path)) {
        *flags |= SQLITE_OPEN_URI;
        return immutable_uri(path, name, len);
    }
    return snprintf(name, len, "%s", path) >= (int)len ? -1 : 0;
}

int results_open(const char *path, results_mode mode, int timeout_ms, results_db *out,
                 char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->mode = mode;
    out->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    if (!path || !*path) {
        snprintf(err, err_len, "the results database path is empty");
        return -1;
    }
    if (strlen(path) >= sizeof out->path) {
        snprintf(err, err_len, "the results database path is too long");
        return -1;
    }
    snprintf(out->path, sizeof out->path, "%s", path);
    int exists;
    if (check_file(path, mode, &exists, err, err_len))
        return -1;
    char name[3 * sizeof out->path + 32];
    int flags;
    if (open_name(path, mode, exists, name, sizeof name, &flags)) {
        snprintf(err, err_len, "the results database path is too long");
        return -1;
    }
    int rc = sqlite3_open_v2(name, &out->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (!exists)
            snprintf(err, err_len, "cannot create %s: %s", path,
                     out->db ? sqlite3_errmsg(out->db) : sqlite3_errstr(rc));
        else
            results_error(out, rc, "opening", err, err_len);
        results_close(out);
        return -1;
    }
    sqlite3_extended_result_codes(out->db, 1);
    sqlite3_busy_timeout(out->db, out->timeout_ms);
    results_schema_info info;
    if (results_schema_inspect(out, &info, err, err_len) || validate_schema(out, &info, err,
                                                                            err_len) ||
        results_exec(out, "PRAGMA foreign_keys=ON", "enabling foreign keys", err, err_len)) {
        results_close(out);
        return -1;
    }
    if (mode == RESULTS_READ) {
        if (info.user_version == RESULTS_SCHEMA_VERSION)
            return 0;
        /* An older dtbench's database: migrate it forward once, then read. */
        results_close(out);
        if (!can_write_file_and_folder(path)) {
            snprintf(err, err_len, "%s is from an older dtbench (results schema %lld, this one "
                     "reads %d): it must be migrated once, which needs write access to it and "
                     "its folder (read a writable copy)", path, (long long)info.user_version,
                     RESULTS_SCHEMA_VERSION);
            return -1;
        }
        results_db w;
        if (results_open(path, RESULTS_WRITE, timeout_ms, &w, err, err_len))
            return -1;
        results_close(&w);
        return results_open(path, RESULTS_READ, timeout_ms, out, err, err_len);
    }
    if (set_wal(out, err, err_len) || results_schema_migrate(out, err, err_len)) {
        results_close(out);
        return -1;
    }
    return 0;
}

void results_close(results_db *db)
{
    if (db->db) {
        sqlite3_close_v2(db->db);
        db->db = NULL;
    }
}
