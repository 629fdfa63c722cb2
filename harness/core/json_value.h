/*
 * A strict RFC 8259 reader into a tree, for documents dtbench itself wrote
 * (a checkpoint's manifest.json) and must read back exactly.
 *
 * Strict: one value with nothing after it but whitespace; UTF-8 only (no
 * overlong forms, surrogates or code points above U+10FFFF, escaped lone
 * surrogates refused); no duplicate member names in an object; nesting at
 * most JSON_VALUE_DEPTH. Numbers keep their literal text, so that a 64-bit
 * integer and a double both read back without loss.
 */
#ifndef DTB_HARNESS_JSON_VALUE_H
#define DTB_HARNESS_JSON_VALUE_H

#include <stddef.h>
#include <stdint.h>

#define JSON_VALUE_DEPTH 64

typedef enum json_kind {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_kind;

typedef struct json_value {
    json_kind kind;
    char *text;               /* string: decoded, NUL-terminated; number: its literal */
    size_t len;               /* of text (a string may hold NUL from \u0000) */
    struct json_value *items; /* array elements, or object member values */
    char **keys;              /* object member names (keys[i] names items[i]) */
    size_t *key_lens;
    size_t n; /* elements or members */
} json_value;

/* Parses the NUL-terminated document. NULL with "not valid JSON at byte N:
 * <why>" (or "out of memory") in err. */
json_value *json_parse(const char *text, char *err, size_t err_len);
void json_free(json_value *v);

/* The member `key` of an object; NULL when v is not an object or has none. */
const json_value *json_get(const json_value *v, const char *key);

/* A number as an integer: the literal has no fraction or exponent and fits.
 * 0, or -1. */
int json_as_int64(const json_value *v, int64_t *out);
int json_as_uint64(const json_value *v, uint64_t *out);
/* A number as the nearest double; -1 when not a number or out of range. */
int json_as_double(const json_value *v, double *out);

/* 1 when s[0 .. len) is well-formed UTF-8, as strings must be here; s is
 * NUL-terminated at len or later. */
int json_utf8_valid(const char *s, size_t len);

#endif
