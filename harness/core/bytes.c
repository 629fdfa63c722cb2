#include "bytes.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bench_parse_bytes(const char *opt, const char *text, int64_t *out, char *err,
                      size_t err_len)
{
    errno = 0;
    char *end = NULL;
    double v = text && *text && !isspace((unsigned char)*text) ? strtod(text, &end) : NAN;
    if (!end || end == text || errno != 0 || !isfinite(v) || v <= 0) {
        snprintf(err, err_len, "%s: '%s' is not a size (e.g. 8G, 512M, 2GiB)", opt,
                 text ? text : "");
        return -1;
    }
    double scale = 1;
    const char *units = "KMGT";
    const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (u) {
        scale = ldexp(1.0, 10 * (int)(u - units + 1));
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    double bytes = v * scale;
    if (*end != '\0' || bytes < 1 || bytes > 0x1p62) {
        snprintf(err, err_len, "%s: '%s' is not a size (e.g. 8G, 512M, 2GiB)", opt, text);
        return -1;
    }
    *out = (int64_t)bytes;
    return 0;
}

void bench_format_bytes(double bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && fabs(bytes) >= 1024.0) {
        bytes /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", bytes);
    else
        snprintf(buf, len, "%.4g %s", bytes, units[u]);
}
