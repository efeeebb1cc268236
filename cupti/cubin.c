/* cubin.c — GPUPROF_CUBINS=1: the machine code of every module CUDA loads, saved into the
 * trace so the report can count each kernel's Tensor Core instructions (layer 4,
 * docs/tensor-cores.md). CUPTI's resource callback (MODULE_LOADED) runs on a program thread
 * inside the driver with a cubin that is valid only during the call: it is hashed, looked
 * up in a table of the hashes already seen (PyTorch loads the same modules once per device),
 * copied if new and within GPUPROF_CUBINS_MAX, and queued. The writer thread writes the
 * queue as CUBIN records (trace/cubin.c). The callback takes only this file's mutex, for a
 * few instructions, makes no CUDA or CUPTI call and never waits for the writer; a module
 * that cannot be saved is still recorded, without its bytes, with the reason. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gp_cupti.h"
#include "internal.h"
#ifdef GP_CUBIN_CUPTI
#include "cupti_int.h"
#endif

#define GP_CUBIN_HASH_BITS 16 /* distinct modules remembered: 3/4 of 65536 */
#define GP_CUBIN_HASH_SLOTS (1u << GP_CUBIN_HASH_BITS)
#define GP_CUBIN_DRAIN_BYTES (8u << 20) /* per writer turn, so events are not held up long */

struct gp_cubin_item {
    struct gp_cubin_item *next;
    struct gp_cubin c;
    uint8_t bytes[]; /* SAVED: the copy */
};

static struct {
    pthread_mutex_t mu;
    struct gp_cubin_item *head, *tail;  /* waiting for the writer, oldest first */
    uint64_t seen[GP_CUBIN_HASH_SLOTS]; /* hashes met so far; 0 = empty (a hash 0 is stored as 1) */
    uint32_t nseen;
    uint64_t saved_bytes; /* copied for the trace so far (queued or written) */
} gp_cb = {.mu = PTHREAD_MUTEX_INITIALIZER};
static _Atomic bool gp_cubins_on;

/* Under mu: 1 = already seen, 0 = inserted now, -1 = the table is full. */
static int seen_insert(uint64_t hash)
{
    uint64_t key = hash ? hash : 1;
    uint32_t i = (uint32_t)(key * UINT64_C(0x9e3779b97f4a7c15) >> (64 - GP_CUBIN_HASH_BITS));
    for (;; i = (i + 1) & (GP_CUBIN_HASH_SLOTS - 1)) {
        if (gp_cb.seen[i] == key)
            return 1;
        if (gp_cb.seen[i] == 0)
            break;
    }
    if (gp_cb.nseen >= GP_CUBIN_HASH_SLOTS / 4 * 3)
        return -1;
    gp_cb.seen[i] = key;
    gp_cb.nseen++;
    return 0;
}

void gp_cupti_cubin_loaded(uint32_t module_id, const void *cubin, size_t size)
{
    if (!atomic_load_explicit(&gp_cubins_on, memory_order_acquire) || !cubin || size == 0 ||
        size > GP_TRACE_CUBIN_MAX_SIZE)
        return;
    uint64_t hash = gp_trace_cubin_hash(cubin, size);
    uint32_t state;
    pthread_mutex_lock(&gp_cb.mu);
    int dup = seen_insert(hash);
    if (dup > 0) {
        state = GP_CUBIN_DUPLICATE;
    } else if (dup < 0) {
        state = GP_CUBIN_LOST;
    } else if (size > gp_shim_g.opt.cubins_max - gp_cb.saved_bytes) {
        state = GP_CUBIN_OVER_CAP;
    } else {
        state = GP_CUBIN_SAVED;
        gp_cb.saved_bytes += size; /* reserved now so that two threads cannot both pass */
    }
    pthread_mutex_unlock(&gp_cb.mu);

    struct gp_cubin_item *it = malloc(sizeof *it + (state == GP_CUBIN_SAVED ? size : 0));
    if (!it && state == GP_CUBIN_SAVED) {
        pthread_mutex_lock(&gp_cb.mu);
        gp_cb.saved_bytes -= size;
        pthread_mutex_unlock(&gp_cb.mu);
        state = GP_CUBIN_LOST;
        it = malloc(sizeof *it);
    }
    if (!it)
        return; /* not even room to say so */
    it->next = NULL;
    it->c = (struct gp_cubin){.module_id = module_id, .state = state, .hash = hash, .size = size};
    if (state == GP_CUBIN_SAVED) {
        memcpy(it->bytes, cubin, size);
        it->c.data = it->bytes;
    }
    pthread_mutex_lock(&gp_cb.mu);
    if (gp_cb.tail)
        gp_cb.tail->next = it;
    else
        gp_cb.head = it;
    gp_cb.tail = it;
    pthread_mutex_unlock(&gp_cb.mu);
    gp_writer_wake();
}

