/* stack_python.c — the calling thread's Python stack, read the way an out-of-process
 * profiler reads it, but from inside: the thread that called CUDA is stopped in that call,
 * so its own frame chain cannot change under us and every frame and code object on it is
 * alive. That is why no GIL is needed (the caller usually does not hold it: PyTorch and
 * ctypes.CDLL release it around native calls, and taking it here could deadlock), and no
 * reference is taken. Nothing here calls into Python except, once, Py_GetVersion.
 *
 * Per event: the thread state (PyGILState_GetThisThreadState: a thread-local read, valid
 * with or without the GIL), then for each frame its code object and instruction offset.
 * A code object's file and function names are copied once into an append-only table and
 * found again through a small lock-free cache keyed by the code object's address; since
 * an address is reused after a code object dies, a cache entry is trusted only if the
 * code object still names the same filename and name str objects (address and cached
 * hash), line table object and first line. Each entry also remembers the lines of the
 * last few instruction offsets seen in it (decoding a line table is most of the cost).
 * An event carries (table index, line) keys; the writer thread turns them into strings
 * with gp_py_resolve. Offsets per version: stack_python_layouts.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stack_python.h"
#include "stack_python_layouts.h"

_Static_assert(sizeof(void *) == 8, "the layouts are those of 64-bit CPython");

#define GP_PY_CODES_MAX (1u << 17)      /* distinct code objects remembered */
#define GP_PY_ARENA_BYTES (16u << 20)   /* their file and function names */
#define GP_PY_CACHE_SLOTS (1u << 14)    /* code object address -> table index */
#define GP_PY_PROBE 4                   /* cache slots looked at per code object */
#define GP_PY_STR_MAX 1024              /* bytes kept of one name (UTF-8) */
#define GP_PY_LINETABLE_MAX (1u << 24)  /* a larger line table is not believed */
#define GP_PY_SKIP_MAX 64               /* frames without code of their own, per walk */
#define GP_PY_LINES 4                   /* remembered (offset, line) pairs per code object */

_Atomic int gp_py_mode;

struct gp_py_code {
    uintptr_t code, file_obj, name_obj, lines_obj; /* what the entry was made from */
    int64_t file_hash, name_hash;
    int32_t firstlineno;
    uint32_t file_off, name_off; /* NUL-terminated names in the arena */
    /* (offset + 1) << 32 | line, 0 = empty: one word each, so never seen half-written */
    _Atomic uint64_t lines[GP_PY_LINES];
};

static struct {
    const struct gp_py_layout *L;
    void *(*tstate)(void);
    int (*finalizing)(void);
    uintptr_t code_type, str_type, bytes_type, frame_type;
    _Atomic uint32_t *cache;  /* GP_PY_CACHE_SLOTS table indexes, 0 = empty */
    struct gp_py_code *codes; /* index 0 is never used: it means "unknown" */
    char *arena;
    _Atomic uint32_t ncodes;
    _Atomic size_t arena_used;
} gp_py;

/* ---- reading the interpreter's memory ---------------------------------------------- */
static inline uintptr_t rd_ptr(uintptr_t base, unsigned off)
{
    uintptr_t v;
    memcpy(&v, (const void *)(base + off), sizeof v);
    return v;
}

static inline int32_t rd_i32(uintptr_t base, unsigned off)
{
    int32_t v;
    memcpy(&v, (const void *)(base + off), sizeof v);
    return v;
}

static inline int64_t rd_i64(uintptr_t base, unsigned off)
{
    int64_t v;
    memcpy(&v, (const void *)(base + off), sizeof v);
    return v;
}

/* Every object and frame is 8-aligned and far from the zero page. */
static inline bool plausible(uintptr_t p) { return p >= 4096 && (p & 7) == 0; }

static inline bool is_a(uintptr_t obj, uintptr_t type)
{
    return plausible(obj) && rd_ptr(obj, GP_PY_OB_TYPE) == type;
}

/* ---- str objects -> UTF-8 --------------------------------------------------------- */
static size_t put_utf8(char *dst, size_t at, size_t cap, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp >= 0xd800 && cp <= 0xdfff)
        cp = '?'; /* a lone surrogate (a str may hold one) has no UTF-8 form */
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18 & 0x07));
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (at + n > cap)
        return 0; /* never half a character */
    if (dst)
        memcpy(dst + at, b, n);
    return n;
}

/* UTF-8 bytes of a compact str, at most GP_PY_STR_MAX, into dst (NULL: just count).
 * Returns the byte count, or -1 when obj is not a str this code can read. */
