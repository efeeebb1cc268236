/* report.h — the inside of gpuprof-report: the model built by replaying a trace, the
 * analyses that watch the replay, and the views that print their results.
 * Declarations are grouped by the file that defines them, so this is also an index.
 * Data flows one way: reader -> model -> analyses -> views. Analyses never print;
 * views never touch the trace reader. Errors are negative errno values. */
#ifndef GP_REPORT_H
#define GP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "gp_trace.h"

/* A site is one full call stack (a stack node id; 0 = no stack recorded). */
struct gp_report_site {
    uint32_t stack;
    uint64_t count; /* live allocations */
    uint64_t bytes; /* live bytes */
};

struct gp_report_model;

/* Memory charged to one library (module index into the model's modules, -1 = none). */
struct gp_report_lib {
    int32_t module;
    uint64_t bytes, count;
};

/* The largest sites of some moment, largest first, plus totals over all of them. */
struct gp_report_site_list {
    struct gp_report_site *v;
    size_t n;           /* kept in v (at most the --top limit) */
    size_t total_sites; /* sites that held memory at that moment */
    uint64_t total_bytes;
    uint64_t total_count;
    struct gp_report_lib *libs; /* every site charged to its library, largest first */
    size_t nlibs;
};

/* ---- "livemap.c": live allocations, open addressing keyed by pointer ------------ */
struct gp_report_live {
    uint64_t ptr; /* 0 marks an empty slot */
    uint64_t size;
    uint64_t time_ns;
    uint32_t stack;
    int16_t device;
    uint8_t kind;
    uint8_t pad;
};

struct gp_report_livemap {
    struct gp_report_live *slots;
    size_t mask; /* slots - 1; slots is a power of two */
    size_t count;
    unsigned shift; /* 64 - log2(slots), for the multiplicative hash */
};

int gp_report_livemap_init(struct gp_report_livemap *map);
void gp_report_livemap_fini(struct gp_report_livemap *map);
struct gp_report_live *gp_report_livemap_find(const struct gp_report_livemap *map, uint64_t ptr);
/* e->ptr must be non-zero and absent. */
int gp_report_livemap_insert(struct gp_report_livemap *map, const struct gp_report_live *e);
/* slot must come from find(); other slot pointers are invalid afterwards. */
void gp_report_livemap_remove(struct gp_report_livemap *map, struct gp_report_live *slot);

/* ---- "sites.c": live bytes per stack for one memory kind, and top-N lists -------- */
struct gp_report_site_slot {
    uint64_t bytes;
    uint64_t count;
    uint32_t active; /* position in active[] + 1, 0 = holds nothing */
    uint32_t pad;
};

struct gp_report_sites {
    struct gp_report_site_slot *slot; /* indexed by stack id */
    uint32_t *active;                 /* ids with count > 0, in no order */
    uint32_t nactive;
    uint32_t cap; /* ids 0 .. cap-1 are valid */
};

#define GP_REPORT_MAX_STACK_IDS (1u << 24) /* beyond this a stack is reported as "no stack" */

void gp_report_sites_init(struct gp_report_sites *s);
void gp_report_sites_fini(struct gp_report_sites *s);
/* Makes id valid (id < GP_REPORT_MAX_STACK_IDS). */
int gp_report_sites_reserve(struct gp_report_sites *s, uint32_t id);
void gp_report_sites_add(struct gp_report_sites *s, uint32_t id, uint64_t bytes);
void gp_report_sites_sub(struct gp_report_sites *s, uint32_t id, uint64_t bytes);
/* Fills out with the top largest of the sites now holding memory. */
/* m (may be NULL) also charges the sites to their libraries. */
int gp_report_sites_top(const struct gp_report_sites *s, size_t top,
                        struct gp_report_site_list *out, const struct gp_report_model *m);
/* Sorts v[0..n) largest first and keeps the first top of them in out (which it owns). */
int gp_report_site_list_set(struct gp_report_site_list *out, struct gp_report_site *v, size_t n,
                            size_t top);
void gp_report_site_list_fini(struct gp_report_site_list *l);

/* ---- "model.c": replay state ------------------------------------------------------ */
struct gp_report_run {
    uint32_t version, pid, ppid, stack_depth;
    uint64_t realtime_ns, monotonic_ns;
    uint64_t last_ns; /* latest event time seen (absolute) */
    char *host, *exe, *cmdline, *label;
};

struct gp_report_counts {
    uint64_t allocs;          /* successful allocation calls */
    uint64_t failed_allocs;   /* result != 0 */
    uint64_t frees;           /* free calls (all) */
    uint64_t null_frees;      /* free of pointer 0: a no-op, not an error */
    uint64_t unknown_frees;   /* free of a pointer with no live allocation */
    uint64_t replaced_allocs; /* alloc of a pointer already live: its free was lost */
    uint64_t meminfo;
    uint64_t oom;
    uint64_t allocs_by_kind[GP_MEM_KIND_COUNT];
    uint64_t runtime_allocs; /* successful allocations through the runtime API (cuda*) */
    uint64_t driver_allocs;  /* ... through the driver API (cu*) outside a runtime call */
};

struct gp_report_health {
    int truncated;       /* no END record */
    uint64_t lost_bytes; /* compressed bytes that could not be decoded */
    uint64_t records;
    uint64_t dropped_records; /* sum of DROPPED records */
    uint64_t end_dropped;     /* total dropped as stated by END (0 without END) */
    uint64_t dropped_events;  /* what the report states: see model.c */
    uint64_t end_events;
};

/* Stream-ordered memory pools: what each holds from the device (POOL records). */
#define GP_REPORT_MAX_POOLS 1024
struct gp_report_pool {
    uint64_t handle, reserved;
};
struct gp_report_pools {
    struct gp_report_pool v[GP_REPORT_MAX_POOLS];
    size_t n;
    uint64_t reserved;            /* all pools, now */
    uint64_t peak, peak_time_ns;  /* all pools, at most; absolute time */
    uint64_t ignored;             /* records for pools beyond the table */
};

struct gp_report_module {
    char *path;
    uint64_t load_bias, start, end;
};

struct gp_report_model;

#define GP_REPORT_SPACES 4
/* Name space of a memory kind's "ptr" values (index into the model's live maps). */
unsigned gp_report_space_of(unsigned kind);
/* Device memory the process holds: plain device allocations and physical memory. In
 * live_bytes[] and the peaks, GP_MEM_DEVICE counts both; GP_MEM_PHYSICAL is the
 * physical part alone. */
static inline int gp_report_is_device(unsigned kind)
{
    return kind == GP_MEM_DEVICE || kind == GP_MEM_PHYSICAL;
}

/* Analyses watch the replay through an observer. device_change is called just before
 * the live device allocations of one site (stack) change, with the device bytes there
 * will be after the change; record after the model applied a record; finish once at
 * the end. */
struct gp_report_observer {
    void *ctx;
    int (*device_change)(void *ctx, const struct gp_report_model *m, uint32_t stack,
                         uint64_t new_live);
    int (*record)(void *ctx, const struct gp_report_model *m, const struct gp_record *rec);
    int (*finish)(void *ctx, const struct gp_report_model *m);
};

#define GP_REPORT_DEVICES 64
struct gp_report_dev_mem {
    uint64_t live, peak, peak_ns;
};

/* A fact about the run's environment (INFO record): "cuda.driver_version" = "12040". */
struct gp_report_info {
    char *key, *value;
};
#define GP_REPORT_MAX_INFO 256 /* keys beyond this are ignored */

#define GP_REPORT_MAX_OBSERVERS 12
#define GP_REPORT_MAX_MODULES 65536

struct gp_report_model {
    char *path; /* the trace file */
    struct gp_report_run run;
    struct gp_report_counts counts;
    struct gp_report_health health;
    uint64_t live_bytes[GP_MEM_KIND_COUNT];
    uint64_t live_count[GP_MEM_KIND_COUNT];
    uint64_t device_total_bytes; /* largest device total seen in MEMINFO/OOM, 0 = unknown */
    /* Device memory held per GPU: [0] = device not known, [d + 1] = device d (ordinals past
     * GP_REPORT_DEVICES - 1 share the last slot). Peak times absolute. */
    struct gp_report_dev_mem dev_mem[GP_REPORT_DEVICES + 1];
    struct gp_report_pools pools;
    /* One map per name space: pointers (device, managed, pinned host), cuMemCreate
     * handles, reserved address ranges, mappings. The same number can live in several. */
    struct gp_report_livemap live[GP_REPORT_SPACES];
    struct gp_report_sites device_sites; /* device memory held: DEVICE and PHYSICAL */
    struct gp_report_module *modules;
    size_t nmodules, modules_cap;
    uint64_t modules_ignored;       /* beyond GP_REPORT_MAX_MODULES */
    struct gp_report_info *info;    /* INFO records, latest value per key, in order of first use */
    size_t ninfo;
    struct gp_trace_reader *reader; /* kept open for its stack node table */
    struct gp_report_observer obs[GP_REPORT_MAX_OBSERVERS];
    size_t nobs;
};

