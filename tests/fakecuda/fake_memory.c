/* Fake libcudart: allocation and free entry points, and cudaMemGetInfo.
 *
 * Accounting, exactly (tests assert these numbers):
 *   - Each device has FAKECUDA_DEVICE_MEM bytes (default 16 GiB).
 *   - cudaMalloc / cudaMallocAsync / cudaMallocFromPoolAsync charge the requested size rounded
 *     up to a multiple of 512 bytes to their device: the current device for cudaMalloc, the
 *     stream's device for cudaMallocAsync, the pool's device for cudaMallocFromPoolAsync.
 *   - cudaMallocPitch: pitch = width rounded up to 512; charge = pitch * height.
 *     cudaMalloc3D: the same pitch from extent.width; charge = pitch * height * depth.
 *   - cudaMallocManaged is not charged: managed memory can oversubscribe the device.
 *   - cudaMallocHost / cudaHostAlloc (pinned host) are not charged to any device.
 *   - cudaMemGetInfo returns (total - charged, total) for the current device.
 *   - A device request whose charge exceeds the free bytes (or overflows) returns
 *     cudaErrorMemoryAllocation with the pointer set to NULL and nothing charged.
 *   - Size 0 succeeds with a NULL pointer and no charge (as the real runtime does), except
 *     cudaMallocManaged, which the CUDA documentation says rejects size 0 with
 *     cudaErrorInvalidValue.
 *   - cudaFree / cudaFreeHost / cudaFreeAsync of NULL succeed; of a pointer that is not live,
 *     or of the wrong family (cudaFree on pinned host memory, cudaFreeHost on device memory),
 *     return cudaErrorInvalidValue.
 * Async variants run synchronously: the allocation exists when the call returns. */
#include <stdint.h>

#include "fake_internal.h"

#define DEVICE_SIDE_KINDS                                                                    \
    (FAKE_KIND_BIT(FAKE_KIND_DEVICE) | FAKE_KIND_BIT(FAKE_KIND_ASYNC) |                      \
     FAKE_KIND_BIT(FAKE_KIND_MANAGED))

/* Rounds up to the charge granule; returns 0 when that overflows, which callers treat as OOM. */
static size_t round_granule(size_t size)
{
    if (size > SIZE_MAX - (FAKE_GRANULE - 1))
        return 0;
    return (size + FAKE_GRANULE - 1) / FAKE_GRANULE * FAKE_GRANULE;
}

/* The common path of every device-charged allocation; `size` is the exact charge. */
static cudaError_t alloc_charged(int device, size_t size, enum fake_kind kind, void **out)
{
    cudaError_t err = fake_reserve(device, size, size, kind, out);
    return err == cudaSuccess ? cudaSuccess : fake_fail(err);
}

static cudaError_t alloc_rounded(int device, size_t size, enum fake_kind kind, void **out)
{
    *out = NULL;
    if (size == 0)
        return cudaSuccess;
    size_t charge = round_granule(size);
    if (charge == 0)
        return fake_fail(cudaErrorMemoryAllocation);
    return alloc_charged(device, charge, kind, out);
}

/* Uncharged memory (managed, pinned host) still gets a device for cudaDeviceReset to clear. */
static cudaError_t alloc_uncharged(size_t size, enum fake_kind kind, void **out)
{
    cudaError_t err = fake_reserve(fake_current_device(), 0, size, kind, out);
    return err == cudaSuccess ? cudaSuccess : fake_fail(err);
}

static cudaError_t release(void *ptr, unsigned kinds)
{
    if (ptr == NULL)
        return cudaSuccess;
    cudaError_t err = fake_release(ptr, kinds);
    return err == cudaSuccess ? cudaSuccess : fake_fail(err);
}

/* The pitched path shared by cudaMallocPitch and cudaMalloc3D: `rows` rows of `width` bytes,
 * each padded to pitch = width rounded up to the granule. On failure *pitch is 0. */
