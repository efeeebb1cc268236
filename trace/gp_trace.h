/* gp_trace.h — the gpuprof trace format, in one place: record types, the event
 * struct the shim hands over, the streaming writer and the streaming reader.
 * docs/trace-format.md is the byte-level specification; this header is its C face.
 * Used by shim/ (writer) and report/ (reader); depends on zlib and libc only. */
#ifndef GP_TRACE_H
#define GP_TRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- file framing --------------------------------------------------------- */
#define GP_TRACE_MAGIC "GPUPROF\0" /* 8 bytes, first bytes of the decompressed stream */
#define GP_TRACE_MAGIC_LEN 8
#define GP_TRACE_VERSION 1u     /* bumped on incompatible change; readers refuse newer */
#define GP_TRACE_MAX_FRAMES 256 /* upper bound for GPUPROF_DEPTH */
#define GP_TRACE_MAX_RECORD (1u << 20) /* a record payload larger than this is corrupt */

/* Record types (the byte before each record's varint payload length). */
enum gp_rec_type {
    GP_REC_HEADER = 0x01,  /* exactly once, first record */
    GP_REC_STRING = 0x02,  /* defines string id N (1, 2, ...) */
    GP_REC_MODULE = 0x03,  /* a loaded object: path string, load bias, address range */
    GP_REC_FRAME = 0x04,   /* defines stack node id N: parent node, instruction pointer */
    GP_REC_PYFRAME = 0x05, /* defines Python frame id N: file, function, line */
    GP_REC_ALLOC = 0x10,   /* an allocation call (successful or failed) */
    GP_REC_FREE = 0x11,    /* a free call */
    GP_REC_MEMINFO = 0x12, /* a device free/total answer (cudaMemGetInfo, or asked by the shim) */
    GP_REC_OOM = 0x13,     /* an allocation failed for lack of memory */
    GP_REC_POOL = 0x14,    /* a memory pool's reserved size changed (ptr = pool, size = reserved, aux1 = used) */
    GP_REC_LIBCALL = 0x15, /* a math-library call (cuBLAS GEMM, cuDNN convolution): api = enum gp_lib_api, see "library calls" */
    GP_REC_TORCH = 0x16,   /* PyTorch's caching allocator did something: api = enum gp_torch_action */
    GP_REC_TORCH_STAT = 0x17, /* one PyTorch allocator statistic: api = enum gp_torch_stat */
    GP_REC_INFO = 0x18,    /* a fact about the run's environment: key and value strings */
    GP_REC_CUBIN = 0x19,   /* a loaded module's machine code (GPUPROF_CUBINS=1), in chunks: see "cubins" */
    GP_REC_DROPPED = 0x20, /* events dropped since the previous DROPPED record */
    /* GPU activity recorded by CUPTI (cupti/): struct gp_activity, see "GPU activity" below */
    GP_REC_KERNEL = 0x30,      /* a kernel ran */
    GP_REC_MEMCPY = 0x31,      /* a copy ran */
    GP_REC_MEMSET = 0x32,      /* a memset ran */
    GP_REC_GPU_MEMORY = 0x33,  /* CUPTI saw device memory allocated or released (MEMORY2) */
    GP_REC_GPU_POOL = 0x34,    /* CUPTI saw a memory pool created, destroyed or trimmed */
    GP_REC_EXT_CORR = 0x35,    /* a tool's external id for a CUDA call (external correlation) */
    GP_REC_MARKER = 0x36,      /* an NVTX mark, range start or range end */
    GP_REC_SYNC = 0x37,        /* a synchronization call waited */
    GP_REC_OVERHEAD = 0x38,    /* time CUPTI or the driver spent on their own work */
    GP_REC_ACT_DROPPED = 0x3e, /* activity records CUPTI dropped since the previous one */
    GP_REC_ACT_STATUS = 0x3f,  /* whether GPU activity is recorded, and why not */
    GP_REC_END = 0x7f,     /* clean end of trace: totals */
};