static long str_utf8(uintptr_t obj, char *dst)
{
    const struct gp_py_layout *L = gp_py.L;
    if (!is_a(obj, gp_py.str_type))
        return -1;
    uint32_t state = (uint32_t)rd_i32(obj, GP_PY_STR_STATE);
    unsigned kind = state >> 2 & 7;
    bool compact = state >> 5 & 1, ascii = state >> 6 & 1;
    int64_t len = rd_i64(obj, GP_PY_STR_LENGTH);
    if (!compact || (L->has_ready_bit && !(state >> 7 & 1)) || len < 0)
        return -1;
    if (ascii) {
        size_t n = len < GP_PY_STR_MAX ? (size_t)len : GP_PY_STR_MAX;
        if (dst)
            memcpy(dst, (const void *)(obj + L->ascii_size), n);
        return (long)n;
    }
    uintptr_t utf8 = rd_ptr(obj, L->compact_utf8);
    int64_t ulen = rd_i64(obj, L->compact_utf8_length);
    if (utf8 != 0 && ulen >= 0) { /* the cached copy: cut at a character boundary */
        size_t n = ulen < GP_PY_STR_MAX ? (size_t)ulen : GP_PY_STR_MAX;
        const unsigned char *u = (const unsigned char *)utf8;
        while (n > 0 && n < (size_t)ulen && (u[n] & 0xc0) == 0x80)
            n--;
        if (dst)
            memcpy(dst, u, n);
        return (long)n;
    }
    if (kind != 1 && kind != 2 && kind != 4)
        return -1;
    uintptr_t data = obj + L->compact_size;
    size_t out = 0;
    for (int64_t i = 0; i < len; i++) {
        uint32_t cp = kind == 1   ? ((const uint8_t *)data)[i]
                      : kind == 2 ? ((const uint16_t *)data)[i]
                                  : ((const uint32_t *)data)[i];
        size_t n = put_utf8(dst, out, GP_PY_STR_MAX, cp);
        if (n == 0)
            break;
        out += n;
    }
    return (long)out;
}

/* Copies a name into the arena; its offset, or UINT32_MAX when it cannot. */
static uint32_t arena_put(uintptr_t str)
{
    long n = str_utf8(str, NULL);
    if (n < 0 || atomic_load_explicit(&gp_py.arena_used, memory_order_relaxed) >= GP_PY_ARENA_BYTES)
        return UINT32_MAX;
    size_t at = atomic_fetch_add_explicit(&gp_py.arena_used, (size_t)n + 1, memory_order_relaxed);
    if (at + (size_t)n + 1 > GP_PY_ARENA_BYTES)
        return UINT32_MAX;
    str_utf8(str, gp_py.arena + at);
    gp_py.arena[at + (size_t)n] = '\0';
    return (uint32_t)at;
}

/* ---- code objects -> table indexes --------------------------------------------------- */
static inline uint32_t cache_slot(uintptr_t code)
{
    return (uint32_t)(((uint64_t)code * UINT64_C(0x9E3779B97F4A7C15)) >> 40) &
           (GP_PY_CACHE_SLOTS - 1);
}

/* The table index naming code's file and function; 0 when they cannot be had. */
static uint32_t code_index(uintptr_t code)
{
    const struct gp_py_layout *L = gp_py.L;
    uintptr_t file = rd_ptr(code, L->co_filename), name = rd_ptr(code, L->co_name);
    uintptr_t lines = rd_ptr(code, L->co_lines);
    if (!plausible(file) || !plausible(name))
        return 0;
    int32_t first = rd_i32(code, L->co_firstlineno);
    int64_t fh = rd_i64(file, GP_PY_STR_HASH), nh = rd_i64(name, GP_PY_STR_HASH);
    uint32_t h = cache_slot(code);
    for (unsigned k = 0; k < GP_PY_PROBE; k++) {
        uint32_t i = atomic_load_explicit(&gp_py.cache[(h + k) & (GP_PY_CACHE_SLOTS - 1)],
                                          memory_order_acquire);
        if (i == 0)
            continue;
        const struct gp_py_code *e = &gp_py.codes[i];
        if (e->code == code && e->file_obj == file && e->name_obj == name &&
            e->lines_obj == lines && e->firstlineno == first && e->file_hash == fh &&
            e->name_hash == nh)
            return i;
    }
    /* A miss: a new entry (two threads may both add one; the writer merges them). Once the
     * table is full the counter stops moving, so it can never wrap onto live entries. */
    if (atomic_load_explicit(&gp_py.ncodes, memory_order_relaxed) >= GP_PY_CODES_MAX)
        return 0;
    uint32_t i = atomic_fetch_add_explicit(&gp_py.ncodes, 1, memory_order_relaxed);
    if (i >= GP_PY_CODES_MAX)
        return 0;
    struct gp_py_code *e = &gp_py.codes[i];
    e->file_off = arena_put(file);
    e->name_off = arena_put(name);
    if (e->file_off == UINT32_MAX || e->name_off == UINT32_MAX)
        return 0;
    e->code = code;
    e->file_obj = file;
    e->name_obj = name;
    e->lines_obj = lines;
    e->file_hash = fh;
    e->name_hash = nh;
    e->firstlineno = first;
    /* Publish: an empty slot if there is one, else evict the one this index picks. */
    for (unsigned k = 0; k < GP_PY_PROBE; k++) {
        uint32_t empty = 0;
        if (atomic_compare_exchange_strong_explicit(
                &gp_py.cache[(h + k) & (GP_PY_CACHE_SLOTS - 1)], &empty, i,
                memory_order_release, memory_order_relaxed))
            return i;
    }
    atomic_store_explicit(&gp_py.cache[(h + i % GP_PY_PROBE) & (GP_PY_CACHE_SLOTS - 1)], i,
                          memory_order_release);
    return i;
}

