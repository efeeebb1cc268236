/* make_corpus.c — writes the seed corpus of the fuzz harnesses (tests/fuzz/corpus) into a
 * directory: valid traces from the real writer, the same traces as decompressed streams in
 * the harnesses' stream mode (fuzz_input.h), cut ones, damaged ones, and hand-made streams
 * that break one rule of docs/trace-format.md each, for every record type; and, given
 * NAMES_DIR, the kernel-name files of fuzz_classify. Deterministic: same output every run.
 *   make_corpus DIR [NAMES_DIR] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "format.h"
#include "gp_trace.h"

static const char *outdir;

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_u8(struct buf *b, uint8_t v) { put(b, &v, 1); }

static void put_varint(struct buf *b, uint64_t v)
{
    while (v >= 0x80) {
        put_u8(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_u8(b, (uint8_t)v);
}

static void put_str(struct buf *b, const char *s)
{
    put_varint(b, strlen(s));
    put(b, s, strlen(s));
}

static void put_record(struct buf *b, uint8_t type, const struct buf *payload)
{
    put_u8(b, type);
    put_varint(b, payload->len);
    put(b, payload->p, payload->len);
}

static void save(const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct buf b = {0};
    uint8_t chunk[4096];
    size_t k;
    if (!f)
        abort();
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        put(&b, chunk, k);
    fclose(f);
    *n = b.len;
    return b.p;
}

/* The decompressed stream of a gzip file, up to where it could be decoded. */
static uint8_t *gunzip(const uint8_t *p, size_t n, size_t *out_len)
{
    z_stream zs = {0};
    struct buf b = {0};
    uint8_t chunk[16384];
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        abort();
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    for (;;) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        int rc = inflate(&zs, Z_NO_FLUSH);
        put(&b, chunk, sizeof chunk - zs.avail_out);
        if (rc != Z_OK)
            break;
    }
    inflateEnd(&zs);
    *out_len = b.len;
    return b.p;
}

/* Saves a stream in the harnesses' stream mode: mode byte, then the stream. */
static void save_stream(const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
    struct buf b = {0};
    put_u8(&b, mode);
    put(&b, p, n);
    save(name, b.p, b.len);
    free(b.p);
}

/* ---- valid traces from the real writer --------------------------------------- */
static struct gp_trace_writer *open_trace(const char *name, int *fd, const char *label,
                                          const char *cmdline)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (*fd < 0)
        abort();
    struct gp_trace_header h = {
        .version = GP_TRACE_VERSION, .pid = 4242, .ppid = 1, .stack_depth = 8,
        .realtime_ns = 1700000000000000000ull, .monotonic_ns = 1000000,
        .host = "fuzzhost", .exe = "/nonexistent/fuzz_app", .cmdline = cmdline, .label = label,
    };
    struct gp_trace_writer *w;
    if (gp_trace_writer_open(&w, *fd, &h, NULL) < 0)
        abort();
    /* Paths that exist nowhere: the report's symbolizer must not open real files per input. */
    gp_trace_writer_module(w, "/nonexistent/fuzz_app", 0x400000, 0x401000, 0x480000);
    gp_trace_writer_module(w, "/nonexistent/libcudart.so.13", 0x7f0000000000, 0x7f0000010000,
                           0x7f0000200000);
    return w;
}

static struct gp_event *event(uint8_t type, uint8_t api, uint8_t kind, uint64_t t, uint64_t size,
                              uint64_t ptr, unsigned nframes, uint64_t site)
{
    static uint64_t storage[(sizeof(struct gp_event) + 16 * sizeof(uint64_t)) / sizeof(uint64_t)];
    struct gp_event *ev = (struct gp_event *)(void *)storage;
    memset(storage, 0, sizeof storage);
    ev->type = type;
    ev->api = api;
    ev->kind = kind;
    ev->time_ns = 1000000 + t;
    ev->size = size;
    ev->ptr = ptr;
    ev->tid = 77 + (uint32_t)(site % 3);
    ev->device = 0;
    ev->nframes = (uint16_t)nframes;
    for (unsigned i = 0; i < nframes && i < 16; i++) /* site decides the innermost frames */
        ev->ips[i] = 0x401100 + (i < 2 ? site * 0x40 : 0) + i * 0x10;
    return ev;
}

/* The Python frame resolver: keys 0-3 are known frames, anything else is unknown. */
static int pyframe(void *ctx, uint64_t key, struct gp_trace_pyframe *out)
{
    static const char *const funcs[] = {"forward", "train_step", "<module>", "backward"};
    (void)ctx;
    uint64_t k = key & ~GP_TRACE_PY_TAG;
    if (k > 3)
        return -1;
    out->file = k == 2 ? "train.py" : "/nonexistent/site-packages/torch/nn/module.py";
    out->function = funcs[k];
    out->line = (uint32_t)(10 * k + 1);
    return 0;
}

