#include "strvec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strvec_init(strvec *v)
{
    v->items = NULL;
    v->n = v->cap = 0;
    v->failed = 0;
}

void strvec_free(strvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->items[i]);
    free(v->items);
    strvec_init(v);
}

static void push_owned(strvec *v, char *s)
{
    if (!s || v->failed) {
        free(s);
        v->failed = 1;
        return;
    }
    if (v->n + 1 >= v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        char **items = realloc(v->items, cap * sizeof *items);
        if (!items) {
            free(s);
            v->failed = 1;
            return;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = s;
    v->items[v->n] = NULL;
}

void strvec_push(strvec *v, const char *s)
{
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (copy)
        memcpy(copy, s, len + 1);
    push_owned(v, copy);
}

void strvec_pushf(strvec *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    push_owned(v, s);
}

int strvec_ok(const strvec *v)
{
    return !v->failed;
}

static int needs_quotes(const char *s)
{
    if (*s == '\0')
        return 1;
    return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=,:+-")] != '\0';
}

char *strvec_shell_join(const strvec *v)
{
    /* Worst case per item: every char becomes '\'' (4 chars) + 2 quotes + space. */
    size_t len = 1;
    for (size_t i = 0; i < v->n; i++)
        len += 4 * strlen(v->items[i]) + 3;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < v->n; i++) {
        const char *s = v->items[i];
        if (i)
            *p++ = ' ';
        if (!needs_quotes(s)) {
            size_t n = strlen(s);
            memcpy(p, s, n);
            p += n;
            continue;
        }
        *p++ = '\'';
        for (; *s; s++) {
            if (*s == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *s;
            }
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}