/* Line of byte offset addr in code, from its line table; 0 when unknown. */
static uint32_t code_line(uintptr_t code, int addr)
{
    const struct gp_py_layout *L = gp_py.L;
    uintptr_t tab = rd_ptr(code, L->co_lines);
    int first = rd_i32(code, L->co_firstlineno);
    if (!is_a(tab, gp_py.bytes_type))
        return first > 0 ? (uint32_t)first : 0;
    int64_t size = rd_i64(tab, GP_PY_OB_SIZE);
    if (size < 0 || size > GP_PY_LINETABLE_MAX)
        return 0;
    const uint8_t *t = (const uint8_t *)(tab + GP_PY_BYTES_SVAL);
    int line = L->lines == GP_PY_LNOTAB      ? gp_py_line_lnotab(t, (size_t)size, first, addr)
               : L->lines == GP_PY_LINETABLE ? gp_py_line_linetable(t, (size_t)size, first, addr)
                                             : gp_py_line_locations(t, (size_t)size, first, addr);
    return line > 0 ? (uint32_t)line : 0;
}

static inline uint64_t frame_key(uintptr_t code, int addr)
{
    uint32_t i = code_index(code);
    if (i == 0)
        return GP_TRACE_PY_TAG | code_line(code, addr);
    _Atomic uint64_t *slots = gp_py.codes[i].lines;
    uint64_t tag = (uint64_t)(uint32_t)(addr + 1) << 32;
    unsigned free_slot = (uint32_t)addr / 2 % GP_PY_LINES; /* when all are taken */
    for (unsigned k = GP_PY_LINES; k-- > 0;) {
        uint64_t v = atomic_load_explicit(&slots[k], memory_order_relaxed);
        if ((v & ~UINT64_C(0xffffffff)) == tag)
            return GP_TRACE_PY_TAG | (uint64_t)i << 32 | (uint32_t)v;
        if (v == 0)
            free_slot = k;
    }
    uint32_t line = code_line(code, addr);
    atomic_store_explicit(&slots[free_slot], tag | line, memory_order_relaxed);
    return GP_TRACE_PY_TAG | (uint64_t)i << 32 | line;
}

/* ---- the walks --------------------------------------------------------------------- */
/* 3.9, 3.10: PyFrameObject, f_lasti in bytes (3.9) or code units (3.10). */
static unsigned walk_frame_objects(uintptr_t f, uint64_t *out, unsigned max)
{
    const struct gp_py_layout *L = gp_py.L;
    unsigned n = 0;
    while (n < max && is_a(f, gp_py.frame_type)) {
        uintptr_t code = rd_ptr(f, L->fr_code);
        if (!is_a(code, gp_py.code_type))
            break;
        int lasti = rd_i32(f, L->fr_instr);
        if (lasti < 0 || lasti > (1 << 28))
            lasti = -1; /* the frame has not started (or the value is nonsense) */
        else if (L->minor == 10)
            lasti *= 2; /* 3.10 counts code units, the line table bytes */
        out[n++] = frame_key(code, lasti);
        f = rd_ptr(f, L->fr_back);
    }
    return n;
}

/* 3.11+: _PyInterpreterFrame. Frames with no code of their own (the C-stack placeholders
 * of 3.12+, a 3.13 frame whose f_executable is not code) and frames that have not started
 * running their code yet are skipped, as CPython's own tracebacks skip them. */
