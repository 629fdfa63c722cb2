/* Reference ZeRO: messages, accounted allocations, stress pauses. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "zero_state.h"

int zero_fail(const dtb_state *s, const char *fmt, ...)
{
    char msg[448], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s: %s", s->who, msg);
    s->host.error(s->host.ctx, line);
    return -1;
}

/* A zeroed backend buffer of `bytes`, counted under `category` until
 * zero_free_all releases it. */
int zero_alloc(dtb_state *s, int64_t bytes, int category, void **out)
{
    *out = NULL;
    const int max = (int)(sizeof s->allocs / sizeof s->allocs[0]);
    if (s->n_allocs == max)
        return zero_fail(s, "more than %d buffers", max);
    void *p = NULL;
    const size_t n = bytes > 0 ? (size_t)bytes : 1;
    if (s->be->ops->alloc(s->be, n, &p) != 0)
        return zero_fail(s, "cannot allocate %lld bytes: %s", (long long)bytes, s->be->error);
    if (s->be->ops->zero(s->be, p, n) != 0) {
        s->be->ops->release(s->be, p);
        return zero_fail(s, "%s", s->be->error);
    }
    s->allocs[s->n_allocs++] = (struct zero_allocation){p, bytes, category};
    s->host.mem_track(s->host.ctx, category, bytes);
    *out = p;
    return 0;
}

void zero_free_all(dtb_state *s)
{
    while (s->n_allocs > 0) {
        const struct zero_allocation *a = &s->allocs[--s->n_allocs];
        s->be->ops->release(s->be, a->ptr);
        s->host.mem_track(s->host.ctx, a->category, -a->bytes);
    }
}

/* Stress mode: a pause before every gather, reduce-scatter and optimizer
 * step changes the interleaving of compute and communication. */
void zero_stress_pause(const dtb_state *s)
{
    if (s->spec.stress_delay_us <= 0)
        return;
    struct timespec ts = {.tv_sec = s->spec.stress_delay_us / 1000000,
                          .tv_nsec = (long)(s->spec.stress_delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}
