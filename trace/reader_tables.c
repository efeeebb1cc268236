/* reader_tables.c — the trace reader's definitions: the HEADER record, and the STRING,
 * MODULE and FRAME records that build the tables events refer to. These are rare next to
 * events, so they favour clarity; the hot event path lives in reader.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader_int.h"
#include "varint.h"

/* Decodes one varint field; on failure says why. */
static int field(const uint8_t **p, const uint8_t *end, uint64_t *v, char *why, size_t whylen)
{
    int rc = gp_trace_get_varint(p, end, v);
    if (rc > 0)
        return 0;
    snprintf(why, whylen, "%s", rc < 0 ? "bad varint" : "payload too short");
    return -EBADMSG;
}

static int field32(const uint8_t **p, const uint8_t *end, uint32_t *v, char *why, size_t whylen)
{
    uint64_t x;
    int rc = field(p, end, &x, why, whylen);
    if (rc < 0)
        return rc;
    if (x > UINT32_MAX) {
        snprintf(why, whylen, "value %llu out of range", (unsigned long long)x);
        return -EBADMSG;
    }
    *v = (uint32_t)x;
    return 0;
}

int gp_rd_header(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end, char *why,
                 size_t whylen)
{
    struct gp_trace_header *h = &r->hdr;
    const uint8_t *str[4];
    uint64_t len[4];
    int rc;

    if ((rc = field32(&p, end, &h->version, why, whylen)) < 0 ||
        (rc = field32(&p, end, &h->pid, why, whylen)) < 0 ||
        (rc = field32(&p, end, &h->ppid, why, whylen)) < 0 ||
        (rc = field32(&p, end, &h->stack_depth, why, whylen)) < 0 ||
        (rc = field(&p, end, &h->realtime_ns, why, whylen)) < 0 ||
        (rc = field(&p, end, &h->monotonic_ns, why, whylen)) < 0)
        goto out;
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        rc = field(&p, end, &len[i], why, whylen);
        if (rc < 0)
            goto out;
        if (len[i] > (uint64_t)(end - p)) {
            snprintf(why, whylen, "payload too short");
            rc = -EBADMSG;
            goto out;
        }
        str[i] = p;
        p += len[i];
        total += len[i] + 1;
    }
    /* One allocation for the four strings, each NUL-terminated. */
    char *buf = malloc(total);
    if (!buf) {
        rc = -ENOMEM;
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    free(r->hdr_strings);
    r->hdr_strings = buf;
    const char **dst[4] = {&h->host, &h->exe, &h->cmdline, &h->label};
    for (int i = 0; i < 4; i++) {
        memcpy(buf, str[i], len[i]);
        buf[len[i]] = '\0';
        *dst[i] = buf;
        buf += len[i] + 1;
    }
    rc = 0;
out:
    return rc;
}

int gp_rd_string(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                 struct gp_record *rec, char *why, size_t whylen)
{
    size_t len = (size_t)(end - p);
    char *s = NULL;
    int rc = 0;

    if (r->nstrings == UINT32_MAX) {
        snprintf(why, whylen, "too many strings");
        rc = -EBADMSG;
        goto out;
    }
    if (r->nstrings == r->strings_cap) {
        uint32_t cap = r->strings_cap ? r->strings_cap * 2 : 64;
        char **v = realloc(r->strings, (size_t)cap * sizeof(*v));
        if (!v) {
            rc = -ENOMEM;
            goto out;
        }
        r->strings = v;
        r->strings_cap = cap;
    }
    s = malloc(len + 1);
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(s, p, len);
    s[len] = '\0';
    r->strings[r->nstrings++] = s;
    rec->id = r->nstrings;
    rec->size = len;
out:
    if (rc == -ENOMEM)
        snprintf(why, whylen, "out of memory");
    return rc;
}

int gp_rd_module(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                 struct gp_record *rec, char *why, size_t whylen)
{
    int rc;

    if ((rc = field32(&p, end, &rec->path, why, whylen)) < 0 ||
        (rc = field(&p, end, &rec->load_bias, why, whylen)) < 0 ||
        (rc = field(&p, end, &rec->start, why, whylen)) < 0 ||
        (rc = field(&p, end, &rec->end, why, whylen)) < 0)
        return rc;
    if (rec->path > r->nstrings) {
        snprintf(why, whylen, "undefined string id %u", rec->path);
        return -EBADMSG;
    }
    rec->id = ++r->nmodules;
    return 0;
}