static void valid_traces(void)
{
    int fd;
    /* Every API and memory kind, a failed call, MEMINFO, OOM, dropped events, END. */
    struct gp_trace_writer *w = open_trace("valid-basic.gz", &fd, "batch=32", "fuzz_app --basic");
    uint64_t t = 10;
    for (unsigned api = GP_API_CUDA_MALLOC; api < GP_API_COUNT; api++) {
        uint8_t kind = api == GP_API_CUDA_MALLOC_MANAGED ? GP_MEM_MANAGED
                       : (api == GP_API_CUDA_MALLOC_HOST || api == GP_API_CUDA_HOST_ALLOC ||
                          api == GP_API_CUDA_FREE_HOST) ? GP_MEM_HOST_PINNED : GP_MEM_DEVICE;
        uint8_t type = api == GP_API_CUDA_MEM_GET_INFO ? GP_REC_MEMINFO
                       : (api == GP_API_CUDA_FREE || api == GP_API_CUDA_FREE_ASYNC ||
                          api == GP_API_CUDA_FREE_HOST) ? GP_REC_FREE : GP_REC_ALLOC;
        struct gp_event *ev = event(type, (uint8_t)api, kind, t += 100, 1ull << (10 + api % 20),
                                    0x7f1000000000 + api * 0x100000, 6, api);
        if (type == GP_REC_FREE)
            ev->ptr = 0x7f1000000000 + (api - 1) * 0x100000;
        if (type == GP_REC_MEMINFO)
            ev->aux1 = 16ull << 30;
        if (api == GP_API_CUDA_MALLOC_PITCH)
            ev->aux1 = 512;
        gp_trace_writer_event(w, ev);
    }
    struct gp_event *ev = event(GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 100, 1ull << 40, 0, 5, 9);
    ev->result = 2; /* cudaErrorMemoryAllocation */
    gp_trace_writer_event(w, ev);
    ev = event(GP_REC_OOM, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 1, 1ull << 40, 0, 5, 9);
    ev->result = 2;
    ev->aux1 = 1 << 20;
    ev->aux2 = 16ull << 30;
    gp_trace_writer_event(w, ev);
    gp_trace_writer_dropped(w, 5);
    gp_trace_writer_close(w);
    close(fd);

    /* Allocation churn from several sites: reused pointers, frees of unknown and null
     * pointers, an address handed out twice. */
    w = open_trace("valid-churn.gz", &fd, "", "fuzz_app --churn");
    for (unsigned i = 0; i < 400; i++) {
        uint64_t ptr = 0x7f2000000000 + (i % 7) * 0x10000;
        gp_trace_writer_event(w, event(GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 7,
                                       4096 * (1 + i % 5), ptr, 4 + i % 4, i % 6));
        if (i % 3 != 0)
            gp_trace_writer_event(w, event(GP_REC_FREE, GP_API_CUDA_FREE, GP_MEM_DEVICE, t += 5,
                                           0, ptr, 3, i % 6));
    }
    gp_trace_writer_event(w, event(GP_REC_FREE, GP_API_CUDA_FREE, GP_MEM_DEVICE, t += 5, 0, 0, 2, 1));
    gp_trace_writer_event(w, event(GP_REC_FREE, GP_API_CUDA_FREE, GP_MEM_DEVICE, t += 5, 0, 0xdead0000, 2, 1));
    gp_trace_writer_close(w);
    close(fd);

    /* Only the header and END. */
    w = open_trace("valid-empty.gz", &fd, "", "");
    gp_trace_writer_close(w);
    close(fd);

    /* Header strings with control characters, invalid UTF-8 and quotes; deep stacks. */
    w = open_trace("valid-strings.gz", &fd, "label \"quoted\"\n\x1b[31m\xff\xfe \xc3\xa9",
                   "fuzz_app --arg='\\' \t\x01");
    for (unsigned i = 0; i < 20; i++)
        gp_trace_writer_event(w, event(GP_REC_ALLOC, GP_API_CUDA_MALLOC_MANAGED, GP_MEM_MANAGED,
                                       t += 3, 1 << 20, 0x7f3000000000 + i * 0x100000, 16, i));
    gp_trace_writer_close(w);
    close(fd);

    /* Python frames in the stacks, memory pool sizes. */
    w = open_trace("valid-python.gz", &fd, "", "python3 train.py");
    gp_trace_writer_set_pyframe_resolver(w, pyframe, NULL);
    for (unsigned i = 0; i < 12; i++) {
        struct gp_event *e = event(GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 9,
                                   1 << 20, 0x7f5000000000 + i * 0x100000, 6, i % 3);
        e->ips[1] = GP_TRACE_PY_TAG | (i % 4);       /* a Python frame between native ones */
        e->ips[3] = GP_TRACE_PY_TAG | (100 + i % 2); /* one the resolver does not know */
        gp_trace_writer_event(w, e);
    }
    struct gp_event *pool = event(GP_REC_POOL, GP_API_CUDA_MALLOC_ASYNC, GP_MEM_DEVICE, t += 9,
                                  64 << 20, 0x5000, 3, 1);
    pool->aux1 = 12 << 20;
    gp_trace_writer_event(w, pool);
    gp_trace_writer_close(w);
    close(fd);

    /* GPU activity: every type, dropped activity records, the recording status. */
    w = open_trace("valid-activity.gz", &fd, "", "fuzz_app --kernels");
    gp_trace_writer_activity_status(w, &(struct gp_activity_status){
        .state = GP_ACT_RECORDING, .version = 24, .kinds = 0x1ff,
        .library = "/nonexistent/libcupti.so.13", .reason = "recording"});
    for (unsigned type = GP_REC_ACT_FIRST; type <= GP_REC_ACT_LAST; type++) {
        struct gp_activity a = {
            .type = (uint8_t)type, .kind = (uint8_t)(type & 3), .device = 0, .context = 1,
            .stream = 7, .correlation = 100 + type, .start_ns = 1000000 + t, .end_ns = 1000000 + t + 5000,
            .name = type == GP_REC_KERNEL ? "_Z10vector_addPKfS0_Pfi"
                    : type == GP_REC_MARKER ? "train_step" : NULL,
            .grid = {128, 1, 1}, .block = {256, 1, 1}, .registers = 32, .static_smem = 1024,
            .dynamic_smem = 2048, .graph_id = type == GP_REC_KERNEL ? 3 : 0, .bytes = 1 << 20,
            .address = 0x7f6000000000, .value = 42, .aux = 0x0102,
        };
        t += 10000;
        gp_trace_writer_activity(w, &a);
    }
    gp_trace_writer_activity_dropped(w, 17);
    gp_trace_writer_activity_status(w, &(struct gp_activity_status){
        .state = GP_ACT_STOPPED, .reason = "write error"});
    gp_trace_writer_close(w);
    close(fd);

    /* Flushed, then the process "dies": no END, no gzip trailer. */
    w = open_trace("valid-flushed.gz", &fd, "", "fuzz_app --killed");
    for (unsigned i = 0; i < 50; i++)
        gp_trace_writer_event(w, event(GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 11,
                                       1 << 16, 0x7f4000000000 + i * 0x10000, 5, i % 4));
    gp_trace_writer_flush(w);
    gp_trace_writer_abandon(w);
    close(fd);
}

