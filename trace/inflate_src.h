/* inflate_src.h — the reader's source of decompressed bytes (internal to trace/): turns a
 * gzip trace file into a sequence of chunks, on a thread of its own when it can so that
 * inflate and record decoding run on two cores. */
#ifndef GP_TRACE_INFLATE_SRC_H
#define GP_TRACE_INFLATE_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why the chunks ran out. */
enum gp_src_end {
    GP_SRC_MORE = 0,     /* not ended yet */
    GP_SRC_STREAM_END,   /* gzip stream complete and verified (CRC, length), nothing after */
    GP_SRC_TRUNCATED,    /* the file ended inside the gzip stream */
    GP_SRC_TRAILING,     /* the gzip stream ended, but more bytes follow it */
    GP_SRC_CORRUPT,      /* inflate rejected the data; message in msg */
    GP_SRC_ERROR,        /* read error or out of memory; errno value in err */
};

struct gp_src_chunk {
    const uint8_t *data;
    size_t len;
    uint64_t out_start; /* offset of data[0] in the decompressed stream */
    uint64_t in_start;  /* compressed bytes inflate had consumed before this chunk ... */
    uint64_t in_end;    /* ... and after it: maps stream offsets back to file offsets */
    int slot;           /* internal: which buffer to give back */
};

struct gp_src;

/* threaded = false inflates synchronously inside gp_src_next (also the fallback when no
 * thread can be started). The fd stays owned by the caller and must outlive the source. */
int gp_src_open(struct gp_src **out, int fd, bool threaded);
/* 1 = *c holds the next non-empty chunk, to be given back with gp_src_release before the
 * next call; 0 = no more chunks, see gp_src_end. */
int gp_src_next(struct gp_src *s, struct gp_src_chunk *c);
void gp_src_release(struct gp_src *s, struct gp_src_chunk *c);
/* Valid once gp_src_next returned 0. */
enum gp_src_end gp_src_end(const struct gp_src *s, const char **msg, int *err);
/* Compressed bytes read from the file so far. */
uint64_t gp_src_file_bytes(struct gp_src *s);
void gp_src_close(struct gp_src *s);

#endif
