/* tensor_join.c — ties each cuBLAS/cuBLASLt/cuDNN call to the kernels it launched, for the
 * Tensor Core answer (analysis_tensor.c): LIBCALL ext id -> EXT_CORR (correlation id) ->
 * KERNEL. The shim pushes an external id of kind CUSTOM2 around each outermost library call
 * (docs/trace-format.md §3.5.1); CUPTI ties it to the correlation id of each kernel launch
 * made under it (EXT_CORR), and the kernel record carries that correlation id. The three
 * records come in any order, so what cannot be joined yet waits in
 * bounded maps (GP_REPORT_TC_MAX_PENDING entries each). Each site then has its kernels, their
 * GPU time by class and the FLOPs of its timed calls; gp_report_tc_site_verdict turns those
 * into the site's final verdict. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Open addressing with linear probing: key (0 = empty) -> two values. */
struct tc_map {
    uint64_t *key, *v0, *v1;
    size_t cap, n;
    uint64_t max_key;
};
struct gp_report_tc_join {
    struct tc_map site_of_ext; /* ext -> site index + 1, the call's FLOPs (bits) until timed */
    struct tc_map ext_of_corr; /* correlation -> ext */
    struct tc_map pend_corr;   /* kernels whose EXT_CORR has not come: corr -> name|calls, ns */
    struct tc_map pend_ext;    /* kernels whose LIBCALL has not come: ext -> name|calls, ns */
    int seen;                  /* an EXT_CORR of ours or a LIBCALL with an id was read */
};

static size_t map_home(const struct tc_map *m, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (m->cap - 1);
}

