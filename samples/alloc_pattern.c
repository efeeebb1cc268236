/* alloc_pattern: a CUDA runtime program with a known allocation pattern; gpuprof's README demo
 * and an end-to-end test input. Each allocation site is its own static function so the
 * profiler's stacks name it.
 *
 * Timeline (requested bytes, device memory only; managed and pinned host are kept apart):
 *   site_alpha   cudaMalloc       67,108,864 (64 MiB)                  live  67,108,864
 *   site_gamma   cudaMallocAsync   8,388,608 (8 MiB) on a stream       live  75,497,472
 *                cudaFreeAsync + cudaStreamSynchronize                 live  67,108,864
 *   site_beta    cudaMalloc x3    16,777,216 each (3 x 16 MiB)         live 117,440,512
 *   site_pitch   cudaMallocPitch  width 1000 x height 100 -> pitch 1024
 *                                 requested 100,000 (= width*height), reserved 102,400
 *                                 (= pitch*height)                     live 117,540,512
 *   site_leaky   cudaMalloc        1,048,576 (1 MiB), never freed     live 118,589,088  <- PEAK
 *   site_managed cudaMallocManaged 4,194,304 (4 MiB)   managed, not device
 *   site_pinned  cudaMallocHost    2,097,152 (2 MiB)   pinned host, not device
 *   cudaMemGetInfo (once, at the peak), a 2 MiB host->device->host copy through alpha
 *   then cudaFree beta x3, pitch, alpha, managed; cudaFreeHost pinned.
 *
 * Exact numbers:
 *   device peak, requested sizes (pitch block as width*height):    118,589,088 bytes
 *   device peak, pitch block counted as pitch*height:              118,591,488 bytes
 *   the fake's charge at the peak (each size rounded up to 512; every size here already is a
 *     multiple of 512 except the pitch block, which the fake charges as pitch*height = 102,400):
 *                                                                  118,591,488 bytes
 *   under the fake with the default 16G: cudaMemGetInfo = free 17,061,277,696 of
 *     17,179,869,184 total
 *   sites live at the peak: site_alpha 67,108,864 (1 block), site_beta 50,331,648 (3 blocks),
 *     site_pitch 100,000 (102,400 reserved, 1 block), site_leaky 1,048,576 (1 block);
 *     site_gamma is not live at the peak (its own high point is 75,497,472 with alpha)
 *   managed peak 4,194,304; pinned host peak 2,097,152
 *   device bytes requested over the whole run: 126,977,696 (pitch block as width*height)
 *   calls: 5 cudaMalloc, 1 cudaMallocAsync, 1 cudaMallocPitch, 1 cudaMallocManaged,
 *     1 cudaMallocHost; 5 cudaFree + 1 cudaFreeAsync (device), 1 cudaFree (managed),
 *     1 cudaFreeHost
 *   still held at exit: 1,048,576 device bytes, all from site_leaky (1 block); nothing else.
 * Prints one line to stdout and returns 0. */
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

#define MIB ((size_t)1 << 20)
#define PITCH_WIDTH ((size_t)1000)
#define PITCH_HEIGHT ((size_t)100)

/* A failed call ends the program the way a careful real program would. */
#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "alloc_pattern: %s failed: %s\n", #call,                         \
                    cudaGetErrorString(err_));                                               \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* Requested device bytes live now and at most, kept by the program itself so its output can
 * be compared with what the profiler reports. */
static size_t live_device;
static size_t peak_device;

static void note_alloc(size_t bytes)
{
    live_device += bytes;
    if (live_device > peak_device)
        peak_device = live_device;
}

static void note_free(size_t bytes)
{
    live_device -= bytes;
}

static void *site_alpha(void)
{
    void *p = NULL;
    CHECK_CUDA(cudaMalloc(&p, 64 * MIB));
    note_alloc(64 * MIB);
    return p;
}

/* Scratch that lives and dies on the stream before the peak. */
static void site_gamma(cudaStream_t stream)
{
    void *p = NULL;
    CHECK_CUDA(cudaMallocAsync(&p, 8 * MIB, stream));
    note_alloc(8 * MIB);
    CHECK_CUDA(cudaMemsetAsync(p, 0, 8 * MIB, stream));
    CHECK_CUDA(cudaFreeAsync(p, stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
    note_free(8 * MIB);
}

static void *site_beta(void)
{
    void *p = NULL;
    CHECK_CUDA(cudaMalloc(&p, 16 * MIB));
    note_alloc(16 * MIB);
    return p;
}

static void *site_pitch(size_t *pitch)
{
    void *p = NULL;
    CHECK_CUDA(cudaMallocPitch(&p, pitch, PITCH_WIDTH, PITCH_HEIGHT));
    note_alloc(PITCH_WIDTH * PITCH_HEIGHT);
    return p;
}

/* The deliberate leak: allocated before the peak and never freed. */
static void site_leaky(void)
{
    void *p = NULL;
    CHECK_CUDA(cudaMalloc(&p, 1 * MIB));
    note_alloc(1 * MIB);
}

static void *site_managed(void)
{
    void *p = NULL;
    CHECK_CUDA(cudaMallocManaged(&p, 4 * MIB, cudaMemAttachGlobal));
    return p;
}

static void *site_pinned(void)
{
    void *p = NULL;
    CHECK_CUDA(cudaMallocHost(&p, 2 * MIB));
    return p;
}

int main(void)
{
    cudaStream_t stream = NULL;
    CHECK_CUDA(cudaStreamCreate(&stream));

    void *alpha = site_alpha();
    site_gamma(stream);
    void *beta[3];
    for (int i = 0; i < 3; i++)
        beta[i] = site_beta();
    size_t pitch = 0;
    void *pitched = site_pitch(&pitch);
    site_leaky();
    void *managed = site_managed();
    void *pinned = site_pinned();

    size_t free_bytes = 0, total_bytes = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));

    /* Touch the memory like a real program would, through the pinned staging buffer. */
    CHECK_CUDA(cudaMemcpy(alpha, pinned, 2 * MIB, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(pinned, alpha, 2 * MIB, cudaMemcpyDeviceToHost));

    for (int i = 0; i < 3; i++) {
        CHECK_CUDA(cudaFree(beta[i]));
        note_free(16 * MIB);
    }
    CHECK_CUDA(cudaFree(pitched));
    note_free(PITCH_WIDTH * PITCH_HEIGHT);
    CHECK_CUDA(cudaFree(alpha));
    note_free(64 * MIB);
    CHECK_CUDA(cudaFree(managed));
    CHECK_CUDA(cudaFreeHost(pinned));
    CHECK_CUDA(cudaStreamDestroy(stream));

    printf("alloc_pattern: device peak %zu bytes requested (pitch %zu), cudaMemGetInfo "
           "%zu of %zu bytes used, %zu bytes left allocated by site_leaky\n",
           peak_device, pitch, total_bytes - free_bytes, total_bytes, live_device);
    return 0;
}
