/*
 * SHA-256 (FIPS 180-4), streaming: init, update any number of times with
 * pieces of any size, final. The digest of the concatenated pieces does not
 * depend on how the message was split.
 */
#ifndef DTB_HARNESS_SHA256_H
#define DTB_HARNESS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
/* 64 lowercase hex digits and the terminating NUL. */
#define SHA256_HEX_LEN 65

typedef struct sha256_ctx {
    uint32_t h[8];           /* the chaining value H(i) */
    uint64_t bytes;          /* message bytes taken so far */
    unsigned char block[64]; /* a partial block: block[0 .. bytes % 64) */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* The digest; c must be initialised again before reuse. */
void sha256_final(sha256_ctx *c, unsigned char digest[SHA256_DIGEST_LEN]);

/* The digest as 64 lowercase hex digits. */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN]);
/* One-shot: the hex digest of data[0 .. len). */
void sha256_hex_of(const void *data, size_t len, char hex[SHA256_HEX_LEN]);

/* The hex digest of the whole file open at fd, read from byte 0 to its end
 * with pread (the file offset is left alone), in 1 MiB pieces. `name` is
 * the path for messages. 0, or -1 with a one-line message. */
int sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN], char *err, size_t err_len);
/* The same for the file at path. */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN], char *err, size_t err_len);

#endif
