/* proc_mem.h: the resident size and high-water mark are read, a touched
 * buffer raises the mark by its size, the reset brings the mark back to the
 * resident size once the buffer is gone, and proc_mem_touch makes calloc's
 * untouched pages resident without changing their contents (random, from a
 * fixed seed, never all zero). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "check.h"
#include "proc_mem.h"

#define MIB (1ll << 20)

int main(void)
{
    int64_t rss = proc_mem_rss(), hwm = proc_mem_hwm();
    CHECK(rss > 0 && hwm >= rss);
    CHECK(proc_mem_reset_peak() == 0);
    int64_t base = proc_mem_rss();
    CHECK(proc_mem_hwm() - base < 4 * MIB);

    /* 64 MiB mapped but untouched: not resident; touched: resident. */
    const size_t n = 64 * MIB;
    unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p == MAP_FAILED)
        return check_report("harness_unit_proc_mem");
    CHECK(proc_mem_rss() - base < 4 * MIB);
    uint64_t z = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i += 4096) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        p[i] = (unsigned char)(1 + z % 255);
    }
    proc_mem_touch(p, n);
    int64_t grown = proc_mem_hwm() - base;
    CHECK(grown >= (int64_t)n - MIB && grown < (int64_t)n + 8 * MIB);
    z = 0x9e3779b97f4a7c15ull;
    int same = 1;
    for (size_t i = 0; i < n; i += 4096) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        same &= p[i] == (unsigned char)(1 + z % 255);
    }
    CHECK(same);
    CHECK(munmap(p, n) == 0);
    CHECK(proc_mem_hwm() - base >= (int64_t)n - MIB); /* the mark stays */
    CHECK(proc_mem_reset_peak() == 0);
    CHECK(proc_mem_hwm() - proc_mem_rss() < 4 * MIB); /* until reset */

    /* touch: calloc's untouched pages become resident, still zero */
    int64_t before = proc_mem_rss();
    unsigned char *q = calloc(n, 1);
    CHECK(q != NULL);
    if (q) {
        proc_mem_touch(q, n);
        CHECK(proc_mem_rss() - before >= (int64_t)n - MIB);
        int zero = 1;
        for (size_t i = 0; i < n; i += 4096)
            zero &= q[i] == 0;
        CHECK(zero && q[n - 1] == 0);
        free(q);
    }
    return check_report("harness_unit_proc_mem");
}