/* ---- the newer record types: LIBCALL, TORCH, TORCH_STAT, INFO, CUBIN, NVML MEMINFO --- */
static struct gp_event *libcall(uint64_t t, uint8_t api, uint8_t math, uint64_t m, uint64_t n,
                                uint64_t k, uint64_t ext_id)
{
    struct gp_event *ev = event(GP_REC_LIBCALL, api, math, t, m, 0, 4, api % 4);
    ev->aux1 = n;
    ev->aux2 = k;
    ev->stream = 7;
    ev->lib.batch = 1;
    ev->lib.lda = m;
    ev->lib.ldb = k;
    ev->lib.ldc = m;
    ev->lib.dur_ns = 1500;
    ev->lib.compute = 68; /* CUBLAS_COMPUTE_32F */
    ev->lib.algo = GP_LIB_UNKNOWN;
    ev->lib.type_a = ev->lib.type_b = ev->lib.type_c = 1; /* CUDA_R_32F + 1 */
    ev->lib.ext_id = ext_id;
    return ev;
}

/* A kernel and the EXT_CORR that ties it to a library call's external id. */
static void kernel_for(struct gp_trace_writer *w, uint64_t *t, const char *name, uint32_t corr,
                       uint64_t ext_id)
{
    struct gp_activity x = {.type = GP_REC_EXT_CORR, .kind = 5, .correlation = corr,
                            .value = ext_id, .start_ns = 1000000 + *t, .end_ns = 1000000 + *t};
    struct gp_activity k = {.type = GP_REC_KERNEL, .device = 0, .context = 1, .stream = 7,
                            .correlation = corr, .start_ns = 1000000 + *t + 100,
                            .end_ns = 1000000 + *t + 4100, .name = name, .grid = {64, 1, 1},
                            .block = {128, 1, 1}, .registers = 64};
    *t += 5000;
    if (corr % 2) { /* either order: the report joins them whichever comes first */
        gp_trace_writer_activity(w, &x);
        gp_trace_writer_activity(w, &k);
    } else {
        gp_trace_writer_activity(w, &k);
        gp_trace_writer_activity(w, &x);
    }
}

