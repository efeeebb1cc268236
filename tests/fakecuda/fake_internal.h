/* Internal interface between the pieces of the fake libcudart.so.13 (test stand-in, never installed).
 *
 * Rule for every file of the fake: an exported cuda* function never calls another exported cuda*
 * function. gpuprof's shim interposes those names, so an internal call through them would be
 * recorded twice; shared work goes through the fake_* helpers declared here instead. */
#ifndef GPUPROF_FAKECUDA_INTERNAL_H
#define GPUPROF_FAKECUDA_INTERNAL_H

#include <stddef.h>

#include <cuda_runtime_api.h>

/* Upper bound on FAKECUDA_DEVICES; fixed so per-device state can live in static arrays. */
#define FAKE_MAX_DEVICES 64

/* Device allocations are charged in units of this many bytes (see fake_memory.c). */
#define FAKE_GRANULE ((size_t)512)

/* Default memory per device: 16 GiB. */
#define FAKE_DEFAULT_DEVICE_MEM ((size_t)16 << 30)

/* What kind of allocation a live pointer is; decides which free function may release it. */
enum fake_kind {
    FAKE_KIND_DEVICE,  /* cudaMalloc, cudaMallocPitch, cudaMalloc3D */
    FAKE_KIND_ASYNC,   /* cudaMallocAsync, cudaMallocFromPoolAsync */
    FAKE_KIND_MANAGED, /* cudaMallocManaged: not charged to any device */
    FAKE_KIND_HOST     /* cudaMallocHost, cudaHostAlloc: pinned host, not charged */
};

#define FAKE_KIND_BIT(k) (1u << (k))

/* fake_env.c: configuration read once from the environment. */
int fake_device_count(void);
size_t fake_device_mem(void);
int fake_valid_device(int device);

/* fake_device.c: the calling thread's current device. */
int fake_current_device(void);

/* fake_error.c: record `err` as the calling thread's last error and return it. */
cudaError_t fake_fail(cudaError_t err);

/* fake_registry.c: the map of live allocations and the per-device charge.
 * fake_reserve charges `charge` bytes to `device` (0 for uncharged kinds), maps `map_len` bytes
 * (> 0) and records the pointer; on failure nothing is charged and *out is NULL. */
cudaError_t fake_reserve(int device, size_t charge, size_t map_len, enum fake_kind kind,
                         void **out);
/* Releases `ptr` if it is live and its kind is in `kind_mask`; otherwise cudaErrorInvalidValue. */
cudaError_t fake_release(void *ptr, unsigned kind_mask);
/* Releases every live allocation recorded against `device` (cudaDeviceReset). */
void fake_release_device(int device);
size_t fake_charged(int device);

/* fake_stream.c: which device a stream or pool belongs to (-1 for a bad handle). */
int fake_stream_device(cudaStream_t stream);
int fake_pool_device(cudaMemPool_t pool);

#endif
