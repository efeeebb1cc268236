/* reader_int.h — the trace reader's state, shared by reader.c (framing, events, next),
 * reader_open.c (open, errors, the end of a trace) and reader_tables.c (header, strings,
 * modules, stack nodes). Internal. */
#ifndef GP_TRACE_READER_INT_H
#define GP_TRACE_READER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp_trace.h"
#include "inflate_src.h"

/* Where each recent chunk came from in the file, to turn the stream offset of the last
 * complete record into a file offset when the file turns out to be cut. */
struct gp_rd_chunk_map {
    uint64_t out_start, out_end;
    uint64_t in_start, in_end;
};
#define GP_RD_MAP_RING 16

/* Stack nodes live in fixed blocks so pointers handed out never move. */
#define GP_RD_FRAME_BLOCK_BITS 16
#define GP_RD_FRAME_BLOCK (1u << GP_RD_FRAME_BLOCK_BITS)

enum gp_rd_state {
    GP_RD_RECORDS,   /* reading records */
    GP_RD_AFTER_END, /* END delivered: only the end of the data may follow */
    GP_RD_DONE,      /* next() returns 0 from now on */
    GP_RD_FAILED,    /* next() repeats the error from now on */
};

struct gp_trace_reader {
    int fd;
    struct gp_src *src;
    struct gp_src_chunk chunk;
    bool have_chunk;
    bool src_ended;
    bool partial;     /* the data ended inside a record */
    size_t chunk_pos; /* bytes of chunk taken, while the view is the carry buffer */
    /* Records that straddle chunks are assembled here. */
    uint8_t *carry;
    size_t carry_cap;
    bool in_carry;
    /* The view: undecoded bytes, in the current chunk or in carry. */
    const uint8_t *p, *end;
    uint64_t consumed; /* stream offset of p: the end of the last complete record */
    struct gp_rd_chunk_map map[GP_RD_MAP_RING];
    unsigned nmap;

    struct gp_trace_header hdr;
    char *hdr_strings;
    char **strings;
    uint32_t nstrings, strings_cap;
    struct gp_stack_node **frame_blocks;
    uint32_t nframes, nblocks, blocks_cap;
    uint32_t nmodules;
    struct gp_trace_pyframe *pyframes; /* PYFRAME id N at N-1; strings point into strings[] */
    uint32_t npyframes, pyframes_cap;

    struct gp_trace_act *act; /* GPU activity state (activity.c); NULL until the first */
    uint64_t prev_time, prev_ptr;
    uint64_t records;
    enum gp_rd_state state;
    int fail_rc;
    char fail_msg[256];
    enum gp_trace_status status;
    uint64_t lost;
};

/* One framed record: its type and payload, valid until the next framing call. */
struct gp_rd_raw {
    uint8_t type;
    const uint8_t *p, *end; /* payload */
    uint64_t off;           /* stream offset of the type byte */
};

/* reader.c: framing. gather makes need bytes contiguous at r->p (1), or says the data
 * ended first (0), or -ENOMEM. read_record frames one record: 1, 0 at the end of the data
 * (r->partial: inside a record), or negative (reader failed, err filled). view_carry
 * points the view at the first len bytes of the carry buffer. */
int gp_rd_gather(struct gp_trace_reader *r, size_t need);
int gp_rd_read_record(struct gp_trace_reader *r, struct gp_rd_raw *rr, char *err, size_t errlen);
void gp_rd_view_carry(struct gp_trace_reader *r, size_t len);

/* reader_open.c: errors. fail records the error so later next() calls repeat it, copies it
 * to err and returns rc; fail_record formats "corrupt trace: <TYPE> record at offset N:
 * <why>". finish decides, once the data ran out, between OK, TRUNCATED and an error. */
__attribute__((format(printf, 5, 6))) int gp_rd_fail(struct gp_trace_reader *r, int rc, char *err,
                                                     size_t errlen, const char *fmt, ...);
int gp_rd_fail_record(struct gp_trace_reader *r, int rc, char *err, size_t errlen, uint8_t type,
                      uint64_t off, const char *why);
int gp_rd_finish(struct gp_trace_reader *r, char *err, size_t errlen);

/* Payload decoders for the non-event records. Each returns 0, or -EBADMSG / -ENOMEM with
 * the reason (without record name or offset) in why. */
int gp_rd_header(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end, char *why,
                 size_t whylen);
/* info.c: an INFO payload into rec->key_id / value_id. */
int gp_rd_info(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
               struct gp_record *rec, char *why, size_t whylen);
int gp_rd_string(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                 struct gp_record *rec, char *why, size_t whylen);
int gp_rd_module(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                 struct gp_record *rec, char *why, size_t whylen);
int gp_rd_frame(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                struct gp_record *rec, char *why, size_t whylen);
int gp_rd_pyframe(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                  struct gp_record *rec, char *why, size_t whylen);
void gp_rd_tables_free(struct gp_trace_reader *r);

#endif