static void newer_traces(void)
{
    int fd;
    uint64_t t = 100;
    /* Library calls: every API, GEMM fields, cuDNN convolutions (2-D and 3-D shapes,
     * workspace), a backend execute with notes, external ids joined to kernels; INFO. */
    struct gp_trace_writer *w = open_trace("valid-libcall.gz", &fd, "", "fuzz_app --blas");
    gp_trace_writer_activity_status(w, &(struct gp_activity_status){
        .state = GP_ACT_RECORDING, .version = 24, .kinds = 0x1ff, .library = "libcupti.so",
        .reason = "recording"});
    gp_trace_writer_info(w, "cuda.driver_version", "12040");
    gp_trace_writer_info(w, "cuda.runtime_version", "13000"); /* newer than the driver */
    gp_trace_writer_info(w, "gpu.count", "1");
    gp_trace_writer_info(w, "gpu.0.name", "NVIDIA <b>H100</b> \"80GB\"");
    gp_trace_writer_info(w, "gpu.0.memory_bytes", "85899345920");
    gp_trace_writer_info(w, "gpu.0.compute_capability", "9.0");
    gp_trace_writer_info(w, "cublas.version", "13.0.1");
    gp_trace_writer_info(w, "future.key", "");
    static const char *const knames[] = {
        "sm90_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1",
        "volta_sgemm_128x64_nn", "_Z10vector_addPKfS0_Pfi",
        "void cutlass::Kernel<cutlass_80_tensorop_s1688gemm_128x128_32x3_nn_align4>(Params)"};
    for (unsigned api = 1; api < GP_LIB_API_COUNT; api++) {
        struct gp_event *ev = libcall(t += 50, (uint8_t)api, api % 3 ? 0 : 255,
                                      64 * api, 127 + api, 33 * api, api);
        ev->lib.trans_a = (uint8_t)(api & 1);
        ev->lib.trans_b = (uint8_t)((api >> 1) & 1);
        if (api == GP_LIB_HGEMM || api == GP_LIB_HGEMM_SB) {
            ev->lib.type_a = ev->lib.type_b = ev->lib.type_c = 3; /* CUDA_R_16F + 1 */
            ev->lib.compute = 64;
        }
        if (api >= GP_LIB_CONV_FWD && api <= GP_LIB_CONV_BWD_FILTER) {
            struct gp_libconv *c = &ev->lib.conv;
            c->nspatial = api == GP_LIB_CONV_BWD_FILTER ? 3 : 2;
            c->n = 8, c->c = 64, c->k = 128;
            for (unsigned d = 0; d < c->nspatial; d++) {
                c->in[d] = 56, c->filt[d] = 3, c->out[d] = 56;
                c->pads[d] = 1, c->strides[d] = 1, c->dilations[d] = 1;
            }
            ev->lib.batch = 2; /* groups */
            ev->lib.workspace = 1 << 20;
            ev->lib.algo = 1;
        }
        if (api == GP_LIB_DNN_EXECUTE) {
            ev->size = ev->aux1 = ev->aux2 = 0;
            ev->lib.notes = GP_LIB_NOTES_KNOWN | 1;
            ev->lib.algo = 42;
            ev->lib.workspace = 4096;
            ev->lib.compute = GP_LIB_UNKNOWN;
            ev->lib.type_a = ev->lib.type_b = ev->lib.type_c = 0;
        }
        gp_trace_writer_event(w, ev);
        kernel_for(w, &t, knames[api % 4], 1000 + api, api);
    }
    struct gp_event *ev = libcall(t += 50, GP_LIB_GEMM_EX, 0, 1, 1, 1, 0); /* GEMV, no ext id */
    ev->result = 7;
    gp_trace_writer_event(w, ev);
    kernel_for(w, &t, "gemv2T_kernel", 2001, 999); /* an ext id no call pushed */
    gp_trace_writer_close(w);
    close(fd);

    /* PyTorch: stats at start, allocator events with Python stacks, an OOM batch (TORCH oom,
     * stats at the OOM, then the fatal one at exit), an NVML MEMINFO (api 31) after the
     * shim's own OOM. Labelled for the fit. */
    w = open_trace("valid-torch.gz", &fd, "batch=16 run", "python3 train.py");
    gp_trace_writer_set_pyframe_resolver(w, pyframe, NULL);
    for (unsigned s = 1; s < GP_TSTAT_COUNT; s++) {
        struct gp_event *e = event(GP_REC_TORCH_STAT, (uint8_t)s, GP_TORCH_AT_START, t, 0, 0, 0, 0);
        e->size = s == GP_TSTAT_DEVICE_TOTAL ? 16ull << 30 : s == GP_TSTAT_TORCH_VERSION ? 20501 : s;
        gp_trace_writer_event(w, e);
    }
    struct gp_event *seg = event(GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 10,
                                 20 << 20, 0x7f7000000000, 3, 1);
    gp_trace_writer_event(w, seg);
    static const uint8_t actions[] = {GP_TORCH_SEGMENT_ALLOC, GP_TORCH_ALLOC, GP_TORCH_ALLOC,
                                      GP_TORCH_FREE_REQUESTED, GP_TORCH_FREE_COMPLETED,
                                      GP_TORCH_SEGMENT_MAP, GP_TORCH_SEGMENT_UNMAP,
                                      GP_TORCH_ALLOC, GP_TORCH_SEGMENT_FREE};
    for (unsigned i = 0; i < sizeof actions; i++) {
        struct gp_event *e = event(GP_REC_TORCH, actions[i], GP_MEM_DEVICE, t += 20,
                                   actions[i] == GP_TORCH_SEGMENT_ALLOC ? 20 << 20 : 1 << 20,
                                   0x7f7000000000 + (i % 3) * 0x100000, 3, i);
        for (unsigned f = 0; f < 3; f++) /* Python frames only, as PyTorch records them */
            e->ips[f] = GP_TRACE_PY_TAG | ((i + f) % 4);
        e->stream = 7;
        gp_trace_writer_event(w, e);
    }
    struct gp_event *oom = event(GP_REC_TORCH, GP_TORCH_OOM, GP_MEM_DEVICE, t += 20, 1ull << 34, 0, 2, 5);
    oom->ips[0] = GP_TRACE_PY_TAG; /* Python frame key 0: an unknown function */
    oom->ips[1] = GP_TRACE_PY_TAG | 2;
    oom->aux1 = 1 << 20;
    oom->aux2 = 1ull << 34;
    gp_trace_writer_event(w, oom);
    for (unsigned s = 1; s < GP_TSTAT_COUNT; s++) {
        struct gp_event *e = event(GP_REC_TORCH_STAT, (uint8_t)s, GP_TORCH_AT_OOM, t, 0, 0, 0, 0);
        e->size = s == GP_TSTAT_REQUEST ? 1ull << 34 : s == GP_TSTAT_ALLOCATED ? 2 << 20 : 3 * s;
        gp_trace_writer_event(w, e);
    }
    ev = event(GP_REC_OOM, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, t += 5, 1ull << 34, 0, 3, 2);
    ev->result = 2;
    ev->aux1 = 1 << 20;
    ev->aux2 = 16ull << 30;
    gp_trace_writer_event(w, ev);
    ev = event(GP_REC_MEMINFO, GP_API_NVML_PROCESSES, GP_MEM_DEVICE, t += 1, 3ull << 30,
               4ull << 30, 0, 0);
    ev->tid = 77 + 2; /* the OOM's thread */
    ev->aux1 = 2;
    ev->aux2 = 21 << 20;
    ev->stream = 31337;
    gp_trace_writer_event(w, ev);
    ev = event(GP_REC_TORCH_STAT, GP_TSTAT_FATAL, GP_TORCH_AT_EXIT, t += 5, 1, 0, 0, 0);
    gp_trace_writer_event(w, ev);
    gp_trace_writer_close(w);
    close(fd);

    /* Kernels back to back (KERNEL_RUN records), broken by a copy and by a flush. */
    w = open_trace("valid-kernel-run.gz", &fd, "", "fuzz_app --loop");
    gp_trace_writer_activity_status(w, &(struct gp_activity_status){
        .state = GP_ACT_RECORDING, .version = 24, .kinds = 0x1ff, .library = "libcupti.so"});
    for (unsigned i = 0; i < 60; i++) {
        static const char *const loop[] = {"_Z4stepPf", "volta_sgemm_128x64_nn", "_Z6reducePKfPf"};
        struct gp_activity k = {.type = GP_REC_KERNEL, .context = 1, .stream = 7 + i % 2,
                                .correlation = 5000 + i, .start_ns = 1000000 + t,
                                .end_ns = 1000000 + t + 900 + i % 5, .name = loop[i % 3],
                                .grid = {i + 1, 1, 1}, .block = {256, 1, 1}, .registers = 32};
        t += 1000;
        gp_trace_writer_activity(w, &k);
        if (i == 20)
            gp_trace_writer_activity(w, &(struct gp_activity){
                .type = GP_REC_MEMCPY, .kind = 1, .stream = 7, .correlation = 6000,
                .start_ns = 1000000 + t, .end_ns = 1000000 + t + 500, .bytes = 4096});
        if (i == 40)
            gp_trace_writer_flush(w);
    }
    gp_trace_writer_close(w);
    close(fd);

    /* Cubins: a small saved one, the same again (duplicate), over the cap, lost, and kernels
     * that ran. A multi-chunk one only in valid-cubin-big (its stream is too large a seed). */
    static uint8_t bytes[GP_TRACE_CUBIN_CHUNK + 4000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i % 251 == 0 ? 0x7f : i & 3);
    memcpy(bytes, "\x7f" "ELF", 4);
    for (int big = 0; big < 2; big++) {
        w = open_trace(big ? "valid-cubin-big.gz" : "valid-cubin.gz", &fd, "", "fuzz_app --cubins");
        size_t n = big ? sizeof bytes : 300;
        struct gp_cubin c = {.module_id = 1, .state = GP_CUBIN_SAVED, .size = n, .data = bytes,
                             .hash = gp_trace_cubin_hash(bytes, n)};
        gp_trace_writer_cubin(w, &c);
        c.module_id = 2;
        c.state = GP_CUBIN_DUPLICATE;
        gp_trace_writer_cubin(w, &c);
        c = (struct gp_cubin){.module_id = 3, .state = GP_CUBIN_OVER_CAP, .size = 1 << 20, .hash = 5};
        gp_trace_writer_cubin(w, &c);
        c.state = GP_CUBIN_LOST;
        c.module_id = 4;
        gp_trace_writer_cubin(w, &c);
        kernel_for(w, &t, "_Z10vector_addPKfS0_Pfi", 3001, 1);
        kernel_for(w, &t, "sm80_xmma_gemm_f32f32_f32f32_f32_nn_n_ffma", 3002, 2);
        gp_trace_writer_close(w);
        close(fd);
    }
}

