#include "tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void diag_init(tap_diag *d)
{
    d->n = 0;
}

void diag_free(tap_diag *d)
{
    for (int i = 0; i < d->n; i++)
        free(d->items[i].text);
    d->n = 0;
}

static diag_item *diag_add(tap_diag *d, const char *key, diag_kind kind)
{
    if (d->n >= DIAG_MAX_ITEMS)
        return NULL;
    diag_item *it = &d->items[d->n];
    memset(it, 0, sizeof *it);
    snprintf(it->key, sizeof it->key, "%s", key);
    it->kind = kind;
    return it;
}

void diag_text(tap_diag *d, const char *key, const char *fmt, ...)
{
    diag_item *it = diag_add(d, key, DIAG_TEXT);
    if (!it)
        return;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || !(it->text = malloc((size_t)len + 1)))
        return;
    va_start(ap, fmt);
    vsnprintf(it->text, (size_t)len + 1, fmt, ap);
    va_end(ap);
    d->n++;
}

void diag_int(tap_diag *d, const char *key, int64_t value)
{
    diag_item *it = diag_add(d, key, DIAG_INT);
    if (it) {
        it->i = value;
        d->n++;
    }
}

void diag_real(tap_diag *d, const char *key, double value)
{
    diag_item *it = diag_add(d, key, DIAG_REAL);
    if (it) {
        it->r = value;
        d->n++;
    }
}

void diag_block(tap_diag *d, const char *key, const char *text)
{
    diag_item *it = diag_add(d, key, DIAG_BLOCK);
    if (!it || !text)
        return;
    size_t len = strlen(text);
    if (!(it->text = malloc(len + 1)))
        return;
    memcpy(it->text, text, len + 1);
    d->n++;
}

const char *diag_get_text(const tap_diag *d, const char *key)
{
    for (int i = 0; i < d->n; i++)
        if (d->items[i].kind == DIAG_TEXT && strcmp(d->items[i].key, key) == 0)
            return d->items[i].text;
    return NULL;
}

void tap_begin(tap_writer *w, FILE *out)
{
    w->out = out;
    w->count = 0;
    fprintf(out, "TAP version 13\n");
}

/* The length (2..4) of the well-formed UTF-8 sequence of a printable code
 * point at s (s[0] >= 0x80), or 0: a stray or truncated byte, an overlong
 * form, a surrogate, a code point above U+10FFFF, or a C1 control
 * (U+0080..U+009F), none of which a YAML or TAP reader accepts raw. Text
 * from a plugin (its name, its error messages, its log) can hold any byte. */
static size_t utf8_printable(const unsigned char *s)
{
    const unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
        (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return n;
}

static void write_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    while (*s) {
        unsigned char c = (unsigned char)*s;
        size_t n = 1;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else if (c < 0x80)
            fputc(c, f);
        else if ((n = utf8_printable((const unsigned char *)s)) > 0)
            fwrite(s, 1, n, f);
        else
            fprintf(f, "\\x%02x", c), n = 1; /* the byte's value, as U+00XX */
        s += n;
    }
    fputc('"', f);
}

static void write_real(FILE *f, double v)
{
    if (isnan(v))
        fputs(".nan", f);
    else if (isinf(v))
        fputs(v > 0 ? ".inf" : "-.inf", f);
    else
        fprintf(f, "%.6g", v);
}

/* A literal block: the key sits at indent 2, so each non-blank line of text
 * goes at indent 4. A line that is just "..." would read as the end of the
 * YAML document, so it is written as "(...)". */
static void write_block(FILE *f, const char *text)
{
    fputs("|\n", f);
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        size_t blank = strspn(p, " \t\r");
        if (blank < len && len - blank == 3 && strncmp(p + blank, "...", 3) == 0) {
            fputs("    (...)\n", f);
        } else if (blank < len) {
            fputs("    ", f);
            for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)p[i];
                size_t n = c >= 0x80 ? utf8_printable((const unsigned char *)p + i) : 0;
                if (n > 0 && i + n <= len) {
                    fwrite(p + i, 1, n, f);
                    i += n - 1;
                } else {
                    fputc(c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : c, f);
                }
            }
            fputc('\n', f);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
}

static void write_diag(FILE *f, const tap_diag *d)
{
    fputs("  ---\n", f);
    for (int i = 0; i < d->n; i++) {
        const diag_item *it = &d->items[i];
        fprintf(f, "  %s: ", it->key);
        switch (it->kind) {
        case DIAG_TEXT:
            write_quoted(f, it->text);
            fputc('\n', f);
            break;
        case DIAG_INT:
            fprintf(f, "%lld\n", (long long)it->i);
            break;
        case DIAG_REAL:
            write_real(f, it->r);
            fputc('\n', f);
            break;
        case DIAG_BLOCK:
            write_block(f, it->text);
            break;
        }
    }
    fputs("  ...\n", f);
}

static void write_description(FILE *f, const char *s)
{
    while (*s) {
        const unsigned char c = (unsigned char)*s;
        size_t n = c >= 0x80 ? utf8_printable((const unsigned char *)s) : 0;
        if (n > 0)
            fwrite(s, 1, n, f);
        else if (c == '#')
            fputs("no.", f);
        else if (c < 0x20 || c >= 0x7f)
            fputc(c == '\n' || c == '\r' || c == '\t' ? ' ' : '?', f);
        else
            fputc(c, f);
        s += n > 0 ? n : 1;
    }
}

void tap_point(tap_writer *w, int ok, const char *description, const char *skip_reason,
               const tap_diag *diag)
{
    w->count++;
    fprintf(w->out, "%s %d - ", ok || skip_reason ? "ok" : "not ok", w->count);
    write_description(w->out, description);
    if (skip_reason) {
        fputs(" # SKIP ", w->out);
        write_description(w->out, skip_reason);
    }
    fputc('\n', w->out);
    if (diag && diag->n > 0)
        write_diag(w->out, diag);
    fflush(w->out);
}

void tap_end(tap_writer *w)
{
    fprintf(w->out, "1..%d\n", w->count);
    fflush(w->out);
}
