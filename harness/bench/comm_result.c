#include "comm_result.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_ops.h"
#include "dtbench/plugin.h"

#define MAGIC "dtbench-comm-result"
#define MAX_LINE 512
#define MAX_TOKENS 16

const char *comm_side_name(comm_side side)
{
    return side == COMM_SIDE_MPI ? "mpi" : "dtbench";
}

static const char *op_token(int op)
{
    return op == COMM_RESULT_REPLAY ? "replay" : comm_op_name((dtb_collective)op);
}

static void case_init(comm_result_case *c)
{
    memset(c, 0, sizeof *c);
    c->bad_rank = c->bad_rep = -1;
    c->bad_index = -1;
}

int comm_result_alloc(comm_result *r, int np, int n_cases, int warmup, int reps)
{
    memset(r, 0, sizeof *r);
    if (n_cases < 0 || warmup < 0 || reps < 0)
        return -1;
    r->cases = calloc(n_cases > 0 ? (size_t)n_cases : 1, sizeof *r->cases);
    if (!r->cases)
        return -1;
    r->np = np;
    r->n_cases = n_cases;
    for (int i = 0; i < n_cases; i++) {
        comm_result_case *c = &r->cases[i];
        case_init(c);
        c->warmup = warmup;
        c->reps = reps;
        c->seconds = calloc((size_t)(warmup + reps) + 1, sizeof *c->seconds);
        if (!c->seconds) {
            comm_result_free(r);
            return -1;
        }
    }
    return 0;
}

void comm_result_free(comm_result *r)
{
    if (r->cases)
        for (int i = 0; i < r->n_cases; i++)
            free(r->cases[i].seconds);
    free(r->cases);
    memset(r, 0, sizeof *r);
}

/* ---- writing -------------------------------------------------------------- */

static int write_body(FILE *f, const comm_result *r)
{
    int ok = fprintf(f, "%s %d\nnp %d\ncases %d\n", MAGIC, COMM_RESULT_VERSION, r->np,
                     r->n_cases) > 0;
    for (int i = 0; ok && i < r->n_cases; i++) {
        const comm_result_case *c = &r->cases[i];
        ok = fprintf(f, "case %s %s bytes %lld elements %lld calls %lld warmup %d reps %d\n",
                     op_token(c->op), comm_side_name(c->side), (long long)c->bytes,
                     (long long)c->elements, (long long)c->calls, c->warmup, c->reps) > 0;
        for (int k = 0; ok && k < c->warmup + c->reps; k++)
            ok = fprintf(f, "rep %d %d %.17g\n", k, k < c->warmup, c->seconds[k]) > 0;
        if (ok)
            ok = fprintf(f, "check %lld %lld %d %d %lld %.17g %.17g\n", (long long)c->checked,
                         (long long)c->wrong, c->bad_rank, c->bad_rep, (long long)c->bad_index,
                         c->expected, c->got) > 0;
    }
    if (ok)
        ok = fprintf(f, "end %d\n", r->n_cases) > 0;
    return ok ? 0 : -1;
}

int comm_result_write(const char *path, const comm_result *r, char *err, size_t err_len)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, err_len, "comm result path too long: %.200s", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int ok = write_body(f, r) == 0;
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(saved));
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

typedef struct reader {
    FILE *f;
    const char *path;
    int line_no;
    char line[MAX_LINE + 2];
    char *tok[MAX_TOKENS];
    int n_tok;
    char *err;
    size_t err_len;
} reader;

static int bad(reader *rd, const char *what)
{
    snprintf(rd->err, rd->err_len, "comm result %s line %d: %s", rd->path, rd->line_no, what);
    return -1;
}

/* Reads the next line and splits it at single spaces. */
static int next_line(reader *rd, const char *expecting)
{
    rd->line_no++;
    if (!fgets(rd->line, sizeof rd->line, rd->f)) {
        char msg[160];
        snprintf(msg, sizeof msg, "truncated: the file ends where '%s' was expected",
                 expecting);
        return bad(rd, msg);
    }
    size_t len = strlen(rd->line);
    if (len == 0 || rd->line[len - 1] != '\n')
        return bad(rd, len > MAX_LINE ? "line too long" : "truncated: last line unterminated");
    rd->line[len - 1] = '\0';
    if (strlen(rd->line) != len - 1)
        return bad(rd, "NUL byte in line");
    rd->n_tok = 0;
    char *p = rd->line;
    while (*p) {
        if (rd->n_tok == MAX_TOKENS)
            return bad(rd, "too many fields");
        rd->tok[rd->n_tok++] = p;
        char *sp = strchr(p, ' ');
        if (!sp)
            break;
        *sp = '\0';
        p = sp + 1;
        if (*p == '\0' || *p == ' ')
            return bad(rd, "empty field");
    }
    return 0;
}