/* Opens the trace and reads its header. On failure err holds a one-line reason. */
int gp_report_model_open(struct gp_report_model **out, const char *path, char *err, size_t errlen);
int gp_report_model_observe(struct gp_report_model *m, const struct gp_report_observer *obs);
/* Replays every record; a corrupt trace fails with the reason in err. */
int gp_report_model_replay(struct gp_report_model *m, char *err, size_t errlen);
void gp_report_model_free(struct gp_report_model *m);
/* Instruction pointers of a stack, innermost first; returns how many (at most max). */
size_t gp_report_model_stack(const struct gp_report_model *m, uint32_t stack, uint64_t *ips,
                             size_t max);
/* The latest value of an INFO key, NULL when the trace has none. */
const char *gp_report_model_info(const struct gp_report_model *m, const char *key);
/* Nanoseconds since the trace started (the header's monotonic time), never negative. */
uint64_t gp_report_model_rel_ns(const struct gp_report_model *m, uint64_t abs_ns);

/* ---- "analysis_libraries.c": memory per library ---------------------------------- */
/* Charges v[0..n) (all sites of a moment, before the top-N cut) to their libraries. */
int gp_report_site_list_libraries(struct gp_report_site_list *out, const struct gp_report_site *v,
                                  size_t n, const struct gp_report_model *m);

/* ---- "analysis_peak.c": peak of each memory kind, device sites at the peak ------- */
struct gp_report_peak {
    uint64_t bytes[GP_MEM_KIND_COUNT];
    uint64_t time_ns[GP_MEM_KIND_COUNT]; /* absolute; first moment the peak was reached */
    struct gp_report_site_list sites;    /* device sites at the device peak (after finish) */
    size_t top;
    /* Undo log: each site's state at the peak, kept when the site first changes after
     * it (see analysis_peak.c). */
    uint32_t epoch;  /* bumped at each new peak */
    uint32_t *stamp; /* per stack id: epoch in which the site was logged */
    uint32_t stamp_cap;
    struct gp_report_site *log;
    size_t nlog, log_cap;
};

int gp_report_peak_attach(struct gp_report_peak *p, struct gp_report_model *m, size_t top);
void gp_report_peak_fini(struct gp_report_peak *p);

/* ---- "analysis_leaks.c": what is still live at the end, per kind ------------------- */
struct gp_report_leaks {
    struct gp_report_site_list kind[GP_MEM_KIND_COUNT];
    size_t top;
};

int gp_report_leaks_attach(struct gp_report_leaks *l, struct gp_report_model *m, size_t top);
void gp_report_leaks_fini(struct gp_report_leaks *l);

/* ---- "analysis_oom.c": every OOM with the device memory live at that moment -------- */
struct gp_report_oom_event {
    uint64_t time_ns; /* absolute */
    uint8_t api;
    int32_t device;
    uint32_t stack; /* the failing call */
    uint64_t requested;
    uint64_t device_free, device_total; /* as the record says */
    uint64_t live_bytes;                /* live device bytes recorded by the trace */
    struct gp_report_site_list sites;
    /* Other processes on the device, from the NVML record that followed the OOM on the same
     * thread (trace-format §3.5, api 31); all 0 unless have_others. */
    uint32_t tid;
    int have_others;
    uint64_t others_bytes, others_count, others_largest_pid, others_largest_bytes;
    uint64_t self_nvml_bytes; /* this process as NVML saw it, 0 = not listed */
    char others_advice[240];  /* advice "other_processes" when they held much; "" = none */
};

#define GP_REPORT_MAX_OOM_KEPT 1000 /* OOM events beyond this are counted only */

struct gp_report_oom {
    struct gp_report_oom_event *v;
    size_t n, cap;
    uint64_t total; /* OOM records seen, kept or not */
    size_t top;
};

int gp_report_oom_attach(struct gp_report_oom *o, struct gp_report_model *m, size_t top);
void gp_report_oom_fini(struct gp_report_oom *o);

/* ---- "series.c": a bounded time series of min/max/last per bucket ------------------ */
#define GP_REPORT_SERIES_BUCKETS 2048

struct gp_report_bucket {
    uint64_t min, max, last;
    uint8_t used;
    uint8_t oom;       /* an OOM happened in this bucket */
    uint64_t oom_live; /* live bytes at the OOM (largest if several) */
};

struct gp_report_series {
    struct gp_report_bucket b[GP_REPORT_SERIES_BUCKETS];
    uint64_t width_ns; /* bucket i covers [i*width, (i+1)*width) of relative time */
    uint64_t max_value;
};

void gp_report_series_init(struct gp_report_series *s);
void gp_report_series_add(struct gp_report_series *s, uint64_t rel_ns, uint64_t value);
void gp_report_series_oom(struct gp_report_series *s, uint64_t rel_ns, uint64_t live);

/* ---- "analysis_timeline.c": device reserved bytes over time, for plots ------------- */
struct gp_report_timeline {
    struct gp_report_series *series;
    uint64_t last_live;
    int started;
};

int gp_report_timeline_attach(struct gp_report_timeline *t, struct gp_report_model *m);
void gp_report_timeline_fini(struct gp_report_timeline *t);

/* ---- "modmap.c": the module covering an address (latest MODULE record wins) ------- */
struct gp_report_modseg {
    uint64_t start; /* the segment runs to the next segment's start */
    int32_t mod;    /* index into the model's modules, -1 = none */
};

struct gp_report_modmap {
    struct gp_report_modseg *segs;
    size_t n;
};

int gp_report_modmap_build(struct gp_report_modmap *mm, const struct gp_report_module *mods,
                           size_t n);
/* Index of the module covering addr, or -1. */
int32_t gp_report_modmap_find(const struct gp_report_modmap *mm, uint64_t addr);
void gp_report_modmap_fini(struct gp_report_modmap *mm);

/* ---- "symbolize.c": instruction pointers to function, file, line, module ---------- */
struct gp_report_frame {
    uint64_t ip;
    const char *function; /* never NULL; "??" when unknown */
    const char *file;     /* NULL when unknown */
    uint32_t line;        /* 0 when unknown */
    const char *module;   /* NULL when no module covers ip */
    uint64_t offset;      /* ip - load bias of the module (ip when no module) */
    int python;           /* a Python frame: function, file, line from the trace; no module,
                           * offset 0 */
};

struct gp_report_symbolizer;

int gp_report_symbolizer_new(struct gp_report_symbolizer **out, const struct gp_report_model *m);
void gp_report_symbolizer_free(struct gp_report_symbolizer *s);
/* Fills out (pointers stay valid until the symbolizer is freed). Lookups that fail give
 * "??" frames; the only error is -ENOMEM. */
int gp_report_symbolize(struct gp_report_symbolizer *s, uint64_t ip, struct gp_report_frame *out);
/* A frame inside libgpuprof.so itself (the shim's hook), which views leave out. */
int gp_report_frame_is_shim(const struct gp_report_frame *f);
/* Frames of a stack: its Python frames innermost first, then its native frames innermost
 * first (the order every view shows); returns how many, or -ENOMEM. */
int gp_report_symbolize_stack(struct gp_report_symbolizer *s, uint32_t stack,
                              struct gp_report_frame *out, size_t max);

/* ---- "dwarf.c" (with libdw only): one offline Dwfl session per module ------------- */
struct gp_report_dwarf;
struct gp_report_dwarf *gp_report_dwarf_open(const struct gp_report_module *mod);
/* Looks addr (a runtime address) up; function and file may stay NULL. */
void gp_report_dwarf_lookup(struct gp_report_dwarf *d, uint64_t addr, const char **function,
                            const char **file, uint32_t *line);
void gp_report_dwarf_close(struct gp_report_dwarf *d);

/* ---- "analysis_kernels.c": GPU activity recorded by CUPTI -------------------------- */
/* Kernels by name, per stream and device, copies by direction, the GPU busy share (the
 * union of kernel, copy and memset intervals over the trace's wall time) and its longest
 * idle gaps, NVTX ranges for the timeline. All times absolute (trace clock). */
struct gp_report_kernel_stat {
    uint32_t name_id; /* string id of the (mangled) name, 0 = none */
    uint64_t calls, total_ns, min_ns, max_ns;
};

struct gp_report_lane { /* one (device, stream) */
    uint32_t device, stream;
    uint64_t kernels, kernel_ns, copies, copy_ns; /* copies: memcpy and memset */
};

struct gp_report_gpu {
    uint32_t device;
    uint64_t kernels, kernel_ns, busy_ns;
};

#define GP_REPORT_COPY_KINDS 16 /* CUPTI memcpy kinds */
struct gp_report_copy_stat {
    uint64_t count, bytes, time_ns;
};

