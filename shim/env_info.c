/* env_info.c — the run's environment for the trace's INFO records: CUDA driver and runtime
 * versions, the kernel driver, each GPU's name, memory and compute capability, and the
 * versions of cuBLAS, cuDNN and NCCL once they are loaded. A report needs these to say
 * "the driver is older than the runtime needs", the most common broken setup.
 *
 * The CUDA facts are asked once, on the program thread, right after its first successful
 * CUDA call (CUDA is initialised then; the hook guard is held, so the calls are not
 * recorded); the library versions are looked for by the writer thread at each flush until
 * found, with dlopen(RTLD_NOLOAD) so nothing is ever loaded. Values are appended to a small
 * table under a mutex that is never held across a call into CUDA or a library. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define GP_ENV_MAX 96
#define GP_ENV_GPUS 16 /* devices described */
#define GP_ENV_KEY 48
#define GP_ENV_VALUE 160

static struct {
    pthread_mutex_t mu;
    char key[GP_ENV_MAX][GP_ENV_KEY];
    char value[GP_ENV_MAX][GP_ENV_VALUE];
    unsigned n;
} gp_env = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic bool gp_env_cuda_done;
static unsigned gp_env_written;                  /* writer thread: entries in this trace */
static bool gp_env_have_cublas, gp_env_have_cudnn, gp_env_have_nccl; /* writer thread */

static void put(const char *key, const char *value)
{
    pthread_mutex_lock(&gp_env.mu);
    if (gp_env.n < GP_ENV_MAX) {
        snprintf(gp_env.key[gp_env.n], GP_ENV_KEY, "%s", key);
        snprintf(gp_env.value[gp_env.n], GP_ENV_VALUE, "%s", value);
        gp_env.n++;
    }
    pthread_mutex_unlock(&gp_env.mu);
}

static void put_int(const char *key, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    put(key, buf);
}

/* A function of an already loaded library: the global scope first, then by soname. */
static void *loaded_fn(const char *const *sonames, const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    for (size_t i = 0; p == NULL && sonames[i] != NULL; i++) {
        void *h = dlopen(sonames[i], RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            p = dlsym(h, name);
            dlclose(h); /* still loaded: NOLOAD took a reference to a loaded object only */
        }
    }
    return p;
}

static const char *const gp_cuda_sonames[] = {"libcuda.so.1", NULL};
static const char *const gp_cudart_sonames[] = {"libcudart.so.13", "libcudart.so.12",
                                                "libcudart.so.11.0", NULL};

/* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 ..." -> 550.54.15 */
static void kernel_driver(void)
{
    FILE *f = fopen("/proc/driver/nvidia/version", "re");
    if (f == NULL)
        return;
    char line[256];
    if (fgets(line, sizeof line, f) != NULL) {
        const char *m = strstr(line, "Kernel Module");
        if (m != NULL) {
            m += strlen("Kernel Module");
            m += strspn(m, " \t");
            char ver[32];
            size_t n = strspn(m, "0123456789.");
            if (n > 0 && n < sizeof ver) {
                memcpy(ver, m, n);
                ver[n] = '\0';
                put("nvidia.kernel_driver", ver);
            }
        }
    }
    fclose(f);
}

void gp_env_collect_cuda(void)
{
    bool expected = false;
    if (GP_LIKELY(atomic_load_explicit(&gp_env_cuda_done, memory_order_relaxed)) ||
        !atomic_compare_exchange_strong(&gp_env_cuda_done, &expected, true))
        return;
    int (*drv_version)(int *) = (int (*)(int *))loaded_fn(gp_cuda_sonames, "cuDriverGetVersion");
    int (*rt_version)(int *) = (int (*)(int *))loaded_fn(gp_cudart_sonames, "cudaRuntimeGetVersion");
    int v = 0;
    if (drv_version && drv_version(&v) == 0)
        put_int("cuda.driver_version", v);
    v = 0;
    if (rt_version && rt_version(&v) == 0)
        put_int("cuda.runtime_version", v);
    kernel_driver();

    int (*count)(int *) = (int (*)(int *))loaded_fn(gp_cuda_sonames, "cuDeviceGetCount");
    int (*get)(int *, int) = (int (*)(int *, int))loaded_fn(gp_cuda_sonames, "cuDeviceGet");
    int (*name)(char *, int, int) = (int (*)(char *, int, int))loaded_fn(gp_cuda_sonames, "cuDeviceGetName");
    int (*mem)(size_t *, int) = (int (*)(size_t *, int))loaded_fn(gp_cuda_sonames, "cuDeviceTotalMem_v2");
    int (*attr)(int *, int, int) = (int (*)(int *, int, int))loaded_fn(gp_cuda_sonames, "cuDeviceGetAttribute");
    int n = 0;
    if (count == NULL || get == NULL || count(&n) != 0 || n < 0)
        return;
    put_int("gpu.count", n);
    for (int i = 0; i < n && i < GP_ENV_GPUS; i++) {
        int dev = 0;
        char key[GP_ENV_KEY], buf[GP_ENV_VALUE];
        if (get(&dev, i) != 0)
            continue;
        if (name && name(buf, (int)sizeof buf, dev) == 0) {
            buf[sizeof buf - 1] = '\0';
            snprintf(key, sizeof key, "gpu.%d.name", i);
            put(key, buf);
        }
        size_t bytes = 0;
        if (mem && mem(&bytes, dev) == 0) {
            snprintf(key, sizeof key, "gpu.%d.memory_bytes", i);
            put_int(key, (long long)bytes);
        }
        int major = 0, minor = 0; /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR/MINOR */
        if (attr && attr(&major, 75, dev) == 0 && attr(&minor, 76, dev) == 0) {
            snprintf(key, sizeof key, "gpu.%d.compute_capability", i);
            snprintf(buf, sizeof buf, "%d.%d", major, minor);
            put(key, buf);
        }
    }
}

