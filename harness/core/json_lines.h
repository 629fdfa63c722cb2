/*
 * A JSON object for people: one field per line, nested objects indented,
 * as `dtbench show --case` prints a recorded case's configuration.
 *
 *   key: value        a scalar: a string as its text (control characters
 *                     escaped, so a field never spans lines; "" when empty),
 *                     a number with a fraction or exponent in the fewest
 *                     digits that read back as the same double (0.05, not
 *                     0.050000000000000003), an integer verbatim (a 64-bit
 *                     seed keeps every digit), true, false, null
 *   key:              an object: its fields follow, two spaces deeper
 *   key: {}           an empty object
 *   key: [1, 10]      an array of scalars on one line, strings quoted
 *   key[0]:           an array holding objects or arrays: each element on
 *                     its own, the element's fields two spaces deeper
 *
 * Fields keep the document's order. The document is read by json_parse
 * (json_value.h), strict RFC 8259: one value, nothing after it but
 * whitespace, nesting at most JSON_LINES_DEPTH; a duplicate member name,
 * text that is not UTF-8 and an escaped lone surrogate are refused.
 */
#ifndef DTB_HARNESS_JSON_LINES_H
#define DTB_HARNESS_JSON_LINES_H

#include <stddef.h>
#include <stdio.h>

#include "json_value.h"

#define JSON_LINES_DEPTH JSON_VALUE_DEPTH

/* Prints the object `json` at `indent` spaces. 0, or -1 with "not valid
 * JSON at byte N: <why>" (or "the top level is not an object", or out of
 * memory) in err, nothing written. */
int json_lines_print(const char *json, int indent, FILE *out, char *err, size_t err_len);

#endif
