/* api_torch.c — the door for gpuprof's Python adapter (python/gpuprof_torch): PyTorch's
 * caching-allocator events and statistics enter the trace here, with the Python stacks
 * PyTorch recorded for them, on the trace's clock. The adapter runs on Python threads
 * that hold the GIL, so nothing here may block: events go through the same bounded queue
 * as every hook's, and a full queue drops them (counted) rather than wait long. */
#include <errno.h>
#include <time.h>

#include "gpuprof.h"
#include "internal.h"
#include "stack_python.h"

#define GP_TORCH_HEADER_WORDS 9 /* action, device, time, addr, size, stream, aux1, aux2, nframes */

GP_EXPORT unsigned gpuprof_py_function(const char *file, const char *function)
{
    if (file == NULL || function == NULL || !gp_shim_ready())
        return 0;
    return gp_py_register(file, function);
}

/* CLOCK_REALTIME ns -> the trace clock (CLOCK_MONOTONIC), with the two clocks read now so
 * that a wall-clock step since the trace started does not shift the events. */
struct gp_clock_map {
    uint64_t real_ns, mono_ns;
};

static void clock_map_now(struct gp_clock_map *c)
{
    struct timespec rt, mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &rt);
    c->mono_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
    c->real_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
}

static uint64_t clock_map(const struct gp_clock_map *c, uint64_t real_ns)
{
    if (real_ns == 0 || real_ns >= c->real_ns)
        return c->mono_ns; /* unknown, or from the future: now */
    uint64_t ago = c->real_ns - real_ns;
    return ago < c->mono_ns ? c->mono_ns - ago : 0;
}

GP_EXPORT long gpuprof_torch_events(const unsigned long long *words, unsigned long nwords)
{
    if (words == NULL && nwords > 0)
        return -EINVAL;
    if (!gp_shim_ready())
        return -ESRCH;
    struct gp_clock_map cm;
    clock_map_now(&cm);
    unsigned depth = gp_queue_depth(gp_shim_g.queue);
    uint32_t tid = gp_shim_tid();
    long done = 0;
    unsigned long at = 0;
    while (at < nwords) {
        if (nwords - at < GP_TORCH_HEADER_WORDS)
            return -EINVAL;
        const unsigned long long *w = words + at;
        uint64_t nframes = w[8];
        if (w[0] == 0 || w[0] >= GP_TORCH_ACTION_COUNT ||
            nframes > nwords - at - GP_TORCH_HEADER_WORDS)
            return -EINVAL;
        at += GP_TORCH_HEADER_WORDS + nframes;
        struct gp_event *ev = gp_shim_claim();
        if (ev == NULL)
            continue; /* dropped and counted, like any event */
        ev->type = GP_REC_TORCH;
        ev->api = (uint8_t)w[0];
        ev->kind = GP_MEM_DEVICE;
        ev->device = (int32_t)(int64_t)w[1];
        ev->tid = tid;
        ev->time_ns = clock_map(&cm, w[2]);
        ev->ptr = w[3];
        ev->size = w[4];
        ev->stream = w[5];
        ev->aux1 = w[6];
        ev->aux2 = w[7];
        unsigned n = 0;
        for (uint64_t i = 0; i < nframes && n < depth; i++) {
            uint64_t f = w[GP_TORCH_HEADER_WORDS + i];
            uint32_t fn = (uint32_t)(f >> 32);
            /* A handle the shim never gave out is an unknown frame, not a stray pointer. */
            ev->ips[n++] = GP_TRACE_PY_TAG | (uint64_t)(gp_py_registered(fn) ? fn : 0) << 32 |
                           (uint32_t)f;
        }
        ev->nframes = (uint16_t)n;
        gp_shim_publish(ev);
        done++;
    }
    return done;
}

GP_EXPORT int gpuprof_torch_stat(unsigned occasion, int device, unsigned stat, unsigned long long value)
{
    if (stat == 0 || stat >= GP_TSTAT_COUNT || occasion == 0 || occasion > GP_TORCH_AT_EXIT)
        return -EINVAL;
    if (!gp_shim_ready())
        return -ESRCH;
    struct gp_event *ev = gp_shim_claim();
    if (ev == NULL)
        return -ENOBUFS;
    ev->type = GP_REC_TORCH_STAT;
    ev->api = (uint8_t)stat;
    ev->kind = (uint8_t)occasion;
    ev->device = device;
    ev->tid = gp_shim_tid();
    ev->time_ns = gp_shim_now();
    ev->size = value;
    ev->nframes = 0;
    gp_shim_publish(ev);
    return 0;
}
