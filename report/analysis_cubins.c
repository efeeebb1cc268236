/* analysis_cubins.c — Tensor Core verdict, layer 4, over a whole trace: the cubins the shim
 * saved (CUBIN records, GPUPROF_CUBINS=1) are disassembled and every kernel that ran gets
 * the count of Tensor Core instructions in its machine code (docs/tensor-cores.md).
 * Report memory stays bounded: each cubin goes to a file in a private temporary directory
 * (mkdtemp, mode 0700) chunk by chunk as the replay reads it, and only the verdicts of the
 * kernels that ran are kept. The disassembler runs once per cubin (sass_timed.c: no shell,
 * a time limit of GPUPROF_SASS_TIMEOUT seconds, default 120, a cap on its listing's size);
 * file names in the directory are our own counters, never anything from the trace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

#define GP_CUBINS_MAX_ENTRIES 65536          /* distinct cubins kept; more are counted lost */
#define GP_CUBINS_TIMEOUT_S 120u             /* per cubin, unless GPUPROF_SASS_TIMEOUT says */

struct cubin_ent {
    uint64_t hash, size, received;
    int complete;
};
struct kernel_acc {   /* per kernel name id */
    uint64_t calls, time_ns;
    int32_t out;      /* index into c->kernels, -1 = not found in any cubin */
};
struct name_ix {      /* for gp_report_cubins_verdict's binary search */
    const char *name;
    size_t idx;
};
struct priv {
    char dir[4096];   /* "" until the first cubin */
    struct cubin_ent *v;
    size_t n, cap;
    long cur;         /* entry receiving chunks, -1 = none */
    int fd;           /* its file */
    uint64_t bad_hash; /* a cubin already counted incomplete: its later chunks are ignored */
    struct kernel_acc *kern;
    size_t kern_cap;
    struct name_ix *ix;
    size_t nix;
};

static void ent_path(const struct priv *p, size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%zu.cubin", p->dir, i);
}

static void drop_current(struct gp_report_cubins *c, struct priv *p)
{
    if (p->cur < 0)
        return;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    struct cubin_ent *e = &p->v[p->cur];
    if (!e->complete) { /* its last chunks never came: of no use */
        char path[4200];
        ent_path(p, (size_t)p->cur, path, sizeof path);
        unlink(path);
        c->incomplete++;
        p->bad_hash = e->hash;
    }
    p->cur = -1;
}

static int make_dir(struct gp_report_cubins *c, struct priv *p)
{
    if (p->dir[0])
        return 0;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(p->dir, sizeof p->dir, "%s%s/gpuprof-cubins.XXXXXX", tmp[0] == '-' ? "./" : "", tmp);
    if (mkdtemp(p->dir) == NULL) {
        snprintf(c->why, sizeof c->why, "cannot create a temporary directory in %.300s: %s", tmp,
                 strerror(errno));
        p->dir[0] = '\0';
        c->status = GP_CUBINS_FAILED;
        return -1;
    }
    return 0;
}

/* The first chunk of a saved cubin: a new entry and its file. */
static void cubin_start(struct gp_report_cubins *c, struct priv *p, const struct gp_cubin *cb)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].hash == cb->hash && p->v[i].complete) {
            c->duplicates++; /* the shim wrote it twice (e.g. a new trace file): keep one */
            p->bad_hash = cb->hash;
            return;
        }
    if (c->status == GP_CUBINS_FAILED || p->n == GP_CUBINS_MAX_ENTRIES || make_dir(c, p) < 0) {
        c->lost++;
        p->bad_hash = cb->hash;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct cubin_ent *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            c->lost++;
            return;
        }
        p->v = v;
        p->cap = cap;
    }
    char path[4200];
    ent_path(p, p->n, path, sizeof path);
    p->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (p->fd < 0) {
        c->lost++;
        p->bad_hash = cb->hash;
        return;
    }
    p->v[p->n] = (struct cubin_ent){.hash = cb->hash, .size = cb->size};
    p->cur = (long)p->n++;
}

