/* nvml.c — at an out-of-memory error, how much of the failing GPU other processes hold,
 * asked of NVML (libnvidia-ml.so.1). Device free/total alone cannot tell "this program
 * needs more" from "another job sits on the GPU"; NVML's list of compute processes can.
 *
 * Only ever called at an OOM, on the program's thread, inside the hook guard and with no
 * shim lock held. NVML is never linked: a copy already loaded (PyTorch loads one) is used,
 * else the library is dlopen'ed then — a cheap load, and an OOM is rare. nvmlInit_v2 is
 * called once and nvmlShutdown never: NVML counts initialisations, and the program may be
 * using it. The CUDA device is matched to the NVML device by PCI bus id, never by index
 * (CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER renumber CUDA's devices, not NVML's).
 *
 * Failures record nothing. No NVML at all is normal and silent (most machines without a
 * driver, every test without the stand-in); an NVML that is there but fails says so once
 * per process on stderr. A device NVML does not know (another driver's device, a stand-in)
 * and a query the device does not support are silent too. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* The few NVML declarations used, from NVML's stable C ABI (nvml.h is not needed to build). */
typedef int gp_nvml_ret;
typedef struct gp_nvml_device *gp_nvml_device;
enum {
    GP_NVML_SUCCESS = 0,
    GP_NVML_ERROR_NOT_SUPPORTED = 3,
    GP_NVML_ERROR_NOT_FOUND = 6,
    GP_NVML_ERROR_INSUFFICIENT_SIZE = 7,
    GP_NVML_ERROR_DRIVER_NOT_LOADED = 9,
};
/* nvmlProcessInfo_v2_t, the entry both _v2 and _v3 of the query fill (_v1 had only the
 * first two fields). */
struct gp_nvml_process {
    unsigned int pid;
    unsigned long long used; /* bytes; GP_NVML_NOT_AVAILABLE when NVML may not say */
    /* cppcheck-suppress unusedStructMember ; NVML writes them: the layout must match */
    unsigned int gpu_instance, compute_instance;
};
#define GP_NVML_NOT_AVAILABLE (~0ull) /* NVML_VALUE_NOT_AVAILABLE */
#define GP_NVML_PROCS 128             /* on the stack; more only after NVML says so */
#define GP_NVML_DEVICES 64            /* CUDA ordinals whose NVML handle is remembered */

typedef gp_nvml_ret (*gp_nvml_init_fn)(void);
typedef const char *(*gp_nvml_errstr_fn)(gp_nvml_ret);
typedef gp_nvml_ret (*gp_nvml_by_bus_fn)(const char *, gp_nvml_device *);
typedef gp_nvml_ret (*gp_nvml_procs_fn)(gp_nvml_device, unsigned int *, struct gp_nvml_process *);
typedef int (*gp_cu_device_get_fn)(int *, int);
typedef int (*gp_cu_bus_id_fn)(char *, int, int);

static struct {
    pthread_once_t once;
    bool ok; /* NVML initialised and every function found: set once, read after the once */
    gp_nvml_errstr_fn errstr;
    gp_nvml_by_bus_fn by_bus;
    gp_nvml_procs_fn procs;
    gp_cu_device_get_fn cu_device_get;
    gp_cu_bus_id_fn cu_bus_id;
    void *lib, *cuda; /* kept open until exit: their functions are called at every OOM */
    _Atomic(gp_nvml_device) handle[GP_NVML_DEVICES]; /* by CUDA ordinal; NULL = not yet */
} gp_nvml = {.once = PTHREAD_ONCE_INIT};

static atomic_flag gp_nvml_warned = ATOMIC_FLAG_INIT;

/* Once per process: NVML is there but failed. */
static void warn_once(const char *what, gp_nvml_ret r)
{
    if (atomic_flag_test_and_set(&gp_nvml_warned))
        return;
    const char *why = gp_nvml.errstr ? gp_nvml.errstr(r) : NULL;
    gp_shim_warn("NVML %s failed (%d%s%s); other processes on the GPU are not recorded at OOM", what,
                 r, why ? ": " : "", why ? why : "");
}

/* A library already in the process, else loaded now; NULL when there is none. */
static void *open_loaded_or_load(const char *soname)
{
    void *h = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    return h; /* the caller keeps it open */
}

