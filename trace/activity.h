/* activity.h — the GPU activity records (KERNEL .. OVERHEAD, ACT_DROPPED, ACT_STATUS):
 * their field mask, the prediction state writer and reader both keep, and the hooks into
 * writer.c and the reader that activity.c needs. Internal to trace/ and its tests;
 * docs/trace-format.md ("GPU activity") is the specification. */
#ifndef GP_TRACE_ACTIVITY_H
#define GP_TRACE_ACTIVITY_H

#include <stddef.h>
#include <stdint.h>

#include "gp_trace.h"
#include "varint.h"

/* Fields of an activity record, in payload order. A clear bit means "as predicted from the
 * previous record of this type (and name)". The payload's head varint is mask << 1 | the
 * name bit (KERNEL, MARKER: a name id follows instead of the predicted name). */
enum {
    GP_ACTF_KIND = 1u << 0,
    GP_ACTF_DEVICE = 1u << 1,
    GP_ACTF_CONTEXT = 1u << 2,
    GP_ACTF_STREAM = 1u << 3,
    GP_ACTF_DURATION = 1u << 4,   /* zigzag delta from the predicted duration */
    GP_ACTF_CORR = 1u << 5,       /* zigzag of corr - (previous corr + 1); clear: previous
                                   * corr + the prediction's step (0 if it had none) */
    GP_ACTF_GRID = 1u << 6,       /* three varints: x, y, z */
    GP_ACTF_BLOCK = 1u << 7,      /* three varints: x, y, z */
    GP_ACTF_REGISTERS = 1u << 8,
    GP_ACTF_STATIC_SMEM = 1u << 9,
    GP_ACTF_DYNAMIC_SMEM = 1u << 10,
    GP_ACTF_GRAPH_ID = 1u << 11,
    GP_ACTF_GRAPH_NODE = 1u << 12, /* zigzag delta from the predicted value */
    GP_ACTF_BYTES = 1u << 13,
    GP_ACTF_ADDRESS = 1u << 14,    /* zigzag delta from the predicted value */
    GP_ACTF_VALUE = 1u << 15,
    GP_ACTF_AUX = 1u << 16,
};

/* KERNEL_RUN (docs/trace-format.md §3.8): KERNEL payloads back to back in one record,
 * which saves each kernel its type and length bytes. Internal to the framing: the reader
 * delivers the kernels one by one as KERNEL records. A run stays below GP_TRACE_RUN_MAX
 * bytes, so its length is always a 3-byte varint and a cut trace loses little. */
#define GP_REC_KERNEL_RUN 0x3d
#define GP_TRACE_RUN_MAX (16u * 1024)

/* dstart, head, name and 23 varints of at most 10 bytes: far below the record limit. */
#define GP_TRACE_ACT_PAYLOAD_MAX (26 * GP_TRACE_VARINT_MAX)
#define GP_ACT_NTYPES (GP_REC_ACT_LAST - GP_REC_ACT_FIRST + 1)

/* KERNEL and MARKER records are predicted from the previous record with the same name,
 * the other types from the previous record of the type. */
static inline int gp_trace_act_named(unsigned type)
{
    return type == GP_REC_KERNEL || type == GP_REC_MARKER;
}

/* A prediction: the previous record of its type (and name); for names also the name that
 * followed it last time, since a loop launches its kernels in the same order each step. */
struct gp_act_pred {
    struct gp_activity a;
    uint32_t next_name;
    uint32_t corr_step; /* a.correlation - the correlation before it (modulo 2^32) */
};

/* Writer: kernel name pointer -> string id. CUPTI hands out one pointer per kernel name, so
 * this saves hashing the name for every record; an entry keeps its own copy of the name and
 * is only used when the text still matches (a pointer reused after a module unload). */
#define GP_ACT_NAME_CACHE_BITS 10 /* a training step runs a few hundred kernels */
#define GP_ACT_NAME_CACHE (1u << GP_ACT_NAME_CACHE_BITS)
struct gp_act_name_entry {
    const char *ptr;
    char *copy;
    uint32_t id;
};

/* What writer and reader remember between records; both evolve it identically. */
struct gp_trace_act {
    struct gp_act_name_entry names[GP_ACT_NAME_CACHE]; /* writer only */
    uint64_t prev_end;  /* end_ns of the previous activity record (0 before the first) */
    uint32_t prev_corr; /* correlation of the previous record that carried one */
    struct gp_act_pred plain[GP_ACT_NTYPES];
    struct gp_act_pred *named[2]; /* [0] KERNEL, [1] MARKER: indexed by name id */
    uint32_t named_cap[2];
    uint32_t prev_name[2];        /* name id of the previous KERNEL, MARKER record */
    /* reader only: the kernels of a KERNEL_RUN not yet delivered (a copy of its payload:
     * the reader's buffer moves on), and the run's stream offset for errors */
    uint8_t *run;
    size_t run_cap;
    const uint8_t *run_p, *run_end;
    uint64_t run_off;
    /* reader only: the record and status last delivered */
    struct gp_activity last;
    struct gp_activity_status status;
    int have_status;
};

struct gp_trace_act *gp_trace_act_new(void);
void gp_trace_act_free(struct gp_trace_act *s);
/* Encodes a (name already interned as name_id) into buf, GP_TRACE_ACT_PAYLOAD_MAX bytes;
 * returns the payload length. Without memory for a new name's prediction the record is
 * written under name id 0, as past the string cap. */
size_t gp_trace_act_encode(struct gp_trace_act *s, const struct gp_activity *a, uint32_t name_id,
                           uint8_t *buf);
/* Decodes a payload of the given type from *pp into out (name_id set, name NULL), leaving
 * *pp after its last known field. nstrings: string ids defined so far. in_run: the
 * payload is one of a KERNEL_RUN's, where a field of a later version cannot be skipped.
 * 0, or -EBADMSG / -ENOMEM with the reason in why. */
int gp_trace_act_decode(struct gp_trace_act *s, uint8_t type, const uint8_t **pp,
                        const uint8_t *end, uint32_t nstrings, int in_run,
                        struct gp_activity *out, char *why, size_t whylen);

/* writer.c: what the activity writers need of the writer. emit checks the sticky error
 * and the new-ip hook like every writer call. */
int gp_trace_writer_emit_record(struct gp_trace_writer *w, uint8_t type, const void *payload,
                                size_t len);
/* Appends a payload to the open run of the given type, or opens one: a run record is
 * the payloads back to back, each self-delimiting. */
int gp_trace_writer_emit_run(struct gp_trace_writer *w, uint8_t type, const void *payload,
                             size_t len);
int gp_trace_writer_intern_string(struct gp_trace_writer *w, const char *s, uint32_t *id);
struct gp_trace_act **gp_trace_writer_act_state(struct gp_trace_writer *w);

/* activity.c, for reader.c: decodes an activity, ACT_DROPPED or ACT_STATUS payload into
 * rec (and the reader's last activity / status). 0, or negative with the reason in why. */
struct gp_trace_reader;
int gp_rd_activity(struct gp_trace_reader *r, uint8_t type, const uint8_t *p, const uint8_t *end,
                   uint64_t off, struct gp_record *rec, char *why, size_t whylen);
/* The next kernel of an open KERNEL_RUN into rec: 1, 0 when none is left, or negative
 * with the reason in why and the run's offset in *off. */
int gp_rd_activity_run(struct gp_trace_reader *r, struct gp_record *rec, uint64_t *off, char *why,
                       size_t whylen);

#endif