struct gp_report_range { /* an NVTX range */
    uint64_t start, end, id;
    uint32_t name_id;
};

#define GP_REPORT_IDLE_GAPS 5
#define GP_REPORT_MAX_RANGES 100000    /* complete ranges kept in trace order (--perfetto) */
#define GP_REPORT_MAX_OPEN_RANGES 4096 /* started, not yet ended; past it a start is ignored */
#define GP_REPORT_MAX_RANGE_NAMES 4096 /* distinct range names with their last range */
#define GP_REPORT_MAX_LANES 1024       /* (device, stream) pairs with their own figures */
#define GP_REPORT_MAX_GPUS 64          /* devices with their own figures */

/* The union of time intervals that arrive nearly, not exactly, in time order (CUPTI hands
 * over one buffer at a time), in memory bounded by `window`, not by the number of intervals.
 * Held: a sorted set of merged disjoint intervals (at most 2 * window) and a batch of
 * intervals that arrived behind the set's last start (at most window), merged into the set
 * when full. After a merge, the set's front is retired (its length added to busy_ns, the
 * gap before it weighed against the longest) while more than window intervals are held or
 * while it ends GP_REPORT_BUSY_MARGIN_NS before the newest start. An interval starting
 * before the retired point cannot be merged exactly: that part is assumed busy-overlapping
 * and counted in approx_ns, so the true union lies in [busy_ns, busy_ns + approx_ns].
 * Exact (approx_ns 0) for any input whose stragglers arrive within those bounds. */
#define GP_REPORT_BUSY_WINDOW 65536       /* all devices together */
#define GP_REPORT_BUSY_DEV_WINDOW 16384   /* each device */
#define GP_REPORT_BUSY_MARGIN_NS UINT64_C(10000000000)
struct gp_report_span {
    uint64_t start, end;
};
struct gp_report_busy {
    struct gp_report_span *set; /* sorted by start, disjoint, not touching */
    size_t n, set_cap;
    struct gp_report_span *batch; /* arrived behind set[n-1].start, in no order */
    size_t nbatch, batch_cap;
    size_t window;
    int keep_gaps;
    int retired_any;
    uint64_t retired_to;   /* everything before it is final */
    uint64_t newest_start;
    uint64_t busy_ns;      /* after gp_report_busy_finish: the whole union */
    uint64_t approx_ns;    /* activity time that could only be approximated */
    uint64_t mem_peak;     /* most bytes the two arrays took at once */
    struct gp_report_range gaps[GP_REPORT_IDLE_GAPS]; /* longest first (keep_gaps) */
    size_t ngaps;
};
void gp_report_busy_init(struct gp_report_busy *b, size_t window, int keep_gaps);
/* [start, end) of one activity (end > start). -ENOMEM, else 0. */
int gp_report_busy_add(struct gp_report_busy *b, uint64_t start, uint64_t end);
/* Retires everything: busy_ns, gaps and approx_ns are final. */
int gp_report_busy_finish(struct gp_report_busy *b);
void gp_report_busy_fini(struct gp_report_busy *b);

struct gp_report_range_name { /* one NVTX range name */
    uint32_t name_id;
    uint64_t count;               /* complete ranges of this name */
    struct gp_report_range last;  /* the complete one that started last */
};

struct gp_report_kernels {
    int have_status;
    struct gp_activity_status status; /* strings belong to the trace reader (model) */
    uint64_t kernels, untimed, gpu_time_ns;
    struct gp_report_kernel_stat *by_name; /* replay: indexed by name id */
    uint32_t by_name_cap;
    struct gp_report_kernel_stat *top; /* after finish: by total time, at most top_max */
    size_t ntop, distinct, top_max;
    struct gp_report_lane *lanes; /* in order of first use */
    size_t nlanes, lanes_cap;
    uint64_t lanes_lost; /* activities past GP_REPORT_MAX_LANES lanes (in the totals only) */
    struct gp_report_gpu *gpus;
    size_t ngpus, gpus_cap;
    uint64_t gpus_lost;  /* activities past GP_REPORT_MAX_GPUS devices (in the totals only) */
    struct gp_report_copy_stat memcpy[GP_REPORT_COPY_KINDS], memset;
    uint64_t markers, syncs, sync_ns, overheads, overhead_ns, ext_corrs;
    uint64_t gpu_allocs, gpu_frees, gpu_alloc_bytes, pool_ops; /* CUPTI's view of memory */
    uint64_t dropped_records;
    struct gp_report_busy busy;      /* all devices */
    struct gp_report_busy *dev_busy; /* per device, parallel to gpus */
    struct gp_report_range *ranges;  /* the first complete NVTX ranges, in order of their end */
    size_t nranges, ranges_cap;
    uint64_t nranges_total;          /* complete ranges, all of them */
    struct gp_report_range *open;    /* started, not ended */
    size_t nopen, open_cap;
    uint64_t open_lost;              /* starts ignored past GP_REPORT_MAX_OPEN_RANGES */
    struct gp_report_range_name *names; /* in order of first complete range */
    size_t nnames, names_cap;
    uint32_t *name_slots;            /* hash of name ids -> index + 1 into names */
    uint64_t names_lost;             /* complete ranges whose name found no place */
    uint64_t first_ns, last_ns; /* first start and last end of a timed activity, 0 = none */
    uint64_t wall_ns;           /* trace start to the later of the last event and activity */
    uint64_t busy_ns;           /* union of all timed activity (busy.busy_ns) */
    uint64_t busy_approx_ns;    /* time that could only be approximated (largest of busy
                                 * and dev_busy approx_ns): the union may be that much more */
    struct gp_report_range gaps[GP_REPORT_IDLE_GAPS]; /* longest idle stretches, longest first */
    size_t ngaps;
};

int gp_report_kernels_attach(struct gp_report_kernels *k, struct gp_report_model *m, size_t top);
void gp_report_kernels_fini(struct gp_report_kernels *k);
/* Bytes the analysis holds now (its arrays' capacities): bounded by the summary's size,
 * never by the number of activities. */
size_t gp_report_kernels_mem_bytes(const struct gp_report_kernels *k);
/* The last complete NVTX range named name (0), or -ENOENT with a one-line reason in err
 * naming it and listing up to 5 names that exist (trace strings made printable). */
int gp_report_kernels_find_range(const struct gp_report_kernels *k, const struct gp_report_model *m,
                                 const char *name, struct gp_report_range *out, char *err,
                                 size_t errlen);
/* The most frequent range name's last complete range (ties: the name seen first); 0 if none. */
int gp_report_kernels_step_range(const struct gp_report_kernels *k, struct gp_report_range *out);
/* "recording", "off", "no_cupti", "busy", "failed", "stopped"; "unknown" otherwise. */
const char *gp_report_act_state_name(unsigned state);
/* A CUPTI memcpy kind as a direction ("HtoD", "DtoH", "DtoD", ...), "?" when unknown. */
const char *gp_report_copy_kind_name(unsigned kind);
/* The plain answer when no kernel is in the trace ("CUDA was initialised but no kernel
 * ran", ...), NULL when kernels were recorded. Static text, or k's status reason. */
const char *gp_report_kernels_verdict(const struct gp_report_kernels *k,
                                      const struct gp_report_model *m, char *buf, size_t len);

/* ---- "analysis_events.c": calls, memory and GPU activity in time (--perfetto, --csv) */
/* The timeline views stream: they read the trace a second time (a model of their own, with
 * PyTorch's allocator replayed) and hand each item to a sink as it comes, so report memory
 * stays bounded by the summary's size whatever the trace's length. Kernels, copies, memsets
 * and NVTX ranges pass through a reorder window of GP_REPORT_EVENTS_REORDER spans and come
 * out by start (longer first at equal starts); a span that arrives after a later-starting one
 * already left the window comes out at once, marked late. */
#define GP_REPORT_EVENTS_REORDER 65536
struct gp_report_mem_sample { /* after a change: device bytes held; the pools' reserved
                                * bytes and bytes in use (POOL records) */
    uint64_t time_ns, device_bytes, pool_bytes, pool_used;
};
struct gp_report_span_ev { /* a timed kernel, memcpy or memset, or a complete NVTX range */
    uint64_t start_ns, end_ns, bytes;
    uint64_t seq;           /* arrival order (ties) */
    uint32_t name_id, device, stream, correlation;
    uint8_t type, kind;     /* GP_REC_KERNEL, _MEMCPY, _MEMSET, or _MARKER for a range */
    uint8_t late;           /* out of start order beyond the reorder window */
};
struct gp_report_events_sink {
    void *ctx;
    /* ALLOC, FREE, OOM and LIBCALL records, in trace order */
    int (*call)(void *ctx, const struct gp_report_model *m, const struct gp_record *rec);
    /* device memory and pools after each change */
    int (*memory)(void *ctx, const struct gp_report_mem_sample *s);
    /* PyTorch's allocated and reserved bytes (all devices) after a TORCH record changed them */
    int (*torch)(void *ctx, uint64_t time_ns, uint64_t allocated, uint64_t reserved);
    /* EXT_CORR records (external id pushed around a CUDA call), in trace order */
    int (*ext_corr)(void *ctx, const struct gp_activity *a);
    /* spans, by start as far as the reorder window allows */
    int (*span)(void *ctx, const struct gp_report_model *m, const struct gp_report_span_ev *s);
};
/* Reads the trace at path once more and feeds sink. The reason in err when it fails. */
int gp_report_events_stream(const char *path, const struct gp_report_events_sink *sink,
                            char *err, size_t errlen);