/* Which API an event came from. Stable numbers: they are written to traces. */
#define GP_API_LIST(X)                                                                             \
    X(CUDA_MALLOC, 1, "cudaMalloc")                                                                \
    X(CUDA_FREE, 2, "cudaFree")                                                                    \
    X(CUDA_MALLOC_ASYNC, 3, "cudaMallocAsync")                                                     \
    X(CUDA_FREE_ASYNC, 4, "cudaFreeAsync")                                                         \
    X(CUDA_MALLOC_FROM_POOL_ASYNC, 5, "cudaMallocFromPoolAsync")                                   \
    X(CUDA_MALLOC_MANAGED, 6, "cudaMallocManaged")                                                 \
    X(CUDA_MALLOC_HOST, 7, "cudaMallocHost")                                                       \
    X(CUDA_HOST_ALLOC, 8, "cudaHostAlloc")                                                         \
    X(CUDA_FREE_HOST, 9, "cudaFreeHost")                                                           \
    X(CUDA_MALLOC_PITCH, 10, "cudaMallocPitch")                                                    \
    X(CUDA_MALLOC_3D, 11, "cudaMalloc3D")                                                          \
    X(CUDA_MEM_GET_INFO, 12, "cudaMemGetInfo")                                                     \
    X(CU_MEM_ALLOC, 13, "cuMemAlloc_v2")                                                           \
    X(CU_MEM_ALLOC_PITCH, 14, "cuMemAllocPitch_v2")                                                \
    X(CU_MEM_FREE, 15, "cuMemFree_v2")                                                             \
    X(CU_MEM_ALLOC_MANAGED, 16, "cuMemAllocManaged")                                               \
    X(CU_MEM_ALLOC_HOST, 17, "cuMemAllocHost_v2")                                                  \
    X(CU_MEM_HOST_ALLOC, 18, "cuMemHostAlloc")                                                     \
    X(CU_MEM_FREE_HOST, 19, "cuMemFreeHost")                                                       \
    X(CU_MEM_ALLOC_ASYNC, 20, "cuMemAllocAsync")                                                   \
    X(CU_MEM_ALLOC_FROM_POOL_ASYNC, 21, "cuMemAllocFromPoolAsync")                                 \
    X(CU_MEM_FREE_ASYNC, 22, "cuMemFreeAsync")                                                     \
    X(CU_MEM_CREATE, 23, "cuMemCreate")                                                            \
    X(CU_MEM_RELEASE, 24, "cuMemRelease")                                                          \
    X(CU_MEM_MAP, 25, "cuMemMap")                                                                  \
    X(CU_MEM_UNMAP, 26, "cuMemUnmap")                                                              \
    X(CU_MEM_ADDRESS_RESERVE, 27, "cuMemAddressReserve")                                           \
    X(CU_MEM_ADDRESS_FREE, 28, "cuMemAddressFree")                                                 \
    X(CU_MEM_POOL_TRIM_TO, 29, "cuMemPoolTrimTo")                                                  \
    X(CU_MEM_GET_INFO, 30, "cuMemGetInfo_v2")                                                     \
    /* MEMINFO written after an OOM: other processes on the device, from NVML (trace-format §3.5) */ \
    X(NVML_PROCESSES, 31, "nvmlDeviceGetComputeRunningProcesses")

enum gp_api {
    GP_API_NONE = 0,
#define GP_API_ENUM(id, num, name) GP_API_##id = num,
    GP_API_LIST(GP_API_ENUM)
#undef GP_API_ENUM
    GP_API_COUNT
};

/* Where the memory lives. Device, managed and pinned host memory are never mixed.
 * PHYSICAL is device memory taken with cuMemCreate: its "ptr" is the allocation handle,
 * a value in its own name space. ADDRESS_RANGE is virtual address space reserved with
 * cuMemAddressReserve (no memory behind it); MAPPING is a cuMemMap of a handle into such
 * a range (aux1 = the handle). Device memory held by the process = DEVICE + PHYSICAL. */
enum gp_mem_kind {
    GP_MEM_DEVICE = 0,
    GP_MEM_MANAGED = 1,
    GP_MEM_HOST_PINNED = 2,
    GP_MEM_PHYSICAL = 3,
    GP_MEM_ADDRESS_RANGE = 4,
    GP_MEM_MAPPING = 5,
    GP_MEM_KIND_COUNT
};

/* Returns "cudaMalloc" etc., or "api#N" style "?" for unknown numbers. */
const char *gp_trace_api_name(unsigned api);
const char *gp_trace_kind_name(unsigned kind);

