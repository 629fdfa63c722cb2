/* Prints what a rank file says about reported and measured figures, one
 * line per file, as key=value pairs for the verification scripts:
 *   file=PATH rank=R np=N measured_valid=V
 *   reported_calls=c0,..,c6 reported_bytes=b0,..,b6
 *   measured_calls=.. measured_bytes=.. (kinds in dtb_collective order)
 *   tracked_peak=B rss_base=B rss_hwm=B rss_growth=B (bytes; -1 unknown)
 * usage: rank_dump RANK_FILE...  (exit 1 when a file cannot be read) */
#include <inttypes.h>
#include <stdio.h>

#include "rank_file.h"

static void put_list(const char *key, const uint64_t *v)
{
    printf(" %s=", key);
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
        printf("%s%" PRIu64, k ? "," : "", v[k]);
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        rank_result r;
        char err[512];
        if (rank_file_read(argv[i], &r, err, sizeof err) != 0) {
            fprintf(stderr, "rank_dump: %s\n", err);
            status = 1;
            continue;
        }
        int64_t growth = r.rss_base >= 0 && r.rss_hwm >= 0 ? r.rss_hwm - r.rss_base : -1;
        printf("file=%s rank=%d np=%d measured_valid=%d", argv[i], r.rank, r.world_size,
               r.measured_valid);
        put_list("reported_calls", r.counters.calls);
        put_list("reported_bytes", r.counters.bytes);
        put_list("measured_calls", r.measured.calls);
        put_list("measured_bytes", r.measured.bytes);
        printf(" tracked_peak=%" PRId64 " rss_base=%" PRId64 " rss_hwm=%" PRId64
               " rss_growth=%" PRId64 "\n",
               r.mem_total_peak, r.rss_base, r.rss_hwm, growth);
        rank_result_free(&r);
    }
    return status;
}