static unsigned walk_iframes(uintptr_t f, uint64_t *out, unsigned max)
{
    const struct gp_py_layout *L = gp_py.L;
    unsigned n = 0, skipped = 0;
    while (n < max && plausible(f)) {
        uintptr_t code = rd_ptr(f, L->fr_code);
        unsigned owner = *(const uint8_t *)(f + L->fr_owner);
        if (owner != GP_PY_OWNED_BY_CSTACK && is_a(code, gp_py.code_type)) {
            uintptr_t start = code + L->co_code, instr = rd_ptr(f, L->fr_instr);
            uintptr_t traceable = start + 2 * (uintptr_t)(uint32_t)rd_i32(code, L->co_firsttraceable);
            if (owner == GP_PY_OWNED_BY_GENERATOR || instr >= traceable) {
                int addr = instr >= start && instr - start < (1u << 30) ? (int)(instr - start) : -1;
                out[n++] = frame_key(code, addr);
            } else if (++skipped > GP_PY_SKIP_MAX) {
                break;
            }
        } else if (++skipped > GP_PY_SKIP_MAX) { /* also ends a (corrupt) cycle */
            break;
        }
        f = rd_ptr(f, L->fr_back);
    }
    return n;
}

/* ---- finding the interpreter -------------------------------------------------------- */
static void *sym(const char *name) { return dlsym(RTLD_DEFAULT, name); }

/* 3.minor of the running interpreter, or 0 (and why) when it cannot be used. */
static unsigned python_minor(const char *(*get_version)(void), const char **why)
{
    const char *text = get_version();
    unsigned major = 0, minor = 0, micro = 0;
    char level = 0;
    const unsigned long *hex = sym("Py_Version"); /* 3.11+ */
    if (hex) {
        major = *hex >> 24 & 0xff;
        minor = *hex >> 16 & 0xff;
        level = (*hex >> 4 & 0xf) < 0xc ? 'a' : 0; /* alpha and beta layouts still move */
    } else if (text && sscanf(text, "%u.%u.%u%c", &major, &minor, &micro, &level) >= 2) {
        level = level == 'a' || level == 'b' ? 'a' : 0;
    }
    if (text && strstr(text, "free-threading")) {
        *why = "is a free-threaded build";
        return 0;
    }
    if (sym("_Py_PrintReferences")) {
        *why = "is a Py_TRACE_REFS build";
        return 0;
    }
    if (major != 3 || level) {
        *why = "is not a supported version";
        return 0;
    }
    return minor;
}

static bool python_find(void)
{
    const char *(*get_version)(void) = (const char *(*)(void))sym("Py_GetVersion");
    if (!get_version)
        return false; /* not a Python process: say nothing */
    const char *why = "is not a supported version";
    unsigned minor = python_minor(get_version, &why);
    for (size_t i = 0; minor && i < GP_PY_NLAYOUTS; i++)
        if (gp_py_layouts[i].minor == minor)
            gp_py.L = &gp_py_layouts[i];
    gp_py.tstate = (void *(*)(void))sym("PyGILState_GetThisThreadState");
    gp_py.finalizing = (int (*)(void))sym("Py_IsFinalizing"); /* 3.13 */
    if (!gp_py.finalizing)
        gp_py.finalizing = (int (*)(void))sym("_Py_IsFinalizing");
    gp_py.code_type = (uintptr_t)sym("PyCode_Type");
    gp_py.str_type = (uintptr_t)sym("PyUnicode_Type");
    gp_py.bytes_type = (uintptr_t)sym("PyBytes_Type");
    gp_py.frame_type = (uintptr_t)sym("PyFrame_Type");
    if (gp_py.L && (!gp_py.tstate || !gp_py.code_type || !gp_py.str_type || !gp_py.bytes_type ||
                    !gp_py.frame_type)) {
        why = "lacks a symbol the stack walk needs";
        gp_py.L = NULL;
    }
    if (!gp_py.L) {
        const char *v = get_version(); /* "3.8.18 (default, ...) [GCC ...]" */
        int vlen = v ? (int)strcspn(v, " ") : 0;
        gp_shim_warn("Python %.*s %s (Python stacks need CPython 3.9 to 3.13); events get "
                     "native frames only", vlen < 24 ? vlen : 24, v ? v : "", why);
        return false;
    }
    size_t cache = GP_PY_CACHE_SLOTS * sizeof(*gp_py.cache);
    size_t codes = GP_PY_CODES_MAX * sizeof(*gp_py.codes);
    char *m = mmap(NULL, cache + codes + GP_PY_ARENA_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        gp_shim_warn("no memory for the Python frame tables; events get native frames only");
        return false;
    }
    gp_py.cache = (_Atomic uint32_t *)(void *)m;
    gp_py.codes = (struct gp_py_code *)(void *)(m + cache);
    gp_py.arena = m + cache + codes;
    atomic_store(&gp_py.ncodes, 1);
    return true;
}

