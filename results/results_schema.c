#include "results_schema.h"

#include <stdio.h>

/*
 * Migration 1: the results model.
 *  runs     one `dtbench run`: when, what code (commit, dirty tree, dtbench
 *           version), where (host, CPU, GPU, backend), the command line,
 *           and its status: running until it ends; complete when every
 *           planned case was recorded; incomplete when it was interrupted.
 *  cases    one planned case of a run; case_key (suite, model, recipe,
 *           world size, micro-batches) matches cases across runs and
 *           implementations; config is the case's full configuration (JSON).
 *  checks   one TAP test point of a case: name, pass/fail/skip, the worst
 *           error/tolerance ratio and the YAML diagnostics.
 *  metrics  one measured quantity of a case: name, unit, 'timing' (noisy:
 *           compared with statistics) or 'exact' (deterministic counters
 *           and memory), and which direction is better.
 *  samples  every repetition of a metric (rank, step and world run 1 or 2
 *           where they apply); warm-up samples are kept but flagged.
 *  tags     names for runs (baselines).
 * Every child row is deleted with its parent (ON DELETE CASCADE).
 */
static const char MIGRATION_1[] =
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  status TEXT NOT NULL DEFAULT 'running'"
    "    CHECK (status IN ('running', 'complete', 'incomplete')),"
    "  suite TEXT NOT NULL,"
    "  impl TEXT NOT NULL,"
    "  impl_version TEXT,"
    "  backend TEXT NOT NULL,"
    "  git_commit TEXT,"
    "  git_dirty INTEGER CHECK (git_dirty IN (0, 1)),"
    "  dtbench_version TEXT NOT NULL,"
    "  host TEXT,"
    "  cpu_model TEXT,"
    "  gpu TEXT,"
    "  command_line TEXT NOT NULL"
    ");"
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  case_index INTEGER NOT NULL CHECK (case_index >= 0),"
    "  case_key TEXT NOT NULL,"
    "  label TEXT NOT NULL,"
    "  suite TEXT NOT NULL,"
    "  impl TEXT NOT NULL,"
    "  impl_version TEXT,"
    "  model TEXT NOT NULL,"
    "  world_size INTEGER NOT NULL CHECK (world_size >= 1),"
    "  precision TEXT NOT NULL,"
    "  stage TEXT NOT NULL,"
    "  recipe TEXT NOT NULL,"
    "  optimizer TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  completed INTEGER NOT NULL CHECK (completed IN (0, 1)),"
    "  seconds REAL NOT NULL,"
    "  UNIQUE (run_id, case_index)"
    ");"
    "CREATE TABLE checks ("
    "  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'skip')),"
    "  skip_reason TEXT,"
    "  ratio REAL,"
    "  ratio_where TEXT,"
    "  diagnostics TEXT,"
    "  PRIMARY KEY (case_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE metrics ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  unit TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('timing', 'exact')),"
    "  better TEXT NOT NULL CHECK (better IN ('lower', 'higher')),"
    "  UNIQUE (case_id, name)"
    ");"
    "CREATE TABLE samples ("
    "  metric_id INTEGER NOT NULL REFERENCES metrics(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  rep INTEGER,"
    "  rank INTEGER,"
    "  step INTEGER,"
    "  warmup INTEGER NOT NULL DEFAULT 0 CHECK (warmup IN (0, 1)),"
    "  value REAL NOT NULL,"
    "  PRIMARY KEY (metric_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE tags ("
    "  name TEXT PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  tagged_at TEXT NOT NULL"
    ");"
    "CREATE INDEX tags_by_run ON tags(run_id);";

/* Migration 2: the process id of a run, so that a run whose process died
 * without marking itself (SIGKILL, power loss) is recognised as incomplete;
 * and an index for matching cases across runs by key. */
static const char MIGRATION_2[] =
    "ALTER TABLE runs ADD COLUMN pid INTEGER;"
    "CREATE INDEX cases_by_key ON cases(case_key);";

/* Migration 3: the machine a run measured on, beside cpu_model: online cores,
 * the BLAS (library, build and core), the BLAS threads each rank runs with,
 * and the MPI library's version line. NULL where unknown (older runs). */
static const char MIGRATION_3[] =
    "ALTER TABLE runs ADD COLUMN cpu_cores INTEGER;"
    "ALTER TABLE runs ADD COLUMN blas TEXT;"
    "ALTER TABLE runs ADD COLUMN blas_threads INTEGER;"
    "ALTER TABLE runs ADD COLUMN mpi_version TEXT;";

static const char *const MIGRATIONS[RESULTS_SCHEMA_VERSION] = {MIGRATION_1, MIGRATION_2,
                                                                MIGRATION_3};

/* The three facts in one statement, so in one read transaction: read one by
 * one, a process creating the file between the reads would show a
 * half-made header (user_version set, application_id not yet) and the file
 * would be refused as foreign. */
static int inspect(results_db *db, results_schema_info *out, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    int r = results_prepare(db,
                            "SELECT (SELECT application_id FROM pragma_application_id), "
                            "(SELECT user_version FROM pragma_user_version), "
                            "(SELECT count(*) FROM sqlite_master)",
                            &st, err, err_len);
    if (r)
        return r;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        results_error(db, rc, "reading the schema version", err, err_len);
        sqlite3_finalize(st);
        return results_rc_busy(rc) ? RESULTS_RETRY : -1;
    }
    out->application_id = sqlite3_column_int64(st, 0);
    out->user_version = sqlite3_column_int64(st, 1);
    out->n_objects = sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    return 0;
}

int results_schema_inspect(results_db *db, results_schema_info *out, char *err,
                           size_t err_len)
{
    return inspect(db, out, err, err_len) ? -1 : 0;
}

static int migrate_body(results_db *db, void *ctx, char *err, size_t err_len)
{
    (void)ctx;
    results_schema_info info;
    int r = inspect(db, &info, err, err_len);
    if (r)
        return r;
    /* Re-checked inside the write lock: another process may have created
     * or migrated the file since results_open validated it. */
    if (info.user_version > RESULTS_SCHEMA_VERSION) {
        snprintf(err, err_len, "%s was written by a newer dtbench (results schema %lld)",
                 db->path, (long long)info.user_version);
        return -1;
    }
    for (int64_t v = info.user_version; v < RESULTS_SCHEMA_VERSION; v++) {
        char what[64], set_version[64];
        snprintf(what, sizeof what, "migrating to results schema %lld", (long long)v + 1);
        if ((r = results_exec(db, MIGRATIONS[v], what, err, err_len)))
            return r;
        snprintf(set_version, sizeof set_version, "PRAGMA user_version = %lld",
                 (long long)v + 1);
        if ((r = results_exec(db, set_version, what, err, err_len)))
            return r;
    }
    if (info.application_id != RESULTS_APPLICATION_ID) {
        char set_id[64];
        snprintf(set_id, sizeof set_id, "PRAGMA application_id = %d", RESULTS_APPLICATION_ID);
        if ((r = results_exec(db, set_id, "setting the application id", err, err_len)))
            return r;
    }
    return 0;
}

int results_schema_migrate(results_db *db, char *err, size_t err_len)
{
    results_schema_info info;
    if (results_schema_inspect(db, &info, err, err_len))
        return -1;
    if (info.user_version == RESULTS_SCHEMA_VERSION &&
        info.application_id == RESULTS_APPLICATION_ID)
        return 0;
    return results_write(db, migrate_body, NULL, err, err_len);
}
