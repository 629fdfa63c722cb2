/*
 * core/sha256.h against FIPS 180-4's examples (the NIST vectors), streaming
 * in pieces of every awkward size against one-shot hashing, and the file
 * helpers (1 MiB reads) on a file of a few MiB.
 *
 * Usage: checkpoint_unit_sha256 (writes one file under $TMPDIR, removed after)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/check.h"
#include "sha256.h"

static uint64_t rng = 20260131;

static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(next_u64() >> 56);
}

static void check_vector(const char *msg, const char *want)
{
    char hex[SHA256_HEX_LEN];
    sha256_hex_of(msg, strlen(msg), hex);
    CHECK(strcmp(hex, want) == 0);
}

static void test_nist_vectors(void)
{
    check_vector("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 448 bits: the padding's length field goes into a second block. */
    check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_vector(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmn"
        "opqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* One million 'a', fed 1000 at a time. */
    char a[1000];
    memset(a, 'a', sizeof a);
    sha256_ctx c;
    unsigned char digest[SHA256_DIGEST_LEN];
    char hex[SHA256_HEX_LEN];
    sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        sha256_update(&c, a, sizeof a);
    sha256_final(&c, digest);
    sha256_hex(digest, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

/* Every length 0..300 (each padding case near 55, 56, 63, 64 bytes): one byte
 * at a time equals one shot. */
static void test_bytewise(void)
{
    unsigned char msg[300];
    fill_random(msg, sizeof msg);
    for (size_t len = 0; len <= sizeof msg; len++) {
        char one[SHA256_HEX_LEN], each[SHA256_HEX_LEN];
        unsigned char digest[SHA256_DIGEST_LEN];
        sha256_hex_of(msg, len, one);
        sha256_ctx c;
        sha256_init(&c);
        for (size_t i = 0; i < len; i++)
            sha256_update(&c, msg + i, 1);
        sha256_final(&c, digest);
        sha256_hex(digest, each);
        CHECK(strcmp(one, each) == 0);
    }
}

/* A 100 kB message in pieces of random odd sizes (empty ones too). */
static void test_pieces(void)
{
    enum { N = 100003 };
    unsigned char *msg = malloc(N);
    CHECK(msg != NULL);
    if (!msg)
        return;
    fill_random(msg, N);
    char one[SHA256_HEX_LEN];
    sha256_hex_of(msg, N, one);
    for (int trial = 0; trial < 20; trial++) {
        sha256_ctx c;
        unsigned char digest[SHA256_DIGEST_LEN];
        char pieces[SHA256_HEX_LEN];
        sha256_init(&c);
        for (size_t at = 0; at < N;) {
            size_t k = (size_t)(next_u64() % (trial < 10 ? 130 : 9000));
            k = k > N - at ? N - at : k;
            sha256_update(&c, msg + at, k);
            at += k;
        }
        sha256_final(&c, digest);
        sha256_hex(digest, pieces);
        CHECK(strcmp(one, pieces) == 0);
    }
    free(msg);
}

/* A file of 2.5 MiB + 17 bytes: three 1 MiB reads, the last one short. */
static void test_file(void)
{
    const size_t n = (5u << 19) + 17;
    unsigned char *data = malloc(n);
    CHECK(data != NULL);
    if (!data)
        return;
    fill_random(data, n);
    const char *tmpdir = getenv("TMPDIR");
    char path[512], want[SHA256_HEX_LEN], got[SHA256_HEX_LEN], err[256] = "";
    snprintf(path, sizeof path, "%s/sha256-test-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) {
        free(data);
        return;
    }
    CHECK(write(fd, data, n) == (ssize_t)n);
    sha256_hex_of(data, n, want);
    CHECK(sha256_fd(fd, path, got, err, sizeof err) == 0 && strcmp(got, want) == 0);
    CHECK(sha256_file(path, got, err, sizeof err) == 0 && strcmp(got, want) == 0);
    close(fd);
    unlink(path);
    CHECK(sha256_file(path, got, err, sizeof err) == -1);
    CHECK_CONTAINS(err, path);
    CHECK(strchr(err, '\n') == NULL);
    free(data);
}

int main(void)
{
    test_nist_vectors();
    test_bytewise();
    test_pieces();
    test_file();
    return check_report("checkpoint_unit_sha256");
}
