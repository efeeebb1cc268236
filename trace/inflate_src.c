/* inflate_src.c — decompresses a gzip trace file into fixed-size chunks for the reader.
 * Threaded mode: an inflate thread fills a small pool of buffers and queues them, so
 * inflate (about half of the reading cost) overlaps record decoding. Synchronous mode
 * fills one buffer on demand. Both share fill(), which also classifies how the compressed
 * data ends: complete, cut (truncated), damaged, or followed by stray bytes. */
#include "inflate_src.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define GP_SRC_CHUNK (128u * 1024)
#define GP_SRC_IN (128u * 1024)
#define GP_SRC_NBUF 4 /* threaded: one being decoded, one being filled, two queued */

struct gp_src {
    int fd;
    bool threaded;
    bool zinit;
    bool eof;
    z_stream zs;
    uint8_t *in;
    uint64_t file_bytes; /* inflater side: bytes read from fd */
    uint64_t out_total;  /* inflater side: decompressed bytes produced */
    uint8_t *bufs[GP_SRC_NBUF];
    int nbuf;

    /* Shared with the thread, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t filled_cv, free_cv;
    bool sync_init, thread_started;
    pthread_t thread;
    struct gp_src_chunk filled[GP_SRC_NBUF];
    unsigned filled_head, filled_count;
    int free_slots[GP_SRC_NBUF];
    unsigned free_count;
    bool done; /* no more chunks will be queued */
    bool stop; /* the consumer is closing */
    enum gp_src_end end;
    int err;
    uint64_t pub_file_bytes;
    char msg[128];
};

static int read_some(struct gp_src *s)
{
    ssize_t n;
    do {
        n = read(s->fd, s->in, GP_SRC_IN);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0) {
        s->eof = true;
        return 0;
    }
    s->zs.next_in = s->in;
    s->zs.avail_in = (uInt)n;
    s->file_bytes += (uint64_t)n;
    return 0;
}

/* The gzip trailer checked out; anything after it is not ours (a second gzip member or
 * garbage), and a reader that accepted it would hide damage. */
static enum gp_src_end after_stream_end(struct gp_src *s, int *err)
{
    if (s->zs.avail_in > 0)
        return GP_SRC_TRAILING;
    if (!s->eof) {
        int rc = read_some(s);
        if (rc < 0) {
            *err = -rc;
            return GP_SRC_ERROR;
        }
        if (s->zs.avail_in > 0)
            return GP_SRC_TRAILING;
    }
    return GP_SRC_STREAM_END;
}

/* Inflates into buf until it is full or the data ends; returns why it ended, if it did. */
static enum gp_src_end fill(struct gp_src *s, uint8_t *buf, struct gp_src_chunk *c, int *err,
                            char *msg, size_t msglen)
{
    enum gp_src_end end = GP_SRC_MORE;

    c->data = buf;
    c->out_start = s->out_total;
    c->in_start = s->file_bytes - s->zs.avail_in;
    s->zs.next_out = buf;
    s->zs.avail_out = GP_SRC_CHUNK;
    while (s->zs.avail_out > 0) {
        if (s->zs.avail_in == 0) {
            if (!s->eof) {
                int rc = read_some(s);
                if (rc < 0) {
                    *err = -rc;
                    end = GP_SRC_ERROR;
                    break;
                }
            }
            if (s->zs.avail_in == 0) {
                /* Inflate still wanted input when the file ended: the file was cut. */
                end = GP_SRC_TRUNCATED;
                break;
            }
        }
        int zrc = inflate(&s->zs, Z_NO_FLUSH);
        if (zrc == Z_OK)
            continue;
        if (zrc == Z_STREAM_END) {
            end = after_stream_end(s, err);
            break;
        }
        if (zrc == Z_BUF_ERROR && s->zs.avail_in == 0)
            continue; /* needs more input: read it, or find the file ended */
        if (zrc == Z_MEM_ERROR) {
            *err = ENOMEM;
            end = GP_SRC_ERROR;
            break;
        }
        /* Z_DATA_ERROR, Z_NEED_DICT (never valid in gzip), or no progress with input
         * and output space both available. */
        snprintf(msg, msglen, "%s", s->zs.msg ? s->zs.msg : "invalid compressed data");
        end = GP_SRC_CORRUPT;
        break;
    }
    c->len = GP_SRC_CHUNK - s->zs.avail_out;
    c->in_end = s->file_bytes - s->zs.avail_in;
    s->out_total += c->len;
    return end;
}

