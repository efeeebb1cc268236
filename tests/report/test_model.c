/* test_model.c — replay and analyses on synthetic traces written with the real writer:
 * exact peaks and their sites (peak followed by a lower plateau, peak at the very end,
 * a later higher peak), leaks per kind, OOM forensics, kind separation, unknown frees,
 * failed allocations, dropped counts and truncated traces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

static const struct tb_stack site_a = { 2, { 0x401000, 0x402000 } };
static const struct tb_stack site_b = { 2, { 0x401100, 0x402000 } };
static const struct tb_stack site_c = { 3, { 0x401200, 0x403000, 0x402000 } };
static const struct tb_stack site_d = { 1, { 0x401300 } };

static void load(struct gp_report *r, struct tb *tb, size_t top)
{
    char err[256];
    struct gp_report_options opt = { .top = top, .timeline = 1 };
    int rc = gp_report_load(r, tb->path, &opt, err, sizeof(err));
    if (rc < 0)
        print_error("load failed: %s\n", err);
    assert_int_equal(rc, 0);
}

/* The innermost ip of a reported site: how tests tell sites apart. */
static uint64_t site_ip(const struct gp_report *r, const struct gp_report_site *s)
{
    uint64_t ips[GP_TRACE_MAX_FRAMES];
    size_t n = gp_report_model_stack(r->model, s->stack, ips, GP_TRACE_MAX_FRAMES);
    return n ? ips[0] : 0;
}

static void assert_site(const struct gp_report *r, const struct gp_report_site_list *l, size_t i,
                        const struct tb_stack *st, uint64_t bytes, uint64_t count)
{
    assert_true(i < l->n);
    assert_int_equal(site_ip(r, &l->v[i]), st->ips[0]);
    assert_int_equal(l->v[i].bytes, bytes);
    assert_int_equal(l->v[i].count, count);
}

static void test_peak_then_lower_plateau(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 100, GP_MEM_DEVICE, 0x7000000000, 100, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 200, GP_MEM_DEVICE, 0x7000001000, 200, &site_b), 0);
    assert_int_equal(tb_alloc(&tb, 300, GP_MEM_DEVICE, 0x7000002000, 50, &site_a), 0);
    /* peak: 350 at t=300 */
    assert_int_equal(tb_free(&tb, 400, 0x7000001000), 0);
    assert_int_equal(tb_alloc(&tb, 500, GP_MEM_DEVICE, 0x7000003000, 150, &site_c), 0);
    assert_int_equal(tb_alloc(&tb, 600, GP_MEM_DEVICE, 0x7000004000, 40, &site_d), 0);
    /* second plateau: 340, lower */
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    const struct gp_report_peak *p = &r.peak;
    assert_int_equal(p->bytes[GP_MEM_DEVICE], 350);
    assert_int_equal(gp_report_model_rel_ns(r.model, p->time_ns[GP_MEM_DEVICE]), 300);
    assert_int_equal(p->sites.n, 2);
    assert_int_equal(p->sites.total_sites, 2);
    assert_int_equal(p->sites.total_bytes, 350);
    assert_site(&r, &p->sites, 0, &site_b, 200, 1);
    assert_site(&r, &p->sites, 1, &site_a, 150, 2);
    assert_int_equal(r.model->live_bytes[GP_MEM_DEVICE], 340);
    assert_false(r.model->health.truncated);
    assert_int_equal(r.model->counts.allocs, 5);
    assert_int_equal(r.model->counts.frees, 1);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_peak_at_end(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 10, GP_MEM_DEVICE, 0x1000, 1000, &site_a), 0);
    assert_int_equal(tb_free(&tb, 20, 0x1000), 0);
    assert_int_equal(tb_alloc(&tb, 30, GP_MEM_DEVICE, 0x2000, 300, &site_b), 0);
    assert_int_equal(tb_alloc(&tb, 40, GP_MEM_DEVICE, 0x3000, 400, &site_c), 0);
    assert_int_equal(tb_alloc(&tb, 50, GP_MEM_DEVICE, 0x4000, 500, &site_b), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    /* 1200 at the last event beats the early 1000; site_a is gone by then. */
    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], 1200);
    assert_int_equal(gp_report_model_rel_ns(r.model, r.peak.time_ns[GP_MEM_DEVICE]), 50);
    assert_int_equal(r.peak.sites.n, 2);
    assert_site(&r, &r.peak.sites, 0, &site_b, 800, 2);
    assert_site(&r, &r.peak.sites, 1, &site_c, 400, 1);
    /* everything is still held at the end */
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_bytes, 1200);
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_count, 3);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_first_peak_kept_when_not_exceeded(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 10, GP_MEM_DEVICE, 0x1000, 1000, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 11, GP_MEM_DEVICE, 0x5000, 0, &site_d), 0); /* size 0 */
    assert_int_equal(tb_free(&tb, 20, 0x1000), 0);
    assert_int_equal(tb_alloc(&tb, 30, GP_MEM_DEVICE, 0x2000, 1000, &site_b), 0); /* ties */
    assert_int_equal(tb_free(&tb, 40, 0x2000), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], 1000);
    assert_int_equal(gp_report_model_rel_ns(r.model, r.peak.time_ns[GP_MEM_DEVICE]), 10);
    assert_int_equal(r.peak.sites.n, 1);
    assert_site(&r, &r.peak.sites, 0, &site_a, 1000, 1);
    /* the zero-byte allocation came after the peak and is still held at the end */
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_count, 1);
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_bytes, 0);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_peak_climbing_sawtooth(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 100, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 2, GP_MEM_DEVICE, 0x2000, 50, &site_b), 0);  /* 150 */
    assert_int_equal(tb_free(&tb, 3, 0x1000), 0);                               /* 50 */
    assert_int_equal(tb_alloc(&tb, 4, GP_MEM_DEVICE, 0x3000, 120, &site_a), 0); /* 170: peak */
    assert_int_equal(tb_free(&tb, 5, 0x2000), 0);                               /* 120 */
    assert_int_equal(tb_alloc(&tb, 6, GP_MEM_DEVICE, 0x4000, 30, &site_b), 0);  /* 150 */
    assert_int_equal(tb_alloc(&tb, 7, GP_MEM_DEVICE, 0x5000, 10, &site_c), 0);  /* 160 */
    assert_int_equal(tb_free(&tb, 8, 0x3000), 0);                               /* 40 */
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);
    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], 170);
    assert_int_equal(gp_report_model_rel_ns(r.model, r.peak.time_ns[GP_MEM_DEVICE]), 4);
    assert_int_equal(r.peak.sites.n, 2);
    assert_site(&r, &r.peak.sites, 0, &site_a, 120, 1);
    assert_site(&r, &r.peak.sites, 1, &site_b, 50, 1);
    gp_report_fini(&r);
    tb_remove(&tb);
}