/* ---- library calls (GP_REC_LIBCALL) ------------------------------------------ */
/* Which library entry point a LIBCALL came from (gp_event.api). Stable numbers. */
#define GP_LIB_API_LIST(X)                                                                         \
    X(SGEMM, 1, "cublasSgemm_v2")                                                                  \
    X(SGEMM_64, 2, "cublasSgemm_v2_64")                                                            \
    X(HGEMM, 3, "cublasHgemm")                                                                     \
    X(HGEMM_64, 4, "cublasHgemm_64")                                                               \
    X(GEMM_EX, 5, "cublasGemmEx")                                                                  \
    X(GEMM_EX_64, 6, "cublasGemmEx_64")                                                            \
    X(GEMM_SB_EX, 7, "cublasGemmStridedBatchedEx")                                                 \
    X(GEMM_SB_EX_64, 8, "cublasGemmStridedBatchedEx_64")                                           \
    X(GEMM_B_EX, 9, "cublasGemmBatchedEx")                                                         \
    X(GEMM_B_EX_64, 10, "cublasGemmBatchedEx_64")                                                  \
    X(SGEMM_SB, 11, "cublasSgemmStridedBatched")                                                   \
    X(SGEMM_SB_64, 12, "cublasSgemmStridedBatched_64")                                             \
    X(HGEMM_SB, 13, "cublasHgemmStridedBatched")                                                   \
    X(HGEMM_SB_64, 14, "cublasHgemmStridedBatched_64")                                             \
    X(LT_MATMUL, 15, "cublasLtMatmul")                                                             \
    X(CONV_FWD, 16, "cudnnConvolutionForward")                                                     \
    X(CONV_BWD_DATA, 17, "cudnnConvolutionBackwardData")                                           \
    X(CONV_BWD_FILTER, 18, "cudnnConvolutionBackwardFilter")                                       \
    X(DNN_EXECUTE, 19, "cudnnBackendExecute")
enum gp_lib_api {
#define GP_LIB_API_ENUM(id, num, name) GP_LIB_##id = num,
    GP_LIB_API_LIST(GP_LIB_API_ENUM)
#undef GP_LIB_API_ENUM
    GP_LIB_API_COUNT
};
const char *gp_trace_lib_api_name(unsigned api); /* "cublasGemmEx", ...; "?" if unknown */

#define GP_LIB_UNKNOWN INT32_MIN /* compute / algo not known (not part of the call) */
/* A convolution's shape beyond its GEMM view (cuDNN LIBCALLs, docs/trace-format.md §3.5.1).
 * Spatial extents are outermost first (H, W for a 2-D convolution; D, H, W for 3-D);
 * channels are whole-tensor counts, not per group. nspatial = 0: no shape recorded. */
#define GP_LIB_CONV_MAX_SPATIAL 3
struct gp_libconv {
    uint32_t n, c, k;                         /* batch, input channels, output channels */
    uint32_t in[GP_LIB_CONV_MAX_SPATIAL];     /* input extents (H, W) */
    uint32_t filt[GP_LIB_CONV_MAX_SPATIAL];   /* filter extents (R, S) */
    uint32_t out[GP_LIB_CONV_MAX_SPATIAL];    /* output extents (P, Q) */
    uint16_t pads[GP_LIB_CONV_MAX_SPATIAL];
    uint16_t strides[GP_LIB_CONV_MAX_SPATIAL];
    uint16_t dilations[GP_LIB_CONV_MAX_SPATIAL];
    uint8_t nspatial;                         /* 1..GP_LIB_CONV_MAX_SPATIAL, 0 = none */
    uint8_t pad;
};

/* gp_libcall.notes, with GP_LIB_NOTES_KNOWN set when they were read; 0 = not read. cuDNN:
 * the engine's numerical notes (cudnnBackendNumericalNote_t n sets bit n). cublasLtMatmul:
 * the low 31 bits of the algorithm's cublasLtNumericalImplFlags_t
 * (CUBLASLT_ALGO_CAP_NUMERICAL_IMPL_FLAGS: FMA, HMMA, IMMA, DMMA, accumulator, input). */
#define GP_LIB_NOTES_KNOWN (1u << 31)

/* The GEMM fields of a LIBCALL beyond the common event fields. Data types are stored as
 * cudaDataType + 1, 0 = unknown; compute is the cublasComputeType_t (or the legacy
 * cudaDataType) the program passed, GP_LIB_UNKNOWN when the API has none. */
struct gp_libcall {
    uint64_t batch;   /* batch count, 1 for a plain GEMM; groups for a convolution */
    uint64_t lda, ldb, ldc;
    uint64_t dur_ns;  /* host time inside the call */
    uint64_t workspace; /* bytes of workspace the call was given or needs, 0 = none/unknown */
    int32_t compute;  /* GP_LIB_UNKNOWN = none */
    int32_t algo;     /* cublasGemmAlgo_t, cuBLASLt algo config id, cuDNN algorithm or engine;
                         GP_LIB_UNKNOWN = none */
    uint32_t notes;   /* GP_LIB_NOTES_KNOWN | numerical notes / impl flags; 0 = not read */
    uint64_t ext_id;  /* CUPTI external correlation id pushed around the call, 0 = none */
    uint8_t trans_a, trans_b; /* cublasOperation_t */
    uint8_t type_a, type_b, type_c; /* cudaDataType + 1, 0 = unknown */
    uint8_t type_d, scale; /* cuBLASLt: D's type, scale type; cudaDataType + 1, 0 = unknown */
    uint8_t pad[1];
    struct gp_libconv conv; /* cuDNN convolutions only */
};