/* A view's cache of demangled kernel names by string id (bounded; see analysis_events.c). */
struct gp_report_names {
    char **v;
    uint32_t n;
};
/* The name a span shows: demangled kernel, "memcpy HtoD", "memset", NVTX name. */
const char *gp_report_span_name(struct gp_report_names *c, const struct gp_report_model *m,
                                const struct gp_report_span_ev *s, char *buf, size_t len);
void gp_report_names_fini(struct gp_report_names *c);
struct gp_report_window;
/* "view_perfetto.c": one process of a combined timeline (gpuprof-report --perfetto F DIR),
 * taken from its loaded report before that is freed. */
struct gp_report_pf_proc {
    char *path, *host, *label, *exe, *cmdline;
    uint32_t pid;
    uint64_t realtime_ns, monotonic_ns; /* the header's clocks */
    int have_pools, have_torch;         /* counter tracks it gets */
};
int gp_report_pf_proc_set(struct gp_report_pf_proc *p, const char *path, const struct gp_report_model *m,
                          int have_torch);
void gp_report_pf_proc_fini(struct gp_report_pf_proc *p);
/* The processes' timelines in one Chrome trace-event JSON document, each process a group
 * (pid = its index + 1), times aligned on each header's wall clock (docs/views.md). win's
 * from/to count from the earliest start; range must be NULL. 0, or negative with a one-line
 * reason in err (the trace's path in it when reading failed). */
int gp_report_view_perfetto_job(FILE *f, const struct gp_report_pf_proc *v, size_t n,
                                const struct gp_report_window *win, char *err, size_t errlen);
/* Nothing is kept during the main pass any more; attach and fini remain for callers. */
struct gp_report_events {
    int unused;
};
int gp_report_events_attach(struct gp_report_events *e, struct gp_report_model *m);
void gp_report_events_fini(struct gp_report_events *e);

/* ---- "multi.c": a job of several processes (several traces or a directory) -------- */
struct gp_report;
#define GP_REPORT_PROC_GPUS 16
struct gp_report_proc { /* one process, from its loaded report */
    char *path, *host, *label;
    uint32_t pid;
    int32_t first_oom_device;
    int truncated;
    uint64_t start_wall_ns, duration_ns; /* header realtime_ns; trace length */
    uint64_t peak_bytes, peak_rel_ns, peak_wall_ns; /* device memory */
    uint64_t device_total;
    uint64_t ooms, first_oom_wall_ns, first_oom_rel_ns, first_oom_requested; /* 0 = none */
    struct gp_report_proc_gpu { /* device memory per GPU this process used, by ordinal */
        int32_t device;         /* -1 = not known */
        uint64_t peak_bytes, peak_rel_ns;
    } gpus[GP_REPORT_PROC_GPUS];
    unsigned ngpus;
    uint64_t gpus_more; /* GPUs past GP_REPORT_PROC_GPUS */
    int has_allocated;  /* the PyTorch adapter ran: allocated_peak is PyTorch's */
    uint64_t allocated_peak;
};
struct gp_report_multi {
    struct gp_report_proc *v; /* in the order added */
    size_t n;
    size_t first_oom;    /* after finish: earliest OOM on the wall clock, SIZE_MAX = none */
    size_t max_i, min_i; /* largest and smallest device peak */
    uint64_t mean_peak;
    double imbalance; /* largest peak / mean peak (1.0 = even) */
    struct gp_report_job_gpu { /* one GPU of the job: a (host, device) pair */
        const char *host;       /* a process's host string */
        int32_t device;
        size_t processes;       /* processes that used it */
        uint64_t max_peak;      /* the largest single process's peak on it */
        size_t max_i;           /* that process */
        uint64_t sum_peaks;     /* upper bound of what it held at once */
    } *gpus;
    size_t ngpus;
};
/* The traces in dir named gpuprof*.gz, sorted by name (malloc'd; free with free_list). */
int gp_report_multi_list_dir(const char *dir, char ***out, size_t *n);
void gp_report_multi_free_list(char **v, size_t n);
int gp_report_multi_add(struct gp_report_multi *mu, const char *path, const struct gp_report *r);
void gp_report_multi_finish(struct gp_report_multi *mu);
void gp_report_multi_fini(struct gp_report_multi *mu);

/* ---- "demangle.c": C++ names for people --------------------------------------------- */
/* The demangled form of an Itanium-mangled name (malloc'd; the caller frees), or NULL when
 * it is not mangled or cannot be demangled here. Uses the C++ runtime's __cxa_demangle,
 * loaded at run time, so the report needs no C++ library to run. */
char *gp_report_demangle(const char *mangled);

/* ---- "load.c": a report = model + analyses, ready for the views -------------------- */
struct gp_report_options {
    size_t top;   /* sites listed per moment */
    int timeline; /* collect the device memory series (for --plot) */
    int events;   /* keep every call and activity (for --perfetto, --csv) */
};

/* ---- "analysis_tensor.c": Tensor Cores, layer 1 (what each library call asked for) -- */
enum gp_report_tc_class {
    GP_TC_ALLOWED = 0,     /* the types and math mode allow Tensor Cores, the shape is fine */
    GP_TC_SLOWED = 1,      /* allowed, but a dimension is not a 16-byte multiple */
    GP_TC_DEFEATED = 2,    /* allowed types, GEMV shape (m or n == 1) */
    GP_TC_NOT_ALLOWED = 3, /* e.g. fp32 without TF32 */
    GP_TC_UNKNOWN = 4,     /* not decided from the call (types unknown, fp64, pedantic) */
    GP_TC_CLASSES
};
struct gp_report_tc_verdict {
    unsigned cls;          /* enum gp_report_tc_class */
    const char *precision; /* static: "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "fp64", ... */
    const char *layer;     /* static: which layer decided it ("asked" = layer 1) */
    char reason[160];
};
/* Layers 1 and 2 (the library's choice, where recorded) verdict for one LIBCALL record. */
void gp_report_tc_classify(const struct gp_record *rec, struct gp_report_tc_verdict *v);
const char *gp_report_tc_class_name(unsigned cls); /* "allowed", ..., "unknown" */

/* A kernel one call site launched (joined through the external correlation id). */
struct gp_report_tc_site_kernel {
    uint32_t name_id;
    unsigned cls;      /* enum gp_report_kclass: the final one (machine code, else name) */
    unsigned name_cls; /* what its name says (layer 3) */
    const char *layer; /* "kernel name" or "machine code" */
    const char *mc;    /* the cubin verdict ("tensor (HMMA x 64)") when layer 4 decided */
    uint64_t calls, time_ns;
};
#define GP_REPORT_TC_SITE_KERNELS 8
#define GP_KC_CLASSES_N 3 /* GP_KC_CLASSES (enum gp_report_kclass, below) */ /* distinct kernels kept per site; the rest are "other" */

struct gp_report_tc_site { /* one call site (stack) + API + layer-1 verdict */
    uint32_t stack;
    uint8_t api; /* enum gp_lib_api */
    struct gp_report_tc_verdict verdict; /* layer 1 (or 2), what was asked */
    uint64_t m, n, k, batch; /* of its first call */
    uint64_t calls, host_ns;
    double flops;
    /* its kernels (layer 3 through the join); after finish: longest first */
    struct gp_report_tc_site_kernel kernels[GP_REPORT_TC_SITE_KERNELS];
    size_t nkernels;
    uint64_t other_calls, other_ns;   /* kernels beyond GP_REPORT_TC_SITE_KERNELS names */
    uint64_t gpu_time_ns, kernel_calls; /* all its kernels */
    uint64_t kc_ns[GP_KC_CLASSES_N];  /* its kernels' time by final class (layer 4, else 3) */
    double flops_timed;                /* FLOPs of its calls that had kernels attributed */
    /* after finish: the final verdict */
    unsigned ran;            /* enum gp_report_kclass: what its kernels ran on (by time) */
    const char *final_layer; /* "machine code" or "kernel name" when its kernels decided
                              * (the layer of the kernel named in why), else verdict.layer */
    char why[512];           /* the final verdict in words */
    double tflops;           /* flops_timed / gpu_time_ns, 0 when no kernel time */
};
struct gp_report_tc_total {
    const char *name; /* by_prec only */
    uint64_t calls;
    double flops;
    uint64_t gpu_time_ns, tc_time_ns; /* by_prec: attributed kernels' time, on Tensor Cores */
};
#define GP_REPORT_TC_MAX_SITES 4096
#define GP_REPORT_TC_MAX_PREC 16