/* Whether cb is the next chunk of the cubin being received. */
static int continues(const struct priv *p, const struct gp_cubin *cb)
{
    const struct cubin_ent *e = p->cur >= 0 ? &p->v[p->cur] : NULL;
    return e && e->hash == cb->hash && e->size == cb->size && e->received == cb->offset;
}

static void cubin_chunk(struct gp_report_cubins *c, struct priv *p, const struct gp_cubin *cb)
{
    if (cb->offset == 0) {
        drop_current(c, p);
        c->modules++;
        cubin_start(c, p, cb);
        if (p->cur < 0)
            return;
    } else if (!continues(p, cb)) {
        /* out of order, or the rest of a cubin that was refused or already counted */
        int was_current = p->cur >= 0 && p->v[p->cur].hash == cb->hash;
        uint64_t bad = p->bad_hash;
        drop_current(c, p);
        if (!was_current && cb->hash != bad)
            c->incomplete++;
        p->bad_hash = cb->hash;
        return;
    }
    struct cubin_ent *e = &p->v[p->cur];
    const uint8_t *d = cb->data;
    size_t left = cb->len;
    while (left > 0) {
        ssize_t k = write(p->fd, d, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) { /* a full disk: this cubin is lost, the report goes on */
            if (!c->first_error[0])
                snprintf(c->first_error, sizeof c->first_error, "writing a cubin to %.200s: %s",
                         p->dir, k < 0 ? strerror(errno) : "short write");
            drop_current(c, p);
            return;
        }
        d += k;
        left -= (size_t)k;
    }
    e->received += cb->len;
    if (e->received == e->size) {
        e->complete = 1;
        c->saved++;
        c->saved_bytes += e->size;
        close(p->fd);
        p->fd = -1;
        p->cur = -1;
    }
}

static int kernel_add(struct priv *p, const struct gp_activity *a)
{
    if (a->name_id == 0)
        return 0;
    if (a->name_id >= p->kern_cap) {
        size_t cap = p->kern_cap ? p->kern_cap : 256;
        while (cap <= a->name_id)
            cap *= 2;
        struct kernel_acc *k = realloc(p->kern, cap * sizeof *k);
        if (!k)
            return -ENOMEM;
        memset(k + p->kern_cap, 0, (cap - p->kern_cap) * sizeof *k);
        p->kern = k;
        p->kern_cap = cap;
    }
    struct kernel_acc *k = &p->kern[a->name_id];
    k->calls++;
    if (a->end_ns > a->start_ns)
        k->time_ns += a->end_ns - a->start_ns;
    return 0;
}

static int cubins_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_cubins *c = ctx;
    struct priv *p = c->priv;
    if (rec->type == GP_REC_KERNEL) {
        const struct gp_activity *a = gp_trace_reader_activity(m->reader);
        return a && a->type == GP_REC_KERNEL ? kernel_add(p, a) : 0;
    }
    if (rec->type != GP_REC_CUBIN)
        return 0;
    struct gp_cubin cb;
    gp_trace_record_cubin(rec, &cb);
    switch (cb.state) {
    case GP_CUBIN_SAVED:
        cubin_chunk(c, p, &cb);
        return 0;
    case GP_CUBIN_DUPLICATE:
        c->duplicates++;
        break;
    case GP_CUBIN_OVER_CAP:
        c->over_cap++;
        c->over_cap_bytes += cb.size;
        break;
    default:
        c->lost++;
        break;
    }
    c->modules++;
    return 0;
}


/* ---- at the end: disassemble ------------------------------------------------------------ */
static unsigned timeout_s(void)
{
    const char *s = getenv("GPUPROF_SASS_TIMEOUT");
    char *end;
    unsigned long v = s && *s ? strtoul(s, &end, 10) : 0;
    return s && *s && *end == '\0' && v >= 1 && v <= 86400 ? (unsigned)v : GP_CUBINS_TIMEOUT_S;
}

