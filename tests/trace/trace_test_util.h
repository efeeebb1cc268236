/* trace_test_util.h — helpers for the trace library's unit tests: a scratch directory,
 * hand-built decompressed streams (to make malformed traces the writer never would),
 * gzip compression of them, and whole-file read/write. */
#ifndef GP_TRACE_TEST_UTIL_H
#define GP_TRACE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "gp_trace.h"

/* A growing byte buffer. Allocation failure aborts: these are tests. */
struct tt_buf {
    uint8_t *p;
    size_t len, cap;
};

void tt_put(struct tt_buf *b, const void *p, size_t n);
void tt_put_u8(struct tt_buf *b, uint8_t v);
void tt_put_varint(struct tt_buf *b, uint64_t v);
void tt_put_str(struct tt_buf *b, const char *s); /* varint length + bytes */
/* One record: type, varint length, payload. */
void tt_put_record(struct tt_buf *b, uint8_t type, const struct tt_buf *payload);
/* Magic, version varint, and a HEADER record with fixed test values (monotonic_ns 1000). */
void tt_put_preamble(struct tt_buf *b, uint64_t version);
void tt_buf_free(struct tt_buf *b);

/* mkdtemp under $TMPDIR (or /tmp); tt_path joins a name onto it into a static buffer. */
char *tt_mkdtemp(void);
/* cmocka group setup/teardown: a scratch directory in tt_dir for all tests of a program,
 * removed at the end even when tests fail. */
extern char *tt_dir;
int tt_group_setup(void **state);
int tt_group_teardown(void **state);
const char *tt_path(const char *dir, const char *name);
/* Removes every file in dir, then dir. */
void tt_rmtree(char *dir);

void tt_write_file(const char *path, const void *p, size_t n);
void tt_write_gz(const char *path, const void *p, size_t n); /* as one gzip member */
uint8_t *tt_read_file(const char *path, size_t *n);         /* malloc'd */
/* Compresses p into a malloc'd gzip member. */
uint8_t *tt_gzip(const void *p, size_t n, size_t *out_len);

/* A trace header with recognisable values. */
struct gp_trace_header tt_header(void);

/* Every record of a trace, with the reader kept open for table lookups. */
struct tt_trace {
    struct gp_trace_reader *r;
    struct gp_record *recs;
    size_t n;
    int rc; /* the last gp_trace_reader_next result: 0, or the error */
    char err[256];
};
/* Opens and reads path to the end; asserts the open succeeds. */
void tt_read_all(const char *path, struct tt_trace *t);
void tt_trace_free(struct tt_trace *t);
/* Rebuilds a stack from its innermost node id, innermost first; returns the frame count. */
size_t tt_stack(const struct gp_trace_reader *r, uint32_t id, uint64_t *ips, size_t max);

/* Writes a trace: header from tt_header, the events in order, close. Returns its size. */
size_t tt_write_events(const char *path, struct gp_event *const *evs, size_t n);
/* A heap event with room for depth frames, zeroed. */
struct gp_event *tt_event(unsigned depth);

/* Opens path expecting failure; returns the return code and copies the message into err. */
int tt_open_error(const char *path, char *err, size_t errlen);

#endif
