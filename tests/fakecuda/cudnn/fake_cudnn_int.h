/* fake_cudnn_int.h — what the two halves of the fake libcudnn.so.9 share. Test-only. */
#ifndef FAKE_CUDNN_INT_H
#define FAKE_CUDNN_INT_H

#include <cudnn.h>

/* The handle: the stream its work goes to. */
struct cudnnContext {
    cudaStream_t stream;
};

/* Launches one kernel named name on the handle's stream: an activity record of the fake
 * libcupti.so.13 when that is loaded (the fake runtime launches nothing), else nothing. */
void fake_cudnn_launch(cudnnHandle_t handle, const char *name);

#endif
