/* internal.h — what the shim's files share, grouped by the file that defines it.
 * Nothing here is exported from libgpuprof.so (see exports.map). */
#ifndef GP_SHIM_INTERNAL_H
#define GP_SHIM_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp_trace.h"

#define GP_HIDDEN __attribute__((visibility("hidden")))
#define GP_EXPORT __attribute__((visibility("default")))
#define GP_TLS __thread __attribute__((tls_model("initial-exec")))
#define GP_LIKELY(x) __builtin_expect(!!(x), 1)
#define GP_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- "options.c": GPUPROF_* settings, parsed once -------------------------- */
struct gp_shim_options {
    const char *output; /* GPUPROF_OUTPUT template */
    const char *label;  /* GPUPROF_LABEL */
    unsigned depth;     /* GPUPROF_DEPTH: frames per stack, 0..GP_TRACE_MAX_FRAMES */
    uint64_t buffer;    /* GPUPROF_BUFFER: bytes of event queue */
    unsigned flush_ms;  /* GPUPROF_FLUSH_MS: longest time between gzip sync flushes */
    bool enabled;       /* GPUPROF_ENABLE */
    bool python_stacks; /* GPUPROF_PYTHON_STACKS: Python frames on events (stack_python.c) */
    bool kernels;       /* GPUPROF_KERNELS: GPU activity through CUPTI (cupti/) */
    const char *cupti;  /* GPUPROF_CUPTI: the libcupti to use, "" = search */
    uint64_t cupti_buffer;  /* GPUPROF_CUPTI_BUFFER: bytes per activity buffer */
    unsigned cupti_buffers; /* GPUPROF_CUPTI_BUFFERS: most activity buffers at once */
    bool cubins;            /* GPUPROF_CUBINS: save loaded modules' cubins (cupti/cubin.c) */
    uint64_t cubins_max;    /* GPUPROF_CUBINS_MAX: most bytes of cubins saved */
    bool counters;          /* GPUPROF_COUNTERS: Tensor Core hardware counters (cupti/counters.c) */
};
GP_HIDDEN void gp_shim_options_load(struct gp_shim_options *o);
/* Parsers shared with the tests: 0 on success, -EINVAL when the text is not a valid value. */
GP_HIDDEN int gp_shim_parse_bool(const char *s, bool *out);
GP_HIDDEN int gp_shim_parse_size(const char *s, uint64_t *out);
GP_HIDDEN int gp_shim_parse_uint(const char *s, uint64_t *out);

/* ---- "python_boot.c": the Python adapter's directory ------------------------ */
/* <directory of libgpuprof.so>/gpuprof-python into out when it holds the adapter's
 * sitecustomize.py; -1 otherwise. */
GP_HIDDEN int gp_shim_python_dir(char *out, size_t len);

/* ---- "env_info.c": INFO records about the run's environment ---------------- */
GP_HIDDEN void gp_env_collect_cuda(void);                 /* program thread, after CUDA works */
GP_HIDDEN int gp_env_write(struct gp_trace_writer *w);    /* writer thread: new INFO records */
GP_HIDDEN void gp_env_trace_opened(void);                 /* writer thread: a new trace file */
GP_HIDDEN void gp_env_forget(void);                       /* forked child */

/* ---- "log.c": warnings on stderr, never stdout ---------------------------- */
GP_HIDDEN void gp_shim_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- "output_path.c": trace file name and creation ------------------------ */
/* Expands %p (pid), %h (host), %r (rank from RANK or LOCAL_RANK, else 0), %% into out.
 * Returns 0, or -ENAMETOOLONG / -EINVAL (unknown escape, empty result). */
GP_HIDDEN int gp_shim_expand_output(const char *tmpl, char *out, size_t outlen);
/* Creates the trace file: never follows a symlink, never truncates an existing file
 * (O_EXCL; on a clash ".1", ".2", ... are tried). Returns an fd or -errno. */
GP_HIDDEN int gp_shim_create_output(const char *path, char *used, size_t usedlen);

/* ---- "queue.c": bounded multi-producer queue of fixed-size event slots ----- */
struct gp_queue;
struct gp_slot; /* opaque: holds one struct gp_event */
GP_HIDDEN int gp_queue_init(struct gp_queue **out, uint64_t bytes, unsigned depth);
/* Producer: claim the next slot, or NULL when full. The event is zeroed and owned by the
 * caller until gp_queue_publish. Never blocks. */
