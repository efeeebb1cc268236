/* fakecuda_selftest: checks the fake libcudart.so.13 the way real programs meet it. It is linked
 * against the toolkit's real libcudart and run with LD_LIBRARY_PATH pointing at the fake, so it
 * also proves the fake is the one the dynamic loader picks (the device name says so).
 *
 *   fakecuda_selftest full <expected total bytes> <expected devices>
 *       exact accounting, errors, copies, streams, pools, devices, reset
 *   fakecuda_selftest badenv
 *       run with unparsable FAKECUDA_* values: expects the defaults and one stderr line each */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

static int failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                      \
        }                                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                                       \
    do {                                                                                     \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);       \
        if (a_ != b_) {                                                                      \
            fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", __FILE__, __LINE__,  \
                    #a, a_, #b, b_);                                                         \
            failures++;                                                                      \
        }                                                                                    \
    } while (0)

static size_t free_bytes(void)
{
    size_t free = 0, total = 0;
    CHECK_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
    return free;
}

/* Fails the whole run at once when the real runtime got loaded: nothing else would mean much. */
static void check_is_fake(size_t total, int devices)
{
    struct cudaDeviceProp prop;
    cudaError_t err = cudaGetDeviceProperties(&prop, 0);
    if (err != cudaSuccess || strcmp(prop.name, "gpuprof fake device") != 0) {
        fprintf(stderr, "fakecuda_selftest: the fake libcudart.so.13 was not loaded (%d)\n",
                (int)err);
        exit(1);
    }
    CHECK_EQ(prop.totalGlobalMem, total);
    CHECK_EQ(prop.major, 9);
    CHECK_EQ(prop.minor, 0);
    int count = 0;
    CHECK_EQ(cudaGetDeviceCount(&count), cudaSuccess);
    CHECK_EQ(count, devices);
    int version = 0;
    CHECK_EQ(cudaRuntimeGetVersion(&version), cudaSuccess);
    CHECK_EQ(version, 13000);
    CHECK_EQ(cudaDriverGetVersion(&version), cudaSuccess);
    CHECK_EQ(version, 13000);
}

static void check_rounding(size_t total)
{
    size_t free = 0, all = 0;
    CHECK_EQ(cudaMemGetInfo(&free, &all), cudaSuccess);
    CHECK_EQ(all, total);
    CHECK_EQ(free, total);

    void *a = NULL, *b = NULL, *c = NULL, *z = (void *)1;
    CHECK_EQ(cudaMalloc(&a, 1000), cudaSuccess); /* charged 1024 */
    CHECK_EQ(cudaMalloc(&b, 512), cudaSuccess);  /* charged 512 */
    CHECK_EQ(cudaMalloc(&c, 1), cudaSuccess);    /* charged 512 */
    CHECK(a != NULL && b != NULL && c != NULL);
    CHECK_EQ(free_bytes(), total - 2048);
    CHECK_EQ(cudaMalloc(&z, 0), cudaSuccess);
    CHECK(z == NULL);
    CHECK_EQ(free_bytes(), total - 2048);

    CHECK_EQ(cudaFree(b), cudaSuccess);
    CHECK_EQ(free_bytes(), total - 1536);
    CHECK_EQ(cudaFree(a), cudaSuccess);
    CHECK_EQ(cudaFree(c), cudaSuccess);
    CHECK_EQ(free_bytes(), total);
}

static void check_oom(size_t total)
{
    void *p = (void *)1;
    CHECK_EQ(cudaMalloc(&p, total + 1), cudaErrorMemoryAllocation);
    CHECK(p == NULL);
    CHECK_EQ(free_bytes(), total);
    CHECK_EQ(cudaPeekAtLastError(), cudaErrorMemoryAllocation);
    CHECK_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    CHECK(strcmp(cudaGetErrorString(cudaErrorMemoryAllocation), "out of memory") == 0);
    CHECK(strcmp(cudaGetErrorName(cudaErrorMemoryAllocation), "cudaErrorMemoryAllocation") == 0);
    CHECK(strcmp(cudaGetErrorName(cudaSuccess), "cudaSuccess") == 0);
    CHECK(strcmp(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument") == 0);

    /* total - 511 rounds up to exactly total (total is a multiple of 512 in these tests), so it
     * fits; after that not even one byte does. */
    void *all = NULL, *one = (void *)1;
    CHECK_EQ(cudaMalloc(&all, total - 511), cudaSuccess);
    CHECK_EQ(free_bytes(), 0);
    CHECK_EQ(cudaMalloc(&one, 1), cudaErrorMemoryAllocation);
    CHECK(one == NULL);
    /* Managed memory is not charged, so it still works with the device full. */
    void *managed = NULL;
    CHECK_EQ(cudaMallocManaged(&managed, 4096, cudaMemAttachGlobal), cudaSuccess);
    CHECK_EQ(cudaFree(managed), cudaSuccess);
    CHECK_EQ(cudaFree(all), cudaSuccess);
    CHECK_EQ(free_bytes(), total);
    (void)cudaGetLastError();
}

static void check_pitched(size_t total)
{
    void *p = NULL;
    size_t pitch = 0;
    CHECK_EQ(cudaMallocPitch(&p, &pitch, 1000, 100), cudaSuccess);
    CHECK_EQ(pitch, 1024);
    CHECK_EQ(free_bytes(), total - 102400);

    struct cudaPitchedPtr pp;
    struct cudaExtent extent = {100, 10, 3};
    CHECK_EQ(cudaMalloc3D(&pp, extent), cudaSuccess);
    CHECK_EQ(pp.pitch, 512);
    CHECK_EQ(pp.xsize, 100);
    CHECK_EQ(pp.ysize, 10);
    CHECK_EQ(free_bytes(), total - 102400 - 15360);

    CHECK_EQ(cudaFree(p), cudaSuccess);
    CHECK_EQ(cudaFree(pp.ptr), cudaSuccess);
    CHECK_EQ(free_bytes(), total);
}

static void check_uncharged(size_t total)
{
    /* Managed memory may oversubscribe: twice the device still succeeds and is not charged. */
    void *managed = NULL, *pinned = NULL, *host = NULL, *bad = (void *)1;
    CHECK_EQ(cudaMallocManaged(&managed, total * 2, cudaMemAttachGlobal), cudaSuccess);
    CHECK_EQ(cudaMallocHost(&pinned, 2 << 20), cudaSuccess);
    CHECK_EQ(cudaHostAlloc(&host, 1000, cudaHostAllocDefault), cudaSuccess);
    CHECK_EQ(cudaMallocManaged(&bad, 0, cudaMemAttachGlobal), cudaErrorInvalidValue);
    CHECK(bad == NULL);
    CHECK_EQ(free_bytes(), total);

    /* Each family frees only its own pointers. */
    CHECK_EQ(cudaFree(pinned), cudaErrorInvalidValue);
    CHECK_EQ(cudaFreeHost(managed), cudaErrorInvalidValue);
    CHECK_EQ(cudaFree(managed), cudaSuccess);
    CHECK_EQ(cudaFreeHost(pinned), cudaSuccess);
    CHECK_EQ(cudaFreeHost(host), cudaSuccess);
    (void)cudaGetLastError();
}

static void check_frees(void)
{
    int local = 0;
    void *p = NULL;
    CHECK_EQ(cudaFree(NULL), cudaSuccess);
    CHECK_EQ(cudaFreeHost(NULL), cudaSuccess);
    CHECK_EQ(cudaFree(&local), cudaErrorInvalidValue);
    CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);
    CHECK_EQ(cudaMalloc(&p, 64), cudaSuccess);
    CHECK_EQ(cudaFree(p), cudaSuccess);
    CHECK_EQ(cudaFree(p), cudaErrorInvalidValue); /* double free */
    (void)cudaGetLastError();
}

static void check_copies(void)
{
    enum { N = 3000 };
    unsigned char in[N], out[N];
    for (int i = 0; i < N; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    memset(out, 0, sizeof out);

    void *d1 = NULL, *d2 = NULL;
    cudaStream_t s = NULL;
    CHECK_EQ(cudaMalloc(&d1, N), cudaSuccess);
    CHECK_EQ(cudaMalloc(&d2, N), cudaSuccess);
    CHECK_EQ(cudaStreamCreate(&s), cudaSuccess);
    CHECK_EQ(cudaMemcpy(d1, in, N, cudaMemcpyHostToDevice), cudaSuccess);
    CHECK_EQ(cudaMemcpyAsync(d2, d1, N, cudaMemcpyDeviceToDevice, s), cudaSuccess);
    CHECK_EQ(cudaStreamSynchronize(s), cudaSuccess);
    CHECK_EQ(cudaMemcpy(out, d2, N, cudaMemcpyDeviceToHost), cudaSuccess);
    CHECK(memcmp(in, out, N) == 0);

    CHECK_EQ(cudaMemset(d1, 0xab, 100), cudaSuccess);
    CHECK_EQ(cudaMemsetAsync((char *)d1 + 100, 0xcd, 50, s), cudaSuccess);
    CHECK_EQ(cudaMemcpy(out, d1, 200, cudaMemcpyDefault), cudaSuccess);
    CHECK(out[0] == 0xab && out[99] == 0xab && out[100] == 0xcd && out[149] == 0xcd);
    CHECK(out[150] == in[150]);
    CHECK_EQ(cudaMemcpy(out, d1, 1, (enum cudaMemcpyKind)7), cudaErrorInvalidMemcpyDirection);
    (void)cudaGetLastError();

    CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
    CHECK_EQ(cudaStreamDestroy(s), cudaSuccess);
    CHECK_EQ(cudaFree(d1), cudaSuccess);
    CHECK_EQ(cudaFree(d2), cudaSuccess);
}

static void check_async(size_t total)
{
    cudaStream_t s = NULL;
    cudaMemPool_t def = NULL, pool = NULL;
    void *a = NULL, *b = NULL, *c = NULL;
    CHECK_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
    CHECK_EQ(cudaMallocAsync(&a, 1000, s), cudaSuccess);
    CHECK_EQ(free_bytes(), total - 1024);
    CHECK_EQ(cudaDeviceGetDefaultMemPool(&def, 0), cudaSuccess);
    CHECK_EQ(cudaMallocFromPoolAsync(&b, 513, def, s), cudaSuccess);
    CHECK_EQ(free_bytes(), total - 2048);

    struct cudaMemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = 0;
    CHECK_EQ(cudaMemPoolCreate(&pool, &props), cudaSuccess);
    CHECK_EQ(cudaMallocFromPoolAsync(&c, 4096, pool, NULL), cudaSuccess);
    CHECK_EQ(free_bytes(), total - 6144);
    CHECK_EQ(cudaMemPoolDestroy(def), cudaErrorInvalidValue);
    (void)cudaGetLastError();

    CHECK_EQ(cudaFreeAsync(a, s), cudaSuccess);
    CHECK_EQ(cudaFreeAsync(b, s), cudaSuccess);
    CHECK_EQ(cudaFree(c), cudaSuccess); /* stream-ordered memory may also go through cudaFree */
    CHECK_EQ(cudaMemPoolDestroy(pool), cudaSuccess);
    CHECK_EQ(cudaStreamDestroy(s), cudaSuccess);
    CHECK_EQ(free_bytes(), total);
}

static void check_devices(size_t total, int devices)
{
    int dev = -1;
    CHECK_EQ(cudaGetDevice(&dev), cudaSuccess);
    CHECK_EQ(dev, 0);
    CHECK_EQ(cudaSetDevice(devices), cudaErrorInvalidDevice);
    CHECK_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
    if (devices < 2)
        return;

    /* Each device has its own budget: a charge on device 1 leaves device 0 untouched. */
    void *on0 = NULL, *on1 = NULL;
    CHECK_EQ(cudaMalloc(&on0, 512), cudaSuccess);
    CHECK_EQ(cudaSetDevice(1), cudaSuccess);
    CHECK_EQ(free_bytes(), total);
    CHECK_EQ(cudaMalloc(&on1, 1 << 20), cudaSuccess);
    CHECK_EQ(free_bytes(), total - (1 << 20));
    CHECK_EQ(cudaSetDevice(0), cudaSuccess);
    CHECK_EQ(free_bytes(), total - 512);
    CHECK_EQ(cudaFree(on0), cudaSuccess);
    CHECK_EQ(cudaFree(on1), cudaSuccess); /* any device's pointer can be freed from anywhere */
    CHECK_EQ(free_bytes(), total);
}

static void check_reset(size_t total)
{
    void *a = NULL, *b = NULL;
    CHECK_EQ(cudaMalloc(&a, 12345), cudaSuccess);
    CHECK_EQ(cudaMallocHost(&b, 100), cudaSuccess);
    CHECK_EQ(free_bytes(), total - 12800);
    CHECK_EQ(cudaDeviceReset(), cudaSuccess);
    CHECK_EQ(free_bytes(), total);
    CHECK_EQ(cudaFree(a), cudaErrorInvalidValue); /* gone with the context */
    (void)cudaGetLastError();
}

static int run_full(size_t total, int devices)
{
    check_is_fake(total, devices);
    check_rounding(total);
    check_oom(total);
    check_pitched(total);
    check_uncharged(total);
    check_frees();
    check_copies();
    check_async(total);
    check_devices(total, devices);
    check_reset(total);
    return failures == 0 ? 0 : 1;
}

/* The fake reads its environment on first use, so stderr is captured around that first call. */
static int run_badenv(void)
{
    char path[] = "/tmp/fakecuda_selftest.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return 1;
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    char text[1024] = {0};
    CHECK(pread(fd, text, sizeof text - 1, 0) >= 0);
    close(fd);
    CHECK_EQ(err, cudaSuccess);
    CHECK_EQ(count, 1);
    CHECK(strstr(text, "FAKECUDA_DEVICE_MEM") != NULL);
    CHECK(strstr(text, "FAKECUDA_DEVICES") != NULL);
    check_is_fake((size_t)16 << 30, 1);
    CHECK_EQ(free_bytes(), (size_t)16 << 30);
    return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc == 4 && strcmp(argv[1], "full") == 0)
        rc = run_full((size_t)strtoull(argv[2], NULL, 10), atoi(argv[3]));
    else if (argc == 2 && strcmp(argv[1], "badenv") == 0)
        rc = run_badenv();
    else
        fprintf(stderr, "usage: fakecuda_selftest full <total bytes> <devices> | badenv\n");
    if (rc == 0)
        printf("fakecuda_selftest: ok\n");
    return rc;
}
