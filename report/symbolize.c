/* symbolize.c — turns instruction pointers into function, file:line and module, for
 * the stacks a view actually prints: each ip is resolved once, lazily, and cached;
 * debug information is opened only for the modules those ips fall in (dwarf.c, with
 * libdw). Anything that cannot be resolved becomes "??" with module and offset; this
 * never fails except for lack of memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct sym_entry {
    uint64_t ip;
    int used;
    struct gp_report_frame frame;
};

struct gp_report_symbolizer {
    const struct gp_report_model *m;
    struct gp_report_modmap modmap;
    struct gp_report_dwarf **dwarf; /* per module, opened on first use */
    uint8_t *tried;                 /* per module: opening was attempted */
    size_t sessions;                /* opening attempts so far */
    struct sym_entry *cache;
    size_t mask, count;
    uint64_t ips[GP_TRACE_MAX_FRAMES];
};

#define SYM_CACHE_MIN 256
/* Real programs print stacks through a few dozen objects; a crafted trace naming one
 * big file at thousands of addresses must not open thousands of debug sessions. */
#define SYM_MAX_DWARF_SESSIONS 4096

int gp_report_symbolizer_new(struct gp_report_symbolizer **out, const struct gp_report_model *m)
{
    int rc = -ENOMEM;
    struct gp_report_symbolizer *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s)
        goto out;
    s->m = m;
    if (m->nmodules) {
        s->dwarf = calloc(m->nmodules, sizeof(*s->dwarf));
        s->tried = calloc(m->nmodules, 1);
        if (!s->dwarf || !s->tried)
            goto out;
    }
    if (gp_report_modmap_build(&s->modmap, m->modules, m->nmodules) < 0)
        goto out;
    s->cache = calloc(SYM_CACHE_MIN, sizeof(*s->cache));
    if (!s->cache)
        goto out;
    s->mask = SYM_CACHE_MIN - 1;
    *out = s;
    s = NULL;
    rc = 0;
out:
    gp_report_symbolizer_free(s);
    return rc;
}

void gp_report_symbolizer_free(struct gp_report_symbolizer *s)
{
    if (!s)
        return;
#ifdef GP_HAVE_LIBDW
    for (size_t i = 0; s->dwarf && i < s->m->nmodules; i++)
        if (s->dwarf[i])
            gp_report_dwarf_close(s->dwarf[i]);
#endif
    gp_report_modmap_fini(&s->modmap);
    free(s->dwarf);
    free(s->tried);
    free(s->cache);
    free(s);
}

static size_t hash_ip(uint64_t ip, size_t mask)
{
    return (size_t)((ip * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & mask;
}

static struct sym_entry *cache_slot(struct sym_entry *cache, size_t mask, uint64_t ip)
{
    size_t i = hash_ip(ip, mask);
    while (cache[i].used && cache[i].ip != ip)
        i = (i + 1) & mask;
    return &cache[i];
}

static int cache_grow(struct gp_report_symbolizer *s)
{
    size_t n = (s->mask + 1) * 2;
    struct sym_entry *bigger = calloc(n, sizeof(*bigger));
    if (!bigger)
        return -ENOMEM;
    for (size_t i = 0; i <= s->mask; i++)
        if (s->cache[i].used)
            *cache_slot(bigger, n - 1, s->cache[i].ip) = s->cache[i];
    free(s->cache);
    s->cache = bigger;
    s->mask = n - 1;
    return 0;
}

static void resolve(struct gp_report_symbolizer *s, uint64_t ip, struct gp_report_frame *f)
{
    /* Unwound ips are return addresses: the call itself is the byte before. */
    uint64_t addr = ip ? ip - 1 : 0;
    memset(f, 0, sizeof(*f));
    f->ip = ip;
    f->function = "??";
    f->offset = ip;
    uint32_t py = gp_trace_pyframe_id(ip);
    if (py) { /* written by the shim with its names: nothing to look up */
        const struct gp_trace_pyframe *pf = gp_trace_reader_pyframe(s->m->reader, py);
        f->python = 1;
        f->offset = 0;
        if (pf) {
            f->function = pf->function ? pf->function : "??";
            f->file = pf->file;
            f->line = pf->line;
        }
        return;
    }
    int32_t mi = gp_report_modmap_find(&s->modmap, addr);
    if (mi < 0)
        return;
    const struct gp_report_module *mod = &s->m->modules[mi];
    f->module = mod->path;
    f->offset = ip - mod->load_bias;
#ifdef GP_HAVE_LIBDW
    if (!s->tried[mi] && s->sessions < SYM_MAX_DWARF_SESSIONS) {
        s->tried[mi] = 1;
        s->sessions++;
        s->dwarf[mi] = gp_report_dwarf_open(mod);
    }
    if (s->dwarf[mi]) {
        const char *function = NULL, *file = NULL;
        uint32_t line = 0;
        gp_report_dwarf_lookup(s->dwarf[mi], addr, &function, &file, &line);
        if (function)
            f->function = function;
        f->file = file;
        f->line = file ? line : 0;
    }
#endif
}

int gp_report_symbolize(struct gp_report_symbolizer *s, uint64_t ip, struct gp_report_frame *out)
{
    struct sym_entry *e = cache_slot(s->cache, s->mask, ip);
    if (!e->used) {
        if ((s->count + 1) * 2 > s->mask + 1) {
            int rc = cache_grow(s);
            if (rc < 0)
                return rc;
            e = cache_slot(s->cache, s->mask, ip);
        }
        e->used = 1;
        e->ip = ip;
        resolve(s, ip, &e->frame);
        s->count++;
    }
    *out = e->frame;
    return 0;
}

int gp_report_symbolize_stack(struct gp_report_symbolizer *s, uint32_t stack,
                              struct gp_report_frame *out, size_t max)
{
    size_t n = gp_report_model_stack(s->m, stack, s->ips,
                                     max < GP_TRACE_MAX_FRAMES ? max : GP_TRACE_MAX_FRAMES);
    /* Python frames first: the code a user can change. Stable, so each part keeps its
     * innermost-first order (the shim puts them outermost in the trie). */
    size_t k = 0;
    for (int pass = 1; pass >= 0; pass--) {
        for (size_t i = 0; i < n; i++) {
            if ((gp_trace_pyframe_id(s->ips[i]) != 0) != pass)
                continue;
            int rc = gp_report_symbolize(s, s->ips[i], &out[k++]);
            if (rc < 0)
                return rc;
        }
    }
    return (int)n;
}

int gp_report_frame_is_shim(const struct gp_report_frame *f)
{
    if (f->python || f->module == NULL)
        return 0;
    const char *base = strrchr(f->module, '/');
    base = base ? base + 1 : f->module;
    return strncmp(base, "libgpuprof", 10) == 0;
}
