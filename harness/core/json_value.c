#include "json_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t pos;
    char *err;
    size_t err_len;
    int failed;
} parser;

static int fail(parser *p, const char *why)
{
    if (!p->failed)
        snprintf(p->err, p->err_len, "not valid JSON at byte %zu: %s", p->pos, why);
    p->failed = 1;
    return -1;
}

/* Frees what v owns (not v itself). */
static void value_clear(json_value *v)
{
    for (size_t i = 0; i < v->n; i++) {
        value_clear(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
    free(v->text);
    memset(v, 0, sizeof *v);
}

void json_free(json_value *v)
{
    if (v) {
        value_clear(v);
        free(v);
    }
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

/* The length of the well-formed UTF-8 sequence at s (Unicode table 3-7),
 * or 0. The document is NUL-terminated and NUL is no continuation byte, so
 * this never reads past its end. */
static size_t utf8_len(const unsigned char *s)
{
    const unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return len;
}

int json_utf8_valid(const char *s, size_t len)
{
    /* utf8_len stops at a NUL, which is one byte of valid UTF-8 here. */
    for (size_t i = 0, n; i < len; i += n)
        if (s[i] == '\0')
            n = 1;
        else if ((n = utf8_len((const unsigned char *)s + i)) == 0 || n > len - i)
            return 0;
    return 1;
}

static int hex4(parser *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = p->s[p->pos];
        const int d = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (d < 0)
            return fail(p, "bad \\u escape");
        v = v * 16 + (uint32_t)d;
        p->pos++;
    }
    *out = v;
    return 0;
}

/* The code point of a \u escape at p->pos (after "\u"), joining a surrogate pair. */
static int unicode_escape(parser *p, uint32_t *cp)
{
    if (hex4(p, cp))
        return -1;
    if (*cp >= 0xDC00 && *cp < 0xE000)
        return fail(p, "lone low surrogate");
    if (*cp < 0xD800 || *cp >= 0xDC00)
        return 0;
    uint32_t lo;
    if (p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
        return fail(p, "lone high surrogate");
    p->pos += 2;
    if (hex4(p, &lo))
        return -1;
    if (lo < 0xDC00 || lo >= 0xE000)
        return fail(p, "lone high surrogate");
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One escape after the backslash, decoded onto out + *k. 0, or -1. */
static int escape(parser *p, char *out, size_t *k)
{
    static const char names[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
    const char e = p->s[p->pos++];
    const char *simple = e ? strchr(names, e) : NULL;
    if (simple) {
        out[(*k)++] = decoded[simple - names];
        return 0;
    }
    uint32_t cp;
    if (e != 'u') {
        p->pos--;
        return fail(p, "bad escape in a string");
    }
    if (unicode_escape(p, &cp))
        return -1;
    *k += put_utf8(cp, out + *k); /* at most 4 bytes for 6 (or 12) of input */
    return 0;
}

/* The string literal at p->pos (its opening quote), decoded into a malloc'd
 * buffer: the decoded text is never longer than the literal. */
static int parse_string(parser *p, char **text, size_t *len)
{
    size_t end = ++p->pos;
    while (p->s[end] && p->s[end] != '"')
        end += p->s[end] == '\\' && p->s[end + 1] ? 2 : 1;
    if (!p->s[end]) {
        p->pos = end;
        return fail(p, "unterminated string");
    }
    char *out = malloc(end - p->pos + 1);
    if (!out)
        return fail(p, "out of memory");
    size_t k = 0;
    while (p->s[p->pos] != '"') {
        const unsigned char c = (unsigned char)p->s[p->pos];
        size_t n;
        if (c < 0x20) {
            fail(p, "control character in a string");
        } else if (c == '\\') {
            p->pos++;
            if (escape(p, out, &k) == 0)
                continue;
        } else if ((n = utf8_len((const unsigned char *)p->s + p->pos)) == 0) {
            fail(p, "not UTF-8");
        } else {
            memcpy(out + k, p->s + p->pos, n);
            k += n;
            p->pos += n;
            continue;
        }
        free(out);
        return -1;
    }
    p->pos++;
    out[k] = '\0';
    *text = out;
    *len = k;
    return 0;
}

static int digits(parser *p)
{
    const size_t start = p->pos;
    while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    return p->pos > start;
}

static int parse_number(parser *p, json_value *v)
{
    const size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->s[p->pos] == '0')
        p->pos++;
    else if (!digits(p))
        return fail(p, "expected a value");
    if (p->s[p->pos] == '.') {
        p->pos++;
        if (!digits(p))
            return fail(p, "expected digits after '.'");
    }
    if (p->s[p->pos] == 'e' || p->s[p->pos] == 'E') {
        p->pos++;
        if (p->s[p->pos] == '+' || p->s[p->pos] == '-')
            p->pos++;
        if (!digits(p))
            return fail(p, "expected digits in the exponent");
    }
    v->kind = JSON_NUMBER;
    v->len = p->pos - start;
    if (!(v->text = malloc(v->len + 1)))
        return fail(p, "out of memory");
    memcpy(v->text, p->s + start, v->len);
    v->text[v->len] = '\0';
    return 0;
}

static int parse_value(parser *p, json_value *v, int depth);

/* Room for one more element (and member name) in container v. */
static int grow(parser *p, json_value *v, size_t *cap)
{
    if (v->n < *cap)
        return 0;
    const size_t n = *cap ? 2 * *cap : 8;
    json_value *items = realloc(v->items, n * sizeof *items);
    if (!items)
        return fail(p, "out of memory");
    v->items = items;
    if (v->kind == JSON_OBJECT) {
        char **keys = realloc(v->keys, n * sizeof *keys);
        if (keys)
            v->keys = keys;
        size_t *lens = keys ? realloc(v->key_lens, n * sizeof *lens) : NULL;
        if (!lens)
            return fail(p, "out of memory");
        v->key_lens = lens;
    }
    *cap = n;
    return 0;
}

static int duplicate_key(const json_value *obj, const char *key, size_t len)
{
    for (size_t i = 0; i < obj->n; i++)
        if (obj->key_lens[i] == len && memcmp(obj->keys[i], key, len) == 0)
            return 1;
    return 0;
}

/* One member name and ':' into obj's next slot. */
static int member_name(parser *p, json_value *obj)
{
    char *key;
    size_t len;
    skip_ws(p);
    if (p->s[p->pos] != '"')
        return fail(p, "expected a member name");
    const size_t at = p->pos;
    if (parse_string(p, &key, &len))
        return -1;
    if (duplicate_key(obj, key, len)) {
        free(key);
        p->pos = at;
        return fail(p, "duplicate member name");
    }
    obj->keys[obj->n] = key;
    obj->key_lens[obj->n] = len;
    skip_ws(p);
    if (p->s[p->pos] != ':') {
        free(key);
        return fail(p, "expected ':'");
    }
    p->pos++;
    return 0;
}

static int parse_container(parser *p, json_value *v, int depth, int object)
{
    const char close = object ? '}' : ']';
    if (depth >= JSON_VALUE_DEPTH)
        return fail(p, "nested too deeply");
    v->kind = object ? JSON_OBJECT : JSON_ARRAY;
    p->pos++;
    skip_ws(p);
    if (p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (size_t cap = 0;;) {
        if (grow(p, v, &cap) || (object && member_name(p, v)))
            return -1;
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        const int rc = parse_value(p, &v->items[v->n], depth + 1);
        v->n++; /* owns the name and what the element holds, even on failure */
        if (rc)
            return -1;
        skip_ws(p);
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            return 0;
        }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(parser *p, json_value *v, int depth)
{
    static const struct {
        const char *text;
        json_kind kind;
    } literals[] = {{"null", JSON_NULL}, {"false", JSON_FALSE}, {"true", JSON_TRUE}};
    skip_ws(p);
    const char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, v, depth, c == '{');
    if (c == '"') {
        v->kind = JSON_STRING;
        return parse_string(p, &v->text, &v->len);
    }
    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        const size_t len = strlen(literals[i].text);
        if (strncmp(p->s + p->pos, literals[i].text, len) == 0) {
            v->kind = literals[i].kind;
            p->pos += len;
            return 0;
        }
    }
    return parse_number(p, v);
}

json_value *json_parse(const char *text, char *err, size_t err_len)
{
    parser p = {text, 0, err, err_len, 0};
    json_value *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (parse_value(&p, v, 0) == 0) {
        skip_ws(&p);
        if (p.s[p.pos] == '\0')
            return v;
        fail(&p, "text after the value");
    }
    json_free(v);
    return NULL;
}

const json_value *json_get(const json_value *v, const char *key)
{
    if (!v || v->kind != JSON_OBJECT)
        return NULL;
    const size_t len = strlen(key);
    for (size_t i = 0; i < v->n; i++)
        if (v->key_lens[i] == len && memcmp(v->keys[i], key, len) == 0)
            return &v->items[i];
    return NULL;
}

static int is_integer_literal(const json_value *v)
{
    return v && v->kind == JSON_NUMBER && !strpbrk(v->text, ".eE");
}

int json_as_int64(const json_value *v, int64_t *out)
{
    if (!is_integer_literal(v))
        return -1;
    errno = 0;
    char *end;
    const long long x = strtoll(v->text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (int64_t)x;
    return 0;
}

int json_as_uint64(const json_value *v, uint64_t *out)
{
    if (!is_integer_literal(v) || v->text[0] == '-')
        return -1;
    errno = 0;
    char *end;
    const unsigned long long x = strtoull(v->text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)x;
    return 0;
}

int json_as_double(const json_value *v, double *out)
{
    if (!v || v->kind != JSON_NUMBER)
        return -1;
    char *end;
    const double x = strtod(v->text, &end);
    if (*end != '\0' || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}
