/* reader.c — the streaming trace reader: record framing over the decompressed chunks from
 * inflate_src.c, event decoding (the hot path, straight from the chunk buffer), and how a
 * trace ends: cleanly (END), cut (truncated, with an estimate of what was lost) or damaged.
 * Definitions (header, strings, modules, stack nodes) are decoded in reader_tables.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "reader_int.h"

#define GP_RD_CARRY_MIN 4096

static const struct gp_record gp_rd_zero_record;

static const char *rec_name(uint8_t type, char *buf, size_t len)
{
    switch (type) {
    case GP_REC_HEADER: return "HEADER";
    case GP_REC_STRING: return "STRING";
    case GP_REC_MODULE: return "MODULE";
    case GP_REC_FRAME: return "FRAME";
    case GP_REC_ALLOC: return "ALLOC";
    case GP_REC_FREE: return "FREE";
    case GP_REC_MEMINFO: return "MEMINFO";
    case GP_REC_OOM: return "OOM";
    case GP_REC_DROPPED: return "DROPPED";
    case GP_REC_END: return "END";
    default:
        snprintf(buf, len, "type 0x%02x", type);
        return buf;
    }
}

/* Records the error so later next() calls repeat it, and copies it to err. */
__attribute__((format(printf, 5, 6))) static int fail(struct gp_trace_reader *r, int rc,
                                                      char *err, size_t errlen,
                                                      const char *fmt, ...)
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

static int fail_record(struct gp_trace_reader *r, int rc, char *err, size_t errlen, uint8_t type,
                       uint64_t off, const char *why)
{
    char name[16];
    if (rc == -ENOMEM)
        return fail(r, rc, err, errlen, "out of memory");
    return fail(r, rc, err, errlen, "corrupt trace: %s record at offset %llu: %s",
                rec_name(type, name, sizeof(name)), (unsigned long long)off, why);
}

/* Gives back the current chunk and makes the next one current; 0 when there is none. */
static int next_chunk(struct gp_trace_reader *r)
{
    if (r->have_chunk) {
        gp_src_release(r->src, &r->chunk);
        r->have_chunk = false;
    }
    if (r->src_ended || !gp_src_next(r->src, &r->chunk)) {
        r->src_ended = true;
        return 0;
    }
    r->have_chunk = true;
    r->chunk_pos = 0;
    r->map[r->nmap++ % GP_RD_MAP_RING] = (struct gp_rd_chunk_map){
        .out_start = r->chunk.out_start,
        .out_end = r->chunk.out_start + r->chunk.len,
        .in_start = r->chunk.in_start,
        .in_end = r->chunk.in_end,
    };
    return 1;
}

static void view_carry(struct gp_trace_reader *r, size_t len)
{
    r->in_carry = true;
    r->p = r->carry;
    r->end = r->carry + len;
}

/* Makes at least need bytes contiguous at r->p: in place when the chunk holds them, else
 * by assembling them in the carry buffer from this chunk's tail and the next chunks' heads.
 * Returns 1, 0 if the data ends first (the view then holds what there was), or -ENOMEM. */
static int gather(struct gp_trace_reader *r, size_t need)
{
    size_t have = (size_t)(r->end - r->p);

    if (have >= need)
        return 1;
    if (have == 0 && !r->in_carry) {
        /* The usual case at a chunk boundary: just move on, no copy. */
        if (!next_chunk(r)) {
            view_carry(r, 0);
            return 0;
        }
        r->p = r->chunk.data;
        r->end = r->chunk.data + r->chunk.len;
        have = r->chunk.len;
        if (have >= need)
            return 1;
    }
    if (r->in_carry)
        memmove(r->carry, r->p, have);
    if (r->carry_cap < need) {
        size_t cap = r->carry_cap;
        while (cap < need)
            cap *= 2;
        uint8_t *c = realloc(r->carry, cap);
        if (!c)
            return -ENOMEM;
        r->carry = c;
        r->carry_cap = cap;
    }
    if (!r->in_carry) {
        memcpy(r->carry, r->p, have);
        r->chunk_pos = r->chunk.len;
    }
    size_t len = have;
    while (len < need) {
        if (!r->have_chunk || r->chunk_pos == r->chunk.len) {
            if (!next_chunk(r)) {
                view_carry(r, len);
                return 0;
            }
        }
        size_t take = r->chunk.len - r->chunk_pos;
        if (take > need - len)
            take = need - len;
        memcpy(r->carry + len, r->chunk.data + r->chunk_pos, take);
        r->chunk_pos += take;
        len += take;
    }
    view_carry(r, len);
    return 1;
}

struct gp_rd_raw {
    uint8_t type;
    const uint8_t *p, *end; /* payload */
    uint64_t off;           /* stream offset of the type byte */
};