/* Layer 3, "kernel_names.c": a kernel's name classified by the project's table
 * (docs/tensor-cores.md). rule and reason are static strings. */
enum gp_report_kclass { GP_KC_UNKNOWN = 0, GP_KC_TENSOR = 1, GP_KC_CUDA_CORE = 2, GP_KC_CLASSES };
struct gp_report_kverdict {
    unsigned cls;       /* enum gp_report_kclass */
    const char *rule;   /* the rule that matched ("none" when none did) */
    const char *reason; /* what the rule means, with its source */
};
void gp_report_kernel_classify(const char *name, struct gp_report_kverdict *v);
const char *gp_report_kclass_name(unsigned cls); /* "tensor", "cuda-core", "unknown" */
/* Reads kernel names one per line and prints "name<TAB>class<TAB>rule: reason" per line
 * (the name with control characters escaped); 0 or -EIO. */
int gp_report_classify_kernels(FILE *in, FILE *out);

/* Layer 4, "sass.c": Tensor Core instructions in a cubin, per kernel, counted from the
 * disassembly of nvdisasm (or cuobjdump -sass) run without a shell. */
enum gp_report_sass_op { /* counted instruction families */
    GP_SASS_HMMA, GP_SASS_IMMA, GP_SASS_DMMA, GP_SASS_BMMA, GP_SASS_QMMA, GP_SASS_OMMA,
    GP_SASS_HGMMA, GP_SASS_IGMMA, GP_SASS_QGMMA, GP_SASS_BGMMA, GP_SASS_UTCMMA,
    GP_SASS_FFMA, GP_SASS_HFMA2, GP_SASS_DFMA, GP_SASS_OPS
};
#define GP_SASS_FIRST_CC GP_SASS_FFMA /* ops before it are Tensor Core ops */
struct gp_report_sass_func {
    char *name;                     /* as the disassembler prints it (mangled) */
    uint64_t count[GP_SASS_OPS];
    uint64_t instructions;          /* all instructions of the function */
    unsigned cls;                   /* enum gp_report_kclass */
    char verdict[96];               /* "tensor (HMMA x 64)", "cuda-core (FFMA x 3)", ... */
};
struct gp_report_sass {
    struct gp_report_sass_func *v;
    size_t n, cap;
    char tool[256]; /* the disassembler that was run */
};
const char *gp_report_sass_op_name(unsigned op); /* "HMMA", ..., "UTC*MMA", "FFMA" */
/* Counts the instructions of an nvdisasm or cuobjdump -sass listing (FILE, in order). */
int gp_report_sass_parse(FILE *listing, struct gp_report_sass *out);
/* The disassembler to use: $GPUPROF_NVDISASM, nvdisasm on PATH, $CUDA_HOME/bin,
 * /usr/local/cuda/bin, the pip wheels (nvidia/cu13/bin, nvidia/cuda_nvdisasm/bin under
 * $PYTHONPATH and the usual site-packages), then cuobjdump in the same places.
 * 0 with the path in buf, or -ENOENT. */
int gp_report_sass_find_tool(char *buf, size_t len);
/* Disassembles cubin_path with tool (NULL: gp_report_sass_find_tool) and counts per
 * function. Negative errno with a one-line reason in err: -ENOENT no disassembler,
 * -EINVAL it failed on the file. */
int gp_report_sass_count(const char *cubin_path, const char *tool, struct gp_report_sass *out,
                         char *err, size_t errlen);
void gp_report_sass_fini(struct gp_report_sass *s);

/* Layers 3 and 4 over a trace: GPU time of each distinct kernel by its class: the class of
 * its machine code when a saved cubin decides (gp_report_cubins_verdict), else its name's. */
struct gp_report_tc_kernel {
    uint32_t name_id; /* string id in the trace (the view resolves it) */
    struct gp_report_kverdict verdict; /* layer 3: what the name table says */
    unsigned cls;       /* enum gp_report_kclass: the final class */
    const char *layer;  /* "machine code" or "kernel name": which decided cls */
    const char *mc;     /* the cubin verdict text when layer 4 decided, else NULL */
    uint64_t calls, time_ns;
};
#define GP_REPORT_TC_TEXT_KERNELS 10 /* kernels listed per class in the text view */

struct gp_report_tensor {
    uint64_t calls;
    double flops;
    struct gp_report_tc_total by_class[GP_TC_CLASSES];
    struct gp_report_tc_total by_prec[GP_REPORT_TC_MAX_PREC]; /* in order of first use */
    size_t nprec;
    struct gp_report_tc_site *sites; /* after finish: by FLOPs, largest first */
    size_t nsites, sites_cap;
    uint64_t sites_lost; /* calls past GP_REPORT_TC_MAX_SITES sites (counted in the totals) */
    /* layer 3, from KERNEL records */
    struct gp_report_tc_kernel *kernels; /* replay: by name id; after finish: by time */
    size_t nkernels, kernels_cap;        /* after finish: distinct kernels */
    uint64_t kernel_calls[GP_KC_CLASSES], kernel_ns[GP_KC_CLASSES]; /* by final class */
    uint64_t mc_kernels;                 /* distinct kernels whose class layer 4 decided */
    int resolved;                        /* gp_report_tensor_resolve has run */
    /* The headline: from the kernels attributed to library calls (external correlation)
     * when there are any, else from every kernel by its final class. */
    uint64_t gemm_time_ns; /* attributed: all their time; else tensor + cuda-core kernels */
    uint64_t tc_time_ns;   /* of which on Tensor Core kernels */
    double tc_fraction;    /* tc_time_ns / gemm_time_ns; 0 when gemm_time_ns is 0 */
    int attributed;        /* 1: the headline comes from attributed kernels */
    uint64_t name_gemm_time_ns, name_tc_time_ns; /* by kernel name alone (layer 3), every
                                                  * kernel, whatever layer 4 says */
    double name_tc_fraction;
    /* the join: LIBCALL ext id -> EXT_CORR (correlation) -> KERNEL, in any record order */
    struct gp_report_tc_join *join;   /* replay only */
    uint64_t ext_calls;               /* LIBCALLs carrying an external id */
    uint64_t attributed_kernels, attributed_ns;
    uint64_t join_dropped;            /* entries given up at the maps' bound (counted once each) */
};
#define GP_REPORT_TC_MAX_PENDING (1u << 20) /* entries per join map */
int gp_report_tensor_attach(struct gp_report_tensor *t, struct gp_report_model *m);
void gp_report_tensor_fini(struct gp_report_tensor *t);
struct gp_report;
/* Layer 4 decides before layer 3: once the replay is over (both this analysis and
 * analysis_cubins.c finished), every kernel, each site's kernels and verdict and the
 * headline totals take the class of the kernel's machine code where a saved cubin gives one
 * other than unknown. Idempotent; every view of the Tensor Core answer calls it first. */
void gp_report_tensor_resolve(struct gp_report *r);

/* "tensor_join.c": LIBCALL ext id -> EXT_CORR (correlation id) -> KERNEL, in any record
 * order, in bounded maps; kernels are attributed to the site of the call that launched
 * them (sites[].kernels, kc_ns, gpu_time_ns, flops_timed). */
int gp_report_tc_join_libcall(struct gp_report_tensor *t, uint64_t ext, size_t site, double flops);
int gp_report_tc_join_ext_corr(struct gp_report_tensor *t, uint32_t corr, uint64_t ext);
int gp_report_tc_join_kernel(struct gp_report_tensor *t, uint32_t corr, uint32_t name_id,
                             uint64_t ns);
void gp_report_tc_join_free(struct gp_report_tensor *t);
/* A site's final verdict (ran, final_layer, why) from its kernels' classes (kc_ns), else
 * what was asked; names come from the trace's strings. */
void gp_report_tc_site_verdict(const struct gp_report_model *m, struct gp_report_tc_site *s);

/* ---- "analysis_cubins.c": layer 4 over a trace (CUBIN records, GPUPROF_CUBINS=1) ------- */
/* During the replay each saved cubin is written, chunk by chunk, to a private temporary
 * directory (never all in memory); at the end each is disassembled (sass.c's tool search,
 * a time limit per cubin, no shell) and the functions that ran as kernels get a layer-4
 * verdict, which overrides the kernel-name table's when its class is not unknown. */
