/* trace_builder.c — see trace_builder.h. */
#include "trace_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tb_header_defaults(struct gp_trace_header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = GP_TRACE_VERSION;
    h->pid = 4242;
    h->ppid = 1;
    h->stack_depth = 8;
    h->realtime_ns = UINT64_C(1700000000000000000);
    h->monotonic_ns = TB_T0;
    h->host = "testhost";
    h->exe = "/usr/bin/testprog";
    h->cmdline = "testprog --epochs 3";
    h->label = "unit";
}

static int start(struct tb *tb, const struct gp_trace_header *hdr)
{
    struct gp_trace_header def;
    if (tb->fd < 0)
        return -errno;
    if (!hdr) {
        tb_header_defaults(&def);
        hdr = &def;
    }
    int rc = gp_trace_writer_open(&tb->w, tb->fd, hdr, NULL);
    if (rc < 0) {
        close(tb->fd);
        unlink(tb->path);
    }
    return rc;
}

int tb_open(struct tb *tb, const struct gp_trace_header *hdr)
{
    const char *dir = getenv("TMPDIR");
    snprintf(tb->path, sizeof(tb->path), "%s/gp-report-test.XXXXXX",
             dir && dir[0] == '/' ? dir : "/tmp");
    tb->fd = mkstemp(tb->path);
    return start(tb, hdr);
}

int tb_open_path(struct tb *tb, const char *path, const struct gp_trace_header *hdr)
{
    if ((size_t)snprintf(tb->path, sizeof(tb->path), "%s", path) >= sizeof(tb->path))
        return -ENAMETOOLONG;
    tb->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return start(tb, hdr);
}

int tb_event(struct tb *tb, uint8_t type, unsigned api, unsigned kind, int32_t result,
             uint64_t time, uint64_t size, uint64_t ptr, uint64_t aux1, uint64_t aux2,
             const struct tb_stack *st)
{
    size_t n = st ? st->n : 0;
    struct gp_event *ev = calloc(1, gp_event_size((unsigned)n));
    if (!ev)
        return -ENOMEM;
    ev->type = type;
    ev->api = (uint8_t)api;
    ev->kind = (uint8_t)kind;
    ev->result = result;
    ev->device = 0;
    ev->tid = 77;
    ev->time_ns = TB_T0 + time;
    ev->size = size;
    ev->ptr = ptr;
    ev->aux1 = aux1;
    ev->aux2 = aux2;
    ev->nframes = (uint16_t)n;
    for (size_t i = 0; i < n; i++)
        ev->ips[i] = st->ips[i];
    int rc = gp_trace_writer_event(tb->w, ev);
    free(ev);
    return rc;
}

static unsigned api_for_kind(unsigned kind)
{
    switch (kind) {
    case GP_MEM_MANAGED:
        return GP_API_CUDA_MALLOC_MANAGED;
    case GP_MEM_HOST_PINNED:
        return GP_API_CUDA_MALLOC_HOST;
    default:
        return GP_API_CUDA_MALLOC;
    }
}

int tb_alloc(struct tb *tb, uint64_t time, unsigned kind, uint64_t ptr, uint64_t size,
             const struct tb_stack *st)
{
    return tb_event(tb, GP_REC_ALLOC, api_for_kind(kind), kind, 0, time, size, ptr, 0, 0, st);
}

int tb_free(struct tb *tb, uint64_t time, uint64_t ptr)
{
    return tb_event(tb, GP_REC_FREE, GP_API_CUDA_FREE, GP_MEM_DEVICE, 0, time, 0, ptr, 0, 0, NULL);
}

int tb_oom(struct tb *tb, uint64_t time, uint64_t size, uint64_t dev_free, uint64_t dev_total,
           const struct tb_stack *st)
{
    return tb_event(tb, GP_REC_OOM, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, 2, time, size, 0, dev_free,
                    dev_total, st);
}

int tb_close(struct tb *tb)
{
    int rc = gp_trace_writer_close(tb->w);
    tb->w = NULL;
    if (close(tb->fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int tb_cut(struct tb *tb)
{
    int rc = gp_trace_writer_flush(tb->w);
    gp_trace_writer_abandon(tb->w);
    tb->w = NULL;
    if (close(tb->fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

void tb_remove(struct tb *tb)
{
    unlink(tb->path);
}
