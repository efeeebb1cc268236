/* reader_open.c — opening a trace (is it a file, gzip, a gpuprof trace, a version we
 * read, a complete header?), the reader's error reporting, and the verdict on how a trace
 * ended: cleanly, cut (with an estimate of the compressed bytes lost) or damaged. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activity.h"
#include "reader_int.h"
#include "varint.h"

#define GP_RD_CARRY_MIN 4096

static const char *rec_name(uint8_t type, char *buf, size_t len)
{
    switch (type) {
    case GP_REC_HEADER:
        return "HEADER";
    case GP_REC_STRING:
        return "STRING";
    case GP_REC_MODULE:
        return "MODULE";
    case GP_REC_FRAME:
        return "FRAME";
    case GP_REC_PYFRAME:
        return "PYFRAME";
    case GP_REC_ALLOC:
        return "ALLOC";
    case GP_REC_FREE:
        return "FREE";
    case GP_REC_MEMINFO:
        return "MEMINFO";
    case GP_REC_OOM:
        return "OOM";
    case GP_REC_POOL:
        return "POOL";
    case GP_REC_LIBCALL:
        return "LIBCALL";
    case GP_REC_TORCH:
        return "TORCH";
    case GP_REC_TORCH_STAT:
        return "TORCH_STAT";
    case GP_REC_INFO:
        return "INFO";
    case GP_REC_CUBIN:
        return "CUBIN";
    case GP_REC_DROPPED:
        return "DROPPED";
    case GP_REC_END:
        return "END";
    default:
        if (gp_trace_activity_type_name(type)[0] != '?')
            return gp_trace_activity_type_name(type);
        snprintf(buf, len, "type 0x%02x", type);
        return buf;
    }
}

int gp_rd_fail(struct gp_trace_reader *r, int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->fail_msg, sizeof(r->fail_msg), fmt, ap);
    va_end(ap);
    if (err && errlen)
        snprintf(err, errlen, "%s", r->fail_msg);
    r->state = GP_RD_FAILED;
    r->fail_rc = rc;
    return rc;
}

int gp_rd_fail_record(struct gp_trace_reader *r, int rc, char *err, size_t errlen, uint8_t type,
                      uint64_t off, const char *why)
{
    char name[16];
    if (rc == -ENOMEM)
        return gp_rd_fail(r, rc, err, errlen, "out of memory");
    return gp_rd_fail(r, rc, err, errlen, "corrupt trace: %s record at offset %llu: %s",
                      rec_name(type, name, sizeof(name)), (unsigned long long)off, why);
}

/* Estimates how many compressed bytes hold nothing usable: the file size minus the file
 * offset at which inflate produced the end of the last complete record, interpolated
 * linearly inside the chunk that contains that stream offset. */
static uint64_t estimate_lost(struct gp_trace_reader *r)
{
    uint64_t file = gp_src_file_bytes(r->src);
    uint64_t at = 0;
    unsigned n = r->nmap < GP_RD_MAP_RING ? r->nmap : GP_RD_MAP_RING;

    for (unsigned k = 0; k < n; k++) {
        const struct gp_rd_chunk_map *m = &r->map[(r->nmap - 1 - k) % GP_RD_MAP_RING];
        at = m->in_start; /* older than the ring: the oldest known start, a lower bound */
        if (r->consumed < m->out_start || r->consumed > m->out_end)
            continue;
        uint64_t span = m->out_end - m->out_start;
        if (span)
            at += (r->consumed - m->out_start) * (m->in_end - m->in_start) / span;
        break;
    }
    return file > at ? file - at : 0;
}

