/* writer.c — the streaming trace writer. Records are encoded into a raw buffer; the buffer
 * is deflated only when full, on flush and on close, so the shim's writer thread pays no
 * syscall per event. Stacks and strings are interned (intern.c) so each is written once.
 * The first write error sticks: from then on nothing is written and every call returns it,
 * so a full disk degrades tracing instead of the profiled program. */
#include "gp_trace.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "format.h"
#include "intern.h"
#include "pyintern.h"
#include "activity.h"

/* Level 1 was measured against 6 on the 1M malloc/free benchmark; see docs/trace-format.md
 * ("Compression level"). Overridable at build time to repeat the measurement. */
#ifndef GP_TRACE_DEFLATE_LEVEL
#define GP_TRACE_DEFLATE_LEVEL 1
#endif

/* The strategy for a raw buffer that is mostly GPU activity records (docs/benchmarks.md,
 * "CUPTI activity conversion"): their varints are near-random bytes that LZ matching
 * cannot shorten much, while a training loop sends millions a second; Huffman coding
 * alone takes half the time for 0.1 bytes more per kernel. Z_DEFAULT_STRATEGY here turns
 * the switch off. */
#ifndef GP_TRACE_ACT_STRATEGY
#define GP_TRACE_ACT_STRATEGY Z_HUFFMAN_ONLY
#endif

#define GP_WRITER_RAW_CAP (128u * 1024) /* encoded bytes gathered before one deflate call */
#define GP_WRITER_OUT_CAP (64u * 1024)  /* compressed bytes gathered before one write() */

struct gp_trace_writer {
    int fd;
    int err; /* first write error, returned forever after */
    bool zinit;
    bool in_hook;
    z_stream zs;
    int strategy; /* deflate's current one */
    uint8_t *raw;
    size_t raw_len, raw_cap;
    size_t act_len; /* bytes of activity records among the raw_len */
    /* The KERNEL_RUN record still open at the end of raw (docs/trace-format.md §3.8):
     * where its 3-byte length sits and that length. Any other record closes it. */
    bool run_open;
    size_t run_at, run_len;
    uint8_t *out;
    size_t out_len;
    uint64_t raw_total, file_total;
    uint64_t prev_time, prev_ptr; /* delta bases for event records */
    uint64_t events, dropped;
    struct gp_trace_strtab strings;
    struct gp_trace_stacktab stacks;
    struct gp_trace_stack_cache stack_cache;
    gp_trace_new_ip_fn hook;
    void *hook_ctx;
    /* Python frames: keys -> PYFRAME ids, contents -> PYFRAME ids (pyintern.h). */
    struct gp_trace_pymap py_keys, py_content;
    uint32_t npyframes;
    gp_trace_pyframe_fn py_resolve;
    void *py_ctx;
    struct gp_trace_act *act; /* GPU activity predictions (activity.c); NULL until used */
};

static int write_all(struct gp_trace_writer *w, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EIO; /* a regular file never does this; do not spin on it */
        p += k;
        n -= (size_t)k;
        w->file_total += (uint64_t)k;
    }
    return 0;
}

static int write_out(struct gp_trace_writer *w)
{
    int rc = write_all(w, w->out, w->out_len);
    w->out_len = 0;
    return rc;
}

/* Deflates every pending raw byte with the given flush mode; compressed output is written
 * whenever the output buffer fills, and all of it for Z_SYNC_FLUSH and Z_FINISH. */
/* Switches deflate to the strategy this raw buffer wants. deflateParams first compresses
 * what it holds under the old one and needs output space for that: written out as needed. */
static int set_strategy(struct gp_trace_writer *w)
{
    int want = w->act_len * 2 >= w->raw_len ? GP_TRACE_ACT_STRATEGY : Z_DEFAULT_STRATEGY;
    if (want == w->strategy)
        return 0;
    w->zs.next_in = w->raw;
    w->zs.avail_in = 0;
    for (;;) {
        w->zs.next_out = w->out + w->out_len;
        w->zs.avail_out = (uInt)(GP_WRITER_OUT_CAP - w->out_len);
        int zrc = deflateParams(&w->zs, GP_TRACE_DEFLATE_LEVEL, want);
        w->out_len = GP_WRITER_OUT_CAP - w->zs.avail_out;
        if (zrc == Z_OK)
            break;
        if (zrc != Z_BUF_ERROR || w->out_len == 0)
            return -EIO;
        int rc = write_out(w);
        if (rc < 0)
            return rc;
    }
    w->strategy = want;
    return 0;
}

