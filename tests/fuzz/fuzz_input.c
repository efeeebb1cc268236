/* fuzz_input.c — see fuzz_input.h. */
#include "fuzz_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

static int gp_fuzz_fd = -1;
static char gp_fuzz_path[64];
static uint8_t *gp_fuzz_buf;
static size_t gp_fuzz_cap;

static void write_all(const uint8_t *p, size_t n)
{
    if (ftruncate(gp_fuzz_fd, 0) != 0)
        abort();
    for (off_t off = 0; n > 0;) {
        ssize_t k = pwrite(gp_fuzz_fd, p, n, off);
        if (k <= 0)
            abort();
        p += k;
        n -= (size_t)k;
        off += k;
    }
}

/* gzip-compresses the stream; returns the compressed length. */
static size_t gzip_stream(const uint8_t *p, size_t n, int finish)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t need = deflateBound(&zs, (uLong)n) + 64;
    if (need > gp_fuzz_cap) {
        free(gp_fuzz_buf);
        gp_fuzz_buf = malloc(need);
        if (!gp_fuzz_buf)
            abort();
        gp_fuzz_cap = need;
    }
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    zs.next_out = gp_fuzz_buf;
    zs.avail_out = (uInt)need;
    int rc = deflate(&zs, finish ? Z_FINISH : Z_SYNC_FLUSH);
    if (rc != (finish ? Z_STREAM_END : Z_OK))
        abort();
    size_t len = need - zs.avail_out;
    deflateEnd(&zs);
    return len;
}

const char *gp_fuzz_trace_file(const uint8_t *data, size_t size)
{
    if (gp_fuzz_fd < 0) {
        gp_fuzz_fd = memfd_create("gpuprof-fuzz-trace", MFD_CLOEXEC);
        if (gp_fuzz_fd < 0)
            abort();
        snprintf(gp_fuzz_path, sizeof gp_fuzz_path, "/proc/self/fd/%d", gp_fuzz_fd);
    }
    if (size == 0 || data[0] == 0x1f) {
        write_all(data, size);
        return gp_fuzz_path;
    }
    size_t len = gzip_stream(data + 1, size - 1, !(data[0] & 1));
    size_t cut = data[0] >> 1;
    write_all(gp_fuzz_buf, len > cut ? len - cut : 0);
    return gp_fuzz_path;
}
