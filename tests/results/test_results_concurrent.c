/*
 * Two processes record into the same database at the same time, from its
 * creation on (both race to create and migrate it): both succeed and no row
 * is lost. Each writer records WRITER_RUNS runs of CASES cases, one
 * transaction per case as dtbench does, while a third process reads.
 */
#include <sys/wait.h>

#include "results_test.h"

#include "results_compare.h"
#include "results_refs.h"

#define WRITERS 2
#define WRITER_RUNS 4
#define CASES 10
#define STEPS 40

/* Waits for the start signal (the pipe closing), then writes. */
static int writer(const char *path, int start_fd, int who)
{
    char buf;
    while (read(start_fd, &buf, 1) > 0) {
    }
    close(start_fd);
    results_db db;
    char err[1024];
    if (results_open(path, RESULTS_WRITE, 30000, &db, err, sizeof err)) {
        fprintf(stderr, "writer %d: %s\n", who, err);
        return 1;
    }
    char impl[32];
    snprintf(impl, sizeof impl, "writer-%d", who);
    results_run_info info = test_run_info(impl);
    for (int r = 0; r < WRITER_RUNS; r++) {
        int64_t run;
        if (results_run_begin(&db, &info, &run, err, sizeof err)) {
            fprintf(stderr, "writer %d: %s\n", who, err);
            results_close(&db);
            return 1;
        }
        for (int c = 0; c < CASES; c++) {
            test_case tc;
            char key[64];
            snprintf(key, sizeof key, "ddp case %d", c);
            test_case_make(&tc, c, key, (uint64_t)(1000 * who + 10 * r + c + 1), 1.0, 0, STEPS);
            tc.c.impl = impl;
            if (results_record_case(&db, run, &tc.c, err, sizeof err)) {
                fprintf(stderr, "writer %d: %s\n", who, err);
                results_close(&db);
                return 1;
            }
        }
        if (results_run_finish(&db, run, 1, err, sizeof err)) {
            fprintf(stderr, "writer %d: %s\n", who, err);
            results_close(&db);
            return 1;
        }
    }
    results_close(&db);
    return 0;
}

/* Compares whatever is there while the writers work. */
static int reader(const char *path, int start_fd)
{
    char buf;
    while (read(start_fd, &buf, 1) > 0) {
    }
    close(start_fd);
    int compared = 0;
    for (int i = 0; i < 200 && compared < 20; i++) {
        results_db db;
        char err[1024];
        usleep(5000);
        if (results_open(path, RESULTS_READ, 30000, &db, err, sizeof err))
            continue; /* not created yet */
        int64_t base, head;
        stats_policy pol;
        stats_policy_default(&pol);
        results_comparison cmp;
        if (results_resolve_ref(&db, "1", &base, err, sizeof err) == 0 &&
            results_resolve_ref(&db, "latest", &head, err, sizeof err) == 0) {
            if (results_compare(&db, base, head, &pol, &cmp, err, sizeof err)) {
                fprintf(stderr, "reader: %s\n", err);
                results_close(&db);
                return 1;
            }
            results_comparison_free(&cmp);
            compared++;
        }
        results_close(&db);
    }
    return 0;
}

int main(void)
{
    char dir[4096], path[4200];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/shared.db", dir);
    int start[2];
    CHECK(pipe(start) == 0);
    pid_t pids[WRITERS + 1];
    for (int w = 0; w <= WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            close(start[1]);
            _exit(w < WRITERS ? writer(path, start[0], w) : reader(path, start[0]));
        }
        CHECK(pids[w] > 0);
    }
    close(start[0]);
    close(start[1]); /* go */
    for (int w = 0; w <= WRITERS; w++) {
        int status = 0;
        CHECK(waitpid(pids[w], &status, 0) == pids[w]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    long long runs = WRITERS * WRITER_RUNS, cases = runs * CASES;
    CHECK(test_query_int(db, "SELECT count(*) FROM runs") == runs);
    CHECK(test_query_int(db, "SELECT count(*) FROM runs WHERE status = 'complete'") == runs);
    CHECK(test_query_int(db, "SELECT count(*) FROM cases") == cases);
    CHECK(test_query_int(db, "SELECT count(*) FROM checks") == 3 * cases);
    CHECK(test_query_int(db, "SELECT count(*) FROM metrics") == 2 * cases);
    CHECK(test_query_int(db, "SELECT count(*) FROM samples") == (STEPS + 2) * cases);
    CHECK(test_query_int(db, "SELECT count(DISTINCT impl) FROM runs") == WRITERS);
    /* each run holds exactly its own cases */
    CHECK(test_query_int(db, "SELECT count(*) FROM (SELECT run_id FROM cases GROUP BY run_id "
                             "HAVING count(*) = 10 AND min(impl) = max(impl))") == runs);
    CHECK(test_query_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE "
                             "integrity_check = 'ok'") == 1);
    sqlite3_close(db);
    test_rmdir(dir);
    return check_report("results_unit_concurrent");
}