static int pump(struct gp_trace_writer *w, int flush)
{
    int rc = set_strategy(w);
    if (rc < 0)
        goto out;

    w->act_len = 0;
    w->run_open = false;
    w->zs.next_in = w->raw;
    w->zs.avail_in = (uInt)w->raw_len;
    for (;;) {
        w->zs.next_out = w->out + w->out_len;
        w->zs.avail_out = (uInt)(GP_WRITER_OUT_CAP - w->out_len);
        int zrc = deflate(&w->zs, flush);
        if (zrc == Z_STREAM_ERROR) {
            rc = -EIO;
            goto out;
        }
        w->out_len = GP_WRITER_OUT_CAP - w->zs.avail_out;
        if (w->zs.avail_out == 0) {
            rc = write_out(w);
            if (rc < 0)
                goto out;
            continue;
        }
        /* Output space left over means deflate took all input and completed the flush. */
        if (flush == Z_FINISH && zrc != Z_STREAM_END)
            continue;
        break;
    }
    w->raw_len = 0;
    if (flush != Z_NO_FLUSH)
        rc = write_out(w);
out:
    if (rc < 0)
        w->err = rc;
    return rc;
}

/* Makes room for n more raw bytes: deflates what is pending, and grows the buffer only for
 * a record larger than it (a long header). */
static int reserve(struct gp_trace_writer *w, size_t n)
{
    int rc = 0;

    if (w->raw_cap - w->raw_len >= n)
        goto out;
    if (w->raw_len > 0) {
        rc = pump(w, Z_NO_FLUSH);
        if (rc < 0)
            goto out;
    }
    if (w->raw_cap < n) {
        uint8_t *raw = realloc(w->raw, n);
        if (!raw) {
            rc = -ENOMEM;
            goto out;
        }
        w->raw = raw;
        w->raw_cap = n;
    }
out:
    return rc;
}

/* Appends raw bytes that are not a record (the magic and version at the start). */
static int append(struct gp_trace_writer *w, const void *p, size_t n)
{
    int rc = reserve(w, n);
    if (rc < 0)
        return rc;
    memcpy(w->raw + w->raw_len, p, n);
    w->raw_len += n;
    w->raw_total += n;
    return 0;
}

/* Appends one record: type byte, varint payload length, payload. */
static int emit(struct gp_trace_writer *w, uint8_t type, const void *payload, size_t len)
{
    int rc = reserve(w, 1 + GP_TRACE_VARINT_MAX + len);
    if (rc < 0)
        return rc;
    w->run_open = false;
    uint8_t *start = w->raw + w->raw_len;
    uint8_t *p = start;
    *p++ = type;
    p = gp_trace_put_varint(p, len);
    memcpy(p, payload, len);
    p += len;
    w->raw_len += (size_t)(p - start);
    w->raw_total += (uint64_t)(p - start);
    return 0;
}

static uint8_t *put_string(uint8_t *p, const char *s, size_t len)
{
    p = gp_trace_put_varint(p, len);
    memcpy(p, s, len);
    return p + len;
}