/* ---- PyTorch's caching allocator (GP_REC_TORCH, GP_REC_TORCH_STAT) -------------- */
/* Handed over by gpuprof's Python adapter (python/gpuprof_torch) through the shim's C API,
 * from PyTorch's own allocator history. A TORCH event: api = action, device, ptr = the
 * block's (or segment's) address, size = its bytes, stream, time_ns converted onto the
 * trace clock, the Python stack PyTorch recorded for it. OOM: ptr = 0, size = the rounded
 * request, aux1 = the device's free bytes as PyTorch saw them, aux2 = the segment size the
 * allocator tried to get (the "Tried to allocate" number), 0 = unknown. Stable numbers. */
#define GP_TORCH_ACTION_LIST(X)                                                                    \
    X(ALLOC, 1, "alloc")                    /* a block handed to a tensor */                       \
    X(FREE_REQUESTED, 2, "free_requested")  /* the tensor let go: allocated drops here */          \
    X(FREE_COMPLETED, 3, "free_completed")  /* the block is reusable (other streams done) */        \
    X(SEGMENT_ALLOC, 4, "segment_alloc")    /* the allocator took a segment from CUDA */           \
    X(SEGMENT_FREE, 5, "segment_free")      /* ... and gave one back */                            \
    X(SEGMENT_MAP, 6, "segment_map")        /* expandable segment grew (cuMemMap) */               \
    X(SEGMENT_UNMAP, 7, "segment_unmap")    /* ... and shrank */                                   \
    X(OOM, 8, "oom")                        /* an allocation failed for lack of memory */
enum gp_torch_action {
#define GP_TORCH_ACTION_ENUM(id, num, name) GP_TORCH_##id = num,
    GP_TORCH_ACTION_LIST(GP_TORCH_ACTION_ENUM)
#undef GP_TORCH_ACTION_ENUM
    GP_TORCH_ACTION_COUNT
};
const char *gp_trace_torch_action_name(unsigned action); /* "alloc", ...; "?" if unknown */

/* A TORCH_STAT record: api = which statistic, kind = enum gp_torch_occasion, device,
 * size = the value, time_ns. The adapter writes a batch of them per occasion, all with the
 * same time; a reader keeps the latest value of each. Byte values unless noted. */
#define GP_TORCH_STAT_LIST(X)                                                                      \
    X(ALLOCATED, 1, "allocated")             /* allocated_bytes.all.current */                     \
    X(RESERVED, 2, "reserved")               /* reserved_bytes.all.current */                      \
    X(ACTIVE, 3, "active")                   /* active_bytes.all.current */                        \
    X(INACTIVE_SPLIT, 4, "inactive_split")   /* inactive_split_bytes.all.current */                \
    X(ALLOCATED_PEAK, 5, "allocated_peak")   /* allocated_bytes.all.peak */                        \
    X(RESERVED_PEAK, 6, "reserved_peak")     /* reserved_bytes.all.peak */                         \
    X(LARGEST_FREE, 7, "largest_free_block") /* largest inactive block in the segments */         \
    X(NUM_ALLOC_RETRIES, 8, "num_alloc_retries") /* count */                                     \
    X(NUM_OOMS, 9, "num_ooms")               /* count */                                           \
    X(DEVICE_TOTAL, 10, "device_total")      /* or the per-process cap */                          \
    X(DEVICE_FREE, 11, "device_free")                                                              \
    X(REQUEST, 12, "request")                /* OOM: the tensor's bytes (rounded) */               \
    X(SEGMENT_REQUEST, 13, "segment_request") /* OOM: the segment size tried */                    \
    X(ALLOCS, 14, "allocs")                  /* count of allocations since start */                \
    X(FREES, 15, "frees")                    /* count of frees since start */                      \
    X(HISTORY_LOST, 16, "history_lost")      /* allocator events the adapter missed (count) */    \
    X(EXPANDABLE, 17, "expandable_segments") /* 1 = on */                                          \
    X(BACKEND_ASYNC, 18, "backend_async")    /* 1 = backend:cudaMallocAsync */                     \
    X(TORCH_VERSION, 19, "torch_version")    /* major * 10000 + minor * 100 + patch */             \
    X(PRIVATE_POOLS, 20, "private_pools")    /* bytes allocated in private pools (CUDA graphs) */ \
    X(MAX_SPLIT_SIZE, 21, "max_split_size")  /* bytes, 0 = unlimited */                           \
    X(FATAL, 22, "fatal")                    /* EXIT: 1 = the process died of an OOM exception */