int gp_rd_frame(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                struct gp_record *rec, char *why, size_t whylen)
{
    uint32_t parent;
    uint64_t ip;
    int rc;

    if ((rc = field32(&p, end, &parent, why, whylen)) < 0 ||
        (rc = field(&p, end, &ip, why, whylen)) < 0)
        goto out;
    /* Nodes are written parents first, so a parent not defined yet is damage. */
    if (parent > r->nframes) {
        snprintf(why, whylen, "undefined parent node %u", parent);
        rc = -EBADMSG;
        goto out;
    }
    /* A Python frame node names a PYFRAME, which must come first like any definition. */
    uint32_t py = gp_trace_pyframe_id(ip);
    if ((ip >> 32) == (GP_TRACE_PY_TAG >> 32) && (py == 0 || py > r->npyframes)) {
        snprintf(why, whylen, "undefined Python frame %u", py);
        rc = -EBADMSG;
        goto out;
    }
    if (r->nframes == UINT32_MAX) {
        snprintf(why, whylen, "too many stack nodes");
        rc = -EBADMSG;
        goto out;
    }
    uint32_t idx = r->nframes;
    uint32_t block = idx >> GP_RD_FRAME_BLOCK_BITS;
    if (block == r->nblocks) {
        if (r->nblocks == r->blocks_cap) {
            uint32_t cap = r->blocks_cap ? r->blocks_cap * 2 : 16;
            struct gp_stack_node **v = realloc(r->frame_blocks, (size_t)cap * sizeof(*v));
            if (!v) {
                rc = -ENOMEM;
                goto out;
            }
            r->frame_blocks = v;
            r->blocks_cap = cap;
        }
        r->frame_blocks[block] = malloc(GP_RD_FRAME_BLOCK * sizeof(struct gp_stack_node));
        if (!r->frame_blocks[block]) {
            rc = -ENOMEM;
            goto out;
        }
        r->nblocks++;
    }
    struct gp_stack_node *n = &r->frame_blocks[block][idx & (GP_RD_FRAME_BLOCK - 1)];
    n->parent = parent;
    n->ip = ip;
    r->nframes++;
    /* Also in the record itself, so a consumer need not look it up. */
    rec->id = r->nframes;
    rec->stack = parent;
    rec->ptr = ip;
out:
    if (rc == -ENOMEM)
        snprintf(why, whylen, "out of memory");
    return rc;
}

int gp_rd_pyframe(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                  struct gp_record *rec, char *why, size_t whylen)
{
    uint32_t file, func, line;
    int rc;

    if ((rc = field32(&p, end, &file, why, whylen)) < 0 ||
        (rc = field32(&p, end, &func, why, whylen)) < 0 ||
        (rc = field32(&p, end, &line, why, whylen)) < 0)
        return rc;
    if (file > r->nstrings || func > r->nstrings) {
        snprintf(why, whylen, "undefined string id %u", file > r->nstrings ? file : func);
        return -EBADMSG;
    }
    if (r->npyframes == UINT32_MAX) {
        snprintf(why, whylen, "too many Python frames");
        return -EBADMSG;
    }
    if (r->npyframes == r->pyframes_cap) {
        uint32_t cap = r->pyframes_cap ? r->pyframes_cap * 2 : 64;
        struct gp_trace_pyframe *v = realloc(r->pyframes, (size_t)cap * sizeof(*v));
        if (!v) {
            snprintf(why, whylen, "out of memory");
            return -ENOMEM;
        }
        r->pyframes = v;
        r->pyframes_cap = cap;
    }
    r->pyframes[r->npyframes++] = (struct gp_trace_pyframe){
        .file = gp_trace_reader_string(r, file),
        .function = gp_trace_reader_string(r, func),
        .line = line,
    };
    rec->id = r->npyframes;
    rec->path = file;
    rec->aux1 = func;
    rec->aux2 = line;
    return 0;
}

const struct gp_trace_pyframe *gp_trace_reader_pyframe(const struct gp_trace_reader *r,
                                                       uint32_t id)
{
    if (id == 0 || id > r->npyframes)
        return NULL;
    return &r->pyframes[id - 1];
}

const char *gp_trace_reader_string(const struct gp_trace_reader *r, uint32_t id)
{
    if (id == 0 || id > r->nstrings)
        return NULL;
    return r->strings[id - 1];
}

const struct gp_stack_node *gp_trace_reader_frame(const struct gp_trace_reader *r, uint32_t id)
{
    if (id == 0 || id > r->nframes)
        return NULL;
    uint32_t idx = id - 1;
    return &r->frame_blocks[idx >> GP_RD_FRAME_BLOCK_BITS][idx & (GP_RD_FRAME_BLOCK - 1)];
}

void gp_rd_tables_free(struct gp_trace_reader *r)
{
    for (uint32_t i = 0; i < r->nstrings; i++)
        free(r->strings[i]);
    free(r->strings);
    for (uint32_t i = 0; i < r->nblocks; i++)
        free(r->frame_blocks[i]);
    free(r->frame_blocks);
    free(r->pyframes);
    free(r->hdr_strings);
    r->strings = NULL;
    r->frame_blocks = NULL;
    r->pyframes = NULL;
    r->npyframes = r->pyframes_cap = 0;
    r->hdr_strings = NULL;
    r->nstrings = r->nframes = r->nblocks = 0;
}
