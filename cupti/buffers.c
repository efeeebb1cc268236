/* buffers.c — the activity buffers CUPTI fills: a bounded pool (GPUPROF_CUPTI_BUFFERS buffers
 * of GPUPROF_CUPTI_BUFFER bytes), handed to CUPTI by its request callback and given back by
 * its completion callback, which queues them, in completion order, for the writer thread to
 * convert. Both callbacks run on CUPTI's threads (or a program thread inside a CUDA call):
 * they take the pool's mutex for a few instructions, never call CUPTI under it (the
 * dropped-record count is asked outside), never wait for the writer, and never free
 * anything — a buffer, once allocated, is only ever reused, so one CUPTI still holds at exit
 * is never freed under it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cupti_int.h"
#include "internal.h"

#define GP_POOL_SPARE 4 /* past the cap, for CUPTI versions that must not be refused */

enum gp_buf_state { GP_BUF_FREE = 0, GP_BUF_CUPTI, GP_BUF_DONE, GP_BUF_WRITER };

struct gp_buf {
    uint8_t *mem; /* NULL until first handed out */
    size_t valid;
    enum gp_buf_state state;
};

static struct {
    pthread_mutex_t mu;
    struct gp_buf *bufs;
    unsigned nbufs, total; /* the cap, and the cap plus spares */
    size_t buf_size;
    int decline;
    unsigned *done;        /* ring of indices, completion order */
    unsigned head, count;
    uint64_t declined;
} gp_pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

int gp_cupti_pool_init(size_t buf_size, unsigned nbufs, int decline)
{
    unsigned total = nbufs + GP_POOL_SPARE;
    struct gp_buf *bufs = calloc(total, sizeof(*bufs));
    unsigned *done = calloc(total, sizeof(*done));
    if (!bufs || !done) {
        free(bufs);
        free(done);
        return -ENOMEM;
    }
    pthread_mutex_lock(&gp_pool.mu);
    gp_pool.bufs = bufs;
    gp_pool.done = done;
    gp_pool.nbufs = nbufs;
    gp_pool.total = total;
    gp_pool.buf_size = buf_size;
    gp_pool.decline = decline;
    pthread_mutex_unlock(&gp_pool.mu);
    return 0;
}

void CUPTIAPI gp_cupti_buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records)
{
    *buffer = NULL;
    *size = 0;
    *max_records = 0; /* as many as fit */
    pthread_mutex_lock(&gp_pool.mu);
    unsigned limit = gp_pool.decline ? gp_pool.nbufs : gp_pool.total;
    struct gp_buf *b = NULL;
    for (unsigned i = 0; i < limit && gp_pool.bufs; i++) {
        if (gp_pool.bufs[i].state == GP_BUF_FREE) {
            b = &gp_pool.bufs[i];
            break;
        }
    }
    if (b && !b->mem) {
        /* CUPTI wants 8-byte aligned buffers; malloc gives 16. */
        b->mem = malloc(gp_pool.buf_size);
        if (!b->mem)
            b = NULL;
    }
    if (b) {
        b->state = GP_BUF_CUPTI;
        *buffer = b->mem;
        *size = gp_pool.buf_size;
    } else {
        gp_pool.declined++; /* CUPTI drops the records and counts them */
    }
    pthread_mutex_unlock(&gp_pool.mu);
    if (!b)
        gp_writer_wake(); /* the writer is behind: let it give buffers back */
}

void CUPTIAPI gp_cupti_buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size,
                                        size_t valid)
{
    (void)size;
    pthread_mutex_lock(&gp_pool.mu);
    for (unsigned i = 0; i < gp_pool.total; i++) {
        struct gp_buf *b = &gp_pool.bufs[i];
        if (b->mem != buffer || b->state != GP_BUF_CUPTI)
            continue;
        b->valid = valid;
        b->state = GP_BUF_DONE;
        gp_pool.done[(gp_pool.head + gp_pool.count) % gp_pool.total] = i;
        gp_pool.count++;
        break;
    }
    /* A buffer that is not ours is left alone: it was never ours to free. */
    pthread_mutex_unlock(&gp_pool.mu);
    const struct gp_cupti_api *api = gp_cupti_api_loaded();
    size_t dropped = 0;
    if (api && api->ActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS && dropped)
        gp_cupti_note_dropped(dropped);
    gp_writer_wake();
}

int gp_cupti_pool_take(unsigned *idx, uint8_t **mem, size_t *valid)
{
    int got = 0;
    pthread_mutex_lock(&gp_pool.mu);
    if (gp_pool.count > 0) {
        unsigned i = gp_pool.done[gp_pool.head];
        gp_pool.head = (gp_pool.head + 1) % gp_pool.total;
        gp_pool.count--;
        gp_pool.bufs[i].state = GP_BUF_WRITER;
        *idx = i;
        *mem = gp_pool.bufs[i].mem;
        *valid = gp_pool.bufs[i].valid;
        got = 1;
    }
    pthread_mutex_unlock(&gp_pool.mu);
    return got;
}

void gp_cupti_pool_release(unsigned idx)
{
    pthread_mutex_lock(&gp_pool.mu);
    if (idx < gp_pool.total && gp_pool.bufs[idx].state == GP_BUF_WRITER)
        gp_pool.bufs[idx].state = GP_BUF_FREE;
    pthread_mutex_unlock(&gp_pool.mu);
}

void gp_cupti_pool_forget(void)
{
    /* Only this thread exists in the child, and the mutex may have been held by a thread
     * of the parent at the fork: it is made anew. CUPTI's buffers stay marked as CUPTI's. */
    pthread_mutex_init(&gp_pool.mu, NULL);
    for (unsigned i = 0; i < gp_pool.total; i++)
        if (gp_pool.bufs[i].state == GP_BUF_DONE || gp_pool.bufs[i].state == GP_BUF_WRITER)
            gp_pool.bufs[i].state = GP_BUF_FREE;
    gp_pool.head = gp_pool.count = 0;
}

uint64_t gp_cupti_pool_declined(void)
{
    pthread_mutex_lock(&gp_pool.mu);
    uint64_t n = gp_pool.declined;
    pthread_mutex_unlock(&gp_pool.mu);
    return n;
}
