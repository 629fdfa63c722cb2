/*
 * The results database: schema, recording, references and tags, forward
 * migration from schema 1, and refusals that leave the file untouched (a
 * newer dtbench's database, a text file, a corrupt file, another
 * application's SQLite file, a database locked beyond the timeout).
 */
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "results_test.h"

#include "results_refs.h"
#include "results_schema.h"

static void path_in(const char *dir, char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "raw_exec: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        exit(1);
    }
}

/* A new database, one run with two cases (one failing a check). */
static void make_db(const char *path, int64_t *run_id)
{
    results_db db;
    char err[1024] = "";
    CHECK(results_open(path, RESULTS_WRITE, 5000, &db, err, sizeof err) == 0);
    results_run_info info = test_run_info("ref-ddp");
    CHECK(results_run_begin(&db, &info, run_id, err, sizeof err) == 0);
    test_case a, b;
    test_case_make(&a, 0, "ddp mlp-odd sgd fp32 np=1 mb=3", 11, 1.0, 0, 20);
    test_case_make(&b, 1, "ddp mlp-odd sgd fp32 np=2 mb=3", 12, 1.0, 1, 20);
    CHECK(results_record_case(&db, *run_id, &a.c, err, sizeof err) == 0);
    CHECK(results_record_case(&db, *run_id, &b.c, err, sizeof err) == 0);
    CHECK(results_run_finish(&db, *run_id, 1, err, sizeof err) == 0);
    if (err[0])
        fprintf(stderr, "make_db: %s\n", err);
    results_close(&db);
}

