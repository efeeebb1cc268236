/* stack_python_lines.c — instruction offset -> source line, from a code object's line table
 * in each of the three formats CPython 3.9 to 3.13 use. Pure functions over bytes already
 * read: they run on the program's thread for every Python frame of every event, so they
 * never allocate, and they stop at the table's end whatever the bytes say. The algorithms
 * follow PyCode_Addr2Line of each version (Objects/codeobject.c, Objects/lnotab_notes.txt,
 * Objects/locations.md). */
#include "stack_python.h"

/* 3.9 co_lnotab: (address increment, signed line increment) byte pairs; the line of an
 * address is the sum of the line increments of every pair starting at or before it. */
int gp_py_line_lnotab(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
    int line = firstlineno, at = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        at += tab[i];
        if (at > addr)
            break;
        line += (int8_t)tab[i + 1];
    }
    return line;
}

/* 3.10 co_linetable: (address length, signed line increment) pairs covering the code
 * in order; a line increment of -128 means "no line" for that range. */
int gp_py_line_linetable(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
    if (addr < 0)
        return firstlineno;
    int line = firstlineno, at = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        int delta = (int8_t)tab[i + 1];
        int cur = -1;
        if (delta != -128) {
            line += delta;
            cur = line;
        }
        if (addr < at + tab[i])
            return cur;
        at += tab[i];
    }
    return -1;
}

/* Location-table varints: 6 bits a byte, low first, 0x40 = more follows. */
static unsigned loc_varint(const uint8_t **p, const uint8_t *end)
{
    unsigned val = 0, shift = 0;
    while (*p < end) {
        uint8_t b = *(*p)++;
        if (shift < 32)
            val |= (unsigned)(b & 63) << shift;
        shift += 6;
        if (!(b & 64))
            break;
    }
    return val;
}

static int loc_svarint(const uint8_t **p, const uint8_t *end)
{
    unsigned u = loc_varint(p, end);
    return u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
}

/* 3.11+ location table: entries start with a byte whose top bit is set; bits 3-6 are a
 * code, bits 0-2 the length in code units minus one. Codes 0-9 keep the line, 10-12 add
 * code-10 to it, 13 and 14 add a signed varint, 15 means "no line" (line unchanged). */
int gp_py_line_locations(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
    if (addr < 0)
        return firstlineno;
    const uint8_t *p = tab, *end = tab + len;
    int line = firstlineno, at = 0;
    while (p < end) {
        uint8_t first = *p++;
        unsigned code = (first >> 3) & 15;
        int delta = 0;
        if (code == 13 || code == 14)
            delta = loc_svarint(&p, end);
        else if (code >= 10 && code <= 12)
            delta = (int)code - 10;
        line += delta;
        at += ((first & 7) + 1) * 2;
        if (addr < at)
            return code == 15 ? -1 : line;
        while (p < end && !(*p & 0x80)) /* the rest of this entry: columns */
            p++;
    }
    return -1;
}
