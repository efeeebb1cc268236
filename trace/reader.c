/* reader.c — the trace reader's hot path: record framing over the decompressed chunks
 * from inflate_src.c (in place when a record lies inside one chunk, assembled in a carry
 * buffer when it straddles two), event decoding straight from the buffer, and next().
 * Opening, errors and how a trace ends are in reader_open.c; definitions (header,
 * strings, modules, stack nodes) in reader_tables.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "format.h"
#include "reader_int.h"

/* A struct copy, not memset: GCC turns a 120-byte memset into rep stos, whose start-up
 * cost was a quarter of the whole decode time. */
static const struct gp_record gp_rd_zero_record;

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

void gp_rd_view_carry(struct gp_trace_reader *r, size_t len)
{
    r->in_carry = true;
    r->p = r->carry;
    r->end = r->carry + len;
}

/* Makes at least need bytes contiguous at r->p: in place when the chunk holds them, else
 * by assembling them in the carry buffer from this chunk's tail and the next chunks' heads.
 * Returns 1, 0 if the data ends first (the view then holds what there was), or -ENOMEM. */
int gp_rd_gather(struct gp_trace_reader *r, size_t need)
{
    size_t have = (size_t)(r->end - r->p);

    if (have >= need)
        return 1;
    if (have == 0 && !r->in_carry) {
        /* The usual case at a chunk boundary: just move on, no copy. */
        if (!next_chunk(r)) {
            gp_rd_view_carry(r, 0);
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
                gp_rd_view_carry(r, len);
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
    gp_rd_view_carry(r, len);
    return 1;
}

/* read_record's general case: long lengths, records across chunks, the end of the data. */
static int read_record_slow(struct gp_trace_reader *r, struct gp_rd_raw *rr, char *err,
                            size_t errlen)
{
    uint64_t len;
    size_t hdr;
    int rc;

    r->partial = false;
    if (r->end - r->p >= 2 && r->p[1] < 0x80) {
        /* A one-byte length (all events, most definitions); the record itself may
         * still continue in the next chunk. */
        hdr = 2;
        len = r->p[1];
    } else {
        rc = gp_rd_gather(r, 1);
        if (rc <= 0)
            goto out;
        for (size_t want = 2;; want++) {
            rc = gp_rd_gather(r, want);
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
                rc = gp_rd_fail(r, -EBADMSG, err, errlen,
                                "corrupt trace: bad record length at offset %llu",
                                (unsigned long long)r->consumed);
                goto out;
            }
        }
    }
    if (len > GP_TRACE_MAX_RECORD) {
        rc = gp_rd_fail(r, -EBADMSG, err, errlen,
                        "corrupt trace: record at offset %llu has payload length %llu (limit %u)",
                        (unsigned long long)r->consumed, (unsigned long long)len,
                        GP_TRACE_MAX_RECORD);
        goto out;
    }
    size_t need = hdr + (size_t)len;
    if ((size_t)(r->end - r->p) < need) {
        rc = gp_rd_gather(r, need);
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
        rc = gp_rd_fail(r, rc, err, errlen, "out of memory");
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

int gp_rd_read_record(struct gp_trace_reader *r, struct gp_rd_raw *rr, char *err, size_t errlen)
{
    return read_record(r, rr, err, errlen);
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

/* A convolution shape (GP_EVF_CONV): d, N, C, K, then six extents per spatial dimension.
 * -1 if corrupt (d outside 1..3, a value too wide for its field). */
static int decode_conv(const uint8_t **pp, const uint8_t *end, struct gp_libconv *cv)
{
    uint64_t v[GP_TRACE_CONV_VARINTS];
    if (gp_trace_get_varint(pp, end, &v[0]) <= 0 || v[0] < 1 || v[0] > GP_LIB_CONV_MAX_SPATIAL)
        return -1;
    unsigned nd = (unsigned)v[0], count = 4 + 6 * nd;
    for (unsigned i = 1; i < count; i++)
        if (gp_trace_get_varint(pp, end, &v[i]) <= 0 ||
            v[i] > (i < 4 || (i - 4) % 6 < 3 ? UINT32_MAX : UINT16_MAX))
            return -1;
    cv->nspatial = (uint8_t)nd;
    cv->n = (uint32_t)v[1];
    cv->c = (uint32_t)v[2];
    cv->k = (uint32_t)v[3];
    for (unsigned d = 0; d < nd; d++) {
        const uint64_t *f = &v[4 + 6 * d];
        cv->in[d] = (uint32_t)f[0];
        cv->filt[d] = (uint32_t)f[1];
        cv->out[d] = (uint32_t)f[2];
        cv->pads[d] = (uint16_t)f[3];
        cv->strides[d] = (uint16_t)f[4];
        cv->dilations[d] = (uint16_t)f[5];
    }
    return 0;
}

/* The LIBCALL fields after the common ones (format.h, GP_EVF_BATCH ..). -1 if corrupt. */
static int decode_libcall(const uint8_t **pp, const uint8_t *end, uint64_t mask,
                          struct gp_libcall *lc)
{
    uint64_t v[9] = {0};
    for (unsigned i = 0; i < 9; i++)
        if ((mask & (GP_EVF_BATCH << i)) && gp_trace_get_varint(pp, end, &v[i]) <= 0)
            return -1;
    lc->batch = v[0];
    lc->lda = v[1];
    lc->ldb = v[2];
    lc->ldc = v[3];
    lc->dur_ns = v[4];
    if (v[5] > 0xffff || v[6] > 0xffffff)
        return -1;
    lc->trans_a = (uint8_t)v[5];
    lc->trans_b = (uint8_t)(v[5] >> 8);
    lc->type_a = (uint8_t)v[6];
    lc->type_b = (uint8_t)(v[6] >> 8);
    lc->type_c = (uint8_t)(v[6] >> 16);
    int64_t c = gp_trace_unzigzag(v[7]), a = gp_trace_unzigzag(v[8]);
    if (c < INT32_MIN || c > INT32_MAX || a < INT32_MIN || a > INT32_MAX)
        return -1;
    lc->compute = (mask & GP_EVF_COMPUTE) ? (int32_t)c : GP_LIB_UNKNOWN;
    lc->algo = (mask & GP_EVF_ALGO) ? (int32_t)a : GP_LIB_UNKNOWN;
    if ((mask & GP_EVF_CONV) && decode_conv(pp, end, &lc->conv) < 0)
        return -1;
    uint64_t ws = 0, notes = 0;
    if ((mask & GP_EVF_WORKSPACE) && gp_trace_get_varint(pp, end, &ws) <= 0)
        return -1;
    if ((mask & GP_EVF_NOTES) && (gp_trace_get_varint(pp, end, &notes) <= 0 || notes > UINT32_MAX))
        return -1;
    lc->workspace = ws;
    lc->notes = (uint32_t)notes;
    uint64_t ext = 0;
    if ((mask & GP_EVF_EXT_ID) && gp_trace_get_varint(pp, end, &ext) <= 0)
        return -1;
    lc->ext_id = ext;
    uint64_t lt = 0;
    if ((mask & GP_EVF_LT_TYPES) && (gp_trace_get_varint(pp, end, &lt) <= 0 || lt > 0xffff))
        return -1;
    lc->scale = (uint8_t)lt;
    lc->type_d = (uint8_t)(lt >> 8);
    return 0;
}

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
    if (rr->type == GP_REC_LIBCALL && decode_libcall(&p, end, mask, &rec->lib) < 0)
        goto bad;
    /* Mask bits above GP_EVF_AUX2 (above GP_EVF_LT_TYPES for LIBCALL) are fields of later
     * versions, after these: skipped with the rest of the payload. */
    return 0;
bad:
    return gp_rd_fail_record(r, -EBADMSG, err, errlen, rr->type, rr->off, why);
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
        if (r->act && r->act->run_p != r->act->run_end) { /* the rest of a KERNEL_RUN */
            uint64_t off;
            *rec = gp_rd_zero_record;
            rc = gp_rd_activity_run(r, rec, &off, why, sizeof(why));
            if (rc < 0)
                return gp_rd_fail_record(r, rc, err, errlen, GP_REC_KERNEL, off, why);
            r->records++;
            return 1;
        }
        rc = read_record(r, &rr, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return gp_rd_finish(r, err, errlen);
        if (r->state == GP_RD_AFTER_END)
            return gp_rd_fail(r, -EBADMSG, err, errlen, "corrupt trace: data after the END record");
        *rec = gp_rd_zero_record;
        rec->type = rr.type;
        switch (rr.type) {
        case GP_REC_ALLOC:
        case GP_REC_FREE:
        case GP_REC_MEMINFO:
        case GP_REC_OOM:
        case GP_REC_POOL:
        case GP_REC_LIBCALL:
        case GP_REC_TORCH:
        case GP_REC_TORCH_STAT:
            rc = decode_event(r, &rr, rec, err, errlen);
            if (rc < 0)
                return rc;
            break;
        case GP_REC_STRING:
        case GP_REC_MODULE:
        case GP_REC_FRAME:
        case GP_REC_PYFRAME:
            rc = rr.type == GP_REC_STRING    ? gp_rd_string(r, rr.p, rr.end, rec, why, sizeof(why))
                 : rr.type == GP_REC_MODULE  ? gp_rd_module(r, rr.p, rr.end, rec, why, sizeof(why))
                 : rr.type == GP_REC_PYFRAME ? gp_rd_pyframe(r, rr.p, rr.end, rec, why, sizeof(why))
                                             : gp_rd_frame(r, rr.p, rr.end, rec, why, sizeof(why));
            if (rc < 0)
                return gp_rd_fail_record(r, rc, err, errlen, rr.type, rr.off, why);
            break;
        case GP_REC_DROPPED:
        case GP_REC_END: {
            const uint8_t *p = rr.p;
            uint64_t *a = rr.type == GP_REC_DROPPED ? &rec->count : &rec->aux1;
            int v = gp_trace_get_varint(&p, rr.end, a);
            if (v > 0 && rr.type == GP_REC_END)
                v = gp_trace_get_varint(&p, rr.end, &rec->aux2);
            if (v <= 0)
                return gp_rd_fail_record(r, -EBADMSG, err, errlen, rr.type, rr.off,
                                         v < 0 ? "bad varint" : "payload too short");
            if (rr.type == GP_REC_END)
                r->state = GP_RD_AFTER_END;
            break;
        }
        case GP_REC_KERNEL:
        case GP_REC_MEMCPY:
        case GP_REC_MEMSET:
        case GP_REC_GPU_MEMORY:
        case GP_REC_GPU_POOL:
        case GP_REC_EXT_CORR:
        case GP_REC_MARKER:
        case GP_REC_SYNC:
        case GP_REC_OVERHEAD:
        case GP_REC_ACT_DROPPED:
        case GP_REC_ACT_STATUS:
        case GP_REC_KERNEL_RUN:
            rc = gp_rd_activity(r, rr.type, rr.p, rr.end, rr.off, rec, why, sizeof(why));
            if (rc < 0) /* a run's errors are its kernels' */
                return gp_rd_fail_record(r, rc, err, errlen,
                                         rr.type == GP_REC_KERNEL_RUN ? GP_REC_KERNEL : rr.type,
                                         rr.off, why);
            break;
        case GP_REC_INFO:
            rc = gp_rd_info(r, rr.p, rr.end, rec, why, sizeof(why));
            if (rc < 0)
                return gp_rd_fail_record(r, rc, err, errlen, rr.type, rr.off, why);
            break;
        case GP_REC_CUBIN: { /* a module's machine code, or a chunk of it (cubin.c) */
            struct gp_cubin c;
            if (gp_trace_cubin_decode(rr.p, rr.end, &c, why, sizeof(why)) < 0)
                return gp_rd_fail_record(r, -EBADMSG, err, errlen, rr.type, rr.off, why);
            rec->id = c.module_id, rec->kind = (uint8_t)c.state, rec->aux1 = c.hash;
            rec->size = c.size, rec->aux2 = c.offset, rec->count = c.len, rec->data = c.data;
            break;
        }
        case GP_REC_HEADER:
            return gp_rd_fail_record(r, -EBADMSG, err, errlen, rr.type, rr.off, "a second HEADER");
        default:
            continue; /* a record type from a later version: skipped by its length */
        }
        r->records++;
        return 1;
    }
}
