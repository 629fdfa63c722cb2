/*
 * The one clock of every harness timing: CLOCK_MONOTONIC in seconds (never
 * stepped by wall-clock adjustments, so differences are durations).
 */
#ifndef DTB_HARNESS_CLOCK_H
#define DTB_HARNESS_CLOCK_H

#include <time.h>

static inline double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
