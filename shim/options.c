/* options.c — the GPUPROF_* environment settings: one table, parsed once at first use.
 * A bad value never stops the program: one warning on stderr, and the default stays. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

enum gp_opt_type { GP_OPT_STRING, GP_OPT_BOOL, GP_OPT_UINT, GP_OPT_SIZE };

struct gp_opt_desc {
    const char *name;
    enum gp_opt_type type;
    const char *def;   /* default, as text */
    uint64_t min, max; /* numeric bounds, inclusive */
    size_t offset;     /* field in struct gp_shim_options */
    const char *help;
};

#define GP_OPT(field) offsetof(struct gp_shim_options, field)

static const struct gp_opt_desc gp_opts[] = {
    {"GPUPROF_ENABLE", GP_OPT_BOOL, "1", 0, 1, GP_OPT(enabled), "0 turns the shim into a pass-through"},
    {"GPUPROF_OUTPUT", GP_OPT_STRING, "gpuprof.%p.gz", 0, 0, GP_OPT(output),
     "trace file template: %p pid, %h host, %r rank, %% percent"},
    {"GPUPROF_LABEL", GP_OPT_STRING, "", 0, 0, GP_OPT(label), "free text stored in the header"},
    {"GPUPROF_DEPTH", GP_OPT_UINT, "64", 0, GP_TRACE_MAX_FRAMES, GP_OPT(depth), "stack frames per event"},
    {"GPUPROF_BUFFER", GP_OPT_SIZE, "16M", 256 * 1024, 1ull << 30, GP_OPT(buffer),
     "bytes of event queue between program threads and the writer"},
    {"GPUPROF_FLUSH_MS", GP_OPT_UINT, "1000", 10, 60000, GP_OPT(flush_ms),
     "longest time between flushes to disk"},
    {"GPUPROF_PYTHON_STACKS", GP_OPT_BOOL, "1", 0, 1, GP_OPT(python_stacks),
     "0 records native frames only in Python programs"},
    {"GPUPROF_KERNELS", GP_OPT_BOOL, "1", 0, 1, GP_OPT(kernels),
     "0 records no GPU activity (kernels, copies) and never loads CUPTI"},
    {"GPUPROF_CUPTI", GP_OPT_STRING, "", 0, 0, GP_OPT(cupti),
     "path of the libcupti to use (a file or its directory); empty: search"},
    {"GPUPROF_CUPTI_BUFFER", GP_OPT_SIZE, "8M", 64 * 1024, 256ull << 20, GP_OPT(cupti_buffer),
     "bytes per CUPTI activity buffer"},
    {"GPUPROF_CUPTI_BUFFERS", GP_OPT_UINT, "8", 2, 1024, GP_OPT(cupti_buffers),
     "most CUPTI activity buffers at once (their total is the cap)"},
    {"GPUPROF_CUBINS", GP_OPT_BOOL, "0", 0, 1, GP_OPT(cubins),
     "1 saves each loaded module's cubin in the trace (Tensor Core verdict, layer 4)"},
    {"GPUPROF_CUBINS_MAX", GP_OPT_SIZE, "256M", 0, 1ull << 40, GP_OPT(cubins_max),
     "most bytes of cubins saved; past it a module is only counted"},
    {"GPUPROF_COUNTERS", GP_OPT_BOOL, "0", 0, 1, GP_OPT(counters),
     "1 reads the GPU's Tensor Core counters over the run (layer 5; needs profiling permission)"},
};

int gp_shim_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

int gp_shim_parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Decimal digits with an optional K, M, G or T suffix (powers of 1024), "B" allowed after it. */
int gp_shim_parse_size(const char *s, uint64_t *out)
{
    char digits[32];
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0 || n >= sizeof digits)
        return -EINVAL;
    memcpy(digits, s, n);
    digits[n] = '\0';
    uint64_t v;
    if (gp_shim_parse_uint(digits, &v) < 0)
        return -EINVAL;
    const char *suf = s + n;
    unsigned shift = 0;
    switch (*suf) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return -EINVAL;
    }
    if (*suf) {
        suf++;
        if ((*suf == 'b' || *suf == 'B') && suf[1] == '\0')
            suf++;
        if (*suf != '\0')
            return -EINVAL;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = v << shift;
    return 0;
}

static int gp_opt_parse(const struct gp_opt_desc *d, const char *text, struct gp_shim_options *o)
{
    char *field = (char *)o + d->offset;
    uint64_t v = 0;
    bool b;
    switch (d->type) {
    case GP_OPT_STRING:
        *(const char **)(void *)field = text;
        return 0;
    case GP_OPT_BOOL:
        if (gp_shim_parse_bool(text, &b) < 0)
            return -EINVAL;
        *(bool *)field = b;
        return 0;
    case GP_OPT_UINT:
    case GP_OPT_SIZE:
        if ((d->type == GP_OPT_UINT ? gp_shim_parse_uint(text, &v) : gp_shim_parse_size(text, &v)) < 0)
            return -EINVAL;
        if (v < d->min || v > d->max)
            return -ERANGE;
        if (d->type == GP_OPT_UINT)
            *(unsigned *)field = (unsigned)v;
        else
            *(uint64_t *)field = v;
        return 0;
    }
    return -EINVAL;
}

void gp_shim_options_load(struct gp_shim_options *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < sizeof gp_opts / sizeof gp_opts[0]; i++) {
        const struct gp_opt_desc *d = &gp_opts[i];
        (void)gp_opt_parse(d, d->def, o); /* defaults are valid by construction */
        const char *env = getenv(d->name);
        if (env == NULL)
            continue;
        int rc = gp_opt_parse(d, env, o);
        if (rc == -ERANGE)
            gp_shim_warn("%s=%.64s is out of range [%llu, %llu]; using %s", d->name, env,
                         (unsigned long long)d->min, (unsigned long long)d->max, d->def);
        else if (rc < 0)
            gp_shim_warn("%s=%.64s is not valid (%s); using %s", d->name, env, d->help, d->def);
        if (rc < 0)
            (void)gp_opt_parse(d, d->def, o);
    }
    if (o->output[0] == '\0') {
        gp_shim_warn("GPUPROF_OUTPUT is empty; using gpuprof.%%p.gz");
        o->output = "gpuprof.%p.gz";
    }
}
