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

/* Version of the library, e.g. "0.1.0". */
const char *gpuprof_version(void);

#ifdef __cplusplus
}
#endif
#endif