/* The line is `word` followed by n_args fields. */
static int expect(reader *rd, const char *word, int n_args)
{
    if (rd->n_tok == 0 || strcmp(rd->tok[0], word) != 0 || rd->n_tok != 1 + n_args) {
        char msg[200];
        snprintf(msg, sizeof msg, "expected '%s' and %d field(s), got '%.80s'", word, n_args,
                 rd->n_tok ? rd->tok[0] : "");
        return bad(rd, msg);
    }
    return 0;
}

/* Strict decimal integer in [min, max]. */
static int parse_int(reader *rd, const char *text, const char *what, int64_t min, int64_t max,
                     int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    char msg[200];
    if (end == text || *end != '\0' || errno != 0 || text[0] == '+' || text[0] == ' ') {
        snprintf(msg, sizeof msg, "%s: '%.40s' is not an integer", what, text);
        return bad(rd, msg);
    }
    if (v < min || v > max) {
        snprintf(msg, sizeof msg, "%s %lld is outside [%lld, %lld]", what, v, (long long)min,
                 (long long)max);
        return bad(rd, msg);
    }
    *out = v;
    return 0;
}

/* A number strtod reads whole; finite unless allow_nonfinite. */
static int parse_real(reader *rd, const char *text, const char *what, int allow_nonfinite,
                      double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    char msg[200];
    if (end == text || *end != '\0' || (errno != 0 && isfinite(v) && v != 0.0)) {
        snprintf(msg, sizeof msg, "%s: '%.40s' is not a number", what, text);
        return bad(rd, msg);
    }
    if (!allow_nonfinite && !isfinite(v)) {
        snprintf(msg, sizeof msg, "%s is not finite ('%.40s')", what, text);
        return bad(rd, msg);
    }
    *out = v;
    return 0;
}

static int read_header(reader *rd, comm_result *r, int64_t *n_cases)
{
    int64_t v;
    if (next_line(rd, MAGIC) != 0)
        return -1;
    if (rd->n_tok != 2 || strcmp(rd->tok[0], MAGIC) != 0)
        return bad(rd, "not a dtbench comm result (no '" MAGIC "' header)");
    if (parse_int(rd, rd->tok[1], "version", 0, INT32_MAX, &v) != 0)
        return -1;
    if (v != COMM_RESULT_VERSION) {
        char msg[120];
        snprintf(msg, sizeof msg, "version %lld, this dtbench reads version %d", (long long)v,
                 COMM_RESULT_VERSION);
        return bad(rd, msg);
    }
    if (next_line(rd, "np") != 0 || expect(rd, "np", 1) != 0 ||
        parse_int(rd, rd->tok[1], "np", 1, 1 << 20, &v) != 0)
        return -1;
    r->np = (int)v;
    if (next_line(rd, "cases") != 0 || expect(rd, "cases", 1) != 0 ||
        parse_int(rd, rd->tok[1], "cases", 0, COMM_RESULT_MAX_CASES, n_cases) != 0)
        return -1;
    return 0;
}

/* "case <op> <side> bytes S elements E calls K warmup W reps R" */
static int read_case_line(reader *rd, comm_result_case *c)
{
    if (next_line(rd, "case") != 0 || expect(rd, "case", 12) != 0)
        return -1;
    dtb_collective op;
    if (strcmp(rd->tok[1], "replay") == 0)
        c->op = COMM_RESULT_REPLAY;
    else if (comm_op_parse(rd->tok[1], &op) == 0)
        c->op = (int)op;
    else
        return bad(rd, "unknown collective");
    if (strcmp(rd->tok[2], "dtbench") == 0)
        c->side = COMM_SIDE_DTBENCH;
    else if (strcmp(rd->tok[2], "mpi") == 0)
        c->side = COMM_SIDE_MPI;
    else
        return bad(rd, "side is neither 'dtbench' nor 'mpi'");
    static const char *const keys[5] = {"bytes", "elements", "calls", "warmup", "reps"};
    int64_t vals[5];
    const int64_t maxes[5] = {INT64_MAX / 2, INT64_MAX / 2, INT64_MAX / 2,
                              COMM_RESULT_MAX_REPS, COMM_RESULT_MAX_REPS};
    for (int k = 0; k < 5; k++) {
        if (strcmp(rd->tok[3 + 2 * k], keys[k]) != 0) {
            char msg[80];
            snprintf(msg, sizeof msg, "expected '%s' in the case line", keys[k]);
            return bad(rd, msg);
        }
        if (parse_int(rd, rd->tok[4 + 2 * k], keys[k], 0, maxes[k], &vals[k]) != 0)
            return -1;
    }
    c->bytes = vals[0];
    c->elements = vals[1];
    c->calls = vals[2];
    c->warmup = (int)vals[3];
    c->reps = (int)vals[4];
    if (c->warmup + c->reps > COMM_RESULT_MAX_REPS)
        return bad(rd, "too many repetitions");
    return 0;
}

