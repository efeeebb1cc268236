/* view_csv.c — the run as CSV files for pandas and spreadsheets (--csv DIR):
 * allocations.csv (every allocation, free and OOM call), kernels.csv (every timed
 * kernel, copy and memset) and libcalls.csv (every cuBLAS/cuDNN call), written while the
 * trace is read a second time (analysis_events.c) so memory does not grow with the trace. RFC 4180 quoting: comma separated rows ending in "\n", a field with
 * a comma, quote, line break or edge space quoted with its quotes doubled; invalid UTF-8 shown
 * as '?'. Times are integer nanoseconds since the trace started. docs/views.md lists the
 * columns. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

static void field(FILE *f, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    int quote = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (quote)
        fputc('"', f);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = gp_report_utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (len == 0) {
            fputc('?', f);
            i++;
            continue;
        }
        if (s[i] == '"')
            fputc('"', f);
        fwrite(s + i, 1, len, f);
        i += len;
    }
    if (quote)
        fputc('"', f);
}

/* Creates dir/name for writing; never follows a symlink there. */
static FILE *create(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f)
        close(fd);
    return f;
}

static int finish(FILE *f, int rc)
{
    if (ferror(f) && rc == 0)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

struct csv {
    const struct gp_report *r;
    FILE *alloc, *kern, *lib;
    struct gp_report_names names;
    int rc;
};

/* The innermost frame of a stack: function, file, line columns (empty when unknown). */
static void site(struct csv *c, FILE *f, uint32_t stack)
{
    struct gp_report_frame fr[GP_TRACE_MAX_FRAMES];
    int n = stack ? gp_report_symbolize_stack(c->r->sym, stack, fr, GP_TRACE_MAX_FRAMES) : 0;
    if (n < 0) {
        c->rc = n;
        n = 0;
    }
    field(f, n > 0 ? fr[0].function : "");
    fputc(',', f);
    field(f, n > 0 ? fr[0].file : "");
    if (n > 0 && fr[0].line)
        fprintf(f, ",%" PRIu32 "\n", fr[0].line);
    else
        fputs(",\n", f);
}

static void lib_row(struct csv *c, const struct gp_record *rec)
{
    FILE *f = c->lib;
    uint64_t end = gp_report_model_rel_ns(c->r->model, rec->time_ns), d = rec->lib.dur_ns;
    struct gp_report_tc_verdict v;
    gp_report_tc_classify(rec, &v);
    fprintf(f, "%" PRIu64 ",%" PRIu64 ",", d <= end ? end - d : 0, d);
    field(f, gp_trace_lib_api_name(rec->api));
    fprintf(f, ",%" PRIu32 ",%" PRId32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
            rec->tid, rec->device, rec->stream, rec->size, rec->aux1, rec->aux2, rec->lib.batch);
    const uint8_t types[3] = {rec->lib.type_a, rec->lib.type_b, rec->lib.type_c};
    for (int i = 0; i < 3; i++)
        if (types[i])
            fprintf(f, "%u,", types[i] - 1u);
        else
            fputc(',', f);
    if (rec->lib.compute != GP_LIB_UNKNOWN)
        fprintf(f, "%" PRId32, rec->lib.compute);
    fprintf(f, ",%u,%" PRId32 ",%s,", rec->kind, rec->result, gp_report_tc_class_name(v.cls));
    field(f, v.precision);
    fprintf(f, ",%" PRIu64 ",%" PRIu32 ",", rec->lib.ext_id, rec->stack);
    site(c, f, rec->stack);
}

static int on_call(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct csv *c = ctx;
    if (rec->type == GP_REC_LIBCALL) {
        lib_row(c, rec);
        return c->rc;
    }
    FILE *f = c->alloc;
    fprintf(f, "%" PRIu64 ",%s,", gp_report_model_rel_ns(m, rec->time_ns),
            rec->type == GP_REC_ALLOC ? "alloc" : rec->type == GP_REC_FREE ? "free" : "oom");
    field(f, gp_trace_api_name(rec->api));
    fprintf(f, ",%" PRIu32 ",%" PRId32 ",", rec->tid, rec->device);
    field(f, gp_trace_kind_name(rec->kind));
    fprintf(f, ",%" PRIu64 ",0x%" PRIx64 ",%" PRId32 ",%" PRIu32 ",", rec->size, rec->ptr,
            rec->result, rec->stack);
    site(c, f, rec->stack);
    return c->rc;
}

static int on_span(void *ctx, const struct gp_report_model *m, const struct gp_report_span_ev *s)
{
    struct csv *c = ctx;
    if (s->type == GP_REC_MARKER)
        return 0;
    FILE *f = c->kern;
    char buf[4096];
    fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,", gp_report_model_rel_ns(m, s->start_ns),
            gp_report_model_rel_ns(m, s->end_ns), s->end_ns - s->start_ns,
            s->type == GP_REC_KERNEL ? "kernel" : s->type == GP_REC_MEMCPY ? "memcpy" : "memset");
    if (s->type == GP_REC_KERNEL && s->name_id)
        field(f, gp_report_span_name(&c->names, m, s, buf, sizeof(buf)));
    fprintf(f, ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu64 ",%s\n", s->device, s->stream,
            s->correlation, s->bytes, s->type == GP_REC_MEMCPY ? gp_report_copy_kind_name(s->kind) : "");
    return 0;
}

int gp_report_view_csv(const char *dir, const struct gp_report *r, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the directory: %s", dir, strerror(errno));
        return -errno;
    }
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: not a directory I can write into: %s", dir, strerror(e));
        return -e;
    }
    struct csv c = {.r = r};
    static const char *const names[3] = {"allocations.csv", "kernels.csv", "libcalls.csv"};
    FILE **files[3] = {&c.alloc, &c.kern, &c.lib};
    const char *which = NULL;
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (!(*files[i] = create(dirfd, names[i]))) {
            rc = -errno;
            which = names[i];
        }
    }
    close(dirfd);
    if (rc == 0) {
        fputs("time_ns,event,api,tid,device,kind,bytes,ptr,result,stack_id,function,file,line\n",
              c.alloc);
        fputs("start_ns,end_ns,duration_ns,type,name,device,stream,correlation,bytes,copy_kind\n",
              c.kern);
        fputs("start_ns,duration_ns,api,tid,device,stream,m,n,k,batch,type_a,type_b,type_c,"
              "compute,math_mode,result,verdict,precision,ext_id,stack_id,function,file,line\n",
              c.lib);
        struct gp_report_events_sink sink = {.ctx = &c, .call = on_call, .span = on_span};
        char why[400];
        rc = gp_report_events_stream(r->model->path, &sink, why, sizeof(why));
        if (rc < 0 && rc != -ENOMEM && why[0]) {
            snprintf(err, errlen, "%s: %s", r->model->path, why);
            which = "";
        }
    }
    for (int i = 0; i < 3; i++) {
        if (!*files[i])
            continue;
        int frc = finish(*files[i], 0);
        if (frc < 0 && rc == 0) {
            rc = frc;
            which = names[i];
        }
    }
    gp_report_names_fini(&c.names);
    if (rc < 0 && which && which[0])
        snprintf(err, errlen, "%s/%s: cannot write: %s", dir, which, strerror(-rc));
    else if (rc < 0 && !which)
        snprintf(err, errlen, "%s: cannot write: %s", dir, strerror(-rc));
    return rc;
}
