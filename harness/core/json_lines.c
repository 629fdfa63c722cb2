/*
 * The whole document is parsed (json_value.h) before anything is printed,
 * so a malformed one prints nothing and an array's layout can depend on
 * what it holds.
 */
#include "json_lines.h"

#include <stdlib.h>
#include <string.h>

/* Text with control characters and DEL (and, quoted, '"' and '\\')
 * escaped, so that a field never spans lines. */
static void put_text(FILE *f, const char *s, size_t len, int quoted)
{
    if (quoted)
        fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)s[i];
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
    const double v = strtod(text, NULL);
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

/* An empty string is always quoted, so that it shows. */
static void put_scalar(FILE *f, const json_value *v, int quoted)
{
    if (v->kind == JSON_STRING)
        put_text(f, v->text, v->len, quoted || v->len == 0);
    else if (v->kind == JSON_NUMBER)
        put_number(f, v->text);
    else
        fputs(v->kind == JSON_NULL ? "null" : v->kind == JSON_TRUE ? "true" : "false", f);
}

static int is_scalar(const json_value *v)
{
    return v->kind != JSON_OBJECT && v->kind != JSON_ARRAY;
}

static void print_members(FILE *f, const json_value *obj, int indent);

/* One field, "name: ...", where name is a member's name or "[i]". */
static void print_field(FILE *f, const char *name, size_t name_len, const json_value *v,
                        int indent)
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
        fputs(v->kind == JSON_OBJECT ? " {}\n" : " []\n", f);
        return;
    }
    size_t flat = 0;
    while (v->kind == JSON_ARRAY && flat < v->n && is_scalar(&v->items[flat]))
        flat++;
    if (flat == v->n) { /* an array of scalars: one line, strings quoted */
        fputs(" [", f);
        for (size_t i = 0; i < v->n; i++) {
            fputs(i ? ", " : "", f);
            put_scalar(f, &v->items[i], 1);
        }
        fputs("]\n", f);
        return;
    }
    fputc('\n', f);
    if (v->kind == JSON_OBJECT) {
        print_members(f, v, indent + 2);
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        char idx[32];
        const int w = snprintf(idx, sizeof idx, "[%zu]", i);
        print_field(f, idx, (size_t)w, &v->items[i], indent + 2);
    }
}

static void print_members(FILE *f, const json_value *obj, int indent)
{
    for (size_t i = 0; i < obj->n; i++)
        print_field(f, obj->keys[i], obj->key_lens[i], &obj->items[i], indent);
}

int json_lines_print(const char *json, int indent, FILE *out, char *err, size_t err_len)
{
    if (json[strspn(json, " \t\n\r")] != '{') {
        snprintf(err, err_len, "the top level is not an object");
        return -1;
    }
    json_value *root = json_parse(json, err, err_len);
    if (!root)
        return -1;
    print_members(out, root, indent);
    json_free(root);
    return 0;
}
