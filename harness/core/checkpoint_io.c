/*
 * Checkpoints: bytes in and out of files (checkpoint_files_internal.h).
 * Whole reads and writes that retry short transfers and EINTR, paths, a
 * small file replaced atomically, a directory's entries made durable, and
 * the text buffer the records and the manifest are built in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_files_internal.h"

/* Bytes per pwrite/pread call: well under what one call may transfer. */
#define IO_CHUNK ((size_t)1 << 30)

int ckpt_host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

void ckpt_swap32(void *data, size_t n)
{
    unsigned char *p = data;
    for (size_t i = 0; i < n; i++, p += 4) {
        unsigned char t = p[0];
        p[0] = p[3];
        p[3] = t;
        t = p[1];
        p[1] = p[2];
        p[2] = t;
    }
}

int ckpt_join(char *out, size_t cap, const char *dir, const char *name)
{
    const size_t n = strlen(dir);
    const int w = snprintf(out, cap, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

int ckpt_trim_slashes(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 0 || n >= cap)
        return -1;
    memcpy(out, path, n);
    out[n] = '\0';
    return 0;
}

int ckpt_pwrite_all(int fd, const void *buf, size_t len, int64_t at)
{
    const char *p = buf;
    while (len > 0) {
        const ssize_t w = pwrite(fd, p, len < IO_CHUNK ? len : IO_CHUNK, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
        at += w;
    }
    return 0;
}

int ckpt_pread_all(int fd, void *buf, size_t len, int64_t at)
{
    char *p = buf;
    while (len > 0) {
        const ssize_t r = pread(fd, p, len < IO_CHUNK ? len : IO_CHUNK, (off_t)at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        p += r;
        len -= (size_t)r;
        at += r;
    }
    return 0;
}

int ckpt_fsync_dir(const char *dir, char *err, size_t err_len)
{
    const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (fsync(fd) != 0) {
        snprintf(err, err_len, "fsync of directory %s: %s", dir, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) != 0) {
        snprintf(err, err_len, "closing directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

const char *ckpt_close_after(int fd, const char *what)
{
    const int saved = errno;
    if (close(fd) != 0 && what == NULL)
        return "closing";
    errno = saved;
    return what;
}

int ckpt_refuse_existing(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        snprintf(err, err_len, "checkpoint %s exists already", path);
    else if (errno != ENOENT)
        snprintf(err, err_len, "checkpoint %s: %s", path, strerror(errno));
    else
        return 0;
    return -1;
}

int ckpt_write_file_atomic(const char *tmp, const char *path, const char *buf, size_t len,
                           char *err, size_t err_len)
{
    const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(err, err_len, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    const char *what = ckpt_pwrite_all(fd, buf, len, 0) ? "writing" : fsync(fd) ? "fsync of" : NULL;
    what = ckpt_close_after(fd, what);
    if (what == NULL && rename(tmp, path) != 0)
        what = "renaming";
    if (what) {
        snprintf(err, err_len, "%s %s: %s", what, tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

char *ckpt_slurp(const char *path, size_t max, size_t *len)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        goto out;
    }
    *len = (size_t)st.st_size;
    if (!(buf = malloc(*len + 1)))
        goto out;
    if (ckpt_pread_all(fd, buf, *len, 0)) {
        if (errno == 0)
            errno = EIO; /* shorter than it was a moment ago */
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[*len] = '\0';
out:;
    const int saved = errno;
    close(fd);
    errno = saved;
    return buf;
}

void ckpt_sb_printf(ckpt_sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int w = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)w < b->cap - b->len) {
            b->len += (size_t)w;
            return;
        }
        const size_t cap = 2 * (b->cap + (size_t)w) + 256;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}
