#include "bytes.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the decimal number at the start of s: digits with at most one
 * '.', at least one digit; 0 when there is none. Nothing else: no sign, no
 * spaces, no hex, no exponent, no "inf" (strtod would take all of those). */
static size_t decimal_length(const char *s)
{
    size_t n = strspn(s, "0123456789.");
    size_t dots = 0;
    for (size_t i = 0; i < n; i++)
        dots += s[i] == '.';
    return dots <= 1 && n > dots ? n : 0;
}

/* Multiplier of the unit at *end ("", K, M, G, T, each with optional "i",
 * then an optional "B"), advancing end past it; 0 when unit is not one. */
static double unit_scale(const char **end)
{
    const char *p = *end;
    double scale = 1;
    const char *units = "KMGT";
    const char *u = *p ? strchr(units, toupper((unsigned char)*p)) : NULL;
    if (u) {
        scale = ldexp(1.0, 10 * (int)(u - units + 1));
        p++;
        if (*p == 'i' || *p == 'I')
            p++;
    }
    if (*p == 'B' || *p == 'b')
        p++;
    if (*p != '\0')
        return 0;
    *end = p;
    return scale;
}

int bench_parse_bytes(const char *opt, const char *text, int64_t *out, char *err,
                      size_t err_len)
{
    const char *t = text ? text : "";
    size_t len = decimal_length(t);
    char number[64];
    const char *end = t + len;
    double scale = len > 0 && len < sizeof number ? unit_scale(&end) : 0;
    double bytes = 0;
    if (scale > 0) {
        memcpy(number, t, len);
        number[len] = '\0';
        bytes = strtod(number, NULL) * scale;
    }
    if (scale == 0 || !(bytes >= 1 && bytes <= 0x1p62)) {
        snprintf(err, err_len, "%s: '%s' is not a size (a decimal number with an optional unit: "
                 "8G, 512M, 2GiB, 300000000)", opt, t);
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
