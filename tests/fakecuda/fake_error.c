/* Fake libcudart: error codes' names and messages, the per-thread last error, and the
 * translation of driver results into runtime errors.
 *
 * The texts match the real runtime's for the codes the fake can return, because tests and
 * gpuprof's report compare them. Like the real runtime, the last error is per host thread:
 * every failing call records its code, cudaGetLastError returns and clears it,
 * cudaPeekAtLastError returns it and leaves it. */
#include <stddef.h>

#include "fake_internal.h"

static _Thread_local cudaError_t last_error = cudaSuccess;

struct error_text {
    cudaError_t code;
    const char *name;
    const char *message;
};

static const struct error_text error_texts[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorCudartUnloading, "cudaErrorCudartUnloading", "driver shutting down"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorDeviceUninitialized, "cudaErrorDeviceUninitialized", "invalid device context"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorSymbolNotFound, "cudaErrorSymbolNotFound", "named symbol not found"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

static const struct error_text *find_text(cudaError_t error)
{
    for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
        if (error_texts[i].code == error)
            return &error_texts[i];
    return NULL;
}

cudaError_t fake_fail(cudaError_t err)
{
    last_error = err;
    return err;
}

/* The driver results the fake driver can return, as the real runtime reports them. */
static const struct {
    CUresult driver;
    cudaError_t runtime;
} error_map[] = {
    {CUDA_SUCCESS, cudaSuccess},
    {CUDA_ERROR_INVALID_VALUE, cudaErrorInvalidValue},
    {CUDA_ERROR_OUT_OF_MEMORY, cudaErrorMemoryAllocation},
    {CUDA_ERROR_NOT_INITIALIZED, cudaErrorInitializationError},
    {CUDA_ERROR_DEINITIALIZED, cudaErrorCudartUnloading},
    {CUDA_ERROR_NO_DEVICE, cudaErrorNoDevice},
    {CUDA_ERROR_INVALID_DEVICE, cudaErrorInvalidDevice},
    {CUDA_ERROR_INVALID_CONTEXT, cudaErrorDeviceUninitialized},
    {CUDA_ERROR_INVALID_HANDLE, cudaErrorInvalidResourceHandle},
    {CUDA_ERROR_NOT_FOUND, cudaErrorSymbolNotFound},
    {CUDA_ERROR_NOT_SUPPORTED, cudaErrorNotSupported},
};

cudaError_t fake_cu_error(CUresult res)
{
    for (size_t i = 0; i < sizeof error_map / sizeof error_map[0]; i++)
        if (error_map[i].driver == res)
            return error_map[i].runtime;
    return cudaErrorUnknown;
}

cudaError_t fake_fail_cu(CUresult res)
{
    return res == CUDA_SUCCESS ? cudaSuccess : fake_fail(fake_cu_error(res));
}

/* The real runtime answers "unrecognized error code" for codes it does not know. */
const char *cudaGetErrorString(cudaError_t error)
{
    const struct error_text *t = find_text(error);
    return t != NULL ? t->message : "unrecognized error code";
}

const char *cudaGetErrorName(cudaError_t error)
{
    const struct error_text *t = find_text(error);
    return t != NULL ? t->name : "unrecognized error code";
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t err = last_error;
    last_error = cudaSuccess;
    return err;
}

cudaError_t cudaPeekAtLastError(void)
{
    return last_error;
}