/* Kernel names that ran, by string, for matching the listing's function names. */
static int ix_cmp(const void *a, const void *b)
{
    return strcmp(((const struct name_ix *)a)->name, ((const struct name_ix *)b)->name);
}

static struct name_ix *ix_find(const struct name_ix *ix, size_t n, const char *name)
{
    struct name_ix key = {.name = name};
    return n ? bsearch(&key, ix, n, sizeof *ix, ix_cmp) : NULL;
}

static int build_index(struct gp_report_cubins *c, struct priv *p, const struct gp_report_model *m)
{
    size_t n = 0;
    for (size_t id = 1; id < p->kern_cap; id++)
        n += p->kern[id].calls && gp_trace_reader_string(m->reader, (uint32_t)id);
    c->kernel_names = n;
    if (n == 0)
        return 0;
    if ((p->ix = calloc(n, sizeof *p->ix)) == NULL)
        return -ENOMEM;
    for (size_t id = 1; id < p->kern_cap; id++) {
        const char *s = p->kern[id].calls ? gp_trace_reader_string(m->reader, (uint32_t)id) : NULL;
        p->kern[id].out = -1;
        if (s)
            p->ix[p->nix++] = (struct name_ix){.name = s, .idx = id}; /* idx: name id for now */
    }
    qsort(p->ix, p->nix, sizeof *p->ix, ix_cmp);
    return 0;
}

/* One cubin's functions into the verdicts of the kernels that ran. */
static int merge(struct gp_report_cubins *c, struct priv *p, const struct gp_report_sass *s,
                 size_t *cap)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct gp_report_sass_func *f = &s->v[i];
        const struct name_ix *x = ix_find(p->ix, p->nix, f->name);
        if (!x)
            continue; /* in the module, never launched */
        struct kernel_acc *k = &p->kern[x->idx];
        if (k->out >= 0) {
            struct gp_report_cubin_kernel *o = &c->kernels[k->out];
            o->cubins++;
            /* the same name in two different cubins (two libraries, two architectures):
             * when they disagree, the machine code cannot say which one ran */
            if (o->cls != f->cls && strncmp(o->verdict, "ambiguous", 9) != 0) {
                snprintf(o->verdict, sizeof o->verdict, "ambiguous (%s in one cubin, %s in another)",
                         gp_report_kclass_name(o->cls), gp_report_kclass_name(f->cls));
                o->cls = GP_KC_UNKNOWN;
            }
            continue;
        }
        if (c->nkernels == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            struct gp_report_cubin_kernel *v = realloc(c->kernels, ncap * sizeof *v);
            if (!v)
                return -ENOMEM;
            c->kernels = v;
            *cap = ncap;
        }
        struct gp_report_cubin_kernel *o = &c->kernels[c->nkernels];
        *o = (struct gp_report_cubin_kernel){.name_id = (uint32_t)x->idx, .cls = f->cls,
                                             .cubins = 1, .calls = k->calls, .time_ns = k->time_ns};
        snprintf(o->verdict, sizeof o->verdict, "%s", f->verdict);
        k->out = (int32_t)c->nkernels++;
    }
    return 0;
}

static int kernel_cmp(const void *a, const void *b)
{
    const struct gp_report_cubin_kernel *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? 1 : -1;
    if (x->calls != y->calls)
        return x->calls < y->calls ? 1 : -1;
    return x->name_id < y->name_id ? -1 : x->name_id > y->name_id;
}

static void remove_dir(struct priv *p)
{
    if (!p->dir[0])
        return;
    char path[4200];
    for (size_t i = 0; i < p->n; i++) {
        ent_path(p, i, path, sizeof path);
        unlink(path);
    }
    rmdir(p->dir);
    p->dir[0] = '\0';
}

