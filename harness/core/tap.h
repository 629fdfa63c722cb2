/*
 * TAP version 13 output (https://testanything.org/tap-version-13-specification.html),
 * in the subset Debian's `prove` 3.44 parses: "TAP version 13", one
 * "ok N - description" / "not ok N - description [# SKIP reason]" per test
 * point, an optional YAML diagnostic block after a point (two-space indent,
 * "---" .. "..."), and the plan "1..N" printed at the end.
 *
 * YAML restrictions of prove's TAP::Parser::YAMLish::Reader, which this
 * writer respects: strings are double-quoted on one line (escapes \\ \" \n
 * \t \xHH), literal blocks ("key: |") have no empty lines, numbers are plain
 * scalars (.inf / .nan for non-finite values).
 */
#ifndef DTB_HARNESS_TAP_H
#define DTB_HARNESS_TAP_H

#include <stdint.h>
#include <stdio.h>

typedef enum diag_kind { DIAG_TEXT, DIAG_INT, DIAG_REAL, DIAG_BLOCK } diag_kind;

typedef struct diag_item {
    char key[32];
    diag_kind kind;
    char *text;          /* owned; DIAG_TEXT and DIAG_BLOCK */
    int64_t i;
    double r;
} diag_item;

#define DIAG_MAX_ITEMS 24

/* An ordered key -> value map for one test point's YAML block. Items past
 * DIAG_MAX_ITEMS and items whose allocation fails are dropped (a diagnostic
 * must never turn a result into a crash). */
typedef struct tap_diag {
    diag_item items[DIAG_MAX_ITEMS];
    int n;
} tap_diag;

void diag_init(tap_diag *d);
void diag_free(tap_diag *d);
void diag_text(tap_diag *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_int(tap_diag *d, const char *key, int64_t value);
void diag_real(tap_diag *d, const char *key, double value);
/* Multi-line text as a literal block; blank lines are dropped. */
void diag_block(tap_diag *d, const char *key, const char *text);
/* Value of a DIAG_TEXT item, NULL when absent. */
const char *diag_get_text(const tap_diag *d, const char *key);

typedef struct tap_writer {
    FILE *out;
    int count;            /* test points written so far */
} tap_writer;

void tap_begin(tap_writer *w, FILE *out);
/* ok: 1 pass, 0 fail. skip_reason non-NULL marks a skipped point (written
 * as "ok"). diag may be NULL or empty. '#' in the description is written as
 * "no." (a '#' would start a directive) and newlines as spaces. */
void tap_point(tap_writer *w, int ok, const char *description, const char *skip_reason,
               const tap_diag *diag);
/* Writes "1..N" and flushes. */
void tap_end(tap_writer *w);

#endif