enum gp_torch_stat {
#define GP_TORCH_STAT_ENUM(id, num, name) GP_TSTAT_##id = num,
    GP_TORCH_STAT_LIST(GP_TORCH_STAT_ENUM)
#undef GP_TORCH_STAT_ENUM
    GP_TSTAT_COUNT
};
const char *gp_trace_torch_stat_name(unsigned stat); /* "allocated", ...; "?" if unknown */

/* When a batch of statistics was taken (TORCH_STAT kind). */
enum gp_torch_occasion {
    GP_TORCH_AT_START = 1,    /* the adapter started (after CUDA initialised) */
    GP_TORCH_AT_PERIODIC = 2, /* a regular drain */
    GP_TORCH_AT_OOM = 3,      /* inside PyTorch's OOM observer, before the exception */
    GP_TORCH_AT_EXIT = 4,     /* the interpreter is exiting */
};

/* ---- events: what the shim hands to the writer ---------------------------- */
/* One fixed-size struct per event; ips[] holds nframes instruction pointers,
 * innermost first (return addresses as unwound; the reader does not adjust them). */
struct gp_event {
    uint8_t type;       /* GP_REC_ALLOC .. GP_REC_TORCH_STAT */
    uint8_t api;        /* enum gp_api */
    uint8_t kind;       /* enum gp_mem_kind */
    uint8_t pad;
    uint16_t nframes;   /* entries used in ips[] */
    uint16_t pad2;
    int32_t result;     /* the CUDA error code the program saw (0 = success) */
    int32_t device;     /* device ordinal, -1 when not known */
    uint32_t tid;       /* kernel thread id */
    uint32_t pad3;
    uint64_t time_ns;   /* CLOCK_MONOTONIC */
    uint64_t size;      /* bytes requested (ALLOC, OOM); free bytes (MEMINFO) */
    uint64_t ptr;       /* address returned or freed; 0 if none */
    uint64_t stream;    /* stream handle value, 0 = default/none */
    uint64_t aux1;      /* MEMINFO: total bytes; OOM: device free bytes; ALLOC pitch: pitch */
    uint64_t aux2;      /* OOM: device total bytes */
    struct gp_libcall lib; /* LIBCALL only (size = m, aux1 = n, aux2 = k, kind = math mode) */
    uint64_t ips[];     /* nframes entries */
};

/* Size of an event slot holding up to depth frames. */
static inline size_t gp_event_size(unsigned depth)
{
    return sizeof(struct gp_event) + (size_t)depth * sizeof(uint64_t);
}

/* ---- header ----------------------------------------------------------------- */
struct gp_trace_header {
    uint32_t version;
    uint32_t pid;
    uint32_t ppid;
    uint32_t stack_depth;  /* GPUPROF_DEPTH in force */
    uint64_t realtime_ns;  /* CLOCK_REALTIME at start */
    uint64_t monotonic_ns; /* CLOCK_MONOTONIC at the same moment; event times are on this clock */
    const char *host;
    const char *exe;       /* /proc/self/exe target */
    const char *cmdline;   /* arguments joined by single spaces (NUL-free) */
    const char *label;     /* GPUPROF_LABEL, "" when unset */
};

/* ---- writer ------------------------------------------------------------------ */
/* Single-threaded: one writer thread owns it. Encodes events, interns strings and
 * stack nodes, and deflates into a gzip stream written to fd. Errors are negative
 * errno values; after a write error every call returns it and nothing more is written. */
struct gp_trace_writer;

struct gp_trace_writer_limits {
    uint32_t max_stack_nodes; /* interned stack nodes kept; beyond it stacks are cut (0 = default 1M) */
    uint32_t max_strings;     /* interned strings kept (0 = default 64K) */
};

int gp_trace_writer_open(struct gp_trace_writer **out, int fd, const struct gp_trace_header *hdr,
                         const struct gp_trace_writer_limits *limits /* may be NULL */);

/* Called for every instruction pointer seen for the first time, before its FRAME record,
 * so the owner can emit MODULE records for newly loaded objects. */
typedef void (*gp_trace_new_ip_fn)(void *ctx, struct gp_trace_writer *w, uint64_t ip);
void gp_trace_writer_set_new_ip_hook(struct gp_trace_writer *w, gp_trace_new_ip_fn fn, void *ctx);

