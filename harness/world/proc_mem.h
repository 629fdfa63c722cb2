/*
 * The process's own memory, as Linux accounts it (/proc/self): resident
 * bytes now (VmRSS) and the high-water mark (VmHWM), which writing "5" to
 * /proc/self/clear_refs resets to the current resident size (Linux >= 4.0).
 * The worker resets the mark and reads VmRSS before create, and reads VmHWM
 * after destroy: hwm - base bounds what the plugin made resident between.
 */
#ifndef DTB_HARNESS_PROC_MEM_H
#define DTB_HARNESS_PROC_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Resets VmHWM to VmRSS. 0, or -1 when the kernel refuses. */
int proc_mem_reset_peak(void);
/* VmRSS and VmHWM in bytes, -1 when /proc/self/status lacks them. */
int64_t proc_mem_rss(void);
int64_t proc_mem_hwm(void);
/* Writes one byte of every page of [p, p + n) with its own value, so the
 * pages are resident (before a base is read: memory the harness will fill
 * later, e.g. zero-filled calloc pages still unmapped, then counts in the
 * base, not in the plugin's growth). */
void proc_mem_touch(void *p, size_t n);

#endif