static size_t map_slot(const struct tc_map *m, uint64_t key)
{
    size_t i = map_home(m, key);
    while (m->key[i] != 0 && m->key[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* Index of key, or SIZE_MAX. */
static size_t map_find(const struct tc_map *m, uint64_t key)
{
    if (m->n == 0)
        return SIZE_MAX;
    size_t i = map_slot(m, key);
    return m->key[i] == key ? i : SIZE_MAX;
}

/* Rebuilds into cap slots keeping the keys >= keep_from; returns how many were left out. */
static int map_rebuild(struct tc_map *m, size_t cap, uint64_t keep_from, uint64_t *left)
{
    struct tc_map o = *m;
    uint64_t *k = calloc(cap, sizeof *k), *a = calloc(cap, sizeof *a), *b = calloc(cap, sizeof *b);
    if (k == NULL || a == NULL || b == NULL) {
        free(k), free(a), free(b);
        return -ENOMEM;
    }
    m->key = k, m->v0 = a, m->v1 = b, m->cap = cap, m->n = 0;
    *left = 0;
    for (size_t i = 0; i < o.cap; i++) {
        if (o.key[i] == 0)
            continue;
        if (o.key[i] < keep_from) {
            (*left)++;
            continue;
        }
        size_t j = map_slot(m, o.key[i]);
        m->key[j] = o.key[i], m->v0[j] = o.v0[i], m->v1[j] = o.v1[i];
        m->n++;
    }
    free(o.key), free(o.v0), free(o.v1);
    return 0;
}

/* Slot for key (new or existing; *fresh says which), or SIZE_MAX when the map is at its
 * bound even after giving up its older half (keys grow: ids and correlation ids count up).
 * stale: keys below it are dropped first without being counted (they can no longer join). */
static int map_put(struct gp_report_tensor *t, struct tc_map *m, uint64_t key, uint64_t stale,
                   size_t *slot, int *fresh)
{
    uint64_t left = 0;
    int rc;
    *slot = SIZE_MAX;
    if (m->cap == 0 && (rc = map_rebuild(m, 1024, 0, &left)) < 0)
        return rc;
    size_t i = map_slot(m, key);
    if (m->key[i] == key) {
        *slot = i, *fresh = 0;
        return 0;
    }
    if ((m->n + 1) * 2 > m->cap) { /* at most half full */
        if (m->cap < 2 * (size_t)GP_REPORT_TC_MAX_PENDING) {
            rc = map_rebuild(m, m->cap * 2, 0, &left);
        } else {
            if ((rc = map_rebuild(m, m->cap, stale, &left)) == 0 && m->n >= m->cap / 2 * 3 / 4) {
                uint64_t half = m->max_key > GP_REPORT_TC_MAX_PENDING / 2
                                    ? m->max_key - GP_REPORT_TC_MAX_PENDING / 2
                                    : 0;
                rc = map_rebuild(m, m->cap, half, &left);
                t->join_dropped += left;
            }
        }
        if (rc < 0)
            return rc;
        if ((m->n + 1) * 2 > m->cap) {
            t->join_dropped++;
            return 0;
        }
        i = map_slot(m, key);
    }
    m->key[i] = key, m->v0[i] = 0, m->v1[i] = 0;
    m->n++;
    if (key > m->max_key)
        m->max_key = key;
    *slot = i, *fresh = 1;
    return 0;
}

static void map_free(struct tc_map *m)
{
    free(m->key), free(m->v0), free(m->v1);
    memset(m, 0, sizeof *m);
}

/* Removes slot i (backward shift: later keys of the same probe run move up). */
static void map_del(struct tc_map *m, size_t i)
{
    size_t mask = m->cap - 1, j = i;
    m->key[i] = 0;
    m->n--;
    for (;;) {
        j = (j + 1) & mask;
        if (m->key[j] == 0)
            return;
        size_t h = map_home(m, m->key[j]);
        /* stays when its home lies cyclically in (i, j] */
        if (i < j ? (h > i && h <= j) : (h > i || h <= j))
            continue;
        m->key[i] = m->key[j], m->v0[i] = m->v0[j], m->v1[i] = m->v1[j];
        m->key[j] = 0;
        i = j;
    }
}

static int join_get(struct gp_report_tensor *t)
{
    if (t->join == NULL && (t->join = calloc(1, sizeof *t->join)) == NULL)
        return -ENOMEM;
    return 0;
}

void gp_report_tc_join_free(struct gp_report_tensor *t)
{
    if (t->join == NULL)
        return;
    map_free(&t->join->site_of_ext);
    map_free(&t->join->ext_of_corr);
    map_free(&t->join->pend_corr);
    map_free(&t->join->pend_ext);
    free(t->join);
    t->join = NULL;
}

#define PACK(name_id, calls) ((uint64_t)(name_id) | (uint64_t)(calls) << 32)

/* calls kernels named name_id, ns of GPU time, belong to site si (whose call's FLOPs were
 * flops_bits, 0 once counted). */
static void attribute(struct gp_report_tensor *t, size_t si, uint64_t packed, uint64_t ns)
{
    struct gp_report_tc_site *s = &t->sites[si];
    uint32_t name_id = (uint32_t)packed;
    uint64_t calls = packed >> 32;
    unsigned cls = name_id < t->kernels_cap ? t->kernels[name_id].verdict.cls : GP_KC_UNKNOWN;
    s->gpu_time_ns += ns;
    s->kernel_calls += calls;
    s->kc_ns[cls] += ns;
    t->attributed_kernels += calls;
    t->attributed_ns += ns;
    size_t i;
    for (i = 0; i < s->nkernels && s->kernels[i].name_id != name_id; i++)
        ;
    if (i == s->nkernels && i < GP_REPORT_TC_SITE_KERNELS)
        s->kernels[s->nkernels++] = (struct gp_report_tc_site_kernel){
            .name_id = name_id, .cls = cls, .name_cls = cls, .layer = "kernel name"};
    if (i < s->nkernels) {
        s->kernels[i].calls += calls;
        s->kernels[i].time_ns += ns;
    } else {
        s->other_calls += calls;
        s->other_ns += ns;
    }
}

/* Kernels known to belong to external id ext: to its site, or waiting for its LIBCALL. */
static int join_to_ext(struct gp_report_tensor *t, uint64_t ext, uint64_t packed, uint64_t ns)
{
    struct gp_report_tc_join *j = t->join;
    size_t i = map_find(&j->site_of_ext, ext);
    if (i != SIZE_MAX) {
        size_t si = (size_t)j->site_of_ext.v0[i] - 1;
        if (j->site_of_ext.v1[i] != 0) { /* the call's first kernel: its FLOPs are timed */
            double flops;
            memcpy(&flops, &j->site_of_ext.v1[i], sizeof flops);
            t->sites[si].flops_timed += flops;
            j->site_of_ext.v1[i] = 0;
        }
        attribute(t, si, packed, ns);
        return 0;
    }
    int fresh, rc = map_put(t, &j->pend_ext, ext, 0, &i, &fresh);
    if (rc < 0 || i == SIZE_MAX)
        return rc;
    /* several kernels of one call waiting: counted together under the first one's name */
    j->pend_ext.v0[i] = fresh ? packed : j->pend_ext.v0[i] + (packed & ~0xffffffffull);
    j->pend_ext.v1[i] += ns;
    return 0;
}

int gp_report_tc_join_libcall(struct gp_report_tensor *t, uint64_t ext, size_t si, double flops)
{
    int fresh, rc;
    size_t i;
    if ((rc = join_get(t)) < 0)
        return rc;
    struct gp_report_tc_join *j = t->join;
    j->seen = 1;
    if ((rc = map_put(t, &j->site_of_ext, ext, 0, &i, &fresh)) < 0 || i == SIZE_MAX)
        return rc;
    j->site_of_ext.v0[i] = si + 1;
    memcpy(&j->site_of_ext.v1[i], &flops, sizeof flops);
    size_t p = map_find(&j->pend_ext, ext);
    if (p != SIZE_MAX) {
        uint64_t packed = j->pend_ext.v0[p], ns = j->pend_ext.v1[p];
        map_del(&j->pend_ext, p);
        return join_to_ext(t, ext, packed, ns);
    }
    return 0;
}

int gp_report_tc_join_ext_corr(struct gp_report_tensor *t, uint32_t corr, uint64_t ext)
{
    int fresh, rc;
    size_t i;
    if (corr == 0 || ext == 0)
        return 0;
    if ((rc = join_get(t)) < 0)
        return rc;
    struct gp_report_tc_join *j = t->join;
    j->seen = 1;
    if ((rc = map_put(t, &j->ext_of_corr, corr, 0, &i, &fresh)) < 0)
        return rc;
    if (i != SIZE_MAX)
        j->ext_of_corr.v0[i] = ext;
    size_t p = map_find(&j->pend_corr, corr);
    if (p == SIZE_MAX)
        return 0;
    uint64_t packed = j->pend_corr.v0[p], ns = j->pend_corr.v1[p];
    map_del(&j->pend_corr, p);
    return join_to_ext(t, ext, packed, ns);
}

int gp_report_tc_join_kernel(struct gp_report_tensor *t, uint32_t corr, uint32_t name_id,
                             uint64_t ns)
{
    struct gp_report_tc_join *j = t->join;
    if (corr == 0 || j == NULL || !j->seen)
        return 0; /* no library call was tied to kernels (yet): nothing to wait for */
    size_t i = map_find(&j->ext_of_corr, corr);
    if (i != SIZE_MAX)
        return join_to_ext(t, j->ext_of_corr.v0[i], PACK(name_id, 1), ns);
    /* Its EXT_CORR may still come, or it was launched outside any library call: kernels
     * older than the newest EXT_CORR are let go uncounted when room is needed. */
    int fresh, rc = map_put(t, &j->pend_corr, corr, j->ext_of_corr.max_key, &i, &fresh);
    if (rc < 0 || i == SIZE_MAX)
        return rc;
    j->pend_corr.v0[i] = fresh ? PACK(name_id, 1) : j->pend_corr.v0[i] + PACK(0, 1);
    j->pend_corr.v1[i] += ns;
    return 0;
}


/* Its kernels decide when their classes do, by GPU time (layer "machine code" or "kernel
 * name": the layer of the longest kernel of the winning class, the one named in why); else
 * what was asked stands. */
void gp_report_tc_site_verdict(const struct gp_report_model *m, struct gp_report_tc_site *s)
{
    uint64_t tc = s->kc_ns[GP_KC_TENSOR], cc = s->kc_ns[GP_KC_CUDA_CORE];
    if (tc + cc == 0) {
        s->ran = GP_KC_UNKNOWN;
        s->final_layer = s->verdict.layer;
        snprintf(s->why, sizeof s->why, "%s", s->verdict.reason);
        return;
    }
    s->ran = tc >= cc ? GP_KC_TENSOR : GP_KC_CUDA_CORE;
    s->final_layer = "kernel name";
    const char *name = "(unnamed)", *mc = NULL;
    for (size_t i = 0; i < s->nkernels; i++)
        if (s->kernels[i].cls == s->ran) {
            const char *n = gp_trace_reader_string(m->reader, s->kernels[i].name_id);
            name = n ? n : name;
            mc = s->kernels[i].mc;
            s->final_layer = s->kernels[i].layer ? s->kernels[i].layer : "kernel name";
            break;
        }
    /* the kernel named as before when its name decided (widths kept: 150, 100, 80) */
    char k[256];
    int w = s->ran == GP_KC_TENSOR ? 150 : s->verdict.cls == GP_TC_ALLOWED ? 100 : 80;
    if (mc)
        snprintf(k, sizeof k, "kernel %.*s; machine code: %.96s", w > 100 ? 100 : w, name, mc);
    else
        snprintf(k, sizeof k, "kernel %.*s", w, name);
    if (s->ran == GP_KC_TENSOR)
        snprintf(s->why, sizeof s->why, "ran on Tensor Cores (%s)", k);
    else if (s->verdict.cls == GP_TC_ALLOWED)
        snprintf(s->why, sizeof s->why,
                 "ran on CUDA cores (%s): the library chose a CUDA-core kernel although Tensor "
                 "Cores were allowed",
                 k);
    else
        snprintf(s->why, sizeof s->why, "ran on CUDA cores (%s): %s", k, s->verdict.reason);
}
