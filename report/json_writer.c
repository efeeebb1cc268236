/* json_writer.c — a small streaming JSON writer: objects, arrays, and scalars written
 * straight to a FILE with two-space indentation. Strings are always escaped so the
 * output stays valid JSON whatever a trace contains: quote and backslash escaped,
 * control characters as \u00XX, bytes that are not valid UTF-8 replaced by U+FFFD. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"

void gp_report_json_init(struct gp_report_json *j, FILE *f)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
}

void gp_report_json_write_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    while (n) {
        uint32_t cp;
        size_t len = gp_report_utf8_next(p, n, &cp);
        if (len == 0) {
            fputs("\\ufffd", f);
            len = 1;
        } else if (cp == '"' || cp == '\\') {
            fputc('\\', f);
            fputc((int)cp, f);
        } else if (cp < 0x20 || cp == 0x7F) {
            fprintf(f, "\\u%04" PRIx32, cp);
        } else {
            fwrite(p, 1, len, f);
        }
        p += len;
        n -= len;
    }
    fputc('"', f);
}

static void indent(struct gp_report_json *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Comma, newline and key before a value. */
static void begin_value(struct gp_report_json *j, const char *key)
{
    if (j->depth > 0) {
        int level = j->depth <= GP_REPORT_JSON_MAX_DEPTH ? j->depth : GP_REPORT_JSON_MAX_DEPTH;
        if (j->has_items[level - 1])
            fputc(',', j->f);
        j->has_items[level - 1] = 1;
        indent(j);
    }
    if (key) {
        gp_report_json_write_escaped(j->f, key);
        fputs(": ", j->f);
    }
}

static void open_container(struct gp_report_json *j, const char *key, char c)
{
    begin_value(j, key);
    fputc(c, j->f);
    /* Nesting deeper than the views use would be a bug: stay memory-safe then. */
    if (j->depth < GP_REPORT_JSON_MAX_DEPTH)
        j->has_items[j->depth] = 0;
    j->depth++;
}

static void close_container(struct gp_report_json *j, char c)
{
    j->depth--;
    if (j->depth < GP_REPORT_JSON_MAX_DEPTH && j->has_items[j->depth])
        indent(j);
    fputc(c, j->f);
    if (j->depth == 0)
        fputc('\n', j->f);
}

void gp_report_json_object_begin(struct gp_report_json *j, const char *key)
{
    open_container(j, key, '{');
}

void gp_report_json_object_end(struct gp_report_json *j)
{
    close_container(j, '}');
}

void gp_report_json_array_begin(struct gp_report_json *j, const char *key)
{
    open_container(j, key, '[');
}

void gp_report_json_array_end(struct gp_report_json *j)
{
    close_container(j, ']');
}

void gp_report_json_string(struct gp_report_json *j, const char *key, const char *s)
{
    begin_value(j, key);
    if (s)
        gp_report_json_write_escaped(j->f, s);
    else
        fputs("null", j->f);
}

void gp_report_json_u64(struct gp_report_json *j, const char *key, uint64_t v)
{
    begin_value(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void gp_report_json_i64(struct gp_report_json *j, const char *key, int64_t v)
{
    begin_value(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void gp_report_json_bool(struct gp_report_json *j, const char *key, int v)
{
    begin_value(j, key);
    fputs(v ? "true" : "false", j->f);
}

void gp_report_json_null(struct gp_report_json *j, const char *key)
{
    begin_value(j, key);
    fputs("null", j->f);
}

void gp_report_json_double(struct gp_report_json *j, const char *key, double v)
{
    begin_value(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.6g", v);
    else
        fputs("null", j->f);
}
