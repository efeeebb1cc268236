/* Fake libnvidia-ml.so.1: the few NVML calls gpuprof makes at an out-of-memory error, so the
 * tests can put "other processes" on the stand-in GPU. It knows one GPU, found only by its
 * PCI bus id, and answers from the environment, read at each call:
 *   FAKENVML_BUSID      the GPU's bus id, default 00000000:A1:00.0 (fake CUDA device 0)
 *   FAKENVML_PROCESSES  its compute processes, "pid:bytes,pid:bytes"; pid "self" = the
 *                       calling process, bytes "na" = NVML_VALUE_NOT_AVAILABLE
 *   FAKENVML_FAIL       init | driver (nvmlInit_v2 fails: unknown error / no driver),
 *                       lookup (by bus id), processes | unsupported (the process query)
 *   FAKENVML_LOG        a file each call appends its name to, one line per call
 * Built with FAKENVML_NO_V3 it lacks nvmlDeviceGetComputeRunningProcesses_v3, as drivers
 * before R510 do. Test-only: never installed. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_nvml.h"

static atomic_int init_count;
/* cppcheck-suppress unusedStructMember ; a handle is only an address: the struct gives it one */
static struct nvmlDevice_st { int unused; } the_gpu;

static void log_call(const char *name)
{
    const char *path = getenv("FAKENVML_LOG");
    if (path == NULL || *path == '\0')
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[96];
    int n = snprintf(line, sizeof line, "%s\n", name);
    if (write(fd, line, (size_t)n) != n)
        perror("fakenvml: log");
    close(fd);
}

static int failing(const char *what)
{
    const char *f = getenv("FAKENVML_FAIL");
    return f != NULL && strcmp(f, what) == 0;
}

/* "domain:bus:device.function" in hex, 4- or 8-digit domain alike, any case. */
static int parse_bus_id(const char *s, unsigned v[4])
{
    char end;
    return s != NULL && sscanf(s, "%x:%x:%x.%x%c", &v[0], &v[1], &v[2], &v[3], &end) == 4;
}

nvmlReturn_t nvmlInit_v2(void)
{
    log_call("nvmlInit_v2");
    if (failing("init"))
        return NVML_ERROR_UNKNOWN;
    if (failing("driver"))
        return NVML_ERROR_DRIVER_NOT_LOADED;
    atomic_fetch_add(&init_count, 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
    log_call("nvmlShutdown");
    if (atomic_load(&init_count) == 0)
        return NVML_ERROR_UNINITIALIZED;
    atomic_fetch_sub(&init_count, 1);
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device)
{
    log_call("nvmlDeviceGetHandleByPciBusId_v2");
    if (atomic_load(&init_count) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (failing("lookup"))
        return NVML_ERROR_UNKNOWN;
    const char *mine = getenv("FAKENVML_BUSID");
    unsigned want[4], got[4];
    if (!parse_bus_id(mine && *mine ? mine : "00000000:A1:00.0", want) || device == NULL ||
        !parse_bus_id(pciBusId, got))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (memcmp(want, got, sizeof want) != 0)
        return NVML_ERROR_NOT_FOUND;
    *device = &the_gpu;
    return NVML_SUCCESS;
}

/* The processes of FAKENVML_PROCESSES into infos (at most cap); returns how many there are,
 * or -1 when the variable is malformed. */
static int processes(nvmlProcessInfo_t *infos, unsigned cap)
{
    const char *s = getenv("FAKENVML_PROCESSES");
    int n = 0;
    while (s != NULL && *s != '\0') {
        nvmlProcessInfo_t p = {0};
        char *end;
        if (strncmp(s, "self", 4) == 0) {
            p.pid = (unsigned)getpid();
            end = (char *)s + 4;
        } else {
            p.pid = (unsigned)strtoul(s, &end, 10);
        }
        if (*end != ':')
            return -1;
        s = end + 1;
        if (strncmp(s, "na", 2) == 0) {
            p.usedGpuMemory = NVML_VALUE_NOT_AVAILABLE;
            end = (char *)s + 2;
        } else {
            p.usedGpuMemory = strtoull(s, &end, 10);
        }
        if (*end != ',' && *end != '\0')
            return -1;
        s = *end ? end + 1 : end;
        if ((unsigned)n < cap)
            infos[n] = p;
        n++;
    }
    return n;
}

static nvmlReturn_t running(const char *name, nvmlDevice_t device, unsigned *count,
                            nvmlProcessInfo_t *infos)
{
    log_call(name);
    if (atomic_load(&init_count) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (device != &the_gpu || count == NULL || (*count && infos == NULL))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (failing("processes"))
        return NVML_ERROR_UNKNOWN;
    if (failing("unsupported"))
        return NVML_ERROR_NOT_SUPPORTED;
    int n = processes(infos, *count);
    if (n < 0)
        return NVML_ERROR_UNKNOWN;
    unsigned cap = *count;
    *count = (unsigned)n;
    return (unsigned)n > cap ? NVML_ERROR_INSUFFICIENT_SIZE : NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned *count,
                                                     nvmlProcessInfo_t *infos)
{
    return running("nvmlDeviceGetComputeRunningProcesses_v2", device, count, infos);
}

#ifndef FAKENVML_NO_V3
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned *count,
                                                     nvmlProcessInfo_t *infos)
{
    return running("nvmlDeviceGetComputeRunningProcesses_v3", device, count, infos);
}
#endif