GP_HIDDEN struct gp_event *gp_queue_claim(struct gp_queue *q);
GP_HIDDEN void gp_queue_count_drop(struct gp_queue *q);
GP_HIDDEN uint64_t gp_queue_consumed(struct gp_queue *q); /* slots consumed so far */
GP_HIDDEN uint64_t gp_queue_claimed(struct gp_queue *q);  /* slots claimed so far */
/* Returns true when the ring is more than half full (time to wake the writer). */
GP_HIDDEN bool gp_queue_publish(struct gp_queue *q, struct gp_event *ev);
/* Consumer (one thread): the next published event in claim order, or NULL when the
 * next slot is empty or not yet published. gp_queue_release hands it back. */
GP_HIDDEN struct gp_event *gp_queue_peek(struct gp_queue *q);
GP_HIDDEN void gp_queue_release(struct gp_queue *q);
GP_HIDDEN bool gp_queue_pending(struct gp_queue *q); /* a slot is claimed but not consumed */
GP_HIDDEN bool gp_queue_half_full(struct gp_queue *q);
GP_HIDDEN uint64_t gp_queue_take_dropped(struct gp_queue *q); /* drops since last call */
GP_HIDDEN unsigned gp_queue_capacity(const struct gp_queue *q);
GP_HIDDEN unsigned gp_queue_depth(const struct gp_queue *q);
GP_HIDDEN void gp_queue_reset(struct gp_queue *q); /* forked child: forget everything */

/* ---- "stack.c": call stacks ------------------------------------------------ */
GP_HIDDEN void gp_stack_init(void);
/* gp_stack_capture is in stack.h, inlined where events are filled. */

/* ---- "writer.c": the background writer thread ------------------------------ */
GP_HIDDEN int gp_writer_start(void);
GP_HIDDEN void gp_writer_wake(void);
/* Asks for a sync flush of everything queued so far and waits up to timeout_ms. */
GP_HIDDEN int gp_writer_flush_wait(unsigned timeout_ms);
GP_HIDDEN void gp_writer_stop(void);
GP_HIDDEN void gp_writer_forget(void); /* forked child */

/* ---- "lifecycle.c": init once, exit, fork ---------------------------------- */
enum gp_shim_state { GP_SHIM_UNINIT = 0, GP_SHIM_INITING, GP_SHIM_ACTIVE, GP_SHIM_OFF };
struct gp_shim {
    _Atomic int state;
    struct gp_shim_options opt;
    struct gp_queue *queue;
    uint64_t start_realtime_ns; /* taken before the first event, for the trace header */
    uint64_t start_monotonic_ns;
};
extern GP_HIDDEN struct gp_shim gp_shim_g;
/* True when events should be recorded; runs the one-time setup on first use. */
GP_HIDDEN bool gp_shim_ready(void);

/* ---- "record.c": the event API every hook calls ----------------------------- */
/* A queue slot for an event filled entirely by the caller (type, fields, ips, time);
 * NULL when dropped (counted). Every field must be set: the slot holds old data. */
GP_HIDDEN struct gp_event *gp_shim_claim(void);
GP_HIDDEN void gp_shim_publish(struct gp_event *ev);
/* Re-entry guard: a hook records only when gp_shim_enter() returned true and calls
 * gp_shim_leave() after. Calls the shim makes into CUDA itself are never recorded. */
extern GP_HIDDEN GP_TLS int gp_shim_in_hook;
static inline bool gp_shim_enter(void)
{
    if (gp_shim_in_hook)
        return false;
    gp_shim_in_hook = 1;
    if (GP_UNLIKELY(!gp_shim_ready())) {
        gp_shim_in_hook = 0;
        return false;
    }
    return true;
}
static inline void gp_shim_leave(void) { gp_shim_in_hook = 0; }

GP_HIDDEN uint64_t gp_shim_now(void);
GP_HIDDEN uint32_t gp_shim_tid(void);
/* Around a free call: begin before the real call so a reused address can never be
 * seen allocated before it is seen freed; end after, with the result. */
GP_HIDDEN struct gp_event *gp_shim_free_begin(uint8_t api, uint8_t kind, const void *ptr,
                                              const void *stream);
