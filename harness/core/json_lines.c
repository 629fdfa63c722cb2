/*
 * Parse the whole document into a tree first (so a malformed one prints
 * nothing, and an array's layout can depend on what it holds), then print.
 */
#include "json_lines.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum jkind { J_OBJECT, J_ARRAY, J_STRING, J_NUMBER, J_LITERAL } jkind;

typedef struct jnode {
    jkind kind;
    char *key;                 /* member name inside an object, else NULL */
    size_t key_len;            /* names may hold NUL (\u0000) too */
    char *text;                /* string (decoded), number or literal text */
    size_t text_len;           /* strings may hold NUL (\u0000) */
    struct jnode **items;      /* object members or array elements */
    size_t n, cap;
} jnode;

typedef struct parser {
    const char *s;
    size_t pos;
    char *err;
    size_t err_len;
    int failed;
} parser;

static void fail(parser *p, const char *why)
{
    if (!p->failed)
        snprintf(p->err, p->err_len, "not valid JSON at byte %zu: %s", p->pos, why);
    p->failed = 1;
}

static void node_free(jnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->items[i]);
    free(n->items);
    free(n->key);
    free(n->text);
    free(n);
}

static jnode *node_new(parser *p, jkind kind)
{
    jnode *n = calloc(1, sizeof *n);
    if (!n)
        fail(p, "out of memory");
    else
        n->kind = kind;
    return n;
}

static int node_add(parser *p, jnode *parent, jnode *child)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? 2 * parent->cap : 8;
        jnode **grown = realloc(parent->items, cap * sizeof *grown);
        if (!grown) {
            fail(p, "out of memory");
            return -1;
        }
        parent->items = grown;
        parent->cap = cap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static int hex4(parser *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + (size_t)i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            fail(p, "bad \\u escape");
            return -1;
        }
        v = v * 16 + (uint32_t)d;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

/* UTF-8 of code point cp into buf (room for 4); its length. */
static size_t utf8(uint32_t cp, char *buf)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string literal at p->pos (the opening quote), decoded into a malloc'd
 * buffer: never longer than the literal, so one allocation of its length. */
static char *parse_string(parser *p, size_t *len)
{
    size_t start = ++p->pos, end = start;
    while (p->s[end] && p->s[end] != '"')
        end += p->s[end] == '\\' && p->s[end + 1] ? 2 : 1;
    if (!p->s[end]) {
        fail(p, "unterminated string");
        return NULL;
    }
    char *out = malloc(end - start + 1);
    if (!out) {
        fail(p, "out of memory");
        return NULL;
    }
    size_t k = 0;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            fail(p, "control character in a string");
            free(out);
            return NULL;
        }
        if (c != '\\') {
            out[k++] = (char)c;
            p->pos++;
            continue;
        }
        char e = p->s[++p->pos];
        p->pos++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            out[k++] = decoded[simple - "\"\\/bfnrt"];
            continue;
        }
        uint32_t cp, lo;
        if (e != 'u' || hex4(p, &cp)) {
            fail(p, "bad escape in a string");
            free(out);
            return NULL;
        }
        if (cp >= 0xD800 && cp < 0xDC00 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
            size_t keep = p->pos;
            p->pos += 2;
            if (hex4(p, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000)
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else if (p->failed) {
                free(out);
                return NULL;
            } else
                p->pos = keep;
        }
        k += utf8(cp, out + k); /* at most 4 bytes for 6 (or 12) of input */
    }
    p->pos++;
    out[k] = '\0';
    *len = k;
    return out;
}

static int digits(parser *p)
{
    size_t start = p->pos;
    while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    return p->pos > start;
}

static jnode *parse_value(parser *p, int depth);

static jnode *parse_number(parser *p)
{
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->s[p->pos] == '0')
        p->pos++;
    else if (!digits(p)) {
        fail(p, "expected a value");
        return NULL;
    }
    if (p->s[p->pos] == '.') {
        p->pos++;
        if (!digits(p)) {
            fail(p, "expected digits after '.'");
            return NULL;
        }
    }
    if (p->s[p->pos] == 'e' || p->s[p->pos] == 'E') {
        p->pos++;
        if (p->s[p->pos] == '+' || p->s[p->pos] == '-')
            p->pos++;
        if (!digits(p)) {
            fail(p, "expected digits in the exponent");
            return NULL;
        }
    }
    jnode *n = node_new(p, J_NUMBER);
    if (!n)
        return NULL;
    n->text_len = p->pos - start;
    if (!(n->text = malloc(n->text_len + 1))) {
        fail(p, "out of memory");
        free(n);
        return NULL;
    }
    memcpy(n->text, p->s + start, n->text_len);
    n->text[n->text_len] = '\0';
    return n;
}

