/* A case's list of check results, and marking one failed or skipped: what
 * every check file of this folder uses (checks.h, checks_internal.h). */
#include <stdio.h>
#include <string.h>

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
