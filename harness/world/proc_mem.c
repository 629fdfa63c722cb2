#include "proc_mem.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int proc_mem_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1; /* the write happens at fclose */
}

/* The "<key>:  <n> kB" line of /proc/self/status, in bytes; -1 if absent. */
static int64_t status_bytes(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t klen = strlen(key);
    long long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            if (sscanf(line + klen + 1, "%lld", &kb) != 1)
                kb = -1;
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : (int64_t)kb * 1024;
}

int64_t proc_mem_rss(void)
{
    return status_bytes("VmRSS");
}

int64_t proc_mem_hwm(void)
{
    return status_bytes("VmHWM");
}

void proc_mem_touch(void *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t step = page > 0 ? (size_t)page : 4096;
    /* volatile: a store of the byte's own value must still happen. */
    volatile unsigned char *b = p;
    for (size_t i = 0; i < n; i += step)
        b[i] = b[i];
    if (n > 0)
        b[n - 1] = b[n - 1];
}
