/* gpuprof.h — the C API of libgpuprof.so, for programs and adapters that want to talk
 * to the profiler directly. Every function is safe to call when the library is not
 * preloaded only through dlsym(RTLD_DEFAULT, "gpuprof_..."), which then returns NULL. */
#ifndef GPUPROF_H
#define GPUPROF_H

#ifdef __cplusplus
extern "C" {
#endif

/* Writes every event recorded so far to the trace file and waits (at most timeout_ms)
 * until it is on disk. Returns 0, or a negative errno: -ESRCH when nothing is being
 * traced, -ETIMEDOUT when the writer did not finish in time. */
int gpuprof_flush(unsigned timeout_ms);

/* ---- for gpuprof's Python adapter (python/gpuprof_torch) -------------------------------
 * PyTorch's caching allocator reports its own events; the adapter reads them from
 * PyTorch's allocator history and hands them over here (docs/trace-format.md, "PyTorch").
 * All three start tracing if it has not started yet and never call CUDA. */

/* Names a Python function for the frames of gpuprof_torch_events: returns a handle > 0, or
 * 0 when Python frames are off (GPUPROF_PYTHON_STACKS=0) or the table is full. The strings
 * are copied. */
unsigned gpuprof_py_function(const char *file, const char *function);

/* Records PyTorch allocator events from nwords 64-bit words, event after event:
 *   action (enum gp_torch_action: 1 alloc ... 8 oom), device (as int64), time (CLOCK_REALTIME
 *   ns, 0 = now), address, size, stream, aux1, aux2, nframes, then nframes frame words
 *   (handle << 32 | line), innermost first.
 * Returns how many events were recorded (a full queue drops and counts the rest), -EINVAL
 * when the words are malformed (events before the bad one are recorded), -ESRCH when
 * tracing is off. */
long gpuprof_torch_events(const unsigned long long *words, unsigned long nwords);

/* Records one allocator statistic (enum gp_torch_stat) for a device, taken on an occasion
 * (enum gp_torch_occasion: 1 start, 2 periodic, 3 OOM, 4 exit). 0, -EINVAL, -ESRCH, or
 * -ENOBUFS when the queue is full. */
int gpuprof_torch_stat(unsigned occasion, int device, unsigned stat, unsigned long long value);

/* Version of the library, e.g. "0.1.0". */
const char *gpuprof_version(void);

#ifdef __cplusplus
}
#endif
#endif