/* Python frames. An entry of gp_event.ips[] with GP_TRACE_PY_TAG set is not an instruction
 * pointer but the owner's key for a Python frame (the rest of the bits are the owner's).
 * The first time the writer meets a key it asks the resolver for the frame's file, function
 * and line, writes a PYFRAME record and, in the stack trie, stands for the frame with the
 * node ip GP_TRACE_PY_TAG | PYFRAME id (docs/trace-format.md, "Python frames"). Strings
 * the resolver hands back need only live until it is called again. Without a resolver, or
 * when it returns nonzero, the frame is written with unknown file, function and line. */
#define GP_TRACE_PY_TAG (UINT64_C(1) << 63)
struct gp_trace_pyframe {
    const char *file;     /* NULL = unknown */
    const char *function; /* NULL = unknown */
    uint32_t line;        /* 0 = unknown */
};
typedef int (*gp_trace_pyframe_fn)(void *ctx, uint64_t key, struct gp_trace_pyframe *out);
void gp_trace_writer_set_pyframe_resolver(struct gp_trace_writer *w, gp_trace_pyframe_fn fn,
                                          void *ctx);

int gp_trace_writer_event(struct gp_trace_writer *w, const struct gp_event *ev);
int gp_trace_writer_module(struct gp_trace_writer *w, const char *path, uint64_t load_bias,
                           uint64_t start, uint64_t end);
int gp_trace_writer_dropped(struct gp_trace_writer *w, uint64_t count);
/* Z_SYNC_FLUSH and write everything out: a reader can decode up to here even if the
 * file is cut right after. */
int gp_trace_writer_flush(struct gp_trace_writer *w);
/* Writes END, finishes the gzip stream, frees w. Does not close fd. */
int gp_trace_writer_close(struct gp_trace_writer *w);
/* Frees w without writing anything more (e.g. in a forked child). */
void gp_trace_writer_abandon(struct gp_trace_writer *w);
/* Encoded bytes before compression and bytes written to fd so far. */
uint64_t gp_trace_writer_raw_bytes(const struct gp_trace_writer *w);
uint64_t gp_trace_writer_file_bytes(const struct gp_trace_writer *w);

/* Environment facts (INFO records): "cuda.driver_version" = "12040", "gpu.0.name" = ...
 * (docs/trace-format.md lists the keys). Either string may be empty, never NULL. */
int gp_trace_writer_info(struct gp_trace_writer *w, const char *key, const char *value);

/* ---- reader ------------------------------------------------------------------ */
/* Streaming: memory grows with distinct strings and stack nodes, never with length. */
struct gp_trace_reader;

struct gp_record {
    uint8_t type;     /* enum gp_rec_type; STRING and FRAME are also delivered */
    uint32_t id;      /* STRING, FRAME, MODULE: the id it defines */
    uint8_t api;
    uint8_t kind;
    int32_t result;
    int32_t device;
    uint32_t tid;
    uint32_t stack;   /* stack node id of the innermost frame, 0 = no stack */
    uint64_t time_ns; /* absolute, CLOCK_MONOTONIC as in the header */
    uint64_t size;
    uint64_t ptr;
    uint64_t stream;
    uint64_t aux1;
    uint64_t aux2;
    struct gp_libcall lib; /* LIBCALL (size = m, aux1 = n, aux2 = k, kind = math mode) */
    /* MODULE */
    uint32_t path;    /* string id */
    uint64_t load_bias, start, end;
    /* INFO: key and value string ids (also in info_key / info_value as strings) */
    uint32_t key_id, value_id;
    /* DROPPED: count; END: total events in aux1, total dropped in aux2;
     * PYFRAME: id, file string id in path, function string id in aux1, line in aux2 */
    uint64_t count;
    /* CUBIN: the chunk's bytes (count of them), valid until the next call to next();
     * the other fields via gp_trace_reader_cubin */
    const uint8_t *data;
};

struct gp_stack_node {
    uint32_t parent; /* 0 = outermost */
    uint64_t ip;
};

/* Why reading stopped early. */
enum gp_trace_status {
    GP_TRACE_OK = 0,        /* END record seen */
    GP_TRACE_TRUNCATED = 1, /* data ended without END (crash, SIGKILL, cut file) */
};

/* Opens and reads the header. On failure returns a negative code and writes a
 * one-line reason (without the file name) into err. */
