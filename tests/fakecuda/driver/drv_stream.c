/* Fake libcuda: streams. A stream is a small heap object that only remembers the device of the
 * context it was created in, since all work runs synchronously inside the call that issues it.
 * Handles are trusted: using a destroyed stream is undefined, as in the real driver. */
#include <stdint.h>
#include <stdlib.h>

#include "drv_internal.h"

struct CUstream_st {
    int device;
    unsigned flags;
};

/* NULL, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD have no object behind them: they mean the
 * current context's default stream (legacy or per-thread, the same thing here). */
static int is_builtin(CUstream stream)
{
    return stream == NULL || stream == CU_STREAM_LEGACY || stream == CU_STREAM_PER_THREAD;
}

CUresult drv_stream_device(CUstream stream, int *device)
{
    if (is_builtin(stream))
        return drv_current_device(device);
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    *device = stream->device;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamCreate(CUstream *phStream, unsigned int Flags)
{
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS)
        return err;
    if (phStream == NULL || (Flags & ~(unsigned)CU_STREAM_NON_BLOCKING) != 0)
        return CUDA_ERROR_INVALID_VALUE;
    struct CUstream_st *stream = malloc(sizeof *stream);
    if (stream == NULL)
        return CUDA_ERROR_OUT_OF_MEMORY;
    stream->device = device;
    stream->flags = Flags;
    *phStream = stream;
    return CUDA_SUCCESS;
}

/* The built-in handles cannot be destroyed: CUDA_ERROR_INVALID_HANDLE. */
CUresult drv_stream_destroy(CUstream stream)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (is_builtin(stream))
        return CUDA_ERROR_INVALID_HANDLE;
    free(stream);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamDestroy_v2(CUstream hStream)
{
    return drv_stream_destroy(hStream);
}

CUresult drv_stream_sync(CUstream stream)
{
    int device = 0;
    return drv_stream_device(stream, &device);
}

CUresult CUDAAPI cuStreamSynchronize(CUstream hStream)
{
    return drv_stream_sync(hStream);
}