static cudaError_t alloc_pitched(size_t width, size_t rows, void **out, size_t *pitch)
{
    *out = NULL;
    *pitch = 0;
    size_t p = round_granule(width);
    if (width == 0 || rows == 0) {
        *pitch = p;
        return cudaSuccess;
    }
    if (p == 0 || p > SIZE_MAX / rows)
        return fake_fail(cudaErrorMemoryAllocation);
    cudaError_t err = alloc_charged(fake_current_device(), p * rows, FAKE_KIND_DEVICE, out);
    if (err == cudaSuccess)
        *pitch = p;
    return err;
}

cudaError_t cudaMalloc(void **devPtr, size_t size)
{
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    return alloc_rounded(fake_current_device(), size, FAKE_KIND_DEVICE, devPtr);
}

cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t hStream)
{
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    int device = fake_stream_device(hStream);
    if (device < 0)
        return fake_fail(cudaErrorInvalidResourceHandle);
    return alloc_rounded(device, size, FAKE_KIND_ASYNC, devPtr);
}

cudaError_t cudaMallocFromPoolAsync(void **ptr, size_t size, cudaMemPool_t memPool,
                                    cudaStream_t stream)
{
    if (ptr == NULL || memPool == NULL)
        return fake_fail(cudaErrorInvalidValue);
    if (fake_stream_device(stream) < 0)
        return fake_fail(cudaErrorInvalidResourceHandle);
    return alloc_rounded(fake_pool_device(memPool), size, FAKE_KIND_ASYNC, ptr);
}

cudaError_t cudaMallocManaged(void **devPtr, size_t size, unsigned int flags)
{
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *devPtr = NULL;
    if (size == 0 || (flags != cudaMemAttachGlobal && flags != cudaMemAttachHost))
        return fake_fail(cudaErrorInvalidValue);
    return alloc_uncharged(size, FAKE_KIND_MANAGED, devPtr);
}

cudaError_t cudaMallocHost(void **ptr, size_t size)
{
    if (ptr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *ptr = NULL;
    if (size == 0)
        return cudaSuccess;
    return alloc_uncharged(size, FAKE_KIND_HOST, ptr);
}

cudaError_t cudaHostAlloc(void **pHost, size_t size, unsigned int flags)
{
    if (pHost == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *pHost = NULL;
    unsigned known = cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined;
    if (flags & ~known)
        return fake_fail(cudaErrorInvalidValue);
    if (size == 0)
        return cudaSuccess;
    return alloc_uncharged(size, FAKE_KIND_HOST, pHost);
}

cudaError_t cudaMallocPitch(void **devPtr, size_t *pitch, size_t width, size_t height)
{
    if (devPtr == NULL || pitch == NULL)
        return fake_fail(cudaErrorInvalidValue);
    return alloc_pitched(width, height, devPtr, pitch);
}

cudaError_t cudaMalloc3D(struct cudaPitchedPtr *pitchedDevPtr, struct cudaExtent extent)
{
    if (pitchedDevPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    struct cudaPitchedPtr result = {NULL, 0, extent.width, extent.height};
    cudaError_t err;
    if (extent.depth != 0 && extent.height > SIZE_MAX / extent.depth)
        err = fake_fail(cudaErrorMemoryAllocation);
    else
        err = alloc_pitched(extent.width, extent.height * extent.depth, &result.ptr,
                            &result.pitch);
    *pitchedDevPtr = result;
    return err;
}

cudaError_t cudaFree(void *devPtr)
{
    return release(devPtr, DEVICE_SIDE_KINDS);
}

cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t hStream)
{
    if (fake_stream_device(hStream) < 0)
        return fake_fail(cudaErrorInvalidResourceHandle);
    return release(devPtr, DEVICE_SIDE_KINDS);
}

cudaError_t cudaFreeHost(void *ptr)
{
    return release(ptr, FAKE_KIND_BIT(FAKE_KIND_HOST));
}

cudaError_t cudaMemGetInfo(size_t *free, size_t *total)
{
    if (free == NULL || total == NULL)
        return fake_fail(cudaErrorInvalidValue);
    size_t all = fake_device_mem();
    *total = all;
    *free = all - fake_charged(fake_current_device());
    return cudaSuccess;
}
