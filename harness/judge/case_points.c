#include "case_points.h"

#include <stdio.h>

#include "launcher.h"
#include "plugin_loader.h"

void case_world_point(check_list *list, const char *name, const world_outcome *w)
{
    check_result *c = check_list_add(list, name);
    if (!c || w->completed)
        return;
    c->status = CHECK_FAIL;
    diag_text(&c->diag, "message", "%s", w->reason);
    if (w->reproduce && w->launch.kind != LAUNCH_TIMED_OUT) { /* it was launched */
        char how[320];
        launch_describe(&w->launch, w->timeout_s, how, sizeof how);
        diag_text(&c->diag, "mpirun", "%s", how);
    }
    if (w->dir[0])
        diag_text(&c->diag, "dir", "%s", w->dir);
    if (w->reproduce)
        diag_text(&c->diag, "reproduce", "%s", w->reproduce);
    if (w->log_tail && w->log_tail[0])
        diag_block(&c->diag, "log_tail", w->log_tail);
}

void case_skip_missing(case_result *r, uint64_t missing)
{
    check_result *c = check_list_add(&r->checks, "completed");
    if (!c)
        return;
    char caps[256];
    plugin_caps_format(missing, caps, sizeof caps);
    c->status = CHECK_SKIP;
    snprintf(c->skip_reason, sizeof c->skip_reason, "%.40s lacks capability %.60s",
             r->impl_name, caps);
    r->skipped = 1;
}
