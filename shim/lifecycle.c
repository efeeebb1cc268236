/* lifecycle.c — when the shim starts, stops and forks. Nothing happens at load time:
 * the first intercepted CUDA call sets things up (options, queue, writer thread), so a
 * process that never touches CUDA gets no file and no thread, and no CUDA call is ever
 * made from a constructor. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

GP_HIDDEN struct gp_shim gp_shim_g;

void gp_shim_forget_tid(void);

static void gp_shim_atexit(void)
{
    int expected = GP_SHIM_ACTIVE;
    if (!atomic_compare_exchange_strong(&gp_shim_g.state, &expected, GP_SHIM_OFF) &&
        expected != GP_SHIM_OFF)
        return;
    gp_writer_stop();
}

/* Runs when the library is unloaded or the process exits without atexit handlers
 * having seen us (e.g. registered before CUDA's own). Harmless when already stopped. */
__attribute__((destructor)) static void gp_shim_fini(void) { gp_shim_atexit(); }

static void gp_shim_atfork_child(void)
{
    gp_shim_forget_tid();
    gp_env_forget();
    if (atomic_load(&gp_shim_g.state) != GP_SHIM_ACTIVE)
        return;
    /* The parent's pending events belong to the parent's trace. The child starts a
     * trace of its own (its own pid in the name) at its next CUDA call. */
    gp_queue_reset(gp_shim_g.queue);
    gp_writer_forget();
    atomic_store(&gp_shim_g.state, GP_SHIM_UNINIT);
}

static void gp_shim_init(void)
{
    static bool once_only_done;
    if (!once_only_done) {
        gp_shim_options_load(&gp_shim_g.opt);
        if (!gp_shim_g.opt.enabled) {
            atomic_store(&gp_shim_g.state, GP_SHIM_OFF);
            return;
        }
        if (gp_queue_init(&gp_shim_g.queue, gp_shim_g.opt.buffer, gp_shim_g.opt.depth) < 0) {
            gp_shim_warn("cannot allocate the %llu-byte event queue; tracing is off",
                         (unsigned long long)gp_shim_g.opt.buffer);
            atomic_store(&gp_shim_g.state, GP_SHIM_OFF);
            return;
        }
        gp_stack_init();
        pthread_atfork(NULL, NULL, gp_shim_atfork_child);
        atexit(gp_shim_atexit);
        once_only_done = true;
    }
    /* The header's clocks must not be later than the first event's time. */
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    gp_shim_g.start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
    gp_shim_g.start_monotonic_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
    gp_process_resume_clocks(); /* after a failed exec: the clocks of when tracing stopped */
    int rc = gp_writer_start();
    if (rc < 0) {
        gp_shim_warn("cannot start the writer thread (error %d); tracing is off", -rc);
        atomic_store(&gp_shim_g.state, GP_SHIM_OFF);
        return;
    }
    gp_process_on_start();
    atomic_store_explicit(&gp_shim_g.state, GP_SHIM_ACTIVE, memory_order_release);
}

bool gp_shim_ready(void)
{
    int s = atomic_load_explicit(&gp_shim_g.state, memory_order_acquire);
    if (GP_LIKELY(s == GP_SHIM_ACTIVE))
        return true;
    if (s == GP_SHIM_OFF)
        return false;
    if (s == GP_SHIM_UNINIT &&
        atomic_compare_exchange_strong(&gp_shim_g.state, &s, GP_SHIM_INITING)) {
        int saved = errno;
        gp_shim_init();
        errno = saved;
        return atomic_load(&gp_shim_g.state) == GP_SHIM_ACTIVE;
    }
    /* Another thread is setting up; it takes microseconds and never calls into CUDA. */
    for (int i = 0; i < 100000 && atomic_load(&gp_shim_g.state) == GP_SHIM_INITING; i++)
        sched_yield();
    return atomic_load_explicit(&gp_shim_g.state, memory_order_acquire) == GP_SHIM_ACTIVE;
}