static void test_fresh_schema(const char *dir)
{
    char path[4200], err[1024];
    path_in(dir, path, sizeof path, "fresh.db");
    int64_t run = 0;
    make_db(path, &run);
    CHECK(run == 1);
    sqlite3 *db = raw_open(path);
    CHECK(test_query_int(db, "PRAGMA user_version") == RESULTS_SCHEMA_VERSION);
    CHECK(test_query_int(db, "PRAGMA application_id") == RESULTS_APPLICATION_ID);
    CHECK(test_query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name "
                             "IN ('runs','cases','checks','metrics','samples','tags')") == 6);
    CHECK(test_query_int(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = "
                             "'pid'") == 1);
    CHECK(test_query_int(db, "SELECT count(*) FROM cases") == 2);
    CHECK(test_query_int(db, "SELECT count(*) FROM checks") == 6);
    CHECK(test_query_int(db, "SELECT count(*) FROM checks WHERE status = 'fail'") == 1);
    CHECK(test_query_int(db, "SELECT count(*) FROM metrics") == 4);
    CHECK(test_query_int(db, "SELECT count(*) FROM samples") == 44);
    CHECK(test_query_int(db, "SELECT count(*) FROM samples WHERE warmup = 1") == 4);
    CHECK(test_query_int(db, "SELECT count(*) FROM samples WHERE rank IS NULL") == 0);
    CHECK(test_query_int(db, "SELECT count(*) FROM runs WHERE status = 'complete' AND "
                             "ended_at IS NOT NULL AND git_dirty = 1") == 1);
    sqlite3_close(db);

    /* Through results_open: WAL on disk, foreign keys on the connection,
     * constraints enforced, children deleted with their run. */
    results_db r;
    CHECK(results_open(path, RESULTS_WRITE, 5000, &r, err, sizeof err) == 0);
    CHECK(test_query_int(r.db, "PRAGMA foreign_keys") == 1);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(r.db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW &&
          strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_exec(r.db, "INSERT INTO cases (run_id, case_index, case_key, label, suite, "
                             "impl, model, world_size, precision, stage, recipe, optimizer, "
                             "config, completed, seconds) VALUES (999, 0, 'k', 'l', 's', 'i', "
                             "'m', 1, 'fp32', 'ddp', 'r', 'o', '{}', 1, 1.0)",
                       NULL, NULL, NULL) != SQLITE_OK);
    CHECK(sqlite3_exec(r.db, "UPDATE runs SET status = 'bogus'", NULL, NULL, NULL) !=
          SQLITE_OK);
    /* finishing again changes nothing */
    CHECK(results_run_finish(&r, run, 0, err, sizeof err) == 0);
    CHECK(test_query_int(r.db, "SELECT count(*) FROM runs WHERE status = 'complete'") == 1);
    CHECK(sqlite3_exec(r.db, "DELETE FROM runs", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(test_query_int(r.db, "SELECT count(*) FROM samples") == 0);
    CHECK(test_query_int(r.db, "SELECT count(*) FROM checks") == 0);
    results_close(&r);
}

static void test_refs_and_tags(const char *dir)
{
    char path[4200], err[1024];
    path_in(dir, path, sizeof path, "refs.db");
    int64_t run1, run2, id = 0, previous = -1;
    make_db(path, &run1);
    make_db(path, &run2);
    CHECK(run2 == run1 + 1);
    results_db db;
    CHECK(results_open(path, RESULTS_WRITE, 5000, &db, err, sizeof err) == 0);
    CHECK(results_resolve_ref(&db, "1", &id, err, sizeof err) == 0 && id == run1);
    CHECK(results_resolve_ref(&db, "latest", &id, err, sizeof err) == 0 && id == run2);
    CHECK(results_resolve_ref(&db, "999", &id, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown run 999");
    CHECK(results_resolve_ref(&db, "nosuch", &id, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown run or tag 'nosuch'");
    CHECK(results_resolve_ref(&db, "", &id, err, sizeof err) == -1);
    CHECK(results_tag_name_check("base-1.0_x", err, sizeof err) == 0);
    CHECK(results_tag_name_check("latest", err, sizeof err) == -1);
    CHECK(results_tag_name_check("12", err, sizeof err) == -1);
    CHECK(results_tag_name_check("a b", err, sizeof err) == -1);
    CHECK(results_tag_name_check("", err, sizeof err) == -1);
    CHECK(results_tag(&db, run1, "baseline", &previous, err, sizeof err) == 0 && previous == 0);
    CHECK(results_resolve_ref(&db, "baseline", &id, err, sizeof err) == 0 && id == run1);
    CHECK(results_tag(&db, run2, "baseline", &previous, err, sizeof err) == 0 &&
          previous == run1);
    CHECK(results_resolve_ref(&db, "baseline", &id, err, sizeof err) == 0 && id == run2);
    CHECK(test_query_int(db.db, "SELECT count(*) FROM tags") == 1);
    results_close(&db);

    /* A reader cannot write. */
    CHECK(results_open(path, RESULTS_READ, 5000, &db, err, sizeof err) == 0);
    CHECK(results_tag(&db, run1, "other", &previous, err, sizeof err) == -1);
    results_close(&db);
}

/* Schema 1 as the first dtbench with a results database wrote it: kept
 * here verbatim, so that a change to the library's migrations cannot hide a
 * broken upgrade path. */
static const char SCHEMA_V1[] =
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT,"
    " status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete', "
    "'incomplete')), suite TEXT NOT NULL, impl TEXT NOT NULL, impl_version TEXT,"
    " backend TEXT NOT NULL, git_commit TEXT, git_dirty INTEGER CHECK (git_dirty IN (0, 1)),"
    " dtbench_version TEXT NOT NULL, host TEXT, cpu_model TEXT, gpu TEXT,"
    " command_line TEXT NOT NULL);"
    "CREATE TABLE cases (id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " case_index INTEGER NOT NULL CHECK (case_index >= 0), case_key TEXT NOT NULL,"
    " label TEXT NOT NULL, suite TEXT NOT NULL, impl TEXT NOT NULL, impl_version TEXT,"
    " model TEXT NOT NULL, world_size INTEGER NOT NULL CHECK (world_size >= 1),"
    " precision TEXT NOT NULL, stage TEXT NOT NULL, recipe TEXT NOT NULL,"
    " optimizer TEXT NOT NULL, config TEXT NOT NULL,"
    " completed INTEGER NOT NULL CHECK (completed IN (0, 1)), seconds REAL NOT NULL,"
    " UNIQUE (run_id, case_index));"
    "CREATE TABLE checks (case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, name TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'skip')), skip_reason TEXT,"
    " ratio REAL, ratio_where TEXT, diagnostics TEXT, PRIMARY KEY (case_id, seq))"
    " WITHOUT ROWID;"
    "CREATE TABLE metrics (id INTEGER PRIMARY KEY,"
    " case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE, name TEXT NOT NULL,"
    " unit TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('timing', 'exact')),"
    " better TEXT NOT NULL CHECK (better IN ('lower', 'higher')), UNIQUE (case_id, name));"
    "CREATE TABLE samples (metric_id INTEGER NOT NULL REFERENCES metrics(id) ON DELETE "
    "CASCADE, seq INTEGER NOT NULL, rep INTEGER, rank INTEGER, step INTEGER,"
    " warmup INTEGER NOT NULL DEFAULT 0 CHECK (warmup IN (0, 1)), value REAL NOT NULL,"
    " PRIMARY KEY (metric_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE tags (name TEXT PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, tagged_at TEXT NOT NULL);"
    "CREATE INDEX tags_by_run ON tags(run_id);"
    "PRAGMA application_id = 1146372657;"
    "PRAGMA user_version = 1;"
    "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z',"
    " 'complete', 'ddp', 'ref-ddp', '0.1.0', 'cpu', NULL, NULL, '0.1.0', 'old-host', NULL,"
    " NULL, 'dtbench run --suite ddp');"
    "INSERT INTO cases VALUES (1, 1, 0, 'ddp mlp-odd sgd fp32 np=1 mb=3', 'x', 'ddp',"
    " 'ref-ddp', '0.1.0', 'mlp-odd', 1, 'fp32', 'ddp', 'sgd', 'sgd', '{}', 1, 2.5);"
    "INSERT INTO checks VALUES (1, 0, 'completed', 'pass', NULL, NULL, NULL, NULL);"
    "INSERT INTO metrics VALUES (1, 1, 'step_seconds', 's', 'timing', 'lower');"
    "INSERT INTO samples VALUES (1, 0, 1, 0, 2, 0, 0.00125), (1, 1, 1, 0, 3, 0, 0.0013);"
    "INSERT INTO tags VALUES ('old', 1, '2026-01-01T00:02:00.000Z');";

static void test_migration_from_v1(const char *dir)
{
    char path[4200], err[1024];
    path_in(dir, path, sizeof path, "v1.db");
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, SCHEMA_V1);
    sqlite3_close(raw);

    /* A reader migrates forward once, then reads. */
    results_db db;
    int64_t id = 0;
    CHECK(results_open(path, RESULTS_READ, 5000, &db, err, sizeof err) == 0);
    CHECK(test_query_int(db.db, "PRAGMA user_version") == RESULTS_SCHEMA_VERSION);
    CHECK(test_query_int(db.db, "SELECT count(*) FROM runs WHERE pid IS NULL") == 1);
    CHECK(test_query_int(db.db, "SELECT count(*) FROM samples") == 2);
    CHECK(results_resolve_ref(&db, "old", &id, err, sizeof err) == 0 && id == 1);
    results_close(&db);

    /* And the migrated file takes new runs. */
    CHECK(results_open(path, RESULTS_WRITE, 5000, &db, err, sizeof err) == 0);
    results_run_info info = test_run_info("ref-ddp");
    CHECK(results_run_begin(&db, &info, &id, err, sizeof err) == 0 && id == 2);
    CHECK(test_query_int(db.db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                "'cases_by_key'") == 1);
    results_close(&db);
}

/* Opening `path` for reading and for writing both fail with `want` in the
 * message, and the file's bytes stay what they were. */
static void check_refused(const char *path, const char *want)
{
    size_t n;
    unsigned char *before = test_read_file(path, &n);
    CHECK(before != NULL);
    char err[1024] = "";
    results_db db;
    CHECK(results_open(path, RESULTS_WRITE, 1000, &db, err, sizeof err) == -1);
    CHECK_CONTAINS(err, want);
    CHECK(db.db == NULL);
    err[0] = '\0';
    CHECK(results_open(path, RESULTS_READ, 1000, &db, err, sizeof err) == -1);
    CHECK_CONTAINS(err, want);
    CHECK(test_file_is(path, before, n));
    free(before);
}

static void test_refusals(const char *dir)
{
    char path[4200], err[1024];
    results_db db;

    /* newer schema */
    path_in(dir, path, sizeof path, "newer.db");
    int64_t run;
    make_db(path, &run);
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "PRAGMA user_version = 99");
    sqlite3_close(raw);
    check_refused(path, "newer dtbench (results schema 99");

    /* a text file */
    path_in(dir, path, sizeof path, "notes.txt");
    const char text[] = "run_id,value\n1,0.5\n";
    test_write_file(path, text, sizeof text - 1);
    check_refused(path, "is not a SQLite database");

    /* a SQLite header followed by garbage */
    path_in(dir, path, sizeof path, "corrupt.db");
    unsigned char junk[8192];
    stats_rng rng = {20261123};
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(stats_rng_next(&rng) >> 56);
    memcpy(junk, "SQLite format 3", 16);
    test_write_file(path, junk, sizeof junk);
    size_t n;
    unsigned char *before = test_read_file(path, &n);
    CHECK(results_open(path, RESULTS_WRITE, 1000, &db, err, sizeof err) == -1);
    CHECK(strstr(err, "not a SQLite database") || strstr(err, "corrupt"));
    CHECK(results_open(path, RESULTS_READ, 1000, &db, err, sizeof err) == -1);
    CHECK(test_file_is(path, before, n));
    free(before);

    /* another application's database */
    path_in(dir, path, sizeof path, "other.db");
    raw = raw_open(path);
    raw_exec(raw, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    sqlite3_close(raw);
    check_refused(path, "not a dtbench results database");

    /* missing: a reader does not create it; a writer in a missing directory cannot */
    path_in(dir, path, sizeof path, "missing.db");
    CHECK(results_open(path, RESULTS_READ, 1000, &db, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no results database");
    CHECK(access(path, F_OK) != 0);
    path_in(dir, path, sizeof path, "no/such/dir/x.db");
    CHECK(results_open(path, RESULTS_WRITE, 1000, &db, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot create");

    /* an empty file: nothing to read, but a new database to a writer */
    path_in(dir, path, sizeof path, "empty.db");
    test_write_file(path, "", 0);
    CHECK(results_open(path, RESULTS_READ, 1000, &db, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is empty");
    CHECK(results_open(path, RESULTS_WRITE, 1000, &db, err, sizeof err) == 0);
    results_close(&db);
    CHECK(results_open(path, RESULTS_READ, 1000, &db, err, sizeof err) == 0);
    results_close(&db);

    /* a directory */
    CHECK(results_open(dir, RESULTS_WRITE, 1000, &db, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not a regular file");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Another connection holds the write lock for longer than the timeout:
 * recording fails with "locked", after about the timeout, and changes
 * nothing. */
static void test_locked(const char *dir)
{
    char path[4200], err[1024] = "";
    path_in(dir, path, sizeof path, "locked.db");
    int64_t run;
    make_db(path, &run);
    sqlite3 *holder = raw_open(path);
    raw_exec(holder, "BEGIN EXCLUSIVE");
    results_db db;
    CHECK(results_open(path, RESULTS_WRITE, 300, &db, err, sizeof err) == 0);
    results_run_info info = test_run_info("ref-ddp");
    double t0 = now_s();
    CHECK(results_run_begin(&db, &info, &run, err, sizeof err) == -1);
    double waited = now_s() - t0;
    CHECK_CONTAINS(err, "is locked by another process");
    CHECK(waited >= 0.25 && waited < 5.0);
    test_case tc;
    test_case_make(&tc, 5, "k", 3, 1.0, 0, 10);
    CHECK(results_record_case(&db, 1, &tc.c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is locked by another process");
    raw_exec(holder, "ROLLBACK");
    CHECK(test_query_int(holder, "SELECT count(*) FROM runs") == 1);
    CHECK(test_query_int(holder, "SELECT count(*) FROM cases") == 2);
    sqlite3_close(holder);
    /* once the lock is gone, the same connection records */
    CHECK(results_run_begin(&db, &info, &run, err, sizeof err) == 0 && run == 2);
    results_close(&db);
}

/* A run left 'running' by a process that no longer exists is marked
 * incomplete; one whose process lives is left alone. */
static void test_dead_runs(const char *dir)
{
    char path[4200], err[1024] = "", host[256] = "";
    path_in(dir, path, sizeof path, "dead.db");
    CHECK(gethostname(host, sizeof host - 1) == 0);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    CHECK(child > 0 && waitpid(child, NULL, 0) == child);
    results_db db;
    CHECK(results_open(path, RESULTS_WRITE, 5000, &db, err, sizeof err) == 0);
    results_run_info info = test_run_info("ref-ddp");
    info.host = host;
    int64_t dead, alive;
    info.pid = child;
    CHECK(results_run_begin(&db, &info, &dead, err, sizeof err) == 0);
    info.pid = getpid();
    CHECK(results_run_begin(&db, &info, &alive, err, sizeof err) == 0);
    char now[40];
    const time_t t = time(NULL) + 5;
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&t));
    CHECK(results_run_is_dead("running", host, child, now));
    CHECK(!results_run_is_dead("running", host, getpid(), now));
    CHECK(!results_run_is_dead("running", "some-other-host", child, now));
    /* This process started long after a run of 2001: had that run recorded
     * our pid, the pid was reused, and the run is dead. */
    CHECK(results_run_is_dead("running", host, getpid(), "2001-02-03T04:05:06.789Z"));
    CHECK(!results_run_is_dead("running", host, getpid(), "not a time"));
    int marked = -1;
    CHECK(results_mark_dead_runs(&db, host, &marked, err, sizeof err) == 0 && marked == 1);
    CHECK(test_query_int(db.db, "SELECT count(*) FROM runs WHERE status = 'incomplete'") == 1);
    CHECK(test_query_int(db.db, "SELECT id FROM runs WHERE status = 'running'") == alive);
    results_close(&db);
}

int main(void)
{
    char dir[4096];
    test_tmpdir(dir, sizeof dir);
    test_fresh_schema(dir);
    test_refs_and_tags(dir);
    test_migration_from_v1(dir);
    test_refusals(dir);
    test_locked(dir);
    test_dead_runs(dir);
    test_rmdir(dir);
    return check_report("results_unit_schema");
}