int gp_trace_reader_open(struct gp_trace_reader **out, const char *path, char *err, size_t errlen);
const struct gp_trace_header *gp_trace_reader_header(const struct gp_trace_reader *r);
/* 1 = a record in *rec; 0 = end of data (see status); negative = corrupt, reason in err. */
int gp_trace_reader_next(struct gp_trace_reader *r, struct gp_record *rec, char *err, size_t errlen);
enum gp_trace_status gp_trace_reader_status(const struct gp_trace_reader *r);
/* Compressed bytes of the file that could not be decoded into complete records. */
uint64_t gp_trace_reader_lost_bytes(const struct gp_trace_reader *r);
uint64_t gp_trace_reader_records(const struct gp_trace_reader *r);
/* Compressed bytes read from the file so far (for progress: against the file's size). */
uint64_t gp_trace_reader_file_bytes(const struct gp_trace_reader *r);
const char *gp_trace_reader_string(const struct gp_trace_reader *r, uint32_t id); /* NULL if unknown */
const struct gp_stack_node *gp_trace_reader_frame(const struct gp_trace_reader *r, uint32_t id);
/* A Python frame by PYFRAME id (a stack node's ip names one: gp_trace_pyframe_id). NULL if
 * the id is not defined; its file and function are NULL when unknown. */
const struct gp_trace_pyframe *gp_trace_reader_pyframe(const struct gp_trace_reader *r,
                                                       uint32_t id);
/* The PYFRAME id a stack node ip stands for: GP_TRACE_PY_TAG set, bits 32-62 zero (other
 * values there are reserved for other kinds of frames), the id in bits 0-31. 0 otherwise. */
static inline uint32_t gp_trace_pyframe_id(uint64_t ip)
{
    return (ip & GP_TRACE_PY_TAG) && (ip >> 32) == (GP_TRACE_PY_TAG >> 32) ? (uint32_t)ip : 0;
}
void gp_trace_reader_close(struct gp_trace_reader *r);

/* ---- GPU activity (CUPTI) ------------------------------------------------------ */
/* One GPU activity record, written by the shim's writer thread from CUPTI's buffers and
 * delivered by the reader (gp_trace_reader_activity) for the types GP_REC_KERNEL ..
 * GP_REC_OVERHEAD. Times are on the trace clock (CLOCK_MONOTONIC, like event times);
 * start_ns == 0 means CUPTI could not time it. Which fields a type uses is listed in
 * docs/trace-format.md ("GPU activity"); unused fields are 0. */
#define GP_REC_ACT_FIRST GP_REC_KERNEL
#define GP_REC_ACT_LAST GP_REC_OVERHEAD
struct gp_activity {
    uint8_t type;      /* GP_REC_KERNEL .. GP_REC_OVERHEAD */
    uint8_t kind;      /* MEMCPY: CUPTI copy kind; MEMSET, GPU_MEMORY: memory kind or
                        * operation; MARKER: flags; SYNC: type; OVERHEAD: overhead kind; ... */
    uint16_t pad;
    uint32_t device, context, stream;
    uint32_t correlation; /* CUPTI correlation id of the CUDA call, 0 = none */
    uint64_t start_ns, end_ns;
    const char *name;  /* KERNEL (mangled), MARKER: writer interns it; reader: NULL = none */
    uint32_t name_id;  /* reader: its string id, 0 = none */
    uint32_t grid[3], block[3];
    uint32_t registers;   /* per thread */
    uint32_t static_smem, dynamic_smem; /* bytes of shared memory per block */
    uint32_t graph_id;
    uint64_t graph_node;  /* CUDA graph node that launched it, 0 = none */
    uint64_t bytes;
    uint64_t address;
    uint64_t value;       /* MEMSET: the value; EXT_CORR: external id; MARKER: range id; ... */
    uint64_t aux;         /* MEMCPY: source kind | destination kind << 8 | flags << 16; ... */
};

static inline int gp_trace_is_activity(unsigned type)
{
    return type >= GP_REC_ACT_FIRST && type <= GP_REC_ACT_LAST;
}

/* Why GPU activity is or is not in a trace (ACT_STATUS). Stable numbers. */
enum gp_act_state {
    GP_ACT_RECORDING = 1, /* CUPTI records GPU activity */
    GP_ACT_OFF = 2,       /* GPUPROF_KERNELS=0 */
    GP_ACT_NO_CUPTI = 3,  /* no usable libcupti found */
    GP_ACT_BUSY = 4,      /* another tool holds CUPTI (a profiler, a sanitizer, a debugger) */
    GP_ACT_FAILED = 5,    /* CUPTI refused to record */
    GP_ACT_STOPPED = 6,   /* recording ended early (forked child, write error) */
};

struct gp_activity_status {
    uint32_t state;      /* enum gp_act_state */
    uint32_t version;    /* cuptiGetVersion(), 0 = unknown */
    uint64_t kinds;      /* bit (type - GP_REC_ACT_FIRST) set: that activity type is enabled */
    const char *library; /* path of the libcupti in use, NULL = none */
    const char *reason;  /* one line for people, NULL = none */
};