static void gp_nvml_setup(void)
{
    /* Not found, or too old for _v2 of the query (drivers before 450): nothing, silently. */
    void *nvml = gp_nvml.lib = open_loaded_or_load("libnvidia-ml.so.1");
    void *cuda = gp_nvml.cuda = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD); /* an OOM came from it */
    if (nvml == NULL || cuda == NULL)
        return;
    /* Both handles are kept (never dlclose'd): the functions are used until exit. */
    gp_nvml_init_fn init = (gp_nvml_init_fn)dlsym(nvml, "nvmlInit_v2");
    gp_nvml.errstr = (gp_nvml_errstr_fn)dlsym(nvml, "nvmlErrorString");
    gp_nvml.by_bus = (gp_nvml_by_bus_fn)dlsym(nvml, "nvmlDeviceGetHandleByPciBusId_v2");
    gp_nvml.procs = (gp_nvml_procs_fn)dlsym(nvml, "nvmlDeviceGetComputeRunningProcesses_v3");
    if (gp_nvml.procs == NULL)
        gp_nvml.procs = (gp_nvml_procs_fn)dlsym(nvml, "nvmlDeviceGetComputeRunningProcesses_v2");
    gp_nvml.cu_device_get = (gp_cu_device_get_fn)dlsym(cuda, "cuDeviceGet");
    gp_nvml.cu_bus_id = (gp_cu_bus_id_fn)dlsym(cuda, "cuDeviceGetPCIBusId");
    if (init == NULL || gp_nvml.by_bus == NULL || gp_nvml.procs == NULL ||
        gp_nvml.cu_device_get == NULL || gp_nvml.cu_bus_id == NULL)
        return;
    gp_nvml_ret r = init();
    if (r != GP_NVML_SUCCESS) {
        if (r != GP_NVML_ERROR_DRIVER_NOT_LOADED) /* no NVIDIA kernel driver: nothing to ask */
            warn_once("initialisation", r);
        return;
    }
    gp_nvml.ok = true;
}

/* The NVML device of a CUDA ordinal, by PCI bus id; NULL when NVML does not know it. */
static gp_nvml_device device_handle(int ordinal)
{
    gp_nvml_device h = ordinal < GP_NVML_DEVICES ? atomic_load(&gp_nvml.handle[ordinal]) : NULL;
    if (h != NULL)
        return h;
    int dev = 0;
    char bus[32]; /* "0000:41:00.0" */
    if (gp_nvml.cu_device_get(&dev, ordinal) != 0 || gp_nvml.cu_bus_id(bus, (int)sizeof bus, dev) != 0)
        return NULL;
    bus[sizeof bus - 1] = '\0';
    gp_nvml_ret r = gp_nvml.by_bus(bus, &h);
    if (r != GP_NVML_SUCCESS) {
        if (r != GP_NVML_ERROR_NOT_FOUND)
            warn_once("device lookup by PCI bus id", r);
        return NULL;
    }
    if (ordinal < GP_NVML_DEVICES)
        atomic_store(&gp_nvml.handle[ordinal], h); /* racing threads store the same handle */
    return h;
}

int gp_shim_nvml_others(int device, struct gp_shim_nvml_others *out)
{
    if (device < 0)
        return -ENODEV;
    pthread_once(&gp_nvml.once, gp_nvml_setup);
    if (!gp_nvml.ok)
        return -ENOSYS;
    gp_nvml_device h = device_handle(device);
    if (h == NULL)
        return -ENODEV;
    struct gp_nvml_process stack_buf[GP_NVML_PROCS], *p = stack_buf, *heap = NULL;
    unsigned int n = GP_NVML_PROCS;
    gp_nvml_ret r = gp_nvml.procs(h, &n, p);
    if (r == GP_NVML_ERROR_INSUFFICIENT_SIZE) { /* n is now the count; processes may start meanwhile */
        n += 16;
        heap = calloc(n, sizeof *heap);
        if (heap == NULL)
            return -ENOMEM;
        p = heap;
        r = gp_nvml.procs(h, &n, p);
    }
    int rc = 0;
    if (r != GP_NVML_SUCCESS) {
        if (r != GP_NVML_ERROR_NOT_SUPPORTED)
            warn_once("process query", r);
        rc = -EIO;
        goto out;
    }
    *out = (struct gp_shim_nvml_others){0};
    unsigned int self = (unsigned int)getpid();
    for (unsigned int i = 0; i < n; i++) {
        uint64_t used = p[i].used == GP_NVML_NOT_AVAILABLE ? 0 : p[i].used;
        if (p[i].pid == self) {
            out->self_bytes += used;
            continue;
        }
        out->count++;
        out->bytes += used;
        if (out->largest_pid == 0 || used > out->largest_bytes) {
            out->largest_pid = p[i].pid;
            out->largest_bytes = used;
        }
    }
out:
    free(heap);
    return rc;
}