static int read_case(reader *rd, const comm_result *r, comm_result_case *c)
{
    if (read_case_line(rd, c) != 0)
        return -1;
    int n = c->warmup + c->reps;
    c->seconds = calloc((size_t)n + 1, sizeof *c->seconds);
    if (!c->seconds) {
        snprintf(rd->err, rd->err_len, "comm result %s: out of memory for %d repetitions",
                 rd->path, n);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        int64_t idx, warm;
        if (next_line(rd, "rep") != 0 || expect(rd, "rep", 3) != 0 ||
            parse_int(rd, rd->tok[1], "rep index", 0, INT32_MAX, &idx) != 0 ||
            parse_int(rd, rd->tok[2], "warm-up flag", 0, 1, &warm) != 0 ||
            parse_real(rd, rd->tok[3], "seconds", 0, &c->seconds[k]) != 0)
            return -1;
        if (idx != k)
            return bad(rd, "repetitions out of order");
        if (warm != (k < c->warmup))
            return bad(rd, "warm-up flag disagrees with the case's warmup count");
        if (c->seconds[k] < 0)
            return bad(rd, "negative seconds");
    }
    int64_t v[5];
    if (next_line(rd, "check") != 0 || expect(rd, "check", 7) != 0 ||
        parse_int(rd, rd->tok[1], "checked", 0, INT64_MAX / 2, &v[0]) != 0 ||
        parse_int(rd, rd->tok[2], "wrong", 0, INT64_MAX / 2, &v[1]) != 0 ||
        parse_int(rd, rd->tok[3], "first wrong rank", -1, r->np - 1, &v[2]) != 0 ||
        parse_int(rd, rd->tok[4], "first wrong rep", -1, n - 1, &v[3]) != 0 ||
        parse_int(rd, rd->tok[5], "first wrong index", -1, INT64_MAX / 2, &v[4]) != 0 ||
        parse_real(rd, rd->tok[6], "expected", 0, &c->expected) != 0 ||
        parse_real(rd, rd->tok[7], "got", 1, &c->got) != 0)
        return -1;
    c->checked = v[0];
    c->wrong = v[1];
    c->bad_rank = (int)v[2];
    c->bad_rep = (int)v[3];
    c->bad_index = v[4];
    if (c->wrong > c->checked)
        return bad(rd, "more wrong elements than checked ones");
    if ((c->wrong > 0) != (c->bad_rank >= 0) || (c->wrong > 0) != (c->bad_rep >= 0) ||
        (c->wrong > 0) != (c->bad_index >= 0))
        return bad(rd, "the first wrong element disagrees with the wrong count");
    return 0;
}

int comm_result_read(const char *path, comm_result *r, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    reader rd = {.path = path, .err = err, .err_len = err_len};
    rd.f = fopen(path, "r");
    if (!rd.f) {
        snprintf(err, err_len, "cannot read comm result %s: %s", path, strerror(errno));
        return -1;
    }
    int64_t n_cases = 0;
    int rc = read_header(&rd, r, &n_cases);
    if (rc == 0) {
        r->cases = calloc((size_t)n_cases + 1, sizeof *r->cases);
        if (!r->cases) {
            snprintf(err, err_len, "comm result %s: out of memory for %lld cases", path,
                     (long long)n_cases);
            rc = -1;
        }
    }
    for (int64_t i = 0; rc == 0 && i < n_cases; i++) {
        case_init(&r->cases[i]);
        r->n_cases = (int)i + 1; /* so that comm_result_free frees what was read */
        rc = read_case(&rd, r, &r->cases[i]);
    }
    int64_t end_count;
    if (rc == 0)
        rc = next_line(&rd, "end") != 0 || expect(&rd, "end", 1) != 0 ||
                     parse_int(&rd, rd.tok[1], "end count", 0, COMM_RESULT_MAX_CASES,
                               &end_count) != 0
                 ? -1
                 : 0;
    if (rc == 0 && end_count != n_cases)
        rc = bad(&rd, "the end count differs from the cases line");
    if (rc == 0) {
        int extra = fgetc(rd.f);
        if (extra != EOF) {
            rd.line_no++;
            rc = bad(&rd, "data after the end line");
        }
    }
    fclose(rd.f);
    if (rc != 0)
        comm_result_free(r);
    return rc;
}