/* The data ran out: decides between a clean end, a cut file and damage. */
int gp_rd_finish(struct gp_trace_reader *r, char *err, size_t errlen)
{
    const char *zmsg;
    int zerr;

    switch (gp_src_end(r->src, &zmsg, &zerr)) {
    case GP_SRC_CORRUPT:
        return gp_rd_fail(r, -EBADMSG, err, errlen,
                          "corrupt trace: compressed data is damaged (zlib: %s)", zmsg);
    case GP_SRC_ERROR:
        return gp_rd_fail(r, -zerr, err, errlen, "cannot read trace: %s", strerror(zerr));
    case GP_SRC_TRAILING:
        return gp_rd_fail(r, -EBADMSG, err, errlen,
                          "corrupt trace: data after the end of the gzip stream");
    case GP_SRC_STREAM_END:
        /* A complete gzip stream cannot end mid-record unless the writer was broken. */
        if (r->partial)
            return gp_rd_fail(r, -EBADMSG, err, errlen,
                              "corrupt trace: the gzip stream ends inside a record");
        r->status = r->state == GP_RD_AFTER_END ? GP_TRACE_OK : GP_TRACE_TRUNCATED;
        r->lost = 0;
        break;
    case GP_SRC_TRUNCATED:
    case GP_SRC_MORE:
        /* Cut: even after END, a missing gzip trailer means the file is not intact. */
        r->status = GP_TRACE_TRUNCATED;
        r->lost = estimate_lost(r);
        break;
    }
    r->state = GP_RD_DONE;
    return 0;
}

/* Open failed inside the preamble or header: say whether it was cut, damaged or foreign. */
static int fail_header(struct gp_trace_reader *r, int rc, char *err, size_t errlen)
{
    const char *zmsg;
    int zerr;

    if (rc < 0)
        return rc; /* already failed, message set */
    switch (gp_src_end(r->src, &zmsg, &zerr)) {
    case GP_SRC_CORRUPT:
        return gp_rd_fail(r, -EBADMSG, err, errlen,
                          "corrupt trace: compressed data is damaged (zlib: %s)", zmsg);
    case GP_SRC_ERROR:
        return gp_rd_fail(r, -zerr, err, errlen, "cannot read trace: %s", strerror(zerr));
    default:
        return gp_rd_fail(r, -ENODATA, err, errlen,
                          "trace ends before its header is complete (file truncated)");
    }
}

/* Magic, format version, HEADER record. */
static int read_preamble(struct gp_trace_reader *r, char *err, size_t errlen)
{
    struct gp_rd_raw rr;
    uint64_t version = 0;
    char why[128];
    int rc;

    rc = gp_rd_gather(r, GP_TRACE_MAGIC_LEN);
    if (rc < 0)
        return gp_rd_fail(r, rc, err, errlen, "out of memory");
    size_t have = (size_t)(r->end - r->p);
    if (memcmp(r->p, GP_TRACE_MAGIC, have < GP_TRACE_MAGIC_LEN ? have : GP_TRACE_MAGIC_LEN) != 0)
        return gp_rd_fail(r, -EINVAL, err, errlen, "not a gpuprof trace (bad magic)");
    if (rc == 0) {
        const char *zmsg;
        int zerr;
        /* A complete gzip file that is too short is foreign, a cut one is truncated. */
        enum gp_src_end e = gp_src_end(r->src, &zmsg, &zerr);
        if (e == GP_SRC_STREAM_END || e == GP_SRC_TRAILING)
            return gp_rd_fail(r, -EINVAL, err, errlen, "not a gpuprof trace (bad magic)");
        return fail_header(r, 0, err, errlen);
    }
    r->p += GP_TRACE_MAGIC_LEN;
    r->consumed += GP_TRACE_MAGIC_LEN;
    for (size_t want = 1;; want++) {
        rc = gp_rd_gather(r, want);
        if (rc <= 0)
            return fail_header(r, rc, err, errlen);
        const uint8_t *q = r->p;
        int v = gp_trace_get_varint(&q, r->end, &version);
        if (v < 0)
            return gp_rd_fail(r, -EBADMSG, err, errlen, "corrupt trace: bad format version");
        if (v > 0) {
            r->consumed += (size_t)(q - r->p);
            r->p = q;
            break;
        }
    }
    if (version > GP_TRACE_VERSION)
        return gp_rd_fail(
            r, -ENOTSUP, err, errlen,
            "format version %llu is newer than this reader (%u); upgrade gpuprof-report",
            (unsigned long long)version, GP_TRACE_VERSION);
    if (version == 0)
        return gp_rd_fail(r, -EBADMSG, err, errlen, "corrupt trace: format version 0");
    rc = gp_rd_read_record(r, &rr, err, errlen);
    if (rc <= 0)
        return fail_header(r, rc, err, errlen);
    if (rr.type != GP_REC_HEADER) {
        char name[16];
        return gp_rd_fail(r, -EBADMSG, err, errlen, "corrupt trace: first record is %s, not HEADER",
                          rec_name(rr.type, name, sizeof(name)));
    }
    rc = gp_rd_header(r, rr.p, rr.end, why, sizeof(why));
    if (rc < 0)
        return gp_rd_fail_record(r, rc, err, errlen, rr.type, rr.off, why);
    if (r->hdr.version > GP_TRACE_VERSION)
        return gp_rd_fail(
            r, -ENOTSUP, err, errlen,
            "format version %u is newer than this reader (%u); upgrade gpuprof-report",
            r->hdr.version, GP_TRACE_VERSION);
    r->prev_time = r->hdr.monotonic_ns;
    return 0;
}