static int cubins_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_cubins *c = ctx;
    struct priv *p = c->priv;
    size_t cap = 0;
    int rc = 0;

    drop_current(c, p);
    if (c->modules == 0 && c->incomplete == 0)
        goto out; /* ABSENT */
    if ((rc = build_index(c, p, m)) < 0 || c->status == GP_CUBINS_FAILED)
        goto out;
    if (c->saved == 0) {
        c->status = GP_CUBINS_NOT_SAVED;
        goto out;
    }
    if (gp_report_sass_find_tool(c->tool, sizeof c->tool) < 0) {
        c->tool[0] = '\0';
        c->status = GP_CUBINS_NO_TOOL;
        snprintf(c->why, sizeof c->why, "layer 4 skipped: no nvdisasm; pip install nvidia-cuda-nvdisasm");
        goto out;
    }
    c->status = GP_CUBINS_DONE;
    c->timeout_s = timeout_s();
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        if (!p->v[i].complete)
            continue;
        char path[4200], err[512] = "";
        struct gp_report_sass s = {0};
        ent_path(p, i, path, sizeof path);
        int r = gp_report_sass_count_timed(c->tool, path, p->dir, c->timeout_s, &s, err, sizeof err);
        unlink(path); /* done with it either way */
        if (r < 0) {
            c->failed++;
            c->timed_out += r == -ETIMEDOUT;
            if (!c->first_error[0])
                snprintf(c->first_error, sizeof c->first_error, "%s", err);
        } else {
            c->disassembled++;
            rc = merge(c, p, &s, &cap);
        }
        gp_report_sass_fini(&s);
    }
    if (c->nkernels > 1)
        qsort(c->kernels, c->nkernels, sizeof c->kernels[0], kernel_cmp);
    /* the lookup index now points at the kernels, sorted above */
    for (size_t i = 0; i < p->nix; i++)
        p->ix[i].idx = SIZE_MAX;
    for (size_t i = 0; i < c->nkernels; i++) {
        const char *s = gp_trace_reader_string(m->reader, c->kernels[i].name_id);
        struct name_ix *x = s ? ix_find(p->ix, p->nix, s) : NULL;
        if (x)
            x->idx = i;
    }
out:
    remove_dir(p);
    free(p->kern);
    p->kern = NULL;
    p->kern_cap = 0;
    return rc;
}

int gp_report_cubins_attach(struct gp_report_cubins **out, struct gp_report_model *m)
{
    struct gp_report_cubins *c = calloc(1, sizeof *c);
    struct priv *p = calloc(1, sizeof *p);
    int rc;
    *out = NULL;
    if (!c || !p) {
        rc = -ENOMEM;
        goto fail;
    }
    p->cur = -1;
    p->fd = -1;
    c->priv = p;
    struct gp_report_observer o = {.ctx = c, .record = cubins_record, .finish = cubins_finish};
    if ((rc = gp_report_model_observe(m, &o)) < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    free(p);
    free(c);
    return rc;
}

void gp_report_cubins_free(struct gp_report_cubins *c)
{
    if (!c)
        return;
    struct priv *p = c->priv;
    if (p) {
        if (p->fd >= 0)
            close(p->fd);
        remove_dir(p); /* a replay that failed half-way never reached finish */
        free(p->v);
        free(p->kern);
        free(p->ix);
        free(p);
    }
    free(c->kernels);
    free(c);
}

const char *gp_report_cubins_verdict(const struct gp_report *r, const char *mangled_name,
                                     unsigned *cls)
{
    const struct gp_report_cubins *c = r ? r->cubins : NULL;
    const struct priv *p = c ? c->priv : NULL;
    const struct name_ix *x = p && mangled_name ? ix_find(p->ix, p->nix, mangled_name) : NULL;
    *cls = GP_KC_UNKNOWN;
    if (!x || x->idx >= c->nkernels)
        return NULL;
    *cls = c->kernels[x->idx].cls;
    return c->kernels[x->idx].verdict;
}