/* Writer. gp_trace_writer_activity interns a->name (KERNEL and MARKER); the others are
 * small records of their own. */
int gp_trace_writer_activity(struct gp_trace_writer *w, const struct gp_activity *a);
int gp_trace_writer_activity_dropped(struct gp_trace_writer *w, uint64_t count);
int gp_trace_writer_activity_status(struct gp_trace_writer *w, const struct gp_activity_status *s);

/* Reader: after next() delivered a GPU activity record (rec->type, rec->time_ns = start),
 * the record itself; after an ACT_STATUS, the status (rec->kind = state). Valid until the
 * next call to next(); NULL before the first one. ACT_DROPPED delivers rec->count. */
const struct gp_activity *gp_trace_reader_activity(const struct gp_trace_reader *r);
const struct gp_activity_status *gp_trace_reader_activity_status(const struct gp_trace_reader *r);
const char *gp_trace_activity_type_name(unsigned type); /* "KERNEL", ...; "?" if unknown */

/* ---- cubins (GP_REC_CUBIN) ------------------------------------------------------ */
/* The machine code of a module CUDA loaded (CUPTI's module-loaded callback), for the
 * report's layer-4 Tensor Core verdict. A cubin is written once per distinct content (its
 * hash), its bytes split over consecutive CUBIN records of at most GP_TRACE_CUBIN_CHUNK
 * bytes each (offsets 0, CHUNK, 2 CHUNK, ... in order); a module not saved is one CUBIN
 * record without bytes saying why. docs/trace-format.md §3.5.4. */
#define GP_TRACE_CUBIN_CHUNK (64u * 1024) /* below the writer's raw buffer: no record grows it */
#define GP_TRACE_CUBIN_MAX_SIZE ((UINT64_C(1) << 32) - 1) /* a larger size is corrupt */
enum gp_cubin_state { /* stable numbers */
    GP_CUBIN_SAVED = 0,     /* the bytes follow in this record and the next ones */
    GP_CUBIN_DUPLICATE = 1, /* same hash as a module recorded before (another device, a reload) */
    GP_CUBIN_OVER_CAP = 2,  /* not saved: GPUPROF_CUBINS_MAX bytes were already saved */
    GP_CUBIN_LOST = 3,      /* not saved: no memory to copy it, or too many modules */
    GP_CUBIN_STATES
};
struct gp_cubin {
    uint32_t module_id; /* CUPTI's moduleId */
    uint32_t state;     /* enum gp_cubin_state */
    uint64_t hash;      /* gp_trace_cubin_hash of the whole cubin */
    uint64_t size;      /* bytes of the whole cubin, 1 .. GP_TRACE_CUBIN_MAX_SIZE */
    uint64_t offset;    /* reader: where this chunk's bytes go (0 unless SAVED) */
    const uint8_t *data; /* writer: the whole cubin (SAVED only); reader: this chunk's */
    size_t len;          /* reader: bytes in this chunk (0 unless SAVED) */
};
/* 64-bit FNV-1a of the bytes: the content key (deduplication, report). */
uint64_t gp_trace_cubin_hash(const void *data, size_t len);
const char *gp_trace_cubin_state_name(unsigned state); /* "saved", ...; "?" if unknown */
/* Writes c: SAVED as ceil(size / CHUNK) records, the others as one record. */
int gp_trace_writer_cubin(struct gp_trace_writer *w, const struct gp_cubin *c);
/* Decodes one CUBIN payload (data points into it). 0, or -EBADMSG with the reason in why. */
int gp_trace_cubin_decode(const uint8_t *p, const uint8_t *end, struct gp_cubin *out, char *why,
                          size_t whylen);
/* Reader: next() delivers a CUBIN record as id = module_id, kind = state, aux1 = hash,
 * size = size, aux2 = offset, count = len, data = the chunk's bytes (valid until the next
 * call to next()). The reader checks each record on its own (state known, size in range,
 * offset + len <= size, no bytes unless SAVED); that the chunks of a cubin come in order
 * and complete is for the consumer to check (report/analysis_cubins.c). */
static inline void gp_trace_record_cubin(const struct gp_record *rec, struct gp_cubin *out)
{
    out->module_id = rec->id;
    out->state = rec->kind;
    out->hash = rec->aux1;
    out->size = rec->size;
    out->offset = rec->aux2;
    out->data = rec->data;
    out->len = (size_t)rec->count;
}

#ifdef __cplusplus
}
#endif
#endif
