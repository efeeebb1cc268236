/* view_env.c — the run's environment (INFO records): CUDA driver and runtime versions, the
 * kernel driver, each GPU, cuBLAS/cuDNN/NCCL/PyTorch versions, and the check users most
 * need: a driver older than the CUDA runtime the program brought (pip wheels ship their
 * own runtime, so this is common). Text, JSON and the HTML page share the check. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* "12040" -> 12040; -1 when not a plain number. */
static long version_int(const char *s)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 && v < 1000000 ? v : -1;
}

/* CUDA's 1000 * major + 10 * minor as "12.4"; buf of at least 48 bytes. */
static const char *cuda_version(char *buf, size_t len, long v)
{
    if (v < 0)
        return NULL;
    snprintf(buf, len, "%ld.%ld", v / 1000, v % 1000 / 10);
    return buf;
}

const char *gp_report_env_cuda_version(char *buf, size_t len, const char *info_value)
{
    long v = version_int(info_value);
    return v < 0 ? NULL : cuda_version(buf, len, v);
}

int gp_report_env_driver_check(const struct gp_report_model *m, char *buf, size_t len)
{
    long drv = version_int(gp_report_model_info(m, "cuda.driver_version"));
    long rt = version_int(gp_report_model_info(m, "cuda.runtime_version"));
    if (drv < 0 || rt < 0 || drv >= rt)
        return 0;
    char d[48], r[48];
    cuda_version(d, sizeof d, drv);
    cuda_version(r, sizeof r, rt);
    if (drv / 1000 < rt / 1000)
        snprintf(buf, len,
                 "the NVIDIA driver supports CUDA %s but the program's CUDA runtime is %s: CUDA "
                 "calls fail (cudaErrorInsufficientDriver); install a driver for CUDA %ld or "
                 "newer, or a PyTorch/CUDA build for CUDA %ld",
                 d, r, rt / 1000, drv / 1000);
    else
        snprintf(buf, len,
                 "the NVIDIA driver supports CUDA %s, older than the program's CUDA runtime %s: "
                 "it runs only through minor-version compatibility (no PTX JIT of newer code, "
                 "some new APIs fail); update the driver",
                 d, r);
    return 1;
}

static const char *info(const struct gp_report *r, const char *key)
{
    return gp_report_model_info(r->model, key);
}

static unsigned gpu_count(const struct gp_report *r)
{
    long n = version_int(info(r, "gpu.count"));
    return n < 0 ? 0 : n > 16 ? 16 : (unsigned)n;
}

static const char *gpu_info(const struct gp_report *r, unsigned i, const char *what)
{
    char key[64];
    snprintf(key, sizeof key, "gpu.%u.%s", i, what);
    return info(r, key);
}

/* A byte count; 0 when absent or not a plain number. */
static uint64_t bytes_info(const char *s)
{
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    return *end == '\0' ? v : 0;
}

static void torch_version(const struct gp_report *r, char *buf, size_t len)
{
    uint32_t v = r->torch.torch_version;
    buf[0] = '\0';
    if (v)
        snprintf(buf, len, "%u.%u.%u", v / 10000, v / 100 % 100, v % 100);
}

int gp_report_view_text_env(FILE *f, const struct gp_report *r)
{
    char a[48], b[48], tv[32], warn[400];
    long drv = version_int(info(r, "cuda.driver_version"));
    long rt = version_int(info(r, "cuda.runtime_version"));
    torch_version(r, tv, sizeof tv);
    if (drv < 0 && rt < 0 && gpu_count(r) == 0 && !tv[0])
        return ferror(f) ? -EIO : 0; /* an older trace, or CUDA never answered */
    fputs("\nEnvironment\n", f);
    if (drv >= 0 || rt >= 0) {
        fprintf(f, "  CUDA driver supports %s, runtime %s", drv >= 0 ? cuda_version(a, sizeof a, drv) : "?",
                rt >= 0 ? cuda_version(b, sizeof b, rt) : "? (static or not found)");
        const char *kd = info(r, "nvidia.kernel_driver");
        if (kd) {
            fputs(", NVIDIA driver ", f);
            gp_report_fputs_safe(f, kd);
        }
        fputc('\n', f);
    }
    for (unsigned i = 0; i < gpu_count(r); i++) {
        const char *name = gpu_info(r, i, "name"), *cc = gpu_info(r, i, "compute_capability");
        uint64_t mem = bytes_info(gpu_info(r, i, "memory_bytes"));
        fprintf(f, "  GPU %u: ", i);
        gp_report_fputs_safe(f, name ? name : "?");
        if (mem > 0) {
            char buf[32];
            fprintf(f, ", %s", gp_report_fmt_bytes(buf, sizeof buf, mem));
        }
        if (cc) {
            fputs(", compute capability ", f);
            gp_report_fputs_safe(f, cc);
        }
        fputc('\n', f);
    }
    static const char *const libs[][2] = {
        {"cublas.version", "cuBLAS"}, {"cudnn.version", "cuDNN"}, {"nccl.version", "NCCL"}};
    int any = 0;
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        const char *v = info(r, libs[i][0]);
        if (!v)
            continue;
        fprintf(f, "%s%s ", any ? ", " : "  Libraries: ", libs[i][1]);
        gp_report_fputs_safe(f, v);
        any = 1;
    }
    if (tv[0]) {
        fprintf(f, "%sPyTorch %s", any ? ", " : "  Libraries: ", tv);
        any = 1;
    }
    if (any)
        fputc('\n', f);
    if (gp_report_env_driver_check(r->model, warn, sizeof warn))
        fprintf(f, "  WARNING: %s\n", warn);
    return ferror(f) ? -EIO : 0;
}

void gp_report_view_json_env(struct gp_report_json *j, const struct gp_report *r)
{
    char a[48], warn[400], tv[32];
    gp_report_json_object_begin(j, "environment");
    long drv = version_int(info(r, "cuda.driver_version"));
    long rt = version_int(info(r, "cuda.runtime_version"));
    gp_report_json_string(j, "cuda_driver_version", cuda_version(a, sizeof a, drv));
    gp_report_json_string(j, "cuda_runtime_version", cuda_version(a, sizeof a, rt));
    gp_report_json_string(j, "nvidia_driver", info(r, "nvidia.kernel_driver"));
    gp_report_json_array_begin(j, "gpus");
    for (unsigned i = 0; i < gpu_count(r); i++) {
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "index", i);
        gp_report_json_string(j, "name", gpu_info(r, i, "name"));
        uint64_t mem = bytes_info(gpu_info(r, i, "memory_bytes"));
        if (mem)
            gp_report_json_u64(j, "memory_bytes", mem);
        else
            gp_report_json_null(j, "memory_bytes");
        gp_report_json_string(j, "compute_capability", gpu_info(r, i, "compute_capability"));
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    gp_report_json_string(j, "cublas_version", info(r, "cublas.version"));
    gp_report_json_string(j, "cudnn_version", info(r, "cudnn.version"));
    gp_report_json_string(j, "nccl_version", info(r, "nccl.version"));
    torch_version(r, tv, sizeof tv);
    gp_report_json_string(j, "torch_version", tv[0] ? tv : NULL);
    gp_report_json_string(j, "driver_warning",
                          gp_report_env_driver_check(r->model, warn, sizeof warn) ? warn : NULL);
    gp_report_json_object_end(j);
}
