/*
 * The check list and a check's status (checks.h, checks_internal.h): the
 * part every check file uses, in a file of its own so that checks.c, which
 * calls the checks of checks_neutral.c and checks_recipe.c, and those files
 * never call each other (tests/layout/layers.py).
 */
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "checks_internal.h"

void check_list_init(check_list *l)
{
    l->n = 0;
}

void check_list_free(check_list *l)
{
    for (int i = 0; i < l->n; i++)
        diag_free(&l->items[i].diag);
    l->n = 0;
}

check_result *check_list_add(check_list *l, const char *name)
{
    if (l->n >= CHECKS_MAX)
        return NULL;
    check_result *c = &l->items[l->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->status = CHECK_PASS;
    c->ratio = -1;
    c->single_ratio = -1;
    diag_init(&c->diag);
    return c;
}

void check_fail(check_result *c, const char *message)
{
    c->status = CHECK_FAIL;
    diag_text(&c->diag, "message", "%s", message);
}

void check_skip(check_result *c, const char *reason)
{
    c->status = CHECK_SKIP;
    snprintf(c->skip_reason, sizeof c->skip_reason, "%s", reason);
}