/* Random allocations and frees over many sites, checked against a brute-force replay
 * that copies every site at every new peak. */
static void test_peak_sites_match_brute_force(void **state)
{
    (void)state;
    enum { SITES = 40, PTRS = 300, EVENTS = 6000 };
    static struct tb_stack stacks[SITES];
    static uint64_t ptr_size[PTRS];
    static int ptr_site[PTRS];
    uint64_t bytes[SITES] = { 0 }, count[SITES] = { 0 };
    uint64_t peak_bytes[SITES] = { 0 }, peak_count[SITES] = { 0 };
    uint64_t live = 0, peak = 0, peak_t = 0, rnd = 88172645463325252u;
    struct tb tb;
    struct gp_report r;
    for (int i = 0; i < SITES; i++)
        stacks[i] = (struct tb_stack){ 2, { 0x500000 + (uint64_t)i * 16, 0x600000 } };
    memset(ptr_size, 0, sizeof(ptr_size));
    assert_int_equal(tb_open(&tb, NULL), 0);
    for (uint64_t t = 1; t <= EVENTS; t++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17; /* xorshift64 */
        int p = (int)(rnd % PTRS);
        uint64_t ptr = 0x10000000 + (uint64_t)p * 0x1000;
        if (ptr_size[p]) {
            assert_int_equal(tb_free(&tb, t, ptr), 0);
            bytes[ptr_site[p]] -= ptr_size[p];
            count[ptr_site[p]]--;
            live -= ptr_size[p];
            ptr_size[p] = 0;
            continue;
        }
        int site = (int)((rnd >> 20) % SITES);
        uint64_t size = 1 + (rnd >> 40) % 1000;
        assert_int_equal(tb_alloc(&tb, t, GP_MEM_DEVICE, ptr, size, &stacks[site]), 0);
        ptr_size[p] = size;
        ptr_site[p] = site;
        bytes[site] += size;
        count[site]++;
        live += size;
        if (live > peak) {
            peak = live;
            peak_t = t;
            memcpy(peak_bytes, bytes, sizeof(bytes));
            memcpy(peak_count, count, sizeof(count));
        }
    }
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, SITES);

    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], peak);
    assert_int_equal(gp_report_model_rel_ns(r.model, r.peak.time_ns[GP_MEM_DEVICE]), peak_t);
    size_t want_sites = 0;
    for (int i = 0; i < SITES; i++)
        want_sites += peak_count[i] > 0;
    assert_int_equal(r.peak.sites.total_sites, want_sites);
    assert_int_equal(r.peak.sites.total_bytes, peak);
    for (size_t i = 0; i < r.peak.sites.n; i++) {
        const struct gp_report_site *s = &r.peak.sites.v[i];
        int site = (int)((site_ip(&r, s) - 0x500000) / 16);
        assert_int_equal(s->bytes, peak_bytes[site]);
        assert_int_equal(s->count, peak_count[site]);
        if (i > 0)
            assert_true(r.peak.sites.v[i - 1].bytes >= s->bytes);
    }
    uint64_t leaked = 0;
    for (int i = 0; i < SITES; i++)
        leaked += bytes[i];
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_bytes, leaked);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_top_limits_sites(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 10, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 2, GP_MEM_DEVICE, 0x2000, 30, &site_b), 0);
    assert_int_equal(tb_alloc(&tb, 3, GP_MEM_DEVICE, 0x3000, 20, &site_c), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 2);
    assert_int_equal(r.peak.sites.n, 2);
    assert_int_equal(r.peak.sites.total_sites, 3);
    assert_int_equal(r.peak.sites.total_bytes, 60);
    assert_site(&r, &r.peak.sites, 0, &site_b, 30, 1);
    assert_site(&r, &r.peak.sites, 1, &site_c, 20, 1);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_kinds_kept_apart(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 100, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 2, GP_MEM_MANAGED, 0x2000, 5000, &site_b), 0);
    assert_int_equal(tb_alloc(&tb, 3, GP_MEM_HOST_PINNED, 0x3000, 7000, &site_c), 0);
    assert_int_equal(tb_alloc(&tb, 4, GP_MEM_HOST_PINNED, 0x4000, 1000, &site_c), 0);
    assert_int_equal(tb_free(&tb, 5, 0x3000), 0); /* pinned back to 1000 */
    assert_int_equal(tb_event(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC_PITCH, GP_MEM_DEVICE, 0, 6,
                              4096, 0x5000, 512, 0, &site_d),
                     0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], 100 + 4096);
    assert_int_equal(r.peak.bytes[GP_MEM_MANAGED], 5000);
    assert_int_equal(r.peak.bytes[GP_MEM_HOST_PINNED], 8000);
    assert_int_equal(gp_report_model_rel_ns(r.model, r.peak.time_ns[GP_MEM_HOST_PINNED]), 4);
    assert_int_equal(r.peak.sites.n, 2);
    assert_site(&r, &r.peak.sites, 0, &site_d, 4096, 1);
    assert_site(&r, &r.peak.sites, 1, &site_a, 100, 1);

    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_bytes, 4196);
    assert_int_equal(r.leaks.kind[GP_MEM_MANAGED].total_bytes, 5000);
    assert_int_equal(r.leaks.kind[GP_MEM_MANAGED].n, 1);
    assert_site(&r, &r.leaks.kind[GP_MEM_MANAGED], 0, &site_b, 5000, 1);
    assert_int_equal(r.leaks.kind[GP_MEM_HOST_PINNED].total_bytes, 1000);
    assert_site(&r, &r.leaks.kind[GP_MEM_HOST_PINNED], 0, &site_c, 1000, 1);
    assert_int_equal(r.model->counts.allocs_by_kind[GP_MEM_DEVICE], 2);
    assert_int_equal(r.model->counts.allocs_by_kind[GP_MEM_MANAGED], 1);
    assert_int_equal(r.model->counts.allocs_by_kind[GP_MEM_HOST_PINNED], 2);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_leaks_grouped_by_site(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    for (uint64_t i = 0; i < 5; i++)
        assert_int_equal(tb_alloc(&tb, 10 + i, GP_MEM_DEVICE, 0x10000 + i * 0x100, 10, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 20, GP_MEM_DEVICE, 0x20000, 45, &site_b), 0);
    assert_int_equal(tb_alloc(&tb, 21, GP_MEM_DEVICE, 0x30000, 1000, &site_c), 0);
    assert_int_equal(tb_free(&tb, 22, 0x30000), 0);
    assert_int_equal(tb_free(&tb, 23, 0x10000), 0);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(tb_alloc(&tb, 30 + i, GP_MEM_MANAGED, 0x40000 + i * 0x100, 7, &site_d), 0);
    assert_int_equal(tb_alloc(&tb, 40, GP_MEM_MANAGED, 0x50000, 100, &site_a), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    const struct gp_report_site_list *dev = &r.leaks.kind[GP_MEM_DEVICE];
    assert_int_equal(dev->total_bytes, 85);
    assert_int_equal(dev->total_count, 5);
    assert_int_equal(dev->total_sites, 2);
    assert_site(&r, dev, 0, &site_b, 45, 1);
    assert_site(&r, dev, 1, &site_a, 40, 4);
    const struct gp_report_site_list *man = &r.leaks.kind[GP_MEM_MANAGED];
    assert_int_equal(man->total_bytes, 121);
    assert_site(&r, man, 0, &site_a, 100, 1);
    assert_site(&r, man, 1, &site_d, 21, 3);
    assert_int_equal(r.leaks.kind[GP_MEM_HOST_PINNED].total_sites, 0);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_oom_live_memory(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 600, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 2, GP_MEM_DEVICE, 0x2000, 300, &site_b), 0);
    assert_int_equal(tb_alloc(&tb, 3, GP_MEM_DEVICE, 0x3000, 200, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 4, GP_MEM_MANAGED, 0x4000, 9999, &site_c), 0);
    assert_int_equal(tb_event(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, 2, 5, 5000, 0,
                              0, 0, &site_d),
                     0);
    assert_int_equal(tb_oom(&tb, 5, 5000, 1234, 8000, &site_d), 0);
    assert_int_equal(tb_free(&tb, 6, 0x1000), 0);
    assert_int_equal(tb_oom(&tb, 7, 4000, 2000, 8192, &site_d), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    assert_int_equal(r.oom.total, 2);
    assert_int_equal(r.oom.n, 2);
    const struct gp_report_oom_event *e = &r.oom.v[0];
    assert_int_equal(gp_report_model_rel_ns(r.model, e->time_ns), 5);
    assert_int_equal(e->api, GP_API_CUDA_MALLOC);
    assert_int_equal(e->requested, 5000);
    assert_int_equal(e->device_free, 1234);
    assert_int_equal(e->device_total, 8000);
    assert_int_equal(e->live_bytes, 1100);
    assert_int_equal(e->sites.n, 2);
    assert_site(&r, &e->sites, 0, &site_a, 800, 2);
    assert_site(&r, &e->sites, 1, &site_b, 300, 1);
    e = &r.oom.v[1];
    assert_int_equal(e->live_bytes, 500);
    assert_site(&r, &e->sites, 0, &site_b, 300, 1);
    assert_site(&r, &e->sites, 1, &site_a, 200, 1);
    assert_int_equal(r.model->counts.failed_allocs, 1);
    assert_int_equal(r.model->device_total_bytes, 8192);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_frees_failed_and_replaced(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_free(&tb, 1, 0xdead0000), 0); /* unknown */
    assert_int_equal(tb_free(&tb, 2, 0), 0);          /* cudaFree(NULL) */
    assert_int_equal(tb_event(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, 2, 3, 1 << 20,
                              0x9000, 0, 0, &site_a),
                     0); /* failed: changes nothing */
    assert_int_equal(tb_alloc(&tb, 4, GP_MEM_DEVICE, 0x1000, 100, &site_a), 0);
    assert_int_equal(tb_alloc(&tb, 5, GP_MEM_DEVICE, 0x1000, 70, &site_b), 0); /* free lost */
    assert_int_equal(tb_free(&tb, 6, 0x9000), 0); /* the failed alloc's pointer is unknown */
    /* a pinned free through another free API still matches its allocation */
    assert_int_equal(tb_alloc(&tb, 7, GP_MEM_HOST_PINNED, 0x8000, 64, &site_c), 0);
    assert_int_equal(tb_event(&tb, GP_REC_FREE, GP_API_CUDA_FREE_HOST, GP_MEM_HOST_PINNED, 0, 8, 0,
                              0x8000, 0, 0, NULL),
                     0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);

    const struct gp_report_counts *c = &r.model->counts;
    assert_int_equal(c->unknown_frees, 2);
    assert_int_equal(c->null_frees, 1);
    assert_int_equal(c->frees, 4);
    assert_int_equal(c->failed_allocs, 1);
    assert_int_equal(c->allocs, 3);
    assert_int_equal(c->replaced_allocs, 1);
    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], 100);
    assert_int_equal(r.model->live_bytes[GP_MEM_DEVICE], 70);
    assert_int_equal(r.model->live_bytes[GP_MEM_HOST_PINNED], 0);
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_count, 1);
    assert_site(&r, &r.leaks.kind[GP_MEM_DEVICE], 0, &site_b, 70, 1);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_dropped_summed(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 100, &site_a), 0);
    assert_int_equal(gp_trace_writer_dropped(tb.w, 5), 0);
    assert_int_equal(tb_alloc(&tb, 2, GP_MEM_DEVICE, 0x2000, 100, &site_a), 0);
    assert_int_equal(gp_trace_writer_dropped(tb.w, 7), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);
    assert_int_equal(r.model->health.dropped_records, 12);
    assert_int_equal(r.model->health.end_dropped, 12);
    assert_int_equal(r.model->health.dropped_events, 12);
    assert_false(r.model->health.truncated);
    assert_true(r.model->health.records > 0);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_truncated_trace_reported(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 100, &site_a), 0);
    assert_int_equal(gp_trace_writer_dropped(tb.w, 3), 0);
    assert_int_equal(tb_alloc(&tb, 2, GP_MEM_DEVICE, 0x2000, 200, &site_b), 0);
    assert_int_equal(tb_cut(&tb), 0);
    load(&r, &tb, 10);
    assert_true(r.model->health.truncated);
    assert_int_equal(r.model->health.dropped_events, 3);
    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], 300);
    assert_int_equal(r.peak.sites.n, 2);
    assert_site(&r, &r.peak.sites, 0, &site_b, 200, 1);
    assert_int_equal(gp_report_model_rel_ns(r.model, r.model->run.last_ns), 2);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_run_info(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 1500, GP_MEM_DEVICE, 0x1000, 100, &site_a), 0);
    assert_int_equal(tb_event(&tb, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, GP_MEM_DEVICE, 0, 2500,
                              1000, 0, 16000, 0, NULL),
                     0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);
    const struct gp_report_run *run = &r.model->run;
    assert_int_equal(run->pid, 4242);
    assert_int_equal(run->ppid, 1);
    assert_string_equal(run->host, "testhost");
    assert_string_equal(run->exe, "/usr/bin/testprog");
    assert_string_equal(run->cmdline, "testprog --epochs 3");
    assert_string_equal(run->label, "unit");
    assert_int_equal(gp_report_model_rel_ns(r.model, run->last_ns), 2500);
    assert_int_equal(r.model->device_total_bytes, 16000);
    assert_int_equal(r.model->counts.meminfo, 1);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_many_live_allocations(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    const uint64_t n = 20000;
    assert_int_equal(tb_open(&tb, NULL), 0);
    /* Enough to grow the live table several times, then free in a scattered order to
     * exercise deletion in long probe runs. */
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(
            tb_alloc(&tb, i, GP_MEM_DEVICE, 0x100000 + i * 512, 1, i & 1 ? &site_a : &site_b), 0);
    for (uint64_t i = 0; i < n; i += 2)
        assert_int_equal(tb_free(&tb, n + i, 0x100000 + ((i * 7919) % n) * 512), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb, 10);
    uint64_t freed = 0;
    for (uint64_t i = 0; i < n; i += 2)
        freed++;
    /* (i * 7919) % n over even i hits distinct even slots: n/2 distinct frees */
    assert_int_equal(r.model->counts.unknown_frees, 0);
    assert_int_equal(r.model->live_count[GP_MEM_DEVICE], n - freed);
    assert_int_equal(r.peak.bytes[GP_MEM_DEVICE], n);
    assert_int_equal(r.leaks.kind[GP_MEM_DEVICE].total_count, n - freed);
    gp_report_fini(&r);
    tb_remove(&tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peak_then_lower_plateau),
        cmocka_unit_test(test_peak_at_end),
        cmocka_unit_test(test_first_peak_kept_when_not_exceeded),
        cmocka_unit_test(test_peak_climbing_sawtooth),
        cmocka_unit_test(test_peak_sites_match_brute_force),
        cmocka_unit_test(test_top_limits_sites),
        cmocka_unit_test(test_kinds_kept_apart),
        cmocka_unit_test(test_leaks_grouped_by_site),
        cmocka_unit_test(test_oom_live_memory),
        cmocka_unit_test(test_frees_failed_and_replaced),
        cmocka_unit_test(test_dropped_summed),
        cmocka_unit_test(test_truncated_trace_reported),
        cmocka_unit_test(test_run_info),
        cmocka_unit_test(test_many_live_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