/* ---- variants of the valid traces ---------------------------------------------------- */
static void variants(const char *name)
{
    char path[4096], out[4096];
    size_t n, slen;
    snprintf(path, sizeof path, "%s/%s.gz", outdir, name);
    uint8_t *raw = read_all(path, &n);
    uint8_t *stream = gunzip(raw, n, &slen);

    snprintf(out, sizeof out, "stream-%s", name);
    save_stream(out, 0x00, stream, slen);
    snprintf(out, sizeof out, "stream-cut-%s", name);
    save_stream(out, 0x01, stream, slen * 2 / 3);
    snprintf(out, sizeof out, "raw-cut-half-%s.gz", name);
    save(out, raw, n / 2);
    snprintf(out, sizeof out, "raw-cut-trailer-%s.gz", name);
    save(out, raw, n - 3);
    uint8_t *bad = malloc(n + 8);
    if (!bad)
        abort();
    memcpy(bad, raw, n);
    bad[n / 2] ^= 0x55;
    snprintf(out, sizeof out, "raw-flipped-%s.gz", name);
    save(out, bad, n);
    memcpy(bad, raw, n);
    memcpy(bad + n, "garbage!", 8);
    snprintf(out, sizeof out, "raw-trailing-%s.gz", name);
    save(out, bad, n + 8);
    free(bad);
    free(stream);
    free(raw);
}

/* ---- hand-made streams, each breaking one rule ----------------------------------------- */
static void header_record(struct buf *b, uint64_t version)
{
    struct buf h = {0};
    put_varint(&h, version);
    put_varint(&h, 4242);
    put_varint(&h, 1);
    put_varint(&h, 8);
    put_varint(&h, 1700000000000000000ull);
    put_varint(&h, 1000000);
    put_str(&h, "host");
    put_str(&h, "/nonexistent/app");
    put_str(&h, "app");
    put_str(&h, "");
    put_record(b, GP_REC_HEADER, &h);
    free(h.p);
}

