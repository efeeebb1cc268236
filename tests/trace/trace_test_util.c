/* trace_test_util.c — see trace_test_util.h. */
#include "trace_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static void die(const char *what)
{
    perror(what);
    abort();
}

void tt_put(struct tt_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            die("realloc");
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void tt_put_u8(struct tt_buf *b, uint8_t v)
{
    tt_put(b, &v, 1);
}

void tt_put_varint(struct tt_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        tt_put_u8(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    tt_put_u8(b, (uint8_t)v);
}

void tt_put_str(struct tt_buf *b, const char *s)
{
    tt_put_varint(b, strlen(s));
    tt_put(b, s, strlen(s));
}

void tt_put_record(struct tt_buf *b, uint8_t type, const struct tt_buf *payload)
{
    tt_put_u8(b, type);
    tt_put_varint(b, payload->len);
    tt_put(b, payload->p, payload->len);
}

void tt_put_preamble(struct tt_buf *b, uint64_t version)
{
    struct tt_buf h = {0};

    tt_put(b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    tt_put_varint(b, version);
    tt_put_varint(&h, version);
    tt_put_varint(&h, 100);  /* pid */
    tt_put_varint(&h, 1);    /* ppid */
    tt_put_varint(&h, 8);    /* stack_depth */
    tt_put_varint(&h, 5000); /* realtime_ns */
    tt_put_varint(&h, 1000); /* monotonic_ns */
    tt_put_str(&h, "host");
    tt_put_str(&h, "/bin/x");
    tt_put_str(&h, "x");
    tt_put_str(&h, "");
    tt_put_record(b, GP_REC_HEADER, &h);
    tt_buf_free(&h);
}

void tt_buf_free(struct tt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

char *tt_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/gp_trace_test.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        die("mkdtemp");
    char *dir = strdup(tmpl);
    if (!dir)
        die("strdup");
    return dir;
}

char *tt_dir;

int tt_group_setup(void **state)
{
    (void)state;
    tt_dir = tt_mkdtemp();
    return 0;
}

int tt_group_teardown(void **state)
{
    (void)state;
    tt_rmtree(tt_dir);
    tt_dir = NULL;
    return 0;
}

const char *tt_path(const char *dir, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

void tt_rmtree(char *dir)
{
    DIR *d;
    struct dirent *e;
    char path[4096];

    if (!dir)
        return;
    d = opendir(dir);
    if (d) {
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (unlink(path) < 0)
                rmdir(path); /* a test's subdirectory */
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

void tt_write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path);
    if (n && write(fd, p, n) != (ssize_t)n)
        die("write");
    close(fd);
}

uint8_t *tt_gzip(const void *p, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2");
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    uint8_t *out = malloc(cap);
    if (!out)
        die("malloc");
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        die("deflate");
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

void tt_write_gz(const char *path, const void *p, size_t n)
{
    size_t len;
    uint8_t *gz = tt_gzip(p, n, &len);
    tt_write_file(path, gz, len);
    free(gz);
}

uint8_t *tt_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len)
        die("fread");
    fclose(f);
    *n = (size_t)len;
    return p;
}

struct gp_trace_header tt_header(void)
{
    return (struct gp_trace_header){
        .version = GP_TRACE_VERSION,
        .pid = 31337,
        .ppid = 4242,
        .stack_depth = 32,
        .realtime_ns = 1732646400123456789ull,
        .monotonic_ns = 987654321000ull,
        .host = "testhost",
        .exe = "/opt/app/bin/train",
        .cmdline = "train --epochs 3 --batch 64",
        .label = "run-7",
    };
}

int tt_open_error(const char *path, char *err, size_t errlen)
{
    struct gp_trace_reader *r = NULL;
    err[0] = '\0';
    int rc = gp_trace_reader_open(&r, path, err, errlen);
    if (rc >= 0) {
        gp_trace_reader_close(r);
        snprintf(err, errlen, "(opened)");
    }
    return rc;
}

void tt_read_all(const char *path, struct tt_trace *t)
{
    size_t cap = 0;

    memset(t, 0, sizeof(*t));
    if (gp_trace_reader_open(&t->r, path, t->err, sizeof(t->err)) < 0) {
        fprintf(stderr, "open %s: %s\n", path, t->err);
        abort();
    }
    for (;;) {
        if (t->n == cap) {
            cap = cap ? cap * 2 : 64;
            t->recs = realloc(t->recs, cap * sizeof(*t->recs));
            if (!t->recs)
                die("realloc");
        }
        t->rc = gp_trace_reader_next(t->r, &t->recs[t->n], t->err, sizeof(t->err));
        if (t->rc <= 0)
            break;
        t->n++;
    }
}

void tt_trace_free(struct tt_trace *t)
{
    gp_trace_reader_close(t->r);
    free(t->recs);
    memset(t, 0, sizeof(*t));
}

size_t tt_stack(const struct gp_trace_reader *r, uint32_t id, uint64_t *ips, size_t max)
{
    size_t n = 0;
    while (id && n < max) {
        const struct gp_stack_node *node = gp_trace_reader_frame(r, id);
        if (!node)
            abort();
        ips[n++] = node->ip;
        id = node->parent;
    }
    return n;
}

size_t tt_write_events(const char *path, struct gp_event *const *evs, size_t n)
{
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path);
    if (gp_trace_writer_open(&w, fd, &hdr, NULL) < 0)
        die("gp_trace_writer_open");
    for (size_t i = 0; i < n; i++)
        if (gp_trace_writer_event(w, evs[i]) < 0)
            die("gp_trace_writer_event");
    if (gp_trace_writer_close(w) < 0)
        die("gp_trace_writer_close");
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    return (size_t)size;
}

struct gp_event *tt_event(unsigned depth)
{
    struct gp_event *ev = calloc(1, gp_event_size(depth));
    if (!ev)
        die("calloc");
    return ev;
}