static void *src_thread(void *arg)
{
    struct gp_src *s = arg;
    char msg[sizeof(s->msg)] = "";
    int err = 0;

    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->free_count == 0 && !s->stop)
            pthread_cond_wait(&s->free_cv, &s->mu);
        if (s->stop) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        int slot = s->free_slots[--s->free_count];
        pthread_mutex_unlock(&s->mu);

        struct gp_src_chunk c;
        c.slot = slot;
        enum gp_src_end end = fill(s, s->bufs[slot], &c, &err, msg, sizeof(msg));

        pthread_mutex_lock(&s->mu);
        if (c.len > 0)
            s->filled[(s->filled_head + s->filled_count++) % GP_SRC_NBUF] = c;
        else
            s->free_slots[s->free_count++] = slot;
        s->pub_file_bytes = s->file_bytes;
        if (end != GP_SRC_MORE) {
            s->end = end;
            s->err = err;
            memcpy(s->msg, msg, sizeof(msg));
            s->done = true;
        }
        pthread_cond_signal(&s->filled_cv);
        pthread_mutex_unlock(&s->mu);
        if (end != GP_SRC_MORE)
            break;
    }
    return NULL;
}

static int start_thread(struct gp_src *s)
{
    int rc = 0;

    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return -ENOMEM;
    if (pthread_cond_init(&s->filled_cv, NULL) != 0) {
        rc = -ENOMEM;
        goto out_mu;
    }
    if (pthread_cond_init(&s->free_cv, NULL) != 0) {
        rc = -ENOMEM;
        goto out_filled;
    }
    s->sync_init = true;
    for (int i = 0; i < s->nbuf; i++)
        s->free_slots[s->free_count++] = i;
    /* The thread blocks every signal, so the program's handlers keep running on its own
     * threads and the inflater is never interrupted. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&s->thread, NULL, src_thread, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0)
        return -err; /* primitives stay initialised; gp_src_close destroys them */
    s->thread_started = true;
    return 0;
out_filled:
    pthread_cond_destroy(&s->filled_cv);
out_mu:
    pthread_mutex_destroy(&s->mu);
    return rc;
}

int gp_src_open(struct gp_src **out, int fd, bool threaded)
{
    struct gp_src *s = NULL;
    int rc = 0;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    s->fd = fd;
    s->nbuf = threaded ? GP_SRC_NBUF : 1;
    s->in = malloc(GP_SRC_IN);
    if (!s->in) {
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < s->nbuf; i++) {
        s->bufs[i] = malloc(GP_SRC_CHUNK);
        if (!s->bufs[i]) {
            rc = -ENOMEM;
            goto out;
        }
    }
    /* windowBits 15 + 16: gzip only, so a zlib or raw deflate stream is rejected. */
    if (inflateInit2(&s->zs, 15 + 16) != Z_OK) {
        rc = -ENOMEM;
        goto out;
    }
    s->zinit = true;
    /* Without a thread everything still works, one core slower. */
    s->threaded = threaded && start_thread(s) == 0;
    *out = s;
    s = NULL;
out:
    gp_src_close(s);
    return rc;
}

int gp_src_next(struct gp_src *s, struct gp_src_chunk *c)
{
    if (!s->threaded) {
        if (s->done)
            return 0;
        enum gp_src_end end = fill(s, s->bufs[0], c, &s->err, s->msg, sizeof(s->msg));
        c->slot = 0;
        s->pub_file_bytes = s->file_bytes;
        if (end != GP_SRC_MORE) {
            s->end = end;
            s->done = true;
        }
        return c->len > 0;
    }
    pthread_mutex_lock(&s->mu);
    while (s->filled_count == 0 && !s->done)
        pthread_cond_wait(&s->filled_cv, &s->mu);
    int got = s->filled_count > 0;
    if (got) {
        *c = s->filled[s->filled_head];
        s->filled_head = (s->filled_head + 1) % GP_SRC_NBUF;
        s->filled_count--;
    }
    pthread_mutex_unlock(&s->mu);
    return got;
}

void gp_src_release(struct gp_src *s, struct gp_src_chunk *c)
{
    if (!s->threaded)
        return;
    pthread_mutex_lock(&s->mu);
    s->free_slots[s->free_count++] = c->slot;
    pthread_cond_signal(&s->free_cv);
    pthread_mutex_unlock(&s->mu);
}

enum gp_src_end gp_src_end(const struct gp_src *s, const char **msg, int *err)
{
    /* Called after gp_src_next returned 0: done was seen under the lock, and the thread
     * writes none of these fields afterwards. */
    *msg = s->msg;
    *err = s->err;
    return s->end;
}

uint64_t gp_src_file_bytes(struct gp_src *s)
{
    uint64_t n;
    if (!s->threaded)
        return s->pub_file_bytes;
    pthread_mutex_lock(&s->mu);
    n = s->pub_file_bytes;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void gp_src_close(struct gp_src *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->free_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->sync_init) {
        pthread_cond_destroy(&s->free_cv);
        pthread_cond_destroy(&s->filled_cv);
        pthread_mutex_destroy(&s->mu);
    }
    if (s->zinit)
        inflateEnd(&s->zs);
    for (int i = 0; i < s->nbuf; i++)
        free(s->bufs[i]);
    free(s->in);
    free(s);
}
