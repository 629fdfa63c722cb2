/* The comm result file: a round trip keeps every field; every truncation of
 * a valid file, garbage and each kind of bad line is refused with one line
 * naming the problem. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/check.h"
#include "comm_ops.h"
#include "comm_result.h"

static char dir[256];

static void path_of(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(text, 1, n, f) == n);
    fclose(f);
}

static char *read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    *n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

/* A result of two sweep cases and a replay, with a wrong element in one. */
static void make_result(comm_result *r)
{
    CHECK(comm_result_alloc(r, 4, 3, 2, 5) == 0);
    for (int i = 0; i < 3; i++) {
        comm_result_case *c = &r->cases[i];
        c->op = i == 2 ? COMM_RESULT_REPLAY : DTB_COLL_ALLGATHER;
        c->side = i == 1 ? COMM_SIDE_MPI : COMM_SIDE_DTBENCH;
        c->elements = i == 2 ? 0 : 256;
        c->bytes = i == 2 ? 123456 : 4096;
        c->calls = i == 2 ? 7 : 1;
        for (int k = 0; k < 7; k++)
            c->seconds[k] = 1e-6 * (k + 1) + 1.0 / 3.0 * 1e-7 * i;
        c->checked = 7 * 4 * 1024;
        if (i == 1) {
            c->wrong = 3;
            c->bad_rank = 2;
            c->bad_rep = 4;
            c->bad_index = 1023;
            c->expected = 2.625;
            c->got = NAN;
        }
    }
}

static void test_round_trip(void)
{
    comm_result r, back;
    make_result(&r);
    char path[300], err[512];
    path_of("ok.txt", path, sizeof path);
    CHECK(comm_result_write(path, &r, err, sizeof err) == 0);
    CHECK(comm_result_read(path, &back, err, sizeof err) == 0);
    CHECK(back.np == 4 && back.n_cases == 3);
    for (int i = 0; i < 3 && back.n_cases == 3; i++) {
        const comm_result_case *a = &r.cases[i], *b = &back.cases[i];
        CHECK(a->op == b->op && a->side == b->side && a->bytes == b->bytes);
        CHECK(a->elements == b->elements && a->calls == b->calls);
        CHECK(a->warmup == b->warmup && a->reps == b->reps);
        for (int k = 0; k < 7; k++)
            CHECK(a->seconds[k] == b->seconds[k]); /* %.17g: exact */
        CHECK(a->checked == b->checked && a->wrong == b->wrong);
        CHECK(a->bad_rank == b->bad_rank && a->bad_rep == b->bad_rep);
        CHECK(a->bad_index == b->bad_index && a->expected == b->expected);
        CHECK(isnan(a->got) ? isnan(b->got) : a->got == b->got);
    }
    comm_result_free(&back);
    comm_result_free(&r);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0); /* renamed, not left behind */
}

/* Every proper prefix of a valid file is refused. */
static void test_truncated(void)
{
    comm_result r;
    make_result(&r);
    char path[300], cut[300], err[512];
    path_of("full.txt", path, sizeof path);
    path_of("cut.txt", cut, sizeof cut);
    CHECK(comm_result_write(path, &r, err, sizeof err) == 0);
    comm_result_free(&r);
    size_t n = 0;
    char *text = read_text(path, &n);
    CHECK(text != NULL && n > 100);
    int refused = 0;
    for (size_t len = 0; text && len < n; len++) {
        write_text(cut, text, len);
        comm_result back;
        err[0] = '\0';
        if (comm_result_read(cut, &back, err, sizeof err) != 0 && err[0] &&
            !strchr(err, '\n') && back.cases == NULL)
            refused++;
        else
            fprintf(stderr, "prefix of %zu bytes accepted or badly refused: '%s'\n", len, err);
    }
    CHECK(refused == (int)n);
    /* and the message says what happened */
    write_text(cut, text, n / 2);
    comm_result back;
    CHECK(comm_result_read(cut, &back, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "truncated");
    CHECK_CONTAINS(err, cut);
    free(text);
}

/* One edit of a valid file: the message wanted. */
static void expect_refused(const char *name, const char *from, const char *to, const char *want)
{
    comm_result r;
    make_result(&r);
    char path[300], err[512];
    path_of("edit.txt", path, sizeof path);
    CHECK(comm_result_write(path, &r, err, sizeof err) == 0);
    comm_result_free(&r);
    size_t n = 0;
    char *text = read_text(path, &n);
    char *at = text ? strstr(text, from) : NULL;
    CHECK(at != NULL);
    if (!at) {
        free(text);
        return;
    }
    char *edited = calloc(1, n + strlen(to) + 1);
    memcpy(edited, text, (size_t)(at - text));
    strcat(edited, to);
    strcat(edited, at + strlen(from));
    write_text(path, edited, strlen(edited));
    comm_result back;
    err[0] = '\0';
    int rc = comm_result_read(path, &back, err, sizeof err);
    if (rc == 0 || !strstr(err, want))
        fprintf(stderr, "%s: rc %d, message '%s', want '%s'\n", name, rc, err, want);
    CHECK(rc != 0);
    CHECK_CONTAINS(err, want);
    free(edited);
    free(text);
}

static void test_garbage(void)
{
    char path[300], err[512];
    comm_result back;
    path_of("garbage.bin", path, sizeof path);
    char junk[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    write_text(path, junk, sizeof junk);
    CHECK(comm_result_read(path, &back, err, sizeof err) != 0);
    write_text(path, "", 0);
    CHECK(comm_result_read(path, &back, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "truncated");
    path_of("missing.txt", path, sizeof path);
    CHECK(comm_result_read(path, &back, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "cannot read");

    expect_refused("magic", "dtbench-comm-result 1", "dtbench-rank-result 1", "not a dtbench");
    expect_refused("version", "dtbench-comm-result 1", "dtbench-comm-result 2", "version 2");
    expect_refused("np", "np 4", "np 0", "np 0 is outside");
    expect_refused("cases", "cases 3", "cases 4", "expected 'case'");
    expect_refused("op", "case allgather dtbench", "case allscatter dtbench",
                   "unknown collective");
    expect_refused("side", "case allgather mpi", "case allgather nccl", "side");
    expect_refused("key", "elements 256", "elems 256", "expected 'elements'");
    expect_refused("rep order", "rep 1 1", "rep 2 1", "out of order");
    expect_refused("warm flag", "rep 2 0", "rep 2 1", "warm-up flag");
    expect_refused("nan seconds", "rep 0 1 ", "rep 0 1 nan", "");
    expect_refused("number", "rep 0 1 ", "rep 0 1 1x", "");
    expect_refused("integer", "bytes 4096", "bytes 4096.5", "not an integer");
    expect_refused("spaces", "bytes 4096", "bytes  4096", "empty field");
    expect_refused("wrong > checked", "check 28672 3 ", "check 2 3 ", "more wrong");
    expect_refused("first wrong", "check 28672 3 2 ", "check 28672 3 -1 ", "disagrees");
    expect_refused("rank range", "check 28672 3 2 ", "check 28672 3 4 ", "outside");
    expect_refused("end", "end 3\n", "end 3\nmore\n", "data after");
    expect_refused("end count", "end 3\n", "end 2\n", "end count");
    expect_refused("fields", "cases 3", "cases 3 3", "field");
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/dtbench-comm-result-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_truncated();
    test_garbage();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_report("bench_unit_comm_result");
}
