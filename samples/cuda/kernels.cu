/* kernels: a CUDA C++ program with a known number of kernels on several streams, each timed by
 * the program itself with CUDA events: the ground truth for gpuprof's kernel tracing (CUPTI:
 * counts by name, durations against the events) and a kernel-launching program whose device
 * memory is known exactly.
 * Built twice (samples/cuda/CMakeLists.txt): `kernels` with the shared libcudart (cudaMalloc
 * reaches the shim by symbol) and `kernels_static` with nvcc's default static runtime (its
 * memory reaches the shim only through the driver layer, the way cuBLAS's does).
 *
 * Timeline:
 *   alloc_buffers  cudaMalloc 64 MiB (67,108,864 bytes) per stream, 4 streams
 *                                                            live 268,435,456  <- PEAK
 *   fill_kernel    once on the legacy default stream (warm-up, not timed)
 *   per stream s (4, created non-blocking), queued before any wait:
 *     fill_kernel over the stream's buffer, then SPINS spin_kernel, each one between two
 *     CUDA events recorded on s
 *   cudaDeviceSynchronize; every event pair read with cudaEventElapsedTime
 *   cudaFree x4                                              live 0
 *
 * Exact numbers:
 *   kernels launched: 37 = 1 warm-up fill_kernel + 4 x (1 fill_kernel + 8 spin_kernel);
 *     by name: fill_kernel 5, spin_kernel 32; timed by events: 36
 *   fill_kernel: 16,777,216 threads (one per 4-byte word), 65,536 blocks of 256
 *   spin_kernel: 1 block of 32 threads spinning SPIN_CYCLES (2,000,000) clock cycles,
 *     about 1 ms at Hopper clocks; the 4 streams run concurrently
 *   device peak 268,435,456 bytes, all from alloc_buffers (4 blocks); held at exit 0;
 *     no other allocation (events and streams take none through the allocation APIs)
 * Prints one JSON line to stdout (durations in microseconds, in launch order per stream) and
 * returns 0; any CUDA error: a message on stderr and 1. */
#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

#define STREAMS 4
#define SPINS 8
#define SPIN_CYCLES 2000000LL
#define BUFFER_BYTES ((size_t)64 << 20)
#define BUFFER_WORDS (BUFFER_BYTES / sizeof(unsigned))
#define FILL_THREADS 256
#define TIMED_PER_STREAM (1 + SPINS)

#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "kernels: %s failed: %s\n", #call, cudaGetErrorString(err_));     \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

__global__ void fill_kernel(unsigned *buf, unsigned value, size_t words)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < words)
        buf[i] = value ^ (unsigned)i;
}

/* Spins for `cycles` SM clock cycles; thread 0 stores the count so the loop cannot vanish. */
__global__ void spin_kernel(long long cycles, unsigned *sink)
{
    long long start = clock64();
    long long spins = 0;
    while (clock64() - start < cycles)
        spins++;
    if (threadIdx.x == 0)
        sink[blockIdx.x] = (unsigned)spins;
}

static void launch_fill(unsigned *buf, unsigned value, cudaStream_t stream)
{
    unsigned blocks = (unsigned)((BUFFER_WORDS + FILL_THREADS - 1) / FILL_THREADS);
    fill_kernel<<<blocks, FILL_THREADS, 0, stream>>>(buf, value, BUFFER_WORDS);
    CHECK_CUDA(cudaGetLastError());
}

/* The program's one allocation site. */
static void alloc_buffers(unsigned **buffers)
{
    for (int s = 0; s < STREAMS; s++)
        CHECK_CUDA(cudaMalloc((void **)&buffers[s], BUFFER_BYTES));
}

int main(void)
{
    unsigned *buffers[STREAMS];
    cudaStream_t streams[STREAMS];
    cudaEvent_t start[STREAMS][TIMED_PER_STREAM], stop[STREAMS][TIMED_PER_STREAM];

    CHECK_CUDA(cudaSetDevice(0));
    alloc_buffers(buffers);
    for (int s = 0; s < STREAMS; s++) {
        CHECK_CUDA(cudaStreamCreateWithFlags(&streams[s], cudaStreamNonBlocking));
        for (int k = 0; k < TIMED_PER_STREAM; k++) {
            CHECK_CUDA(cudaEventCreate(&start[s][k]));
            CHECK_CUDA(cudaEventCreate(&stop[s][k]));
        }
    }
    int launched = 0, fills = 0, spin_count = 0;
    launch_fill(buffers[0], 0u, 0); /* warm-up: module load, first-launch costs */
    launched++;
    fills++;
    CHECK_CUDA(cudaDeviceSynchronize());

    for (int s = 0; s < STREAMS; s++) {
        CHECK_CUDA(cudaEventRecord(start[s][0], streams[s]));
        launch_fill(buffers[s], 0x9e3779b9u * (unsigned)(s + 1), streams[s]);
        CHECK_CUDA(cudaEventRecord(stop[s][0], streams[s]));
        launched++;
        fills++;
        for (int k = 1; k <= SPINS; k++) {
            CHECK_CUDA(cudaEventRecord(start[s][k], streams[s]));
            spin_kernel<<<1, 32, 0, streams[s]>>>(SPIN_CYCLES, buffers[s]);
            CHECK_CUDA(cudaGetLastError());
            CHECK_CUDA(cudaEventRecord(stop[s][k], streams[s]));
            launched++;
            spin_count++;
        }
    }
    CHECK_CUDA(cudaDeviceSynchronize());

    double total_us = 0.0;
    printf("{\"sample\": \"kernels\", \"runtime\": \"%s\", \"streams\": %d, \"kernels\": %d, "
           "\"by_name\": {\"fill_kernel\": %d, \"spin_kernel\": %d}, \"timed\": %d, "
           "\"device_bytes\": %zu, \"durations_us\": [",
#ifdef GPUPROF_CUDART_STATIC
           "static",
#else
           "shared",
#endif
           STREAMS, launched, fills, spin_count, STREAMS * TIMED_PER_STREAM,
           (size_t)STREAMS * BUFFER_BYTES);
    for (int s = 0; s < STREAMS; s++) {
        for (int k = 0; k < TIMED_PER_STREAM; k++) {
            float ms = 0.0f;
            CHECK_CUDA(cudaEventElapsedTime(&ms, start[s][k], stop[s][k]));
            total_us += ms * 1000.0;
            printf("%s{\"stream\": %d, \"kernel\": \"%s\", \"us\": %.3f}", s + k ? ", " : "", s,
                   k == 0 ? "fill_kernel" : "spin_kernel", ms * 1000.0);
        }
    }
    printf("], \"total_us\": %.3f}\n", total_us);

    for (int s = 0; s < STREAMS; s++) {
        for (int k = 0; k < TIMED_PER_STREAM; k++) {
            CHECK_CUDA(cudaEventDestroy(start[s][k]));
            CHECK_CUDA(cudaEventDestroy(stop[s][k]));
        }
        CHECK_CUDA(cudaStreamDestroy(streams[s]));
        CHECK_CUDA(cudaFree(buffers[s]));
    }
    return 0;
}