/* read_record's general case: long lengths, records across chunks, the end of the data. */
static int read_record_slow(struct gp_trace_reader *r, struct gp_rd_raw *rr, char *err,
                            size_t errlen)
{
    uint64_t len;
    size_t hdr;
    int rc;

    r->partial = false;
    if (r->end - r->p >= 2 && r->p[1] < 0x80) {
        /* Fast path: every event and most definitions have a one-byte length. */
        hdr = 2;
        len = r->p[1];
    } else {
        rc = gather(r, 1);
        if (rc <= 0)
            goto out;
        for (size_t want = 2;; want++) {
            rc = gather(r, want);
            if (rc <= 0) {
                r->partial = rc == 0;
                goto out;
            }
            const uint8_t *q = r->p + 1;
            int v = gp_trace_get_varint(&q, r->end, &len);
            if (v > 0) {
                hdr = (size_t)(q - r->p);
                break;
            }
            if (v < 0) {
                rc = fail(r, -EBADMSG, err, errlen,
                          "corrupt trace: bad record length at offset %llu",
                          (unsigned long long)r->consumed);
                goto out;
            }
        }
    }
    if (len > GP_TRACE_MAX_RECORD) {
        rc = fail(r, -EBADMSG, err, errlen,
                  "corrupt trace: record at offset %llu has payload length %llu (limit %u)",
                  (unsigned long long)r->consumed, (unsigned long long)len,
                  GP_TRACE_MAX_RECORD);
        goto out;
    }
    size_t need = hdr + (size_t)len;
    if ((size_t)(r->end - r->p) < need) {
        rc = gather(r, need);
        if (rc <= 0) {
            r->partial = rc == 0;
            goto out;
        }
    }
    rr->type = r->p[0];
    rr->p = r->p + hdr;
    rr->end = r->p + need;
    rr->off = r->consumed;
    r->p += need;
    r->consumed += need;
    if (r->in_carry && r->p == r->end && r->have_chunk) {
        /* The carry is used up: continue in the chunk (the payload stays valid in carry). */
        r->in_carry = false;
        r->p = r->chunk.data + r->chunk_pos;
        r->end = r->chunk.data + r->chunk.len;
    }
    rc = 1;
out:
    if (rc < 0 && r->state != GP_RD_FAILED)
        rc = fail(r, rc, err, errlen, "out of memory");
    return rc;
}

/* Frames the next record. 1 = *rr holds it; 0 = the data ended (r->partial: inside a
 * record); negative = corrupt framing or no memory (reader failed, err filled).
 * Inline fast path: a one-byte length and the whole record in the current chunk. */
static inline int read_record(struct gp_trace_reader *r, struct gp_rd_raw *rr, char *err,
                              size_t errlen)
{
    const uint8_t *p = r->p;
    size_t have = (size_t)(r->end - p);

    if (have >= 2 && p[1] < 0x80 && have >= 2u + p[1] && !r->in_carry) {
        size_t need = 2u + p[1];
        rr->type = p[0];
        rr->p = p + 2;
        rr->end = p + need;
        rr->off = r->consumed;
        r->p = p + need;
        r->consumed += need;
        return 1;
    }
    return read_record_slow(r, rr, err, errlen);
}

/* Decodes one varint field of an event, or jumps to the caller's bad label. */
#define GP_RD_GET(v)                                                                               \
    do {                                                                                           \
        int g_ = gp_trace_get_varint(&p, end, &(v));                                               \
        if (g_ <= 0) {                                                                             \
            why = g_ < 0 ? "bad varint" : "payload too short";                                     \
            goto bad;                                                                              \
        }                                                                                          \
    } while (0)

static int decode_event(struct gp_trace_reader *r, const struct gp_rd_raw *rr,
                        struct gp_record *rec, char *err, size_t errlen)
{
    const uint8_t *p = rr->p, *end = rr->end;
    const char *why = "value out of range";
    char buf[64];
    uint64_t dt, api, mask, v;

