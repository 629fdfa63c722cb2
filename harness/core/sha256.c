#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes per read when hashing a file. */
#define SHA256_FILE_CHUNK (1u << 20)

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of
 * the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* H(i) from H(i-1) and one 512-bit block M(i) (section 6.2.2). */
static void compress(uint32_t h[8], const unsigned char *block)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++)
        w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        const uint32_t t1 = k + BSIG1(e) + CH(e, f, g) + K[t] + w[t];
        const uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void sha256_init(sha256_ctx *c)
{
    /* Section 5.3.3: fractional parts of the square roots of the first 8 primes. */
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->bytes = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t used = (size_t)(c->bytes % 64);
    c->bytes += len;
    if (used > 0) {
        const size_t take = len < 64 - used ? len : 64 - used;
        memcpy(c->block + used, p, take);
        p += take;
        len -= take;
        if (used + take < 64)
            return;
        compress(c->h, c->block);
    }
    for (; len >= 64; p += 64, len -= 64)
        compress(c->h, p);
    if (len > 0)
        memcpy(c->block, p, len);
}

void sha256_final(sha256_ctx *c, unsigned char digest[SHA256_DIGEST_LEN])
{
    /* Section 5.1.1: the message, one 1 bit, zeros up to 56 mod 64 bytes,
     * then its length in bits as a 64-bit big-endian integer. */
    const uint64_t bits = c->bytes * 8;
    size_t used = (size_t)(c->bytes % 64);
    c->block[used++] = 0x80;
    if (used > 56) {
        memset(c->block + used, 0, 64 - used);
        compress(c->h, c->block);
        used = 0;
    }
    memset(c->block + used, 0, 56 - used);
    store_be32(c->block + 56, (uint32_t)(bits >> 32));
    store_be32(c->block + 60, (uint32_t)bits);
    compress(c->h, c->block);
    for (int i = 0; i < 8; i++)
        store_be32(digest + 4 * i, c->h[i]);
}

void sha256_hex(const unsigned char digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[2 * SHA256_DIGEST_LEN] = '\0';
}

void sha256_hex_of(const void *data, size_t len, char hex[SHA256_HEX_LEN])
{
    sha256_ctx c;
    unsigned char digest[SHA256_DIGEST_LEN];
    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, digest);
    sha256_hex(digest, hex);
}

int sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN], char *err, size_t err_len)
{
    unsigned char *buf = malloc(SHA256_FILE_CHUNK);
    if (buf == NULL) {
        snprintf(err, err_len, "hashing %s: out of memory", name);
        return -1;
    }
    sha256_ctx c;
    sha256_init(&c);
    off_t at = 0;
    for (;;) {
        const ssize_t n = pread(fd, buf, SHA256_FILE_CHUNK, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_len, "reading %s at byte %lld: %s", name, (long long)at,
                     strerror(errno));
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        sha256_update(&c, buf, (size_t)n);
        at += n;
    }
    free(buf);
    unsigned char digest[SHA256_DIGEST_LEN];
    sha256_final(&c, digest);
    sha256_hex(digest, hex);
    return 0;
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN], char *err, size_t err_len)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    const int rc = sha256_fd(fd, path, hex, err, err_len);
    if (close(fd) != 0 && rc == 0) {
        snprintf(err, err_len, "closing %s: %s", path, strerror(errno));
        return -1;
    }
    return rc;
}