enum gp_report_cubins_status {
    GP_CUBINS_ABSENT = 0, /* the trace has no CUBIN record (GPUPROF_CUBINS was 0) */
    GP_CUBINS_DONE,       /* disassembled (some cubins may have failed: see failed) */
    GP_CUBINS_NO_TOOL,    /* neither nvdisasm nor cuobjdump was found */
    GP_CUBINS_NOT_SAVED,  /* CUBIN records, but no cubin bytes to disassemble */
    GP_CUBINS_FAILED,     /* the temporary directory could not be used: why */
};
struct gp_report_cubin_kernel { /* a kernel that ran and was found in a cubin */
    uint32_t name_id;  /* string id in the trace (mangled name) */
    unsigned cls;      /* enum gp_report_kclass; UNKNOWN: no verdict (no MMA/FMA, or modules disagree) */
    char verdict[96];  /* "tensor (HMMA x 64)", "cuda-core (FFMA x 12)", ... */
    uint32_t cubins;   /* distinct cubins holding a function of that name */
    uint64_t calls, time_ns;
};
struct gp_report_cubins {
    int status;           /* enum gp_report_cubins_status */
    char why[512];        /* FAILED, NO_TOOL: one line */
    char tool[256];       /* the disassembler run (DONE) */
    unsigned timeout_s;   /* per cubin */
    uint64_t modules;     /* modules the trace describes (saved, duplicate, over cap, lost) */
    uint64_t saved, saved_bytes;       /* distinct cubins with their bytes in the trace */
    uint64_t duplicates;               /* modules whose content was saved already */
    uint64_t over_cap, over_cap_bytes; /* not saved: past GPUPROF_CUBINS_MAX */
    uint64_t lost;                     /* not saved: the shim had no memory or room */
    uint64_t incomplete;  /* saved cubins whose chunks were missing or out of order */
    uint64_t disassembled, failed, timed_out; /* per complete cubin */
    char first_error[512];                    /* the first failure, one line */
    struct gp_report_cubin_kernel *kernels;   /* after finish: by GPU time, longest first */
    size_t nkernels;
    uint64_t kernel_names; /* distinct kernel names that ran */
    void *priv;            /* analysis_cubins.c's replay state */
};
/* "sass_timed.c": gp_report_sass_count with bounds. Runs tool (nvdisasm -c, cuobjdump -sass)
 * on cubin without a shell, its listing in a file in workdir (a private directory; at most
 * 1 GiB), killed with its process group after timeout_s; then counts per function into out
 * (which the caller zeroes and frees). 0, or negative with one line in err: -ETIMEDOUT ran
 * too long, -EINVAL failed on the file, another errno when it could not be run. */
int gp_report_sass_count_timed(const char *tool, const char *cubin, const char *workdir,
                               unsigned timeout_s, struct gp_report_sass *out, char *err,
                               size_t errlen);
/* Always attaches (a trace without CUBIN records costs nothing); *out is freed by
 * gp_report_cubins_free. */
int gp_report_cubins_attach(struct gp_report_cubins **out, struct gp_report_model *m);
void gp_report_cubins_free(struct gp_report_cubins *c);
struct gp_report;
/* Layer 4 for one kernel by its mangled name, as the trace has it: the verdict text and
 * *cls (enum gp_report_kclass), or NULL (and *cls UNKNOWN) when no saved cubin holds it.
 * A verdict whose *cls is UNKNOWN must not override the name table's. */
const char *gp_report_cubins_verdict(const struct gp_report *r, const char *mangled_name,
                                     unsigned *cls);
/* "view_cubins.c": the "Tensor Cores (layer 4: machine code)" text section (only when the
 * trace has CUBIN records) and the JSON "cubins" object (null without them). */
struct gp_report_json;
int gp_report_view_text_cubins(FILE *f, struct gp_report *r);
int gp_report_view_json_cubins(struct gp_report_json *j, struct gp_report *r);
/* "view_counters.c": the "Tensor Cores (layer 5: hardware counters)" text section (only when
 * the run set GPUPROF_COUNTERS=1: INFO counters.*) and the JSON "tensor_counters" object
 * (null without it): status, reason, fix, scope, chip, device, metrics, tensor_work_seen. */
int gp_report_view_text_counters(FILE *f, struct gp_report *r);
int gp_report_view_json_counters(struct gp_report_json *j, struct gp_report *r);
/* Layer 5 for the headline: the counters' values as one number. */
struct gp_report_tc_counters {
    int seen;          /* 1 some value above 0, 0 all zero */
    int has_pct;       /* pct is a "% of active SM cycles" metric */
    double pct;        /* the tensor pipe's busy share: every MMA kind, else the larger of HMMA, GMMA */
    const char *what;  /* static: "every MMA kind", "HMMA", "GMMA" */
    int has_inst;
    double inst;       /* Tensor Core warp instructions executed */
};
/* 1 with *out filled when the run collected counter values, else 0. */
int gp_report_counters_tensor(const struct gp_report *r, struct gp_report_tc_counters *out);
/* How to get permission to read the counters (one line, for status no_permission). */
const char *gp_report_counters_fix(void);

/* "view_tensor.c": the one-line answer at the top of the Tensor Cores section (text and
 * HTML alike): the share of matrix-product GPU time on Tensor Cores by the final kernel
 * verdicts (layer 4, else 3), the hardware counters' number when collected (layer 5), and
 * a plain sentence when the counters contradict the kernels. */
struct gp_report_tc_answer {
    int have;                /* 0: no GEMM/conv kernel time, nothing to answer */
    char headline[768];      /* "Tensor Cores: 29% of matrix-product GPU time (...); ..." */
    char contradiction[512]; /* "" unless layer 5 disagrees with the kernels */
};
void gp_report_tensor_answer(struct gp_report *r, struct gp_report_tc_answer *a);

/* ---- "analysis_torch.c": PyTorch's caching allocator (TORCH, TORCH_STAT records) ---- */
/* Allocated = bytes in blocks PyTorch handed to tensors (ALLOC until FREE_REQUESTED),
 * replayed per event; reserved = what the process holds from the driver (the model's
 * device memory), and PyTorch's share of it (its segments). Non-PyTorch memory = device
 * memory held by the process outside PyTorch's segments (cuBLAS workspaces, NCCL, ...).
 * Whole-run figures (peak_*) are the largest of any one device: what has to fit in it. */
#define GP_REPORT_TORCH_DEVICES 64 /* device ordinals beyond this are folded into the last */

struct gp_report_torch_dev {
    int used;
    uint64_t allocated, allocated_peak, allocated_peak_ns; /* replayed; absolute time */
    uint64_t allocated_peak_replayed;     /* before the cross-check with the stat peak */
    uint64_t segments;                    /* PyTorch's reserved (its segments), replayed */
    uint64_t segments_peak;
    uint64_t frag_peak;                   /* max of segments - allocated */
    uint64_t alloc_base, seg_base; /* bytes held before the history started (AT_START stats)
                                    * that no replayed event accounts for; frees of unknown
                                    * blocks take from them, never below 0 */
    uint64_t stat[GP_TSTAT_COUNT];        /* latest TORCH_STAT value of each, 0 = none */
    uint8_t have_stat[GP_TSTAT_COUNT];
};

/* Which of an OOM's optional numbers are known (gp_report_torch_oom.have). */
enum {
    GP_TORCH_HAVE_SEGMENT = 1 << 0,
    GP_TORCH_HAVE_TOTAL = 1 << 1,
    GP_TORCH_HAVE_FREE = 1 << 2,
    GP_TORCH_HAVE_INACTIVE = 1 << 3,
    GP_TORCH_HAVE_LARGEST = 1 << 4,
    GP_TORCH_HAVE_OTHER = 1 << 5,
    GP_TORCH_HAVE_NVML = 1 << 6, /* other_processes measured by NVML, not inferred */
};

/* One line of advice computed from an OOM's numbers. */
struct gp_report_torch_advice {
    const char *kind; /* static: "batch_size", "expandable_segments", "activations",
                       * "other_memory", "other_processes" */
    char text[400];
};
#define GP_REPORT_TORCH_MAX_ADVICE 5

struct gp_report_torch_oom {
    uint64_t time_ns; /* absolute */
    int32_t device;
    uint32_t stack;   /* the failing allocation's Python stack */
    unsigned have;    /* GP_TORCH_HAVE_* */
    uint64_t request, segment_request;     /* rounded tensor bytes; segment tried (0 = unknown) */
    uint64_t device_total, device_free;    /* 0 = unknown */
    uint64_t allocated, reserved;          /* PyTorch's, at the OOM */
    uint64_t inactive_split, largest_free; /* fragmentation evidence (0 = unknown) */
    uint64_t private_pools;
    uint64_t process_device;  /* device memory the whole process held (the shim's view) */
    uint64_t non_torch;       /* process_device - PyTorch's segments */
    uint64_t other_processes; /* NVML's figure (GP_TORCH_HAVE_NVML), else device_total -
                               * device_free - process_device, when known */
    uint64_t other_processes_count;                  /* with GP_TORCH_HAVE_NVML */
    uint64_t other_largest_pid, other_largest_bytes; /* with GP_TORCH_HAVE_NVML */
    uint64_t growth_bytes, growth_ns; /* allocated growth over the seconds before */
    int recovered;            /* PyTorch allocations went on after it */
    int fatal;                /* the process died of it (adapter said so, or last + no more allocations) */
    struct gp_report_site_list sites; /* live PyTorch allocations by Python stack */
    struct gp_report_torch_advice advice[GP_REPORT_TORCH_MAX_ADVICE];
    size_t nadvice;
};