static void preamble(struct buf *b, uint64_t version)
{
    put(b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    put_varint(b, version);
    header_record(b, version);
}

static void put_simple(struct buf *b, uint8_t type, const uint64_t *v, size_t n)
{
    struct buf p = {0};
    for (size_t i = 0; i < n; i++)
        put_varint(&p, v[i]);
    put_record(b, type, &p);
    free(p.p);
}

#define SIMPLE(b, type, ...)                                                                       \
    put_simple(b, type, (const uint64_t[]){__VA_ARGS__},                                           \
               sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

static void handmade(void)
{
    struct buf b;
    const uint64_t alloc_mask = GP_EVF_TID | GP_EVF_SIZE | GP_EVF_PTR | GP_EVF_STACK;

    /* A small valid stream: string, module, two frames, alloc and free, END. */
#define BASE(b)                                                                                    \
    do {                                                                                           \
        memset(&b, 0, sizeof b);                                                                   \
        preamble(&b, GP_TRACE_VERSION);                                                            \
        put_record(&b, GP_REC_STRING, &(struct buf){(uint8_t *)"/nonexistent/lib.so", 19, 19});    \
        SIMPLE(&b, GP_REC_MODULE, 1, 0x1000, 0x2000, 0x9000);                                      \
        SIMPLE(&b, GP_REC_FRAME, 0, 0x2345);                                                       \
        SIMPLE(&b, GP_REC_FRAME, 1, 0x2456);                                                       \
        SIMPLE(&b, GP_REC_ALLOC, 20, GP_API_CUDA_MALLOC, alloc_mask, 9, 4096, 0x10000, 2);         \
    } while (0)

    BASE(b);
    SIMPLE(&b, GP_REC_FREE, 20, GP_API_CUDA_FREE, GP_EVF_PTR | GP_EVF_STACK, 0, 1);
    SIMPLE(&b, GP_REC_END, 2, 0);
    save_stream("hand-valid", 0x00, b.p, b.len);
    save_stream("hand-valid-cut", 0x01, b.p, b.len);
    save_stream("hand-valid-cut-deeper", 0x0b, b.p, b.len);
    free(b.p);

    BASE(b); /* a stack node that does not exist yet */
    SIMPLE(&b, GP_REC_FREE, 20, GP_API_CUDA_FREE, GP_EVF_PTR | GP_EVF_STACK, 0, 9);
    save_stream("hand-undefined-stack", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* a frame whose parent comes later */
    SIMPLE(&b, GP_REC_FRAME, 7, 0x2567);
    save_stream("hand-undefined-parent", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* a module naming a string that was never defined */
    SIMPLE(&b, GP_REC_MODULE, 5, 0, 0x3000, 0x4000);
    save_stream("hand-undefined-string", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* records after END */
    SIMPLE(&b, GP_REC_END, 1, 0);
    SIMPLE(&b, GP_REC_DROPPED, 3);
    save_stream("hand-after-end", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* a second HEADER */
    header_record(&b, GP_TRACE_VERSION);
    save_stream("hand-second-header", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* a record type from a later version (skipped), then END */
    SIMPLE(&b, 0x55, 1, 2, 3);
    SIMPLE(&b, GP_REC_END, 1, 0);
    save_stream("hand-unknown-type", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* a payload length over the limit */
    put_u8(&b, GP_REC_STRING);
    put_varint(&b, (uint64_t)GP_TRACE_MAX_RECORD + 1);
    put(&b, "abc", 3);
    save_stream("hand-huge-length", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* a length varint that never ends */
    put_u8(&b, GP_REC_STRING);
    put(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
    save_stream("hand-bad-length-varint", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* an event whose fields run past its payload, and one out of range */
    {
        struct buf p = {0};
        put_varint(&p, 5);
        put_varint(&p, GP_API_CUDA_MALLOC);
        put_varint(&p, GP_EVF_SIZE | GP_EVF_DEVICE | GP_EVF_RESULT | GP_EVF_AUX1 | GP_EVF_AUX2 | (1u << 12));
        put_varint(&p, 100);
        put_record(&b, GP_REC_ALLOC, &p);
        free(p.p);
    }
    save_stream("hand-short-event", 0x00, b.p, b.len);
    free(b.p);
    BASE(b);
    SIMPLE(&b, GP_REC_ALLOC, 5, 300, GP_EVF_DEVICE, UINT64_MAX);
    save_stream("hand-range-event", 0x00, b.p, b.len);
    free(b.p);

    BASE(b); /* future mask bits, huge sizes and times, a negative time delta */
    SIMPLE(&b, GP_REC_ALLOC, UINT64_MAX, GP_API_CUDA_MALLOC, alloc_mask | (1u << 15), 1, UINT64_MAX,
           UINT64_MAX, 2, 1, 2);
    SIMPLE(&b, GP_REC_ALLOC, 1, GP_API_CUDA_MALLOC_MANAGED, alloc_mask | GP_EVF_KIND, 1,
           UINT64_MAX, 8, 2, 200);
    SIMPLE(&b, GP_REC_OOM, 3, 99, GP_EVF_SIZE | GP_EVF_AUX1 | GP_EVF_AUX2, UINT64_MAX, UINT64_MAX, 0);
    SIMPLE(&b, GP_REC_MEMINFO, 3, GP_API_CUDA_MEM_GET_INFO, GP_EVF_SIZE | GP_EVF_AUX1, UINT64_MAX, 1);
    SIMPLE(&b, GP_REC_END, 5, 0);
    save_stream("hand-extremes", 0x00, b.p, b.len);
    free(b.p);

    /* CUBIN chunks by hand: a cubin in three small chunks (readers take any chunk size),
     * then one whose chunks come out of order, one cut short, one past its size. */
#define CUBIN(b, state, module, hash, size, off, len, bytes)                                        \
    do {                                                                                           \
        struct buf p_ = {0};                                                                       \
        put_varint(&p_, state);                                                                    \
        put_varint(&p_, module);                                                                   \
        put_varint(&p_, hash);                                                                     \
        put_varint(&p_, size);                                                                     \
        put_varint(&p_, off);                                                                      \
        put_varint(&p_, len);                                                                      \
        put(&p_, bytes, len);                                                                      \
        put_record(b, GP_REC_CUBIN, &p_);                                                          \
        free(p_.p);                                                                                \
    } while (0)
    BASE(b);
    CUBIN(&b, GP_CUBIN_SAVED, 1, 77, 24, 0, 8, "\x7f" "ELFabcd");
    CUBIN(&b, GP_CUBIN_SAVED, 1, 77, 24, 8, 8, "efghijkl");
    CUBIN(&b, GP_CUBIN_SAVED, 1, 77, 24, 16, 8, "mnopqrst");
    CUBIN(&b, GP_CUBIN_SAVED, 2, 78, 16, 8, 8, "second!!"); /* starts in the middle */
    CUBIN(&b, GP_CUBIN_SAVED, 2, 78, 16, 0, 8, "first!!!");
    CUBIN(&b, GP_CUBIN_SAVED, 3, 79, 32, 0, 8, "cut-shrt");
    CUBIN(&b, GP_CUBIN_SAVED, 4, 77, 24, 0, 8, "\x7f" "ELFabcd"); /* same hash again */
    CUBIN(&b, GP_CUBIN_DUPLICATE, 5, 77, 24, 0, 0, "");
    SIMPLE(&b, GP_REC_END, 2, 0);
    save_stream("hand-cubin-chunks", 0x00, b.p, b.len);
    free(b.p);
    BASE(b); /* bytes in a record that says "duplicate": corrupt */
    CUBIN(&b, GP_CUBIN_DUPLICATE, 1, 77, 24, 0, 4, "abcd");
    save_stream("hand-cubin-bytes-in-duplicate", 0x00, b.p, b.len);
    free(b.p);
    BASE(b); /* a chunk reaching past the cubin's size: corrupt */
    CUBIN(&b, GP_CUBIN_SAVED, 1, 77, 4, 0, 8, "abcdefgh");
    save_stream("hand-cubin-past-size", 0x00, b.p, b.len);
    free(b.p);

    /* INFO by hand: a key, a value id 0, an undefined string id (corrupt). */
    BASE(b);
    put_record(&b, GP_REC_STRING, &(struct buf){(uint8_t *)"cuda.driver_version", 19, 19});
    put_record(&b, GP_REC_STRING, &(struct buf){(uint8_t *)"99999999999999999999", 20, 20});
    SIMPLE(&b, GP_REC_INFO, 2, 3);
    SIMPLE(&b, GP_REC_INFO, 2, 0);
    put_record(&b, GP_REC_STRING, &(struct buf){(uint8_t *)"cuda.runtime_version", 20, 20});
    SIMPLE(&b, GP_REC_INFO, 4, 3);
    SIMPLE(&b, GP_REC_END, 2, 0);
    save_stream("hand-info", 0x00, b.p, b.len);
    free(b.p);
    BASE(b);
    SIMPLE(&b, GP_REC_INFO, 9, 1);
    save_stream("hand-info-undefined", 0x00, b.p, b.len);
    free(b.p);

    /* TORCH and TORCH_STAT by hand: unknown actions and statistics, a free of a block never
     * allocated, huge values, a device far past the table. */
    BASE(b);
    SIMPLE(&b, GP_REC_TORCH, 5, GP_TORCH_ALLOC, GP_EVF_SIZE | GP_EVF_PTR | GP_EVF_DEVICE,
           UINT64_MAX, 0x1000, 2 * 1000);
    SIMPLE(&b, GP_REC_TORCH, 5, GP_TORCH_FREE_REQUESTED, GP_EVF_SIZE | GP_EVF_PTR, 4096, 0x9000);
    SIMPLE(&b, GP_REC_TORCH, 5, 200, GP_EVF_SIZE, 1);
    SIMPLE(&b, GP_REC_TORCH, 5, GP_TORCH_OOM, GP_EVF_SIZE | GP_EVF_AUX1 | GP_EVF_AUX2, UINT64_MAX,
           UINT64_MAX, UINT64_MAX);
    SIMPLE(&b, GP_REC_TORCH_STAT, 5, GP_TSTAT_DEVICE_TOTAL, GP_EVF_SIZE | GP_EVF_KIND, 1,
           GP_TORCH_AT_OOM);
    SIMPLE(&b, GP_REC_TORCH_STAT, 5, 250, GP_EVF_SIZE | GP_EVF_KIND, UINT64_MAX, 9);
    SIMPLE(&b, GP_REC_TORCH_STAT, 5, GP_TSTAT_ALLOCATED_PEAK, GP_EVF_SIZE, UINT64_MAX);
    SIMPLE(&b, GP_REC_END, 9, 0);
    save_stream("hand-torch", 0x00, b.p, b.len);
    free(b.p);

    /* LIBCALL by hand: every later field, a conv shape with 3 spatial dimensions, then one
     * with 4 (corrupt). */
    BASE(b);
    SIMPLE(&b, GP_REC_LIBCALL, 5, GP_LIB_CONV_FWD, 0x7ffc02 | GP_EVF_AUX1 | GP_EVF_AUX2, 1000,
           64, 576, 2, 1, 2, 3, 900, 0x00, 0x030303, 2, 1, /* conv: */ 3, 8, 64, 128,
           16, 3, 16, 1, 1, 1, 56, 3, 56, 1, 1, 1, 56, 3, 56, 1, 1, 1, /* workspace */ 1 << 20,
           /* notes */ GP_LIB_NOTES_KNOWN | 3, /* ext_id */ 41);
    SIMPLE(&b, GP_REC_END, 2, 0);
    save_stream("hand-libcall-conv", 0x00, b.p, b.len);
    free(b.p);
    BASE(b);
    SIMPLE(&b, GP_REC_LIBCALL, 5, GP_LIB_CONV_FWD, 0x80000, 4, 1, 1, 1);
    save_stream("hand-libcall-conv-4d", 0x00, b.p, b.len);
    free(b.p);

    /* Broken preambles. */
    memset(&b, 0, sizeof b);
    preamble(&b, 0);
    save_stream("hand-version-0", 0x00, b.p, b.len);
    free(b.p);
    memset(&b, 0, sizeof b);
    preamble(&b, GP_TRACE_VERSION + 1);
    save_stream("hand-version-next", 0x00, b.p, b.len);
    free(b.p);
    memset(&b, 0, sizeof b);
    put(&b, "GPUPROX\0\x01", 9);
    save_stream("hand-bad-magic", 0x00, b.p, b.len);
    free(b.p);
    memset(&b, 0, sizeof b);
    put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    put_varint(&b, GP_TRACE_VERSION);
    {
        struct buf h = {0};
        put_varint(&h, GP_TRACE_VERSION);
        put_varint(&h, 1);
        put_varint(&h, 1);
        put_varint(&h, 1);
        put_varint(&h, 1);
        put_varint(&h, 1);
        put_varint(&h, 1000); /* a string longer than the record */
        put(&h, "host", 4);
        put_record(&b, GP_REC_HEADER, &h);
        free(h.p);
    }
    save_stream("hand-header-overrun", 0x00, b.p, b.len);
    free(b.p);
    memset(&b, 0, sizeof b);
    put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    put_varint(&b, GP_TRACE_VERSION);
    SIMPLE(&b, GP_REC_STRING, 1);
    save_stream("hand-no-header", 0x00, b.p, b.len);
    free(b.p);

    /* Files that are not gzip, or barely. */
    save("file-empty.gz", "", 0);
    save("file-one-byte.gz", "\x1f", 1);
    save("file-gzip-magic-only.gz", "\x1f\x8b\x08\x00", 4);
}

/* ---- the names files of fuzz_classify (--classify-kernels) ---------------------------- */
static void names(void)
{
    static const char *const files[][2] = {
        {"names-cublas", "volta_sgemm_128x64_nn\nampere_h16816gemm_256x128_ldg8_stages_32x3_tn\n"
                         "sm90_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1\n"
                         "sm80_xmma_gemm_f32f32_f32f32_f32_nn_n_tilesize128x128x8_stage3_ffma\n"
                         "nvjet_hsh_128x256_64x4_2x1_v_bz_coopA_NTT\nnvjet_sss_64x64_tn\n"
                         "gemv2T_kernel_val<int, int, float, float, float, 128, 16, 4, 4>\n"},
        {"names-cudnn", "volta_fp16_s884cudnn_fp16_256x128_ldg8_relu_f2f_exp_small_nhwc2nchw_tn_v1\r\n"
                        "implicit_convolve_sgemm\r\nscudnn_winograd_128x128_ldg1_ldg4_tile148n_nt\r\n"
                        "cutlass_80_tensorop_s1688gemm_128x128_32x3_nn_align4\r\n"
                        "flash_fwd_kernel\r\ntriton_poi_fused_0\r\n"},
        {"names-mangled", "_Z10vector_addPKfS0_Pfi\n"
                          "_ZN7cutlass6KernelINS_4gemm6kernel4GemmIfEEEEvNT_6ParamsE\n"
                          "_ZN2at6native29vectorized_elementwise_kernelILi4ENS0_11FillFunctorIfEENS_6detail5ArrayIPcLi1EEEEEviT0_T1_\n"
                          "_Z1fIJEEvDpT_\n_Z\n_ZZZZZZ\n_ZN1a1bILi1EEE\n"},
        {"names-hostile", "\x1b[31mred\tcolumn\\\x7f$(reboot)`id`\n\n\r\n<script>x</script>\n"
                          "\xff\xfe\xc3\xa9 sgemm\nno newline at the end"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        save(files[i][0], files[i][1], strlen(files[i][1]));
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: make_corpus DIR [NAMES_DIR]\n");
        return 2;
    }
    if (argc == 3) {
        outdir = argv[2];
        names();
    }
    outdir = argv[1];
    valid_traces();
    static const char *const valid[] = {"valid-basic", "valid-churn", "valid-empty", "valid-strings",
                                        "valid-python", "valid-activity", "valid-flushed"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        variants(valid[i]);
    newer_traces();
    static const char *const newer[] = {"valid-libcall", "valid-torch", "valid-cubin",
                                        "valid-kernel-run"};
    for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++)
        variants(newer[i]);
    handmade();
    return 0;
}