static jnode *parse_container(parser *p, int depth, int object)
{
    if (depth >= JSON_LINES_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    jnode *n = node_new(p, object ? J_OBJECT : J_ARRAY);
    if (!n)
        return NULL;
    p->pos++;
    skip_ws(p);
    if (p->s[p->pos] == (object ? '}' : ']')) {
        p->pos++;
        return n;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        skip_ws(p);
        if (object) {
            if (p->s[p->pos] != '"') {
                fail(p, "expected a member name");
                break;
            }
            if (!(key = parse_string(p, &key_len)))
                break;
            skip_ws(p);
            if (p->s[p->pos] != ':') {
                fail(p, "expected ':'");
                free(key);
                break;
            }
            p->pos++;
        }
        jnode *v = parse_value(p, depth + 1);
        if (!v) {
            free(key);
            break;
        }
        v->key = key;
        v->key_len = key_len;
        if (node_add(p, n, v)) {
            node_free(v);
            break;
        }
        skip_ws(p);
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == (object ? '}' : ']')) {
            p->pos++;
            return n;
        }
        fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    node_free(n);
    return NULL;
}

static jnode *parse_value(parser *p, int depth)
{
    skip_ws(p);
    char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, depth, c == '{');
    if (c == '"') {
        jnode *n = node_new(p, J_STRING);
        if (n && !(n->text = parse_string(p, &n->text_len))) {
            free(n);
            return NULL;
        }
        return n;
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(literals[i]);
        if (strncmp(p->s + p->pos, literals[i], len) == 0) {
            jnode *n = node_new(p, J_LITERAL);
            if (n && !(n->text = malloc(len + 1))) {
                fail(p, "out of memory");
                free(n);
                return NULL;
            }
            if (n) {
                memcpy(n->text, literals[i], len + 1);
                n->text_len = len;
            }
            p->pos += len;
            return n;
        }
    }
    return parse_number(p);
}

/* ---- printing ------------------------------------------------------------ */

/* Text with control characters (and, quoted, '"' and '\\') escaped. */
static void put_text(FILE *f, const char *s, size_t len, int quoted)
{
    if (quoted)
        fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20 || c == 0x7F)
            fprintf(f, "\\u%04x", c);
        else if (quoted && (c == '"' || c == '\\'))
            fprintf(f, "\\%c", c);
        else
            fputc(c, f);
    }
    if (quoted)
        fputc('"', f);
}

/* A number with a fraction or exponent in the fewest significant digits
 * that read back as the same double; an integer as written. */
static void put_number(FILE *f, const char *text)
{
    if (!strpbrk(text, ".eE")) {
        fputs(text, f);
        return;
    }
    double v = strtod(text, NULL);
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

static void put_scalar(FILE *f, const jnode *n, int quoted)
{
    if (n->kind == J_STRING)
        put_text(f, n->text, n->text_len, quoted || n->text_len == 0);
    else if (n->kind == J_NUMBER)
        put_number(f, n->text);
    else
        fputs(n->text, f);
}

static int is_scalar(const jnode *n)
{
    return n->kind != J_OBJECT && n->kind != J_ARRAY;
}

static void print_members(FILE *f, const jnode *obj, int indent);

/* One field: "name: ..." where name is the member's key, or key[i]. */
static void print_field(FILE *f, const char *name, size_t name_len, const jnode *v, int indent)
{
    fprintf(f, "%*s", indent, "");
    put_text(f, name, name_len, 0);
    fputc(':', f);
    if (is_scalar(v)) {
        fputc(' ', f);
        put_scalar(f, v, 0);
        fputc('\n', f);
        return;
    }
    if (v->n == 0) {
        fputs(v->kind == J_OBJECT ? " {}\n" : " []\n", f);
        return;
    }
    if (v->kind == J_OBJECT) {
        fputc('\n', f);
        print_members(f, v, indent + 2);
        return;
    }
    int flat = 1;
    for (size_t i = 0; i < v->n; i++)
        flat &= is_scalar(v->items[i]);
    if (flat) {
        fputs(" [", f);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                fputs(", ", f);
            put_scalar(f, v->items[i], 1);
        }
        fputs("]\n", f);
        return;
    }
    fputc('\n', f);
    for (size_t i = 0; i < v->n; i++) {
        char idx[32];
        int w = snprintf(idx, sizeof idx, "[%zu]", i);
        print_field(f, idx, (size_t)w, v->items[i], indent + 2);
    }
}

static void print_members(FILE *f, const jnode *obj, int indent)
{
    for (size_t i = 0; i < obj->n; i++) {
        const jnode *m = obj->items[i];
        print_field(f, m->key, m->key_len, m, indent);
    }
}

int json_lines_print(const char *json, int indent, FILE *out, char *err, size_t err_len)
{
    parser p = {.s = json, .pos = 0, .err = err, .err_len = err_len, .failed = 0};
    skip_ws(&p);
    if (json[p.pos] != '{') {
        snprintf(err, err_len, "the top level is not an object");
        return -1;
    }
    jnode *root = parse_value(&p, 0);
    if (root) {
        skip_ws(&p);
        if (json[p.pos] != '\0')
            fail(&p, "text after the value");
    }
    if (p.failed) {
        node_free(root);
        return -1;
    }
    print_members(out, root, indent);
    node_free(root);
    return 0;
}