#define GP_REPORT_TORCH_MAX_OOMS 100 /* beyond this counted only */
#define GP_REPORT_TORCH_GROWTH_NS UINT64_C(5000000000) /* "the seconds before" an OOM */

struct gp_report_torch {
    int present;             /* the adapter ran: any TORCH or TORCH_STAT record */
    uint64_t events;         /* TORCH records */
    uint64_t unknown_frees;  /* frees of blocks never seen allocated */
    uint64_t history_lost;   /* latest HISTORY_LOST stat (events the adapter missed) */
    uint32_t torch_version;  /* major * 10000 + minor * 100 + patch, 0 = unknown */
    int expandable, backend_async; /* allocator settings, -1 = unknown */
    uint64_t label_batch;    /* N of "batch=N" in the trace's label, 0 = none */
    struct gp_report_torch_dev dev[GP_REPORT_TORCH_DEVICES];
    /* Over all devices: */
    uint64_t peak_allocated_bytes;     /* allocated peak (replayed; the stat peak if larger) */
    uint64_t peak_allocated_ns;        /* absolute */
    uint64_t peak_reserved_bytes;      /* PyTorch's reserved peak */
    uint64_t peak_fragmentation_bytes; /* max of reserved - allocated */
    uint64_t device_total_bytes;       /* largest device total seen, 0 = unknown */
    struct gp_report_torch_oom *ooms;
    size_t nooms;
    uint64_t ooms_total;
    struct gp_report_series *allocated_series; /* for plots; NULL unless options.timeline */
    struct gp_report_series *non_torch_series; /* process device memory - PyTorch segments */
    /* private replay state (analysis_torch.c) */
    struct gp_report_livemap live;
    struct gp_report_livemap segs;
    struct gp_report_sites sites;
    size_t top;
    void *priv;
};

int gp_report_torch_attach(struct gp_report_torch *t, struct gp_report_model *m, size_t top,
                           int series);
void gp_report_torch_fini(struct gp_report_torch *t);
/* N of the one whitespace-separated "batch=N" word of a label (N 1..10^9, no leading zeros,
 * as `gpuprof-report fit` reads it); 0 when none, several or malformed. */
uint64_t gp_report_torch_label_batch(const char *label);
/* "view_torch.c": the "PyTorch memory" and "Out of memory (PyTorch)" text sections (only
 * when the adapter ran) and the JSON "torch" object (null when it did not). */
struct gp_report;
struct gp_report_json;
int gp_report_view_text_torch(FILE *f, struct gp_report *r);
int gp_report_view_json_torch(struct gp_report_json *j, struct gp_report *r);

struct gp_report {
    struct gp_report_model *model;
    struct gp_report_peak peak;
    struct gp_report_leaks leaks;
    struct gp_report_oom oom;
    struct gp_report_timeline timeline; /* series NULL unless options.timeline */
    struct gp_report_kernels kernels;   /* GPU activity (analysis_kernels.c) */
    struct gp_report_events events;     /* empty unless options.events */
    struct gp_report_tensor tensor;     /* library calls, Tensor Cores (analysis_tensor.c) */
    struct gp_report_torch torch;       /* PyTorch's allocator (analysis_torch.c) */
    struct gp_report_cubins *cubins;    /* Tensor Cores, layer 4 (analysis_cubins.c) */
    struct gp_report_symbolizer *sym;
    int native; /* text view: all native frames under Python frames (--native) */
};

/* Reads the whole trace. On failure err holds a one-line reason (no file name). */
int gp_report_load(struct gp_report *r, const char *path, const struct gp_report_options *opt,
                   char *err, size_t errlen);
void gp_report_fini(struct gp_report *r);

/* ---- "utf8.c": one UTF-8 code point ------------------------------------------------ */
/* Length of the valid sequence at s (n bytes left) with its code point in *cp, or 0 when
 * the bytes there are not valid UTF-8 (overlong, surrogate, cut, > U+10FFFF). */
size_t gp_report_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* ---- "format.c": numbers and strings for people ------------------------------------ */
/* "1.50 GiB" style; buf of at least 32 bytes. */
const char *gp_report_fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* A wall-clock time (ns since the epoch) as "2026-11-26 21:30:00.123 UTC". */
const char *gp_report_fmt_wall(char *buf, size_t len, uint64_t ns);
/* "3.210 s" style. */
const char *gp_report_fmt_secs(char *buf, size_t len, uint64_t ns);
/* Writes s with control characters and invalid UTF-8 shown as '?', so trace strings
 * cannot drive the terminal. NULL prints as "". */
void gp_report_fputs_safe(FILE *f, const char *s);

/* ---- "json_writer.c": a small streaming JSON writer -------------------------------- */
#define GP_REPORT_JSON_MAX_DEPTH 32

struct gp_report_json {
    FILE *f;
    int depth;
    uint8_t has_items[GP_REPORT_JSON_MAX_DEPTH];
};

void gp_report_json_init(struct gp_report_json *j, FILE *f);
/* key is NULL for array elements. */
void gp_report_json_object_begin(struct gp_report_json *j, const char *key);
void gp_report_json_object_end(struct gp_report_json *j);
void gp_report_json_array_begin(struct gp_report_json *j, const char *key);
void gp_report_json_array_end(struct gp_report_json *j);
/* s NULL writes null. */
void gp_report_json_string(struct gp_report_json *j, const char *key, const char *s);
void gp_report_json_u64(struct gp_report_json *j, const char *key, uint64_t v);
void gp_report_json_i64(struct gp_report_json *j, const char *key, int64_t v);
void gp_report_json_bool(struct gp_report_json *j, const char *key, int v);
void gp_report_json_null(struct gp_report_json *j, const char *key);
/* A finite number with up to 6 significant digits; null when not finite. */
void gp_report_json_double(struct gp_report_json *j, const char *key, double v);
/* Escapes s as a JSON string literal (quotes included). */
void gp_report_json_write_escaped(FILE *f, const char *s);

/* ---- "fit.c": the batch-size advisor (gpuprof-report fit, docs/views.md) --------- */
/* --quiet: no progress messages on stderr (errors and warnings still go there). Defined in
 * fit.c so that any part of the report library can read it. */
extern int gp_report_quiet;

/* Which peak a fit uses: PyTorch's allocated peak when the adapter ran in every run, else
 * the device memory the shim saw the process hold (reserved). */
enum gp_report_fit_source { GP_FIT_RESERVED = 0, GP_FIT_ALLOCATED = 1 };

struct gp_report_fit_point {
    char *file; /* the trace as given (owned by the fit) */
    uint64_t batch;
    uint64_t peak_bytes;     /* the peak the fit used (set by gp_report_fit_solve) */
    uint64_t allocated_peak; /* PyTorch's allocated peak (torch only) */
    uint64_t reserved_peak;  /* device memory held by the process, at most */
    uint64_t frag_bytes;     /* PyTorch's reserved - allocated: the largest gap seen, at most
                              * reserved peak - allocated peak */
    uint64_t frag_reserved;  /* PyTorch's reserved peak */
    uint64_t device_total;   /* 0 = unknown */
    int torch;               /* the adapter ran */
    int truncated;
    /* Device memory the batch competes with that no peak above holds (see gp_report_fit
     * .other_bytes): */
    uint64_t non_torch_bytes; /* the process's device peak - PyTorch's reserved peak, on the
                               * device where that is largest (torch only) */
    uint64_t context_bytes;   /* total - free - the process's allocations, at the first
                               * cudaMemGetInfo answer (else the adapter's start statistics) */
    int context_source;       /* enum gp_report_fit_context: how context_bytes was had */
    uint64_t other_processes_bytes; /* largest figure NVML gave for other processes, 0 = none */
    uint64_t other_bytes;     /* set by gp_report_fit_solve: what is subtracted for this run */
};

/* Where a run's context figure comes from. DEFAULT: not measured, the fit allows
 * GP_REPORT_FIT_CONTEXT_DEFAULT (or --context-bytes); OPTION: --context-bytes replaced it. */
enum gp_report_fit_context {
    GP_FIT_CONTEXT_DEFAULT = 0,
    GP_FIT_CONTEXT_MEMINFO = 1,
    GP_FIT_CONTEXT_ADAPTER = 2,
    GP_FIT_CONTEXT_OPTION = 3,
};
/* "meminfo", "adapter", "default", "option" */
const char *gp_report_fit_context_name(int source);

