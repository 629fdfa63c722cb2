/*
 * Byte counts on the command line and in reports: "--mem-budget 2G",
 * "64 MiB". The bench_ prefix is historical: the memory and comm suites
 * were their first users.
 */
#ifndef DTB_HARNESS_BYTES_H
#define DTB_HARNESS_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* "8G", "512M", "2GiB", "1.5G", "300000000": bytes (K, M, G, T are powers of
 * 1024, an optional "B" or "iB" after them). The number is decimal only:
 * digits with at most one '.', no sign, exponent, hex or spaces ("0x10G" is
 * refused, not read as 16G). 0 on success, else -1 with a one-line message
 * naming opt. */
int bench_parse_bytes(const char *opt, const char *text, int64_t *out, char *err,
                      size_t err_len);
/* "64 MiB", "1.5 GiB", "512 B": the largest binary unit that keeps the value >= 1. */
void bench_format_bytes(double bytes, char *buf, size_t len);

#endif
