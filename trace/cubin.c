/* cubin.c — CUBIN records: the machine code of the modules a program loaded, saved by the
 * shim when GPUPROF_CUBINS=1 so the report can count Tensor Core instructions per kernel
 * (docs/trace-format.md §3.5.4, docs/tensor-cores.md layer 4). A cubin can be tens of MB
 * while a record is at most GP_TRACE_MAX_RECORD, so its bytes travel in chunks, each a
 * record that says where it belongs; the reader checks each chunk on its own and hands the
 * bytes over without keeping them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "varint.h"

/* Fields before the bytes: state, module, hash, size, offset, length. */
#define GP_CUBIN_FIELDS 6

uint64_t gp_trace_cubin_hash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

const char *gp_trace_cubin_state_name(unsigned state)
{
    static const char *const names[GP_CUBIN_STATES] = {"saved", "duplicate", "over-cap", "lost"};
    return state < GP_CUBIN_STATES ? names[state] : "?";
}

static int emit_chunk(struct gp_trace_writer *w, uint8_t *buf, const struct gp_cubin *c,
                      uint64_t off, size_t len)
{
    uint8_t *p = buf;
    p = gp_trace_put_varint(p, c->state);
    p = gp_trace_put_varint(p, c->module_id);
    p = gp_trace_put_varint(p, c->hash);
    p = gp_trace_put_varint(p, c->size);
    p = gp_trace_put_varint(p, off);
    p = gp_trace_put_varint(p, len);
    if (len)
        memcpy(p, c->data + off, len);
    return gp_trace_writer_emit_record(w, GP_REC_CUBIN, buf, (size_t)(p - buf) + len);
}

int gp_trace_writer_cubin(struct gp_trace_writer *w, const struct gp_cubin *c)
{
    uint8_t small[GP_CUBIN_FIELDS * GP_TRACE_VARINT_MAX];
    uint8_t *buf = NULL;
    int rc = 0;

    if (!w || !c || c->state >= GP_CUBIN_STATES || c->size == 0 ||
        c->size > GP_TRACE_CUBIN_MAX_SIZE || (c->state == GP_CUBIN_SAVED && !c->data))
        return -EINVAL;
    if (c->state != GP_CUBIN_SAVED)
        return emit_chunk(w, small, c, 0, 0);
    /* One chunk's worth of room, reused: the writer copies each record at once. */
    buf = malloc(sizeof small + GP_TRACE_CUBIN_CHUNK);
    if (!buf)
        return -ENOMEM;
    for (uint64_t off = 0; off < c->size && rc == 0; off += GP_TRACE_CUBIN_CHUNK) {
        uint64_t left = c->size - off;
        size_t len = left < GP_TRACE_CUBIN_CHUNK ? (size_t)left : GP_TRACE_CUBIN_CHUNK;
        rc = emit_chunk(w, buf, c, off, len);
    }
    free(buf);
    return rc;
}

int gp_trace_cubin_decode(const uint8_t *p, const uint8_t *end, struct gp_cubin *out, char *why,
                          size_t whylen)
{
    uint64_t v[GP_CUBIN_FIELDS];
    for (unsigned i = 0; i < GP_CUBIN_FIELDS; i++) {
        int g = gp_trace_get_varint(&p, end, &v[i]);
        if (g <= 0) {
            snprintf(why, whylen, "%s", g < 0 ? "bad varint" : "payload too short");
            return -EBADMSG;
        }
    }
    uint64_t state = v[0], module = v[1], size = v[3], off = v[4], len = v[5];
    const char *bad = NULL;
    if (state >= GP_CUBIN_STATES)
        bad = "unknown cubin state";
    else if (module > UINT32_MAX)
        bad = "value out of range";
    else if (size == 0 || size > GP_TRACE_CUBIN_MAX_SIZE)
        bad = "cubin size out of range";
    else if (state != GP_CUBIN_SAVED && (off != 0 || len != 0))
        bad = "bytes in a cubin that was not saved";
    else if (state == GP_CUBIN_SAVED && (len == 0 || off >= size || len > size - off))
        bad = "chunk outside its cubin";
    else if (len > (uint64_t)(end - p))
        bad = "payload too short";
    if (bad) {
        snprintf(why, whylen, "%s", bad);
        return -EBADMSG;
    }
    *out = (struct gp_cubin){
        .module_id = (uint32_t)module,
        .state = (uint32_t)state,
        .hash = v[2],
        .size = size,
        .offset = off,
        .data = len ? p : NULL,
        .len = (size_t)len,
    };
    /* Bytes after the chunk are fields of later versions: skipped. */
    return 0;
}
