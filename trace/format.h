/* format.h — byte-level constants shared by the trace writer and reader that are not part
 * of the public API: the field mask of event records and size limits the writer keeps to.
 * docs/trace-format.md is the specification these numbers implement. */
#ifndef GP_TRACE_FORMAT_H
#define GP_TRACE_FORMAT_H

#include "varint.h"

/* Event records (ALLOC, FREE, MEMINFO, OOM) share one layout:
 *   time delta (zigzag), api, field mask, then the fields whose bit is set, in bit order.
 * A field whose bit is clear is 0, so it costs nothing. The common fields come first so a
 * typical mask fits in one varint byte. */
enum {
    GP_EVF_TID = 1u << 0,
    GP_EVF_SIZE = 1u << 1,
    GP_EVF_PTR = 1u << 2,    /* zigzag delta from the last event that carried a ptr */
    GP_EVF_STACK = 1u << 3,
    GP_EVF_STREAM = 1u << 4,
    GP_EVF_DEVICE = 1u << 5, /* zigzag */
    GP_EVF_KIND = 1u << 6,
    GP_EVF_RESULT = 1u << 7, /* zigzag */
    GP_EVF_AUX1 = 1u << 8,
    GP_EVF_AUX2 = 1u << 9,
    /* LIBCALL records only (struct gp_libcall), after the ten above */
    GP_EVF_BATCH = 1u << 10,
    GP_EVF_LDA = 1u << 11,
    GP_EVF_LDB = 1u << 12,
    GP_EVF_LDC = 1u << 13,
    GP_EVF_DUR = 1u << 14,
    GP_EVF_OPS = 1u << 15,     /* trans_a | trans_b << 8 */
    GP_EVF_TYPES = 1u << 16,   /* type_a | type_b << 8 | type_c << 16 (cudaDataType + 1) */
    GP_EVF_COMPUTE = 1u << 17, /* zigzag; absent = GP_LIB_UNKNOWN */
    GP_EVF_ALGO = 1u << 18,    /* zigzag; absent = GP_LIB_UNKNOWN */
    GP_EVF_CONV = 1u << 19,    /* d, N, C, K, then per spatial dim: in, filter, out, pad, stride, dil */
    GP_EVF_WORKSPACE = 1u << 20,
    GP_EVF_NOTES = 1u << 21,   /* GP_LIB_NOTES_KNOWN | numerical-note bits */
    GP_EVF_EXT_ID = 1u << 22,  /* CUPTI external correlation id pushed around the call */
    GP_EVF_LT_TYPES = 1u << 23, /* scale | type_d << 8 (cudaDataType + 1), cuBLASLt */
};
/* Varints in a GP_EVF_CONV field: d, N, C, K and six per spatial dimension. */
#define GP_TRACE_CONV_VARINTS (4 + 6 * GP_LIB_CONV_MAX_SPATIAL)

/* Largest event payload: three leading varints and ten fields, each at most 10 bytes.
 * Below 128, so an event's payload length is always a single byte. */
#define GP_TRACE_EVENT_PAYLOAD_MAX (13 * GP_TRACE_VARINT_MAX)
/* A LIBCALL adds up to thirteen single-varint fields and the convolution shape. */
#define GP_TRACE_LIBCALL_PAYLOAD_MAX ((26 + GP_TRACE_CONV_VARINTS) * GP_TRACE_VARINT_MAX)

/* The writer truncates strings so every record stays far below GP_TRACE_MAX_RECORD:
 * a module path longer than 64 KiB is not a real path, and four header strings of at
 * most 240 KiB each still fit one HEADER record. */
#define GP_TRACE_MAX_STRING (64u * 1024)
#define GP_TRACE_MAX_HEADER_STRING (240u * 1024)

/* Default interning caps (gp_trace_writer_limits fields left 0). */
#define GP_TRACE_DEFAULT_MAX_NODES (1u << 20)
#define GP_TRACE_DEFAULT_MAX_STRINGS (1u << 16)

#endif
