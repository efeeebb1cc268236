/* view_csv.c — the run as CSV files for pandas and spreadsheets (--csv DIR):
 * allocations.csv (every allocation, free and OOM call) and kernels.csv (every timed
 * kernel, copy and memset). RFC 4180 quoting: comma separated rows ending in "\n", a field with
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

static int allocations(int dirfd, const struct gp_report *r)
{
    FILE *f = create(dirfd, "allocations.csv");
    if (!f)
        return -errno;
    const struct gp_report_events *ev = &r->events;
    int rc = 0;
    fputs("time_ns,event,api,tid,device,kind,bytes,ptr,result,stack_id,function,file,line\n", f);
    for (size_t i = 0; i < ev->ncalls && rc == 0; i++) {
        const struct gp_report_call *c = &ev->calls[i];
        struct gp_report_frame fr[GP_TRACE_MAX_FRAMES];
        int n = c->stack ? gp_report_symbolize_stack(r->sym, c->stack, fr, GP_TRACE_MAX_FRAMES)
                         : 0;
        if (n < 0) {
            rc = n;
            break;
        }
        fprintf(f, "%" PRIu64 ",%s,", gp_report_model_rel_ns(r->model, c->time_ns),
                c->type == GP_REC_ALLOC ? "alloc" : c->type == GP_REC_FREE ? "free" : "oom");
        field(f, gp_trace_api_name(c->api));
        fprintf(f, ",%" PRIu32 ",%" PRId32 ",", c->tid, c->device);
        field(f, gp_trace_kind_name(c->kind));
        fprintf(f, ",%" PRIu64 ",0x%" PRIx64 ",%" PRId32 ",%" PRIu32 ",", c->size, c->ptr,
                c->result, c->stack);
        field(f, n > 0 ? fr[0].function : "");
        fputc(',', f);
        field(f, n > 0 ? fr[0].file : "");
        if (n > 0 && fr[0].line)
            fprintf(f, ",%" PRIu32 "\n", fr[0].line);
        else
            fputs(",\n", f);
    }
    return finish(f, rc);
}

static int kernels(int dirfd, const struct gp_report *r)
{
    FILE *f = create(dirfd, "kernels.csv");
    if (!f)
        return -errno;
    const struct gp_report_events *ev = &r->events;
    fputs("start_ns,end_ns,duration_ns,type,name,device,stream,correlation,bytes,copy_kind\n", f);
    for (size_t i = 0; i < ev->nacts; i++) {
        const struct gp_report_act *a = &ev->acts[i];
        const char *raw = a->type == GP_REC_KERNEL && a->name_id
                              ? gp_trace_reader_string(r->model->reader, a->name_id)
                              : NULL;
        char *dm = raw ? gp_report_demangle(raw) : NULL;
        fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,",
                gp_report_model_rel_ns(r->model, a->start_ns),
                gp_report_model_rel_ns(r->model, a->end_ns), a->end_ns - a->start_ns,
                a->type == GP_REC_KERNEL ? "kernel" : a->type == GP_REC_MEMCPY ? "memcpy"
                                                                                : "memset");
        field(f, dm ? dm : raw);
        free(dm);
        fprintf(f, ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu64 ",%s\n", a->device, a->stream,
                a->correlation, a->bytes,
                a->type == GP_REC_MEMCPY ? gp_report_copy_kind_name(a->kind) : "");
    }
    return finish(f, 0);
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
    int rc = allocations(dirfd, r);
    const char *which = "allocations.csv";
    if (rc == 0) {
        rc = kernels(dirfd, r);
        which = "kernels.csv";
    }
    close(dirfd);
    if (rc < 0)
        snprintf(err, errlen, "%s/%s: cannot write: %s", dir, which, strerror(-rc));
    return rc;
}
