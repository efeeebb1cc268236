/* test_views.c — the pieces the views are made of: JSON string escaping (quotes,
 * backslashes, control characters, invalid UTF-8), the terminal-safe text writer, the
 * JSON writer's structure, key fields of the JSON and text views on a real trace, and
 * the bounded time series. Full JSON validity is checked by check_json.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

/* Runs fn into a memory stream and returns what it wrote (caller frees). */
static char *capture_escaped(const char *s, void (*fn)(FILE *, const char *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, s);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void check_escape(const char *in, const char *want)
{
    char *got = capture_escaped(in, gp_report_json_write_escaped);
    assert_string_equal(got, want);
    free(got);
}

static void test_json_escaping(void **state)
{
    (void)state;
    check_escape("plain", "\"plain\"");
    check_escape("a\"b\\c", "\"a\\\"b\\\\c\"");
    check_escape("line\nnext\ttab\x01\x1f\x7f",
                 "\"line\\u000anext\\u0009tab\\u0001\\u001f\\u007f\"");
    check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    check_escape("bad\xff", "\"bad\\ufffd\"");
    check_escape("\xc0\xaf", "\"\\ufffd\\ufffd\"");                       /* overlong '/' */
    check_escape("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");            /* UTF-16 surrogate */
    check_escape("cut\xe2\x82", "\"cut\\ufffd\\ufffd\"");                 /* sequence cut short */
    check_escape("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    check_escape("'; system(\"touch /tmp/pwned\")", "\"'; system(\\\"touch /tmp/pwned\\\")\"");
}

static void test_text_safe(void **state)
{
    (void)state;
    char *got =
        capture_escaped("ok \x1b[31mred\x1b[0m \xc2\x9b \xff caf\xc3\xa9", gp_report_fputs_safe);
    assert_string_equal(got, "ok ?[31mred?[0m ? ? caf\xc3\xa9");
    free(got);
}

static void test_json_writer_structure(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct gp_report_json j;
    gp_report_json_init(&j, f);
    gp_report_json_object_begin(&j, NULL);
    gp_report_json_u64(&j, "a", UINT64_MAX);
    gp_report_json_array_begin(&j, "b");
    gp_report_json_i64(&j, NULL, -3);
    gp_report_json_bool(&j, NULL, 1);
    gp_report_json_null(&j, NULL);
    gp_report_json_string(&j, NULL, NULL);
    gp_report_json_array_end(&j);
    gp_report_json_array_begin(&j, "empty");
    gp_report_json_array_end(&j);
    gp_report_json_object_begin(&j, "o");
    gp_report_json_string(&j, "s", "x");
    gp_report_json_object_end(&j);
    gp_report_json_object_end(&j);
    fclose(f);
    assert_string_equal(buf, "{\n"
                             "  \"a\": 18446744073709551615,\n"
                             "  \"b\": [\n"
                             "    -3,\n"
                             "    true,\n"
                             "    null,\n"
                             "    null\n"
                             "  ],\n"
                             "  \"empty\": [],\n"
                             "  \"o\": {\n"
                             "    \"s\": \"x\"\n"
                             "  }\n"
                             "}\n");
    free(buf);
}

static const struct tb_stack site_a = { 2, { 0x401000, 0x402000 } };
static const struct tb_stack site_b = { 1, { 0x401100 } };

static void make_report(struct gp_report *r, struct tb *tb, const struct gp_trace_header *hdr)
{
    char err[256];
    struct gp_report_options opt = { .top = 10 };
    assert_int_equal(tb_open(tb, hdr), 0);
    assert_int_equal(
        gp_trace_writer_module(tb->w, "/opt/app/libmodel.so", 0x400000, 0x400000, 0x500000), 0);
    assert_int_equal(tb_alloc(tb, 1000, GP_MEM_DEVICE, 0x1000, 3 << 20, &site_a), 0);
    assert_int_equal(tb_alloc(tb, 2000, GP_MEM_DEVICE, 0x2000, 1 << 20, &site_b), 0);
    assert_int_equal(tb_oom(tb, 2500, 8 << 20, 1 << 20, 6 << 20, &site_b), 0);
    assert_int_equal(tb_free(tb, 3000, 0x1000), 0);
    assert_int_equal(gp_trace_writer_dropped(tb->w, 4), 0);
    assert_int_equal(tb_close(tb), 0);
    assert_int_equal(gp_report_load(r, tb->path, &opt, err, sizeof(err)), 0);
}

static char *render(struct gp_report *r, int (*view)(FILE *, struct gp_report *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(view(f, r), 0);
    fclose(f);
    return buf;
}

static void test_json_view_fields(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    make_report(&r, &tb, NULL);
    char *out = render(&r, gp_report_view_json);
    assert_non_null(strstr(out, "\"schema_version\": 1,"));
    assert_non_null(strstr(out, "\"peak_reserved_bytes\": 4194304,"));
    assert_non_null(strstr(out, "\"peak_time_ns\": 2000,"));
    assert_non_null(strstr(out, "\"leaked_bytes\": 1048576,"));
    assert_non_null(strstr(out, "\"requested_bytes\": 8388608,"));
    assert_non_null(strstr(out, "\"live_bytes\": 4194304,"));
    assert_non_null(strstr(out, "\"device_free_bytes\": 1048576,"));
    assert_non_null(strstr(out, "\"device_total_bytes\": 6291456,"));
    assert_non_null(strstr(out, "\"api\": \"cudaMalloc\","));
    assert_non_null(strstr(out, "\"truncated\": false,"));
    assert_non_null(strstr(out, "\"dropped_events\": 4,"));
    assert_non_null(strstr(out, "\"module\": \"/opt/app/libmodel.so\","));
    /* ip 0x401000 - bias 0x400000 */
    assert_non_null(strstr(out, "\"offset\": 4096,"));
    assert_non_null(strstr(out, "\"label\": \"unit\","));
    free(out);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_text_view_and_hostile_strings(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    struct gp_trace_header h;
    tb_header_defaults(&h);
    h.label = "x\x1b]0;owned\x07y";
    h.host = "h\"o\\st";
    make_report(&r, &tb, &h);

    char *text = render(&r, gp_report_view_text);
    assert_non_null(
        strstr(text, "Peak device memory reserved: 4.00 MiB (4194304 bytes) at 0.000002 s"));
    assert_non_null(strstr(text, "/opt/app/libmodel.so+0x1000"));
    assert_non_null(strstr(text, "cudaMalloc of 8.00 MiB (8388608 bytes) failed"));
    assert_non_null(strstr(text, "WARNING: 4 events were dropped"));
    assert_non_null(strstr(text, "x?]0;owned?y"));
    assert_null(strchr(text, '\x1b'));
    free(text);

    char *json = render(&r, gp_report_view_json);
    assert_non_null(strstr(json, "\"label\": \"x\\u001b]0;owned\\u0007y\","));
    assert_non_null(strstr(json, "\"host\": \"h\\\"o\\\\st\","));
    free(json);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_series_bounded(void **state)
{
    (void)state;
    struct gp_report_series *s = malloc(sizeof(*s));
    assert_non_null(s);
    gp_report_series_init(s);
    gp_report_series_add(s, 0, 10);
    gp_report_series_add(s, 500, 99); /* same first bucket: spike */
    gp_report_series_add(s, 900, 20);
    uint64_t w0 = s->width_ns;
    assert_int_equal(s->b[0].min, 10);
    assert_int_equal(s->b[0].max, 99);
    assert_int_equal(s->b[0].last, 20);
    /* Far beyond the range: the width doubles until it fits and the spike survives. */
    gp_report_series_add(s, w0 * GP_REPORT_SERIES_BUCKETS * 5, 7);
    gp_report_series_oom(s, w0 * GP_REPORT_SERIES_BUCKETS * 5, 7);
    assert_int_equal(s->width_ns, w0 * 8);
    assert_int_equal(s->b[0].max, 99);
    assert_int_equal(s->b[0].last, 20);
    size_t i = (size_t)(w0 * GP_REPORT_SERIES_BUCKETS * 5 / s->width_ns);
    assert_true(s->b[i].used);
    assert_true(s->b[i].oom);
    assert_int_equal(s->b[i].last, 7);
    assert_int_equal(s->max_value, 99);
    /* The largest possible time still lands in a bucket. */
    gp_report_series_add(s, UINT64_MAX, 1);
    i = (size_t)(UINT64_MAX / s->width_ns);
    assert_true(i < GP_REPORT_SERIES_BUCKETS);
    assert_true(s->b[i].used);
    assert_int_equal(s->b[i].last, 1);
    assert_int_equal(s->b[0].max, 99);
    free(s);
}

static void test_plot_format(void **state)
{
    (void)state;
    assert_int_equal(gp_report_plot_format_of("a.png"), GP_REPORT_PLOT_PNG);
    assert_int_equal(gp_report_plot_format_of("dir/A.SVG"), GP_REPORT_PLOT_SVG);
    assert_int_equal(gp_report_plot_format_of("a.pdf"), GP_REPORT_PLOT_NONE);
    assert_int_equal(gp_report_plot_format_of(".png"), GP_REPORT_PLOT_NONE);
    assert_int_equal(gp_report_plot_format_of("dir/.png"), GP_REPORT_PLOT_NONE);
    assert_int_equal(gp_report_plot_format_of("png"), GP_REPORT_PLOT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_text_safe),
        cmocka_unit_test(test_json_writer_structure),
        cmocka_unit_test(test_json_view_fields),
        cmocka_unit_test(test_text_view_and_hostile_strings),
        cmocka_unit_test(test_series_bounded),
        cmocka_unit_test(test_plot_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
