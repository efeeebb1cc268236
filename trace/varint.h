/* varint.h — LEB128 unsigned varints and zigzag signed mapping, the integer encoding of
 * every trace record (internal to trace/ and its tests). All inline: the reader's decode
 * loop calls these per field and must not pay a function call per byte. */
#ifndef GP_TRACE_VARINT_H
#define GP_TRACE_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* A uint64_t needs at most 10 groups of 7 bits. */
#define GP_TRACE_VARINT_MAX 10

/* Zigzag maps small magnitudes of either sign to small unsigned values
 * (0->0, -1->1, 1->2, -2->3, ...), so deltas that go backwards stay one byte. */
static inline uint64_t gp_trace_zigzag(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (u << 1) ^ (0 - (u >> 63));
}

static inline int64_t gp_trace_unzigzag(uint64_t u)
{
    /* Conversion of values above INT64_MAX wraps on every compiler we build with (GCC and
     * Clang define it as modulo 2^64), which is exactly the inverse of gp_trace_zigzag. */
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* Writes v at p (room for GP_TRACE_VARINT_MAX bytes needed); returns the byte after it. */
static inline uint8_t *gp_trace_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Bytes gp_trace_put_varint would write for v. */
static inline size_t gp_trace_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Decodes one varint from [*pp, end). Returns 1 and advances *pp on success, 0 if the
 * bytes run out before the last byte of the varint (the caller decides whether that is a
 * truncation or a short payload), -1 if it is malformed: longer than 10 bytes or with bits
 * beyond 64. Overlong but in-range encodings (0x80 0x00 for 0) are accepted. */
static inline int gp_trace_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    unsigned shift = 0;

    /* One byte is by far the most common case: small ids, deltas and counts. */
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (p >= end)
            return 0;
        uint8_t b = *p++;
        if (shift == 63) {
            /* The tenth byte may only contribute bit 63 and must end the varint. */
            if (b > 1)
                return -1;
            v |= (uint64_t)b << 63;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80)
            break;
        shift += 7;
    }
    *out = v;
    *pp = p;
    return 1;
}

#endif