    GP_RD_GET(dt);
    GP_RD_GET(api);
    GP_RD_GET(mask);
    if (api > UINT8_MAX)
        goto bad;
    rec->api = (uint8_t)api;
    rec->time_ns = r->prev_time + (uint64_t)gp_trace_unzigzag(dt);
    r->prev_time = rec->time_ns;
    if (mask & GP_EVF_TID) {
        GP_RD_GET(v);
        if (v > UINT32_MAX)
            goto bad;
        rec->tid = (uint32_t)v;
    }
    if (mask & GP_EVF_SIZE)
        GP_RD_GET(rec->size);
    if (mask & GP_EVF_PTR) {
        GP_RD_GET(v);
        rec->ptr = r->prev_ptr + (uint64_t)gp_trace_unzigzag(v);
        r->prev_ptr = rec->ptr;
    }
    if (mask & GP_EVF_STACK) {
        GP_RD_GET(v);
        if (v > r->nframes) {
            snprintf(buf, sizeof(buf), "undefined stack node %llu", (unsigned long long)v);
            why = buf;
            goto bad;
        }
        rec->stack = (uint32_t)v;
    }
    if (mask & GP_EVF_STREAM)
        GP_RD_GET(rec->stream);
    if (mask & GP_EVF_DEVICE) {
        GP_RD_GET(v);
        int64_t d = gp_trace_unzigzag(v);
        if (d < INT32_MIN || d > INT32_MAX)
            goto bad;
        rec->device = (int32_t)d;
    }
    if (mask & GP_EVF_KIND) {
        GP_RD_GET(v);
        if (v > UINT8_MAX)
            goto bad;
        rec->kind = (uint8_t)v;
    }
    if (mask & GP_EVF_RESULT) {
        GP_RD_GET(v);
        int64_t e = gp_trace_unzigzag(v);
        if (e < INT32_MIN || e > INT32_MAX)
            goto bad;
        rec->result = (int32_t)e;
    }
    if (mask & GP_EVF_AUX1)
        GP_RD_GET(rec->aux1);
    if (mask & GP_EVF_AUX2)
        GP_RD_GET(rec->aux2);
    /* Mask bits above GP_EVF_AUX2 are fields of later versions, after these: skipped with
     * the rest of the payload. */
    return 0;
bad:
    return fail_record(r, -EBADMSG, err, errlen, rr->type, rr->off, why);
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
static int finish(struct gp_trace_reader *r, char *err, size_t errlen)
{
    const char *zmsg;
    int zerr;

    switch (gp_src_end(r->src, &zmsg, &zerr)) {
    case GP_SRC_CORRUPT:
        return fail(r, -EBADMSG, err, errlen,
                    "corrupt trace: compressed data is damaged (zlib: %s)", zmsg);
    case GP_SRC_ERROR:
        return fail(r, -zerr, err, errlen, "cannot read trace: %s", strerror(zerr));
    case GP_SRC_TRAILING:
        return fail(r, -EBADMSG, err, errlen,
                    "corrupt trace: data after the end of the gzip stream");
    case GP_SRC_STREAM_END:
        /* A complete gzip stream cannot end mid-record unless the writer was broken. */
        if (r->partial)
            return fail(r, -EBADMSG, err, errlen,
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

int gp_trace_reader_next(struct gp_trace_reader *r, struct gp_record *rec, char *err, size_t errlen)
{
    struct gp_rd_raw rr;
    char why[128];
    int rc;

    if (r->state == GP_RD_FAILED) {
        if (err && errlen)
            snprintf(err, errlen, "%s", r->fail_msg);
        return r->fail_rc;
    }
    if (r->state == GP_RD_DONE)
        return 0;
    for (;;) {
        rc = read_record(r, &rr, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return finish(r, err, errlen);
        if (r->state == GP_RD_AFTER_END)
            return fail(r, -EBADMSG, err, errlen, "corrupt trace: data after the END record");
        /* A struct copy, not memset: GCC turns a 120-byte memset into rep stos, whose
         * start-up cost was a quarter of the whole decode time. */
        *rec = gp_rd_zero_record;
        rec->type = rr.type;
        switch (rr.type) {
        case GP_REC_ALLOC:
        case GP_REC_FREE:
        case GP_REC_MEMINFO:
        case GP_REC_OOM:
            rc = decode_event(r, &rr, rec, err, errlen);
            if (rc < 0)
                return rc;
            break;
        case GP_REC_STRING:
        case GP_REC_MODULE:
        case GP_REC_FRAME:
            rc = rr.type == GP_REC_STRING   ? gp_rd_string(r, rr.p, rr.end, rec, why, sizeof(why))
                 : rr.type == GP_REC_MODULE ? gp_rd_module(r, rr.p, rr.end, rec, why, sizeof(why))
                                            : gp_rd_frame(r, rr.p, rr.end, rec, why, sizeof(why));
            if (rc < 0)
                return fail_record(r, rc, err, errlen, rr.type, rr.off, why);
            break;
        case GP_REC_DROPPED:
        case GP_REC_END: {
            const uint8_t *p = rr.p;
            uint64_t *a = rr.type == GP_REC_DROPPED ? &rec->count : &rec->aux1;
            int v = gp_trace_get_varint(&p, rr.end, a);
            if (v > 0 && rr.type == GP_REC_END)
                v = gp_trace_get_varint(&p, rr.end, &rec->aux2);
            if (v <= 0)
                return fail_record(r, -EBADMSG, err, errlen, rr.type, rr.off,
                                   v < 0 ? "bad varint" : "payload too short");
            if (rr.type == GP_REC_END)
                r->state = GP_RD_AFTER_END;
            break;
        }
        case GP_REC_HEADER:
            return fail_record(r, -EBADMSG, err, errlen, rr.type, rr.off, "a second HEADER");
        default:
            continue; /* a record type from a later version: skipped by its length */
        }
        r->records++;
        return 1;
    }
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
        return fail(r, -EBADMSG, err, errlen,
                    "corrupt trace: compressed data is damaged (zlib: %s)", zmsg);
    case GP_SRC_ERROR:
        return fail(r, -zerr, err, errlen, "cannot read trace: %s", strerror(zerr));
    default:
        return fail(r, -ENODATA, err, errlen,
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

    rc = gather(r, GP_TRACE_MAGIC_LEN);
    if (rc < 0)
        return fail(r, rc, err, errlen, "out of memory");
    size_t have = (size_t)(r->end - r->p);
    if (memcmp(r->p, GP_TRACE_MAGIC, have < GP_TRACE_MAGIC_LEN ? have : GP_TRACE_MAGIC_LEN) != 0)
        return fail(r, -EINVAL, err, errlen, "not a gpuprof trace (bad magic)");
    if (rc == 0) {
        const char *zmsg;
        int zerr;
        /* A complete gzip file that is too short is foreign, a cut one is truncated. */
        enum gp_src_end e = gp_src_end(r->src, &zmsg, &zerr);
        if (e == GP_SRC_STREAM_END || e == GP_SRC_TRAILING)
            return fail(r, -EINVAL, err, errlen, "not a gpuprof trace (bad magic)");
        return fail_header(r, 0, err, errlen);
    }
    r->p += GP_TRACE_MAGIC_LEN;
    r->consumed += GP_TRACE_MAGIC_LEN;
    for (size_t want = 1;; want++) {
        rc = gather(r, want);
        if (rc <= 0)
            return fail_header(r, rc, err, errlen);
        const uint8_t *q = r->p;
        int v = gp_trace_get_varint(&q, r->end, &version);
        if (v < 0)
            return fail(r, -EBADMSG, err, errlen, "corrupt trace: bad format version");
        if (v > 0) {
            r->consumed += (size_t)(q - r->p);
            r->p = q;
            break;
        }
    }
    if (version > GP_TRACE_VERSION)
        return fail(r, -ENOTSUP, err, errlen,
                    "format version %llu is newer than this reader (%u); upgrade gpuprof-report",
                    (unsigned long long)version, GP_TRACE_VERSION);
    if (version == 0)
        return fail(r, -EBADMSG, err, errlen, "corrupt trace: format version 0");
    rc = read_record(r, &rr, err, errlen);
    if (rc <= 0)
        return fail_header(r, rc, err, errlen);
    if (rr.type != GP_REC_HEADER) {
        char name[16];
        return fail(r, -EBADMSG, err, errlen,
                    "corrupt trace: first record is %s, not HEADER",
                    rec_name(rr.type, name, sizeof(name)));
    }
    rc = gp_rd_header(r, rr.p, rr.end, why, sizeof(why));
    if (rc < 0)
        return fail_record(r, rc, err, errlen, rr.type, rr.off, why);
    if (r->hdr.version > GP_TRACE_VERSION)
        return fail(r, -ENOTSUP, err, errlen,
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
        return fail(r, -errno, err, errlen, "cannot read trace: %s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        return fail(r, -EISDIR, err, errlen, "is a directory");
    do {
        n = pread(r->fd, magic, sizeof(magic), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail(r, -errno, err, errlen, "cannot read trace: %s", strerror(errno));
    if (n == 0)
        return fail(r, -ENODATA, err, errlen, "empty file");
    if (n == 1 && magic[0] == 0x1f)
        return fail(r, -ENODATA, err, errlen,
                    "trace ends before its header is complete (file truncated)");
    if (n < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return fail(r, -EINVAL, err, errlen, "not a gzip file");
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
        rc = fail(r, -errno, err, errlen, "cannot open: %s", strerror(errno));
        goto out;
    }
    rc = check_file(r, err, errlen);
    if (rc < 0)
        goto out;
    r->carry_cap = GP_RD_CARRY_MIN;
    r->carry = malloc(r->carry_cap);
    if (!r->carry) {
        rc = fail(r, -ENOMEM, err, errlen, "out of memory");
        goto out;
    }
    view_carry(r, 0);
    /* GPUPROF_TRACE_THREADS=0 keeps inflate on the calling thread (tests, debugging). */
    const char *env = getenv("GPUPROF_TRACE_THREADS");
    rc = gp_src_open(&r->src, r->fd, !(env && strcmp(env, "0") == 0));
    if (rc < 0) {
        rc = fail(r, rc, err, errlen, "out of memory");
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

uint64_t gp_trace_reader_records(const struct gp_trace_reader *r)
{
    return r->records;
}

void gp_trace_reader_close(struct gp_trace_reader *r)
{
    reader_free(r);
}