static size_t clamp_len(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

static int emit_header(struct gp_trace_writer *w, const struct gp_trace_header *hdr)
{
    const char *strs[4] = {hdr->host, hdr->exe, hdr->cmdline, hdr->label};
    size_t lens[4];
    size_t cap = 6 * GP_TRACE_VARINT_MAX;
    uint8_t *buf = NULL;
    int rc;

    for (int i = 0; i < 4; i++) {
        lens[i] = clamp_len(strs[i], GP_TRACE_MAX_HEADER_STRING);
        cap += GP_TRACE_VARINT_MAX + lens[i];
    }
    buf = malloc(cap);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    uint8_t *p = buf;
    p = gp_trace_put_varint(p, GP_TRACE_VERSION);
    p = gp_trace_put_varint(p, hdr->pid);
    p = gp_trace_put_varint(p, hdr->ppid);
    p = gp_trace_put_varint(p, hdr->stack_depth);
    p = gp_trace_put_varint(p, hdr->realtime_ns);
    p = gp_trace_put_varint(p, hdr->monotonic_ns);
    for (int i = 0; i < 4; i++)
        p = put_string(p, strs[i] ? strs[i] : "", lens[i]);
    rc = emit(w, GP_REC_HEADER, buf, (size_t)(p - buf));
out:
    free(buf);
    return rc;
}

static void writer_free(struct gp_trace_writer *w)
{
    if (!w)
        return;
    if (w->zinit)
        deflateEnd(&w->zs);
    gp_trace_strtab_free(&w->strings);
    gp_trace_stacktab_free(&w->stacks);
    gp_trace_stack_cache_free(&w->stack_cache);
    gp_trace_pymap_free(&w->py_keys);
    gp_trace_pymap_free(&w->py_content);
    gp_trace_act_free(w->act);
    free(w->raw);
    free(w->out);
    free(w);
}

int gp_trace_writer_open(struct gp_trace_writer **out, int fd, const struct gp_trace_header *hdr,
                         const struct gp_trace_writer_limits *limits)
{
    struct gp_trace_writer *w = NULL;
    uint8_t pre[GP_TRACE_MAGIC_LEN + GP_TRACE_VARINT_MAX];
    int rc;

    if (!out || !hdr || fd < 0) {
        rc = -EINVAL;
        goto out;
    }
    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w) {
        rc = -ENOMEM;
        goto out;
    }
    w->fd = fd;
    w->raw_cap = GP_WRITER_RAW_CAP;
    w->raw = malloc(w->raw_cap);
    w->out = malloc(GP_WRITER_OUT_CAP);
    if (!w->raw || !w->out) {
        rc = -ENOMEM;
        goto out;
    }
    gp_trace_strtab_init(&w->strings, limits && limits->max_strings ? limits->max_strings
                                                                    : GP_TRACE_DEFAULT_MAX_STRINGS);
    gp_trace_stacktab_init(&w->stacks, limits && limits->max_stack_nodes
                                           ? limits->max_stack_nodes
                                           : GP_TRACE_DEFAULT_MAX_NODES);
    /* windowBits 15 + 16: a gzip wrapper, so zcat and gzip -t work on traces. */
    if (deflateInit2(&w->zs, GP_TRACE_DEFLATE_LEVEL, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        rc = -ENOMEM;
        goto out;
    }
    w->zinit = true;
    w->strategy = Z_DEFAULT_STRATEGY;
    w->prev_time = hdr->monotonic_ns;

    memcpy(pre, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    uint8_t *p = gp_trace_put_varint(pre + GP_TRACE_MAGIC_LEN, GP_TRACE_VERSION);
    rc = append(w, pre, (size_t)(p - pre));
    if (rc < 0)
        goto out;
    rc = emit_header(w, hdr);
    if (rc < 0)
        goto out;
    /* Flush now: a program that dies before the first periodic flush still leaves a trace
     * whose header can be read. */
    rc = pump(w, Z_SYNC_FLUSH);
    if (rc < 0)
        goto out;
    *out = w;
    w = NULL;
out:
    writer_free(w);
    return rc;
}

void gp_trace_writer_set_new_ip_hook(struct gp_trace_writer *w, gp_trace_new_ip_fn fn, void *ctx)
{
    w->hook = fn;
    w->hook_ctx = ctx;
}

/* Tells the hook about an ip before its first FRAME record. ips are remembered only while
 * a hook is installed: without one nobody needs them, and the set costs memory. */
static int announce_ip(struct gp_trace_writer *w, uint64_t ip)
{
    if (!w->hook)
        return 0;
    /* Out of memory for the set: announce anyway, a repeated call is harmless. */
    if (gp_trace_stacktab_first_ip(&w->stacks, ip) == 0)
        return 0;
    w->in_hook = true;
    w->hook(w->hook_ctx, w, ip);
    w->in_hook = false;
    return w->err;
}

static int emit_frame(struct gp_trace_writer *w, uint32_t parent, uint64_t ip)
{
    uint8_t buf[2 * GP_TRACE_VARINT_MAX];
    uint8_t *p = gp_trace_put_varint(buf, parent);
    p = gp_trace_put_varint(p, ip);
    return emit(w, GP_REC_FRAME, buf, (size_t)(p - buf));
}

/* Walks the trie outermost frame first (ips[nframes-1]), writing a FRAME record for each
 * node not seen before. At the node cap (or out of memory) the walk stops and the event
 * gets the deepest node already known: its stack loses the innermost frames, never the
 * outermost ones, so it is still attributed to the right callers. */
void gp_trace_writer_set_pyframe_resolver(struct gp_trace_writer *w, gp_trace_pyframe_fn fn,
                                          void *ctx)
{
    w->py_resolve = fn;
    w->py_ctx = ctx;
}

/* Interns s (NULL or past the string cap: id 0), writing its STRING record if new. */
static int intern_string(struct gp_trace_writer *w, const char *s, uint32_t *id)
{
    *id = 0;
    if (!s)
        return 0;
    size_t len = clamp_len(s, GP_TRACE_MAX_STRING);
    if (gp_trace_strtab_intern(&w->strings, s, (uint32_t)len, id) == 1)
        return emit(w, GP_REC_STRING, s, len);
    return 0;
}

/* The trie ip standing for the Python frame the owner calls key: its PYFRAME is written
 * the first time. *ip = 0 past the cap (which is the stack node cap: every new location
 * is at least one new node) or out of memory, and the stack is cut there like at the
 * node cap. */
static int py_node_ip(struct gp_trace_writer *w, uint64_t key, uint64_t *ip)
{
    uint32_t id = gp_trace_pymap_find(&w->py_keys, key, 0);
    int rc = 0;

    if (!id) {
        struct gp_trace_pyframe f = {NULL, NULL, 0};
        if (w->py_resolve && w->py_resolve(w->py_ctx, key, &f) != 0)
            f = (struct gp_trace_pyframe){NULL, NULL, 0};
        uint32_t file = 0, func = 0;
        if ((rc = intern_string(w, f.file, &file)) < 0 ||
            (rc = intern_string(w, f.function, &func)) < 0)
            return rc;
        uint64_t what = (uint64_t)file << 32 | func;
        id = gp_trace_pymap_find(&w->py_content, what, f.line);
        if (!id) {
            if (w->npyframes >= w->stacks.max || w->npyframes == UINT32_MAX) {
                *ip = 0;
                return 0;
            }
            uint8_t buf[3 * GP_TRACE_VARINT_MAX];
            uint8_t *p = gp_trace_put_varint(buf, file);
            p = gp_trace_put_varint(p, func);
            p = gp_trace_put_varint(p, f.line);
            if ((rc = emit(w, GP_REC_PYFRAME, buf, (size_t)(p - buf))) < 0)
                return rc;
            id = ++w->npyframes;
            /* Without memory for the maps the location is merely written again later. */
            (void)gp_trace_pymap_put(&w->py_content, what, f.line, id);
        }
        (void)gp_trace_pymap_put(&w->py_keys, key, 0, id);
    }
    *ip = GP_TRACE_PY_TAG | id;
    return rc;
}

static int intern_stack(struct gp_trace_writer *w, const uint64_t *ips, unsigned n, uint32_t *out)
{
    uint64_t hash = gp_trace_stack_hash(ips, n);
    uint32_t node = 0;
    int rc = 0;

    /* A cut stack is cached as cut: past the cap no node is ever added, so it would be
     * cut the same way again (one cut for lack of memory stays cut while cached, which
     * only costs detail). */
    if (gp_trace_stack_cache_get(&w->stack_cache, hash, ips, n, out))
        return 0;
    for (unsigned i = n; i-- > 0;) {
        uint64_t ip = ips[i];
        if (ip & GP_TRACE_PY_TAG) {
            rc = py_node_ip(w, ip, &ip);
            if (rc < 0)
                goto out;
            if (ip == 0)
                break;
        }
        uint32_t id = gp_trace_stacktab_find(&w->stacks, node, ip);
        if (!id) {
            if (w->stacks.count >= w->stacks.max)
                break;
            rc = (ip & GP_TRACE_PY_TAG) ? 0 : announce_ip(w, ip);
            if (rc < 0)
                goto out;
            if (gp_trace_stacktab_add(&w->stacks, node, ip, &id) < 0)
                break;
            rc = emit_frame(w, node, ip);
            if (rc < 0)
                goto out;
        }
        node = id;
    }
    *out = node;
    gp_trace_stack_cache_put(&w->stack_cache, hash, ips, n, node);
out:
    return rc;
}

int gp_trace_writer_event(struct gp_trace_writer *w, const struct gp_event *ev)
{
    uint8_t buf[GP_TRACE_LIBCALL_PAYLOAD_MAX];
    uint32_t stack = 0;
    uint32_t mask = 0;
    int rc;

    if (w->err)
        return w->err;
    if (w->in_hook)
        return -EBUSY; /* the hook may add modules, not events: the trie walk is mid-way */
    if (ev->type < GP_REC_ALLOC || ev->type > GP_REC_TORCH_STAT)
        return -EINVAL;
    rc = intern_stack(w, ev->ips, ev->nframes, &stack);
    if (rc < 0)
        return rc;

    mask |= ev->tid ? GP_EVF_TID : 0;
    mask |= ev->size ? GP_EVF_SIZE : 0;
    mask |= ev->ptr ? GP_EVF_PTR : 0;
    mask |= stack ? GP_EVF_STACK : 0;
    mask |= ev->stream ? GP_EVF_STREAM : 0;
    mask |= ev->device ? GP_EVF_DEVICE : 0;
    mask |= ev->kind ? GP_EVF_KIND : 0;
    mask |= ev->result ? GP_EVF_RESULT : 0;
    mask |= ev->aux1 ? GP_EVF_AUX1 : 0;
    mask |= ev->aux2 ? GP_EVF_AUX2 : 0;
    const struct gp_libcall *lc = &ev->lib;
    uint64_t ops = 0, types = 0;
    if (ev->type == GP_REC_LIBCALL) {
        ops = lc->trans_a | (uint64_t)lc->trans_b << 8;
        types = lc->type_a | (uint64_t)lc->type_b << 8 | (uint64_t)lc->type_c << 16;
        mask |= lc->batch ? GP_EVF_BATCH : 0;
        mask |= lc->lda ? GP_EVF_LDA : 0;
        mask |= lc->ldb ? GP_EVF_LDB : 0;
        mask |= lc->ldc ? GP_EVF_LDC : 0;
        mask |= lc->dur_ns ? GP_EVF_DUR : 0;
        mask |= ops ? GP_EVF_OPS : 0;
        mask |= types ? GP_EVF_TYPES : 0;
        mask |= lc->compute != GP_LIB_UNKNOWN ? GP_EVF_COMPUTE : 0;
        mask |= lc->algo != GP_LIB_UNKNOWN ? GP_EVF_ALGO : 0;
        mask |= lc->conv.nspatial >= 1 && lc->conv.nspatial <= GP_LIB_CONV_MAX_SPATIAL
                    ? GP_EVF_CONV
                    : 0;
        mask |= lc->workspace ? GP_EVF_WORKSPACE : 0;
        mask |= lc->notes ? GP_EVF_NOTES : 0;
        mask |= lc->ext_id ? GP_EVF_EXT_ID : 0;
        mask |= lc->scale || lc->type_d ? GP_EVF_LT_TYPES : 0;
    }

    uint8_t *p = buf;
    p = gp_trace_put_varint(p, gp_trace_zigzag((int64_t)(ev->time_ns - w->prev_time)));
    w->prev_time = ev->time_ns;
    p = gp_trace_put_varint(p, ev->api);
    p = gp_trace_put_varint(p, mask);
    if (mask & GP_EVF_TID)
        p = gp_trace_put_varint(p, ev->tid);
    if (mask & GP_EVF_SIZE)
        p = gp_trace_put_varint(p, ev->size);
    if (mask & GP_EVF_PTR) {
        /* alloc/free of the same block, or blocks at a steady stride, become one byte. */
        p = gp_trace_put_varint(p, gp_trace_zigzag((int64_t)(ev->ptr - w->prev_ptr)));
        w->prev_ptr = ev->ptr;
    }
    if (mask & GP_EVF_STACK)
        p = gp_trace_put_varint(p, stack);
    if (mask & GP_EVF_STREAM)
        p = gp_trace_put_varint(p, ev->stream);
    if (mask & GP_EVF_DEVICE)
        p = gp_trace_put_varint(p, gp_trace_zigzag(ev->device));
    if (mask & GP_EVF_KIND)
        p = gp_trace_put_varint(p, ev->kind);
    if (mask & GP_EVF_RESULT)
        p = gp_trace_put_varint(p, gp_trace_zigzag(ev->result));
    if (mask & GP_EVF_AUX1)
        p = gp_trace_put_varint(p, ev->aux1);
    if (mask & GP_EVF_AUX2)
        p = gp_trace_put_varint(p, ev->aux2);
    if (mask & GP_EVF_BATCH)
        p = gp_trace_put_varint(p, lc->batch);
    if (mask & GP_EVF_LDA)
        p = gp_trace_put_varint(p, lc->lda);
    if (mask & GP_EVF_LDB)
        p = gp_trace_put_varint(p, lc->ldb);
    if (mask & GP_EVF_LDC)
        p = gp_trace_put_varint(p, lc->ldc);
    if (mask & GP_EVF_DUR)
        p = gp_trace_put_varint(p, lc->dur_ns);
    if (mask & GP_EVF_OPS)
        p = gp_trace_put_varint(p, ops);
    if (mask & GP_EVF_TYPES)
        p = gp_trace_put_varint(p, types);
    if (mask & GP_EVF_COMPUTE)
        p = gp_trace_put_varint(p, gp_trace_zigzag(lc->compute));
    if (mask & GP_EVF_ALGO)
        p = gp_trace_put_varint(p, gp_trace_zigzag(lc->algo));
    if (mask & GP_EVF_CONV) {
        const struct gp_libconv *cv = &lc->conv;
        p = gp_trace_put_varint(p, cv->nspatial);
        p = gp_trace_put_varint(p, cv->n);
        p = gp_trace_put_varint(p, cv->c);
        p = gp_trace_put_varint(p, cv->k);
        for (unsigned d = 0; d < cv->nspatial; d++) {
            p = gp_trace_put_varint(p, cv->in[d]);
            p = gp_trace_put_varint(p, cv->filt[d]);
            p = gp_trace_put_varint(p, cv->out[d]);
            p = gp_trace_put_varint(p, cv->pads[d]);
            p = gp_trace_put_varint(p, cv->strides[d]);
            p = gp_trace_put_varint(p, cv->dilations[d]);
        }
    }
    if (mask & GP_EVF_WORKSPACE)
        p = gp_trace_put_varint(p, lc->workspace);
    if (mask & GP_EVF_NOTES)
        p = gp_trace_put_varint(p, lc->notes);
    if (mask & GP_EVF_EXT_ID)
        p = gp_trace_put_varint(p, lc->ext_id);
    if (mask & GP_EVF_LT_TYPES)
        p = gp_trace_put_varint(p, lc->scale | (uint64_t)lc->type_d << 8);
    rc = emit(w, ev->type, buf, (size_t)(p - buf));
    if (rc < 0)
        return rc;
    w->events++;
    return 0;
}

/* For activity.c, which encodes the GPU activity records (activity.h). */
int gp_trace_writer_emit_record(struct gp_trace_writer *w, uint8_t type, const void *payload,
                                size_t len)
{
    if (w->err)
        return w->err;
    if (w->in_hook)
        return -EBUSY;
    uint64_t before = w->raw_total;
    int rc = emit(w, type, payload, len);
    w->act_len += (size_t)(w->raw_total - before); /* after any pump emit made room with */
    return rc;
}

/* The length of an open run as a 3-byte varint, overlong when short: patched in place as
 * payloads are appended, so raw always holds whole records. */
static void put_run_len(uint8_t *p, size_t len)
{
    p[0] = (uint8_t)(len | 0x80);
    p[1] = (uint8_t)(len >> 7 | 0x80);
    p[2] = (uint8_t)(len >> 14);
}

int gp_trace_writer_emit_run(struct gp_trace_writer *w, uint8_t type, const void *payload,
                             size_t len)
{
    if (w->err)
        return w->err;
    if (w->in_hook)
        return -EBUSY;
    if (w->run_open && w->run_len + len <= GP_TRACE_RUN_MAX && w->raw_cap - w->raw_len >= len) {
        memcpy(w->raw + w->raw_len, payload, len);
        w->raw_len += len;
        w->run_len += len;
        put_run_len(w->raw + w->run_at, w->run_len);
    } else {
        int rc = reserve(w, 4 + len);
        if (rc < 0)
            return rc;
        uint8_t *p = w->raw + w->raw_len;
        p[0] = type;
        put_run_len(p + 1, len);
        memcpy(p + 4, payload, len);
        w->run_open = true;
        w->run_at = w->raw_len + 1;
        w->run_len = len;
        w->raw_len += 4 + len;
        len += 4;
    }
    w->raw_total += len;
    w->act_len += len;
    return 0;
}

int gp_trace_writer_intern_string(struct gp_trace_writer *w, const char *s, uint32_t *id)
{
    *id = 0;
    if (w->err)
        return w->err;
    if (w->in_hook)
        return -EBUSY;
    return intern_string(w, s, id);
}

struct gp_trace_act **gp_trace_writer_act_state(struct gp_trace_writer *w)
{
    return &w->act;
}

int gp_trace_writer_module(struct gp_trace_writer *w, const char *path, uint64_t load_bias,
                           uint64_t start, uint64_t end)
{
    uint8_t buf[4 * GP_TRACE_VARINT_MAX];
    uint32_t id = 0;
    int rc;

    if (w->err)
        return w->err;
    size_t len = clamp_len(path, GP_TRACE_MAX_STRING);
    /* Past the string cap, or out of memory, the module is still recorded, with path id 0:
     * its address range keeps the frames in it attributable to "some module". */
    if (path && gp_trace_strtab_intern(&w->strings, path, (uint32_t)len, &id) == 1) {
        rc = emit(w, GP_REC_STRING, path, len);
        if (rc < 0)
            return rc;
    }
    uint8_t *p = buf;
    p = gp_trace_put_varint(p, id);
    p = gp_trace_put_varint(p, load_bias);
    p = gp_trace_put_varint(p, start);
    p = gp_trace_put_varint(p, end);
    return emit(w, GP_REC_MODULE, buf, (size_t)(p - buf));
}

int gp_trace_writer_dropped(struct gp_trace_writer *w, uint64_t count)
{
    uint8_t buf[GP_TRACE_VARINT_MAX];

    if (w->err)
        return w->err;
    uint8_t *p = gp_trace_put_varint(buf, count);
    int rc = emit(w, GP_REC_DROPPED, buf, (size_t)(p - buf));
    if (rc == 0)
        w->dropped += count;
    return rc;
}

int gp_trace_writer_flush(struct gp_trace_writer *w)
{
    if (w->err)
        return w->err;
    return pump(w, Z_SYNC_FLUSH);
}

int gp_trace_writer_close(struct gp_trace_writer *w)
{
    uint8_t buf[2 * GP_TRACE_VARINT_MAX];
    int rc;

    if (!w)
        return 0;
    rc = w->err;
    if (rc < 0)
        goto out;
    uint8_t *p = gp_trace_put_varint(buf, w->events);
    p = gp_trace_put_varint(p, w->dropped);
    rc = emit(w, GP_REC_END, buf, (size_t)(p - buf));
    if (rc < 0)
        goto out;
    rc = pump(w, Z_FINISH);
out:
    writer_free(w);
    return rc;
}

void gp_trace_writer_abandon(struct gp_trace_writer *w)
{
    writer_free(w);
}

uint64_t gp_trace_writer_raw_bytes(const struct gp_trace_writer *w)
{
    return w->raw_total;
}

uint64_t gp_trace_writer_file_bytes(const struct gp_trace_writer *w)
{
    return w->file_total;
}