/* ---- per event ------------------------------------------------------------------------ */
/* Whether Python frames are recorded; the first call finds the interpreter. */
static bool py_on(void)
{
    int mode = atomic_load_explicit(&gp_py_mode, memory_order_acquire);
    if (GP_LIKELY(mode == GP_PY_ON))
        return true;
    if (mode != GP_PY_UNKNOWN ||
        !atomic_compare_exchange_strong(&gp_py_mode, &mode, GP_PY_INITING))
        return false;
    bool on = gp_shim_g.opt.python_stacks && python_find();
    atomic_store_explicit(&gp_py_mode, on ? GP_PY_ON : GP_PY_OFF, memory_order_release);
    return on;
}

/* Copies a C string (cut at GP_PY_STR_MAX bytes) into the arena; UINT32_MAX when full. */
static uint32_t arena_put_cstr(const char *str)
{
    size_t n = strnlen(str, GP_PY_STR_MAX);
    if (atomic_load_explicit(&gp_py.arena_used, memory_order_relaxed) >= GP_PY_ARENA_BYTES)
        return UINT32_MAX;
    size_t at = atomic_fetch_add_explicit(&gp_py.arena_used, n + 1, memory_order_relaxed);
    if (at + n + 1 > GP_PY_ARENA_BYTES)
        return UINT32_MAX;
    memcpy(gp_py.arena + at, str, n);
    gp_py.arena[at + n] = '\0';
    return (uint32_t)at;
}

bool gp_py_registered(uint32_t index)
{
    return index > 0 && index < GP_PY_CODES_MAX &&
           index < atomic_load_explicit(&gp_py.ncodes, memory_order_acquire);
}

uint32_t gp_py_register(const char *file, const char *function)
{
    if (!py_on())
        return 0;
    if (atomic_load_explicit(&gp_py.ncodes, memory_order_relaxed) >= GP_PY_CODES_MAX)
        return 0;
    uint32_t i = atomic_fetch_add_explicit(&gp_py.ncodes, 1, memory_order_relaxed);
    if (i >= GP_PY_CODES_MAX)
        return 0;
    struct gp_py_code *e = &gp_py.codes[i];
    e->file_off = arena_put_cstr(file);
    e->name_off = arena_put_cstr(function);
    if (e->file_off == UINT32_MAX || e->name_off == UINT32_MAX)
        return 0;
    /* No code object: e->code stays 0, so the stack walk's cache never matches it. */
    return i;
}

unsigned gp_py_capture(uint64_t *ips, unsigned depth, unsigned max)
{
    if (GP_UNLIKELY(!py_on()))
        return 0;
    uintptr_t ts = (uintptr_t)gp_py.tstate();
    if (!plausible(ts) || (gp_py.finalizing && gp_py.finalizing()))
        return 0; /* a thread Python never saw, or an interpreter being torn down */
    uint64_t buf[GP_TRACE_MAX_FRAMES];
    unsigned n;
    const struct gp_py_layout *L = gp_py.L;
    if (max > GP_TRACE_MAX_FRAMES)
        max = GP_TRACE_MAX_FRAMES;
    if (L->frames == GP_PY_FRAME_OBJECTS) {
        n = walk_frame_objects(rd_ptr(ts, L->ts_frame), buf, max);
    } else {
        uintptr_t f = rd_ptr(ts, L->ts_frame);
        if (L->frames == GP_PY_IFRAME_CFRAME)
            f = plausible(f) ? rd_ptr(f, L->cframe_current) : 0;
        n = walk_iframes(f, buf, max);
    }
    memcpy(ips + depth - n, buf, n * sizeof(*buf));
    return n;
}

/* ---- on the writer thread ----------------------------------------------------------------- */
int gp_py_resolve(void *ctx, uint64_t key, struct gp_trace_pyframe *out)
{
    (void)ctx;
    uint32_t i = (uint32_t)(key >> 32) & 0x7fffffffu;
    out->line = (uint32_t)key;
    out->file = out->function = NULL;
    /* The event that carries the key was published after the entry was filled. */
    if (i == 0 || gp_py.codes == NULL || i >= GP_PY_CODES_MAX)
        return 0;
    out->file = gp_py.arena + gp_py.codes[i].file_off;
    out->function = gp_py.arena + gp_py.codes[i].name_off;
    return 0;
}
