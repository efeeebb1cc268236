/* hold: takes memory and then waits to be killed — the input for gpuprof's crash-safety
 * test (a SIGKILLed program leaves a trace readable up to its last flush).
 *
 * hold_blocks allocates 3 x 32 MiB (100,663,296 bytes) with cudaMalloc, prints "holding"
 * to stdout, then sleeps up to argv[1] seconds (default 30) and frees everything. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#define BLOCKS 3
#define BLOCK_BYTES ((size_t)32 << 20)

static int hold_blocks(void **blocks)
{
    for (int i = 0; i < BLOCKS; i++)
        if (cudaMalloc(&blocks[i], BLOCK_BYTES) != cudaSuccess)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 30;
    void *blocks[BLOCKS] = {0};
    if (hold_blocks(blocks) < 0) {
        fprintf(stderr, "hold: cudaMalloc failed\n");
        return 1;
    }
    printf("holding %d x %zu bytes\n", BLOCKS, BLOCK_BYTES);
    fflush(stdout);
    sleep((unsigned)seconds);
    for (int i = 0; i < BLOCKS; i++)
        cudaFree(blocks[i]);
    return 0;
}