/* Writer thread: library versions, looked for until found. */
static void poll_libraries(void)
{
    char buf[48];
    if (!gp_env_have_cublas) {
        static const char *const so[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", NULL};
        int (*prop)(int, int *) = (int (*)(int, int *))loaded_fn(so, "cublasGetProperty");
        int ma = 0, mi = 0, pa = 0; /* MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL */
        if (prop && prop(0, &ma) == 0 && prop(1, &mi) == 0 && prop(2, &pa) == 0) {
            snprintf(buf, sizeof buf, "%d.%d.%d", ma, mi, pa);
            put("cublas.version", buf);
            gp_env_have_cublas = true;
        }
    }
    if (!gp_env_have_cudnn) {
        static const char *const so[] = {"libcudnn.so.9", "libcudnn.so.8", NULL};
        size_t (*ver)(void) = (size_t (*)(void))loaded_fn(so, "cudnnGetVersion");
        if (ver) {
            size_t v = ver(); /* 9.x: major*10000 + minor*100 + patch; 8.x: *1000 + *100 */
            unsigned ma = v >= 90000 ? (unsigned)(v / 10000) : (unsigned)(v / 1000);
            unsigned mi = v >= 90000 ? (unsigned)(v / 100 % 100) : (unsigned)(v / 100 % 10);
            snprintf(buf, sizeof buf, "%u.%u.%u", ma, mi, (unsigned)(v % 100));
            put("cudnn.version", buf);
            gp_env_have_cudnn = true;
        }
    }
    if (!gp_env_have_nccl) {
        static const char *const so[] = {"libnccl.so.2", NULL};
        int (*ver)(int *) = (int (*)(int *))loaded_fn(so, "ncclGetVersion");
        int v = 0; /* 2.x: major*10000 + minor*100 + patch */
        if (ver && ver(&v) == 0 && v > 0) {
            snprintf(buf, sizeof buf, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
            put("nccl.version", buf);
            gp_env_have_nccl = true;
        }
    }
}

int gp_env_write(struct gp_trace_writer *w)
{
    if (atomic_load(&gp_env_cuda_done))
        poll_libraries();
    for (;;) {
        char key[GP_ENV_KEY], value[GP_ENV_VALUE];
        pthread_mutex_lock(&gp_env.mu);
        bool more = gp_env_written < gp_env.n;
        if (more) {
            memcpy(key, gp_env.key[gp_env_written], sizeof key);
            memcpy(value, gp_env.value[gp_env_written], sizeof value);
        }
        pthread_mutex_unlock(&gp_env.mu);
        if (!more)
            return 0;
        int rc = gp_trace_writer_info(w, key, value);
        if (rc < 0)
            return rc;
        gp_env_written++;
    }
}

void gp_env_trace_opened(void) { gp_env_written = 0; }

void gp_env_forget(void)
{
    /* A forked child: its own CUDA state (if any) is asked again at its first call. The
     * mutex may have been held by a parent thread at fork time. */
    pthread_mutex_init(&gp_env.mu, NULL);
    gp_env.n = 0;
    gp_env_written = 0;
    gp_env_have_cublas = gp_env_have_cudnn = gp_env_have_nccl = false;
    atomic_store(&gp_env_cuda_done, false);
}
