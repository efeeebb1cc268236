/* Fake libcudart: copies and fills. Device memory is host memory here, so these are memmove and
 * memset; the async forms finish before returning. Pointers are not checked against the live
 * allocation map: the fake serves tests of a profiler, not of the program's own pointer use.
 * (Unlike the allocation calls these do not go through the driver: the fake driver offers no
 * copy functions, and a profiler of memory has nothing to see in them.) */
#include <string.h>

#include "fake_internal.h"

static cudaError_t copy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
{
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
        return fake_fail(cudaErrorInvalidMemcpyDirection);
    if (count == 0)
        return cudaSuccess;
    if (dst == NULL || src == NULL)
        return fake_fail(cudaErrorInvalidValue);
    memmove(dst, src, count);
    return cudaSuccess;
}

static cudaError_t fill(void *devPtr, int value, size_t count)
{
    if (count == 0)
        return cudaSuccess;
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    memset(devPtr, value, count);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
{
    return copy(dst, src, count, kind);
}

/* The stream is not looked at: the copy is done before the call returns. */
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind,
                            cudaStream_t stream)
{
    (void)stream;
    return copy(dst, src, count, kind);
}

cudaError_t cudaMemset(void *devPtr, int value, size_t count)
{
    return fill(devPtr, value, count);
}

cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
{
    (void)stream;
    return fill(devPtr, value, count);
}