/* Fractions are kept in units of 1/10000 so the stated inequality holds exactly. */
#define GP_REPORT_FIT_UNITS 10000u
#define GP_REPORT_FIT_HEADROOM_DEFAULT 500u /* 5% */
#define GP_REPORT_FIT_MAX_BATCH_INPUT 1000000000u
/* Allowed for the CUDA context (and whatever else holds device memory at start) when no
 * trace measured it: contexts take about 300-600 MiB on current GPUs and drivers. */
#define GP_REPORT_FIT_CONTEXT_DEFAULT (UINT64_C(500) << 20)

struct gp_report_fit {
    struct gp_report_fit_point *v;
    size_t n, cap;
    /* settings (before gp_report_fit_solve) */
    uint64_t device_total_opt; /* --device-total, 0 = from the traces */
    uint32_t headroom_base;    /* --headroom in 1/10000 (init: 5%) */
    int context_opt_given;     /* --context-bytes was given: context_opt replaces every run's */
    uint64_t context_opt;
    /* results */
    int source;                /* enum gp_report_fit_source, the same for every point */
    size_t ndistinct;          /* distinct batch sizes */
    double fixed, per_sample;  /* least-squares line, bytes */
    int64_t fixed_bytes, per_sample_bytes; /* rounded to whole bytes: max_batch uses these */
    uint64_t residual_bytes;   /* largest |peak - line| (0 with two batch sizes) */
    uint64_t max_peak;
    int linear;
    int nonlinear_residual;    /* the residual is over 2% of the largest peak */
    int nonlinear_quadratic;   /* a quadratic term fits clearly better: +1 grows faster than
                                * linearly, -1 slower, 0 no */
    uint32_t frag_units;       /* largest frag_bytes / frag_reserved, rounded up (allocated
                                * peaks only: a reserved peak includes it) */
    uint32_t headroom_units;   /* headroom_base + frag_units, at most GP_REPORT_FIT_UNITS */
    uint64_t device_total;     /* the one used */
    int totals_differ;         /* runs saw different device totals (the smallest is used) */
    uint64_t kept_bytes;       /* floor(device_total * (1 - headroom)) */
    /* The largest of the runs' non-PyTorch + context + other-process memory, and its parts
     * (those of the run it comes from, other_run). non_torch is 0 for reserved peaks: the
     * process's own allocations outside PyTorch are in them already. */
    uint64_t other_bytes, other_non_torch, other_context, other_processes;
    int other_context_source;  /* enum gp_report_fit_context */
    size_t other_run;
    size_t context_defaulted;  /* runs whose context was not measured (default allowance) */
    uint64_t usable_bytes;     /* kept_bytes - other_bytes, never below 0 */
    int have_max;              /* per_sample_bytes > 0: max_batch is meaningful */
    uint64_t max_batch;        /* largest b with fixed + per_sample * b <= usable (0 = none) */
};

void gp_report_fit_init(struct gp_report_fit *f);
void gp_report_fit_fini(struct gp_report_fit *f);
/* The N of the one "batch=N" token (whitespace-separated) of label: 1 found, 0 none,
 * -EINVAL a malformed or repeated one (the reason in err). */
int gp_report_fit_parse_label(const char *label, uint64_t *batch, char *err, size_t errlen);
/* Command-line values: bytes as "85899345920", "80GiB", "80G" (K M G T: powers of 1024,
 * "iB" or "B" after them optional), 0 when malformed; batch sizes as "8,16,32" into *v
 * (malloc'd), their count, or -1 when malformed. */
uint64_t gp_report_fit_parse_bytes(const char *s);
int gp_report_fit_parse_batches(const char *s, uint64_t **v);
/* Adds a point (file copied). */
int gp_report_fit_add_point(struct gp_report_fit *f, const struct gp_report_fit_point *p);
/* Reads the trace at path and adds its point; batch 0 = from its label. On failure err
 * holds a one-line reason that names path and says what to do. */
int gp_report_fit_add_trace(struct gp_report_fit *f, const char *path, uint64_t batch, char *err,
                            size_t errlen);
/* Fits the line and the largest batch. -EDOM: fewer than two distinct batch sizes;
 * -ENODATA: no device total; err says why. */
int gp_report_fit_solve(struct gp_report_fit *f, char *err, size_t errlen);

/* "view_fit.c": the fit for people, for scripts (docs/json-schema.md "Batch-size fit"),
 * and drawn by gnuplot (points, line, usable memory). -EIO if writing failed. */
int gp_report_view_fit_text(FILE *out, const struct gp_report_fit *f);
int gp_report_view_fit_json(FILE *out, const struct gp_report_fit *f);
int gp_report_view_fit_plot(const char *path, const struct gp_report_fit *f, char *err,
                            size_t errlen);

/* ---- views ------------------------------------------------------------------------ */
#define GP_REPORT_JSON_SCHEMA_VERSION 1

/* "view_text.c" / "view_json.c": write to f; -EIO if writing failed. */
int gp_report_view_text(FILE *f, struct gp_report *r);
int gp_report_view_json(FILE *f, struct gp_report *r);
/* "view_kernels.c": the GPU activity section of each (called by the two above). */
int gp_report_view_text_kernels(FILE *f, const struct gp_report *r);
void gp_report_view_json_kernels(struct gp_report_json *j, const struct gp_report *r);
/* "view_tensor.c": the Tensor Cores section of each (text only when library calls exist). */
int gp_report_view_text_tensor(FILE *f, struct gp_report *r);
int gp_report_view_json_tensor(struct gp_report_json *j, struct gp_report *r);

/* "view_env.c": the run's environment (INFO records). The driver check: 1 with a one-line
 * warning in buf when the driver is older than the program's CUDA runtime, else 0. */
int gp_report_env_driver_check(const struct gp_report_model *m, char *buf, size_t len);
/* An INFO value in CUDA's 1000 * major + 10 * minor ("12040") as "12.4" in buf (48 bytes or
 * more); NULL when it is not a plain number. */
const char *gp_report_env_cuda_version(char *buf, size_t len, const char *info_value);
int gp_report_view_text_env(FILE *f, const struct gp_report *r);
void gp_report_view_json_env(struct gp_report_json *j, const struct gp_report *r);

/* "view_plot.c": device memory over time drawn by gnuplot into path (.png or .svg). */
enum gp_report_plot_format { GP_REPORT_PLOT_NONE = 0, GP_REPORT_PLOT_PNG, GP_REPORT_PLOT_SVG };
enum gp_report_plot_format gp_report_plot_format_of(const char *path);
/* Returns 0, or negative with a one-line reason in err; -ENOENT: gnuplot is missing. */
int gp_report_view_plot(const char *path, const struct gp_report *r, char *err, size_t errlen);
/* The pieces of view_plot.c other plots share: a file created in the private directory
 * (O_EXCL, no symlink), closed with its write errors; gnuplot run there on plot.gp (its
 * stderr in gnuplot.log); the image copied to the user's path. */
FILE *gp_report_plot_create(int dirfd, const char *name);
int gp_report_plot_close(FILE *f);
int gp_report_plot_run(const char *dir, char *err, size_t errlen);
int gp_report_plot_copy(int dirfd, const char *name, const char *dest, char *err, size_t errlen);

/* "view_timeline.c": GPU activity per stream over time (kernels, copies, NVTX ranges above)
 * into path (.png or .svg). The window is [from_ns, to_ns) of trace time when set (UINT64_MAX
 * = unset), else the last complete NVTX range of the most frequent name, else the whole run.
 * Past a few thousand boxes each lane is drawn as its occupancy per pixel column. */
struct gp_report_window {
    uint64_t from_ns, to_ns; /* since the trace start */
    const char *range;       /* --range NAME: the last complete NVTX range of that name
                              * (from/to unset), NULL = none */
    const char *trace;       /* the trace file, which --plot-timeline reads a second time for
                              * the window's boxes; NULL = found among the open files */
};
int gp_report_view_timeline(const char *path, const struct gp_report *r,
                            const struct gp_report_window *win, char *err, size_t errlen);

/* "view_perfetto.c": Chrome trace-event JSON for ui.perfetto.dev (docs/views.md), cut to
 * win when set (UINT64_MAX = unset). Needs options.events. -EIO if writing failed. */
int gp_report_view_perfetto(FILE *f, const struct gp_report *r, const struct gp_report_window *win);
/* "view_multi.c": the job summary of several processes, as text or JSON (docs/json-schema.md
 * "Job summary"). -EIO if writing failed. */
int gp_report_view_multi_text(FILE *f, const struct gp_report_multi *mu);
int gp_report_view_multi_json(FILE *f, const struct gp_report_multi *mu);
/* "view_html.c": one self-contained HTML page (docs/views.md). Needs options.timeline for
 * its plot. -EIO if writing failed. */
int gp_report_view_html(FILE *f, struct gp_report *r);
/* "view_csv.c": allocations.csv and kernels.csv in dir (made if missing; docs/views.md).
 * Needs options.events. Negative with a one-line reason (naming the file) in err. */
int gp_report_view_csv(const char *dir, const struct gp_report *r, char *err, size_t errlen);

#endif
