/* test_symbolize.c — symbolization against a real -g binary: this test program records
 * the address of its own static function site_alpha (+1, like a return address) with
 * its own module from dl_iterate_phdr, and the report must name site_alpha in this
 * file. Also: a module file that is missing, or is a FIFO, gives "??" with module and
 * offset, without failing or blocking. */
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

/* noinline and address-taken so it stays a real function with its own symbol. */
static __attribute__((noinline)) int site_alpha(int x)
{
    return x * 3 + 1;
}

struct self_module {
    char path[PATH_MAX];
    uint64_t bias, start, end;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    struct self_module *m = data;
    (void)size;
    /* The first object is the main program. */
    m->bias = info->dlpi_addr;
    m->start = UINT64_MAX;
    m->end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (lo < m->start)
            m->start = lo;
        if (hi > m->end)
            m->end = hi;
    }
    return 1;
}

static void self_module(struct self_module *m)
{
    ssize_t n = readlink("/proc/self/exe", m->path, sizeof(m->path) - 1);
    assert_true(n > 0);
    m->path[n] = '\0';
    dl_iterate_phdr(find_self, m);
    assert_true(m->start < m->end);
}

static void load(struct gp_report *r, struct tb *tb)
{
    char err[256];
    struct gp_report_options opt = { .top = 10 };
    assert_int_equal(gp_report_load(r, tb->path, &opt, err, sizeof(err)), 0);
}

static void test_static_function_resolved(void **state)
{
    (void)state;
    struct self_module self;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(site_alpha(1), 4);
    self_module(&self);
    uint64_t ip = (uint64_t)(uintptr_t)&site_alpha + 1;
    assert_true(ip >= self.start && ip < self.end);
    struct tb_stack st = { 1, { ip } };

    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(gp_trace_writer_module(tb.w, self.path, self.bias, self.start, self.end), 0);
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 64, &st), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb);

    assert_int_equal(r.peak.sites.n, 1);
    struct gp_report_frame frames[4];
    int n = gp_report_symbolize_stack(r.sym, r.peak.sites.v[0].stack, frames, 4);
    assert_int_equal(n, 1);
    assert_string_equal(frames[0].module, self.path);
    assert_int_equal(frames[0].offset, ip - self.bias);
#ifdef GP_HAVE_LIBDW
    assert_string_equal(frames[0].function, "site_alpha");
    assert_non_null(frames[0].file);
    const char *base = strrchr(frames[0].file, '/');
    assert_string_equal(base ? base + 1 : frames[0].file, "test_symbolize.c");
    assert_true(frames[0].line > 0);
#else
    assert_string_equal(frames[0].function, "??");
#endif
    /* cached: the same answer again */
    struct gp_report_frame again;
    assert_int_equal(gp_report_symbolize(r.sym, ip, &again), 0);
    assert_string_equal(again.function, frames[0].function);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_unreadable_modules(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    char fifo[PATH_MAX];
    const char *dir = getenv("TMPDIR");
    snprintf(fifo, sizeof(fifo), "%s/gp-report-fifo.%d", dir && dir[0] == '/' ? dir : "/tmp",
             (int)getpid());
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(
        gp_trace_writer_module(tb.w, "/nonexistent/libgone.so", 0x10000000, 0x10000000, 0x10100000),
        0);
    assert_int_equal(gp_trace_writer_module(tb.w, fifo, 0x20000000, 0x20000000, 0x20100000), 0);
    struct tb_stack st = { 3, { 0x10000123, 0x20000456, 0x30000000 } };
    assert_int_equal(tb_alloc(&tb, 1, GP_MEM_DEVICE, 0x1000, 64, &st), 0);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb);

    struct gp_report_frame frames[4];
    int n = gp_report_symbolize_stack(r.sym, r.peak.sites.v[0].stack, frames, 4);
    assert_int_equal(n, 3);
    assert_string_equal(frames[0].function, "??");
    assert_string_equal(frames[0].module, "/nonexistent/libgone.so");
    assert_int_equal(frames[0].offset, 0x123);
    assert_null(frames[0].file);
    assert_string_equal(frames[1].function, "??");
    assert_string_equal(frames[1].module, fifo);
    assert_int_equal(frames[1].offset, 0x456);
    /* no module covers it */
    assert_string_equal(frames[2].function, "??");
    assert_null(frames[2].module);
    assert_int_equal(frames[2].offset, 0x30000000);
    gp_report_fini(&r);
    tb_remove(&tb);
    unlink(fifo);
}

static void test_module_map_latest_wins(void **state)
{
    (void)state;
    /* A [100,200) then B [150,300) then C [120,130) then an empty D, then E [400,500)
     * reloaded as F at [400,450). */
    const struct gp_report_module mods[] = {
        { .path = "A", .start = 100, .end = 200 }, { .path = "B", .start = 150, .end = 300 },
        { .path = "C", .start = 120, .end = 130 }, { .path = "D", .start = 50, .end = 50 },
        { .path = "E", .start = 400, .end = 500 }, { .path = "F", .start = 400, .end = 450 },
    };
    const struct {
        uint64_t addr;
        int32_t want;
    } cases[] = {
        { 0, -1 },  { 50, -1 },  { 99, -1 },         { 100, 0 }, { 119, 0 }, { 120, 2 },
        { 129, 2 }, { 130, 0 },  { 149, 0 },         { 150, 1 }, { 199, 1 }, { 200, 1 },
        { 299, 1 }, { 300, -1 }, { 399, -1 },        { 400, 5 }, { 449, 5 }, { 450, 4 },
        { 499, 4 }, { 500, -1 }, { UINT64_MAX, -1 },
    };
    struct gp_report_modmap mm;
    assert_int_equal(gp_report_modmap_build(&mm, mods, sizeof(mods) / sizeof(mods[0])), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t got = gp_report_modmap_find(&mm, cases[i].addr);
        if (got != cases[i].want)
            print_error("address %llu: module %d, want %d\n", (unsigned long long)cases[i].addr,
                        (int)got, (int)cases[i].want);
        assert_int_equal(got, cases[i].want);
    }
    gp_report_modmap_fini(&mm);
    assert_int_equal(gp_report_modmap_build(&mm, mods, 0), 0);
    assert_int_equal(gp_report_modmap_find(&mm, 100), -1);
    gp_report_modmap_fini(&mm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_function_resolved),
        cmocka_unit_test(test_unreadable_modules),
        cmocka_unit_test(test_module_map_latest_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
