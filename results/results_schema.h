/*
 * The schema of the results database and its forward migrations. Version
 * N of the schema is what migrations 1..N build from an empty file, in
 * order; a database at version k < N runs migrations k+1..N, each in the
 * same transaction that sets PRAGMA user_version, so a migration is never
 * half applied and two processes migrating at once apply it once.
 */
#ifndef DTB_RESULTS_SCHEMA_H
#define DTB_RESULTS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "results_sql.h"

/* Schema versions: 1 runs/cases/checks/metrics/samples/tags; 2 runs.pid and
 * the case-key index; 3 the machine of every run (cores, BLAS and its
 * threads, MPI version). */
#define RESULTS_SCHEMA_VERSION 3
/* PRAGMA application_id of a dtbench results database: "DTB1". */
#define RESULTS_APPLICATION_ID 0x44544231

typedef struct results_schema_info {
    int64_t application_id;   /* PRAGMA application_id */
    int64_t user_version;     /* PRAGMA user_version: the schema version */
    int64_t n_objects;        /* rows of sqlite_master (tables, indexes) */
} results_schema_info;

/* Reads the three header facts (the first read of a file: a corrupt or
 * foreign file fails here, before anything is written). */
int results_schema_inspect(results_db *db, results_schema_info *out, char *err,
                           size_t err_len);

/* Brings a validated database to RESULTS_SCHEMA_VERSION (no-op when it is
 * there); sets the application_id on a new file. */
int results_schema_migrate(results_db *db, char *err, size_t err_len);

#endif