/* Sniffs the first bytes with pread, before inflate sees them, to tell apart "not
 * compressed at all" from damage inside a gzip file. */
static int check_file(struct gp_trace_reader *r, char *err, size_t errlen)
{
    struct stat st;
    uint8_t magic[2];
    ssize_t n;

    if (fstat(r->fd, &st) < 0)
        return gp_rd_fail(r, -errno, err, errlen, "cannot read trace: %s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        return gp_rd_fail(r, -EISDIR, err, errlen, "is a directory");
    do {
        n = pread(r->fd, magic, sizeof(magic), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return gp_rd_fail(r, -errno, err, errlen, "cannot read trace: %s", strerror(errno));
    if (n == 0)
        return gp_rd_fail(r, -ENODATA, err, errlen, "empty file");
    if (n == 1 && magic[0] == 0x1f)
        return gp_rd_fail(r, -ENODATA, err, errlen,
                          "trace ends before its header is complete (file truncated)");
    if (n < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return gp_rd_fail(r, -EINVAL, err, errlen, "not a gzip file");
    return 0;
}

static void reader_free(struct gp_trace_reader *r)
{
    if (!r)
        return;
    if (r->have_chunk)
        gp_src_release(r->src, &r->chunk);
    gp_src_close(r->src);
    if (r->fd >= 0)
        close(r->fd);
    gp_rd_tables_free(r);
    gp_trace_act_free(r->act);
    free(r->carry);
    free(r);
}

int gp_trace_reader_open(struct gp_trace_reader **out, const char *path, char *err, size_t errlen)
{
    struct gp_trace_reader *r;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->status = GP_TRACE_TRUNCATED; /* until END is seen */
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rc = gp_rd_fail(r, -errno, err, errlen, "cannot open: %s", strerror(errno));
        goto out;
    }
    rc = check_file(r, err, errlen);
    if (rc < 0)
        goto out;
    r->carry_cap = GP_RD_CARRY_MIN;
    r->carry = malloc(r->carry_cap);
    if (!r->carry) {
        rc = gp_rd_fail(r, -ENOMEM, err, errlen, "out of memory");
        goto out;
    }
    gp_rd_view_carry(r, 0);
    /* GPUPROF_TRACE_THREADS=0 keeps inflate on the calling thread (tests, debugging). */
    const char *env = getenv("GPUPROF_TRACE_THREADS");
    rc = gp_src_open(&r->src, r->fd, !(env && strcmp(env, "0") == 0));
    if (rc < 0) {
        rc = gp_rd_fail(r, rc, err, errlen, "out of memory");
        goto out;
    }
    rc = read_preamble(r, err, errlen);
    if (rc < 0)
        goto out;
    r->state = GP_RD_RECORDS;
    *out = r;
    r = NULL;
out:
    reader_free(r);
    return rc;
}

const struct gp_trace_header *gp_trace_reader_header(const struct gp_trace_reader *r)
{
    return &r->hdr;
}

enum gp_trace_status gp_trace_reader_status(const struct gp_trace_reader *r)
{
    return r->status;
}

uint64_t gp_trace_reader_lost_bytes(const struct gp_trace_reader *r)
{
    return r->lost;
}

uint64_t gp_trace_reader_file_bytes(const struct gp_trace_reader *r)
{
    return gp_src_file_bytes(r->src);
}

uint64_t gp_trace_reader_records(const struct gp_trace_reader *r)
{
    return r->records;
}

void gp_trace_reader_close(struct gp_trace_reader *r)
{
    reader_free(r);
}