GP_HIDDEN void gp_shim_free_end(struct gp_event *ev, int result);
GP_HIDDEN void gp_shim_record_meminfo(int result, uint64_t free_b, uint64_t total_b);
/* An allocation failed for lack of memory: record it with the device's free/total and
 * flush the trace to disk before the program sees the error. */
GP_HIDDEN void gp_shim_record_oom(uint8_t api, uint8_t kind, int result, uint64_t size,
                                  const void *stream);

/* "nvml.c", at an OOM: what NVML says other processes hold on CUDA device `device`
 * (bytes, count, the largest one) and what it says this process holds (0 = not listed).
 * 0, or a negative errno when NVML is absent, fails or does not know the device. */
struct gp_shim_nvml_others { uint64_t bytes, count, self_bytes, largest_pid, largest_bytes; };
GP_HIDDEN int gp_shim_nvml_others(int device, struct gp_shim_nvml_others *out);

/* After an allocation call returned (runtime or driver): one ALLOC event, and an OOM
 * event when the result is out-of-memory. Leaves the re-entry guard. */
#define GP_RESULT_OOM 2 /* cudaErrorMemoryAllocation == CUDA_ERROR_OUT_OF_MEMORY */
GP_HIDDEN void gp_shim_alloc_done(uint8_t api, uint8_t kind, int result, uint64_t size,
                                  const void *ptr, const void *stream, uint64_t aux,
                                  const void *pool);
/* After a stream-ordered call (or a pool trim): a POOL event when the pool's reserved
 * size changed. pool NULL = the current device's pool. Call inside the guard. */
GP_HIDDEN void gp_shim_pool_note(uint8_t api, const void *pool);

/* ---- "hooks_runtime.c" -------------------------------------------------------- */
/* The current device and the device's free/total, asked of the runtime when it is
 * loaded, else of the driver. -1 / -EIO when neither can answer. */
GP_HIDDEN int gp_hooks_current_device(void);
GP_HIDDEN int gp_hooks_mem_get_info(uint64_t *free_b, uint64_t *total_b);

/* ---- "hooks_driver.c" --------------------------------------------------------- */
GP_HIDDEN int gp_driver_current_device(void);
GP_HIDDEN int gp_driver_mem_get_info(uint64_t *free_b, uint64_t *total_b);
/* Reserved and used bytes of *pool (NULL: the current device's pool, stored back). */
GP_HIDDEN int gp_driver_pool_stats(const void **pool, uint64_t *reserved, uint64_t *used);

/* ---- "writer.c": for the process lifecycle (hooks_process.c) --------------------- */
/* True while the writer thread exists (started and not yet finished). */
GP_HIDDEN bool gp_writer_alive(void);
/* Async-signal-safe: asks the writer for a last drain + sync flush (no END) and waits
 * for it at most timeout_ms, with atomics and nanosleep only. True when it was done. */
GP_HIDDEN bool gp_writer_crash_flush(unsigned timeout_ms);

/* ---- "hooks_process.c": exec and fatal signals ------------------------------------- */
/* Tracing has (re)started in this process: remembers its pid and, the first time,
 * installs the fatal-signal handlers. Called by gp_shim_init. */
GP_HIDDEN void gp_process_on_start(void);
/* Called by gp_shim_init just before the writer starts: after a failed exec, the new
 * trace's header clocks become those of the moment tracing stopped. */
GP_HIDDEN void gp_process_resume_clocks(void);

/* ---- "record.c": math-library calls (hooks_blas.c, hooks_dnn.c) -------------------- */
/* > 0 while this thread is inside an intercepted cuBLAS, cuBLASLt or cuDNN call: both
 * hook files share it, so a cuBLAS call cuDNN makes inside a convolution is part of the
 * convolution's event (no record, no external id of its own). */
extern GP_HIDDEN GP_TLS unsigned gp_shim_lib_depth;
/* One LIBCALL event (kind = math mode, size/aux1/aux2 = m/n/k). Call inside the guard. */
GP_HIDDEN void gp_shim_record_libcall(uint8_t api, uint8_t math, int result, uint64_t m,
                                      uint64_t n, uint64_t k, const void *stream,
                                      const struct gp_libcall *lc);

#endif