static struct gp_cubin_item *pop(void)
{
    pthread_mutex_lock(&gp_cb.mu);
    struct gp_cubin_item *it = gp_cb.head;
    if (it) {
        gp_cb.head = it->next;
        if (!gp_cb.head)
            gp_cb.tail = NULL;
    }
    pthread_mutex_unlock(&gp_cb.mu);
    return it;
}

int gp_cupti_cubin_drain(struct gp_trace_writer *w)
{
    int n = 0, rc = 0;
    uint64_t bytes = 0;
    struct gp_cubin_item *it;
    /* Bounded per turn: the writer goes back to the event queue in between (with no trace
     * to write to, everything is simply freed). */
    while ((!w || bytes < GP_CUBIN_DRAIN_BYTES) && (it = pop()) != NULL) {
        if (w && rc >= 0) {
            rc = gp_trace_writer_cubin(w, &it->c);
            n++;
        }
        if (it->c.state == GP_CUBIN_SAVED)
            bytes += it->c.size;
        free(it);
    }
    return rc < 0 ? rc : n;
}

#ifdef GP_CUBIN_CUPTI
/* Forked child: what is queued belongs to the parent's trace, and CUPTI records nothing
 * here. The items are left as they are (another thread may have held the mutex). */
static void gp_cubin_atfork_child(void)
{
    atomic_store(&gp_cubins_on, false);
    pthread_mutex_init(&gp_cb.mu, NULL);
    gp_cb.head = gp_cb.tail = NULL;
}

typedef CUptiResult (*gp_enable_callback_fn)(uint32_t, CUpti_SubscriberHandle,
                                             CUpti_CallbackDomain, CUpti_CallbackId);

void gp_cupti_cubin_start(CUpti_SubscriberHandle sub)
{
    const struct gp_cupti_api *api = gp_cupti_api_loaded();
    if (!gp_shim_g.opt.cubins || !api)
        return;
    /* The loader does not resolve cuptiEnableCallback: found here, in the library that
     * holds the cuptiSubscribe in use. */
    gp_enable_callback_fn enable = NULL;
    Dl_info info;
    void *h = NULL;
    if (dladdr((void *)api->Subscribe, &info) && info.dli_fname &&
        (h = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD)) != NULL) {
        enable = (gp_enable_callback_fn)dlsym(h, "cuptiEnableCallback");
        dlclose(h); /* only drops the reference taken just now */
    }
    if (!enable) {
        gp_shim_warn("GPUPROF_CUBINS=1 but %.300s has no cuptiEnableCallback: cubins are not "
                     "saved", api->path);
        return;
    }
    pthread_atfork(NULL, NULL, gp_cubin_atfork_child);
    atomic_store_explicit(&gp_cubins_on, true, memory_order_release);
    CUptiResult r = enable(1, sub, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_MODULE_LOADED);
    if (r != CUPTI_SUCCESS) {
        const char *name = NULL;
        atomic_store(&gp_cubins_on, false);
        if (api->GetResultString(r, &name) != CUPTI_SUCCESS || !name)
            name = "an unknown CUPTI error";
        gp_shim_warn("GPUPROF_CUBINS=1 but CUPTI refused the module-loaded callback (%s): "
                     "cubins are not saved", name);
    }
}

void gp_cupti_cubin_callback(CUpti_CallbackId cbid, const void *data)
{
    if (cbid != CUPTI_CBID_RESOURCE_MODULE_LOADED || !data)
        return;
    /* The module's data hangs off resourceDescriptor (documented as reserved, used so by
     * CUPTI's own samples and other tools: notes §4). */
    const CUpti_ModuleResourceData *md = ((const CUpti_ResourceData *)data)->resourceDescriptor;
    if (!md)
        return;
    int saved = errno;
    gp_cupti_cubin_loaded(md->moduleId, md->pCubin, md->cubinSize);
    errno = saved;
}
#endif
