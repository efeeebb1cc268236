/* model.c — replays a trace into the model: live allocations by pointer, running
 * totals per memory kind, live device bytes per call site, event counts, the module
 * map and the trace's health. Observers (the analyses) see every change as it happens,
 * so one pass is enough. Per record the work is O(1) and allocates nothing unless the
 * number of live allocations or of stack nodes grows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int gp_report_model_open(struct gp_report_model **out, const char *path, char *err, size_t errlen)
{
    int rc;
    struct gp_report_model *m = calloc(1, sizeof(*m));
    *out = NULL;
    if (!m) {
        rc = -ENOMEM;
        goto out;
    }
    gp_report_sites_init(&m->device_sites);
    for (unsigned i = 0; i < GP_REPORT_SPACES; i++) {
        rc = gp_report_livemap_init(&m->live[i]);
        if (rc < 0)
            goto out;
    }
    /* Stack id 0 ("no stack") is always a valid site. */
    rc = gp_report_sites_reserve(&m->device_sites, 0);
    if (rc < 0)
        goto out;
    rc = gp_trace_reader_open(&m->reader, path, err, errlen);
    if (rc < 0) {
        m->reader = NULL;
        goto out;
    }

    const struct gp_trace_header *h = gp_trace_reader_header(m->reader);
    m->run.version = h->version;
    m->run.pid = h->pid;
    m->run.ppid = h->ppid;
    m->run.stack_depth = h->stack_depth;
    m->run.realtime_ns = h->realtime_ns;
    m->run.monotonic_ns = h->monotonic_ns;
    m->run.last_ns = h->monotonic_ns;
    m->run.host = dup_or_empty(h->host);
    m->run.exe = dup_or_empty(h->exe);
    m->run.cmdline = dup_or_empty(h->cmdline);
    m->run.label = dup_or_empty(h->label);
    m->path = dup_or_empty(path);
    if (!m->run.host || !m->run.exe || !m->run.cmdline || !m->run.label || !m->path) {
        rc = -ENOMEM;
        goto out;
    }
    *out = m;
    m = NULL;
out:
    if (rc == -ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory");
    gp_report_model_free(m);
    return rc;
}

void gp_report_model_free(struct gp_report_model *m)
{
    if (!m)
        return;
    if (m->reader)
        gp_trace_reader_close(m->reader);
    for (unsigned i = 0; i < GP_REPORT_SPACES; i++)
        gp_report_livemap_fini(&m->live[i]);
    gp_report_sites_fini(&m->device_sites);
    for (size_t i = 0; i < m->nmodules; i++)
        free(m->modules[i].path);
    free(m->modules);
    for (size_t i = 0; i < m->ninfo; i++) {
        free(m->info[i].key);
        free(m->info[i].value);
    }
    free(m->info);
    free(m->path);
    free(m->run.host);
    free(m->run.exe);
    free(m->run.cmdline);
    free(m->run.label);
    free(m);
}

int gp_report_model_observe(struct gp_report_model *m, const struct gp_report_observer *obs)
{
    if (m->nobs == GP_REPORT_MAX_OBSERVERS)
        return -ENOSPC;
    m->obs[m->nobs++] = *obs;
    return 0;
}

uint64_t gp_report_model_rel_ns(const struct gp_report_model *m, uint64_t abs_ns)
{
    return abs_ns > m->run.monotonic_ns ? abs_ns - m->run.monotonic_ns : 0;
}

size_t gp_report_model_stack(const struct gp_report_model *m, uint32_t stack, uint64_t *ips,
                             size_t max)
{
    size_t n = 0;
    /* The bound also ends a (corrupt) parent cycle. */
    while (stack != 0 && n < max && n < GP_TRACE_MAX_FRAMES) {
        const struct gp_stack_node *node = gp_trace_reader_frame(m->reader, stack);
        if (!node)
            break;
        ips[n++] = node->ip;
        stack = node->parent;
    }
    return n;
}

/* Kind from the record, or from the API when the kind byte is out of range. */
static unsigned kind_of(const struct gp_record *rec)
{
    if (rec->kind < GP_MEM_KIND_COUNT)
        return rec->kind;
    switch (rec->api) {
    case GP_API_CUDA_MALLOC_MANAGED:
        return GP_MEM_MANAGED;
    case GP_API_CUDA_MALLOC_HOST:
    case GP_API_CUDA_HOST_ALLOC:
    case GP_API_CUDA_FREE_HOST:
        return GP_MEM_HOST_PINNED;
    default:
        return GP_MEM_DEVICE;
    }
}

static int notify_device_change(struct gp_report_model *m, uint32_t stack, uint64_t new_live)
{
    for (size_t i = 0; i < m->nobs; i++) {
        if (m->obs[i].device_change) {
            int rc = m->obs[i].device_change(m->obs[i].ctx, m, stack, new_live);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

unsigned gp_report_space_of(unsigned kind)
{
    switch (kind) {
    case GP_MEM_PHYSICAL:
        return 1;
    case GP_MEM_ADDRESS_RANGE:
        return 2;
    case GP_MEM_MAPPING:
        return 3;
    default:
        return 0;
    }
}

static struct gp_report_dev_mem *dev_slot(struct gp_report_model *m, int device)
{
    if (device < 0)
        return &m->dev_mem[0];
    return &m->dev_mem[device >= GP_REPORT_DEVICES ? GP_REPORT_DEVICES : device + 1];
}

static void add_dev_live(struct gp_report_model *m, int device, uint64_t size, int sign,
                         uint64_t time_ns)
{
    struct gp_report_dev_mem *d = dev_slot(m, device);
    d->live += sign > 0 ? size : -size;
    if (d->live > d->peak) {
        d->peak = d->live;
        d->peak_ns = time_ns;
    }
}

static void add_live(struct gp_report_model *m, unsigned kind, uint64_t size, int sign)
{
    m->live_bytes[kind] += sign > 0 ? size : -size;
    m->live_count[kind] += sign > 0 ? 1 : (uint64_t)-1;
    if (kind == GP_MEM_PHYSICAL) { /* also part of the device total */
        m->live_bytes[GP_MEM_DEVICE] += sign > 0 ? size : -size;
        m->live_count[GP_MEM_DEVICE] += sign > 0 ? 1 : (uint64_t)-1;
    }
}

static int drop_live(struct gp_report_model *m, struct gp_report_live *e)
{
    if (gp_report_is_device(e->kind)) {
        int rc = notify_device_change(m, e->stack, m->live_bytes[GP_MEM_DEVICE] - e->size);
        if (rc < 0)
            return rc;
        gp_report_sites_sub(&m->device_sites, e->stack, e->size);
        add_dev_live(m, e->device, e->size, -1, 0);
    }
    add_live(m, e->kind, e->size, -1);
    gp_report_livemap_remove(&m->live[gp_report_space_of(e->kind)], e);
    return 0;
}

static int apply_alloc(struct gp_report_model *m, const struct gp_record *rec)
{
    int rc;
    if (rec->result != 0) {
        m->counts.failed_allocs++;
        return 0;
    }
    unsigned kind = kind_of(rec);
    m->counts.allocs++;
    m->counts.allocs_by_kind[kind]++;
    if (rec->api >= GP_API_CU_MEM_ALLOC) /* the driver APIs are numbered after the runtime's */
        m->counts.driver_allocs++;
    else
        m->counts.runtime_allocs++;
    if (rec->ptr == 0)
        return 0; /* a zero-size request can succeed without memory */

    struct gp_report_livemap *map = &m->live[gp_report_space_of(kind)];
    struct gp_report_live *old = gp_report_livemap_find(map, rec->ptr);
    if (old) {
        /* The pointer came back from the driver, so its free was not recorded (dropped
         * events): retire the old allocation instead of counting it twice. */
        m->counts.replaced_allocs++;
        rc = drop_live(m, old);
        if (rc < 0)
            return rc;
    }

    struct gp_report_live e = {
        .ptr = rec->ptr,
        .size = rec->size,
        .time_ns = rec->time_ns,
        .stack = rec->stack < m->device_sites.cap ? rec->stack : 0,
        .device = (int16_t)(rec->device < INT16_MIN   ? INT16_MIN
                            : rec->device > INT16_MAX ? INT16_MAX
                                                      : rec->device),
        .kind = (uint8_t)kind,
    };
    if (gp_report_is_device(kind)) {
        rc = notify_device_change(m, e.stack, m->live_bytes[GP_MEM_DEVICE] + e.size);
        if (rc < 0)
            return rc;
    }
    rc = gp_report_livemap_insert(map, &e);
    if (rc < 0)
        return rc;
    if (gp_report_is_device(kind)) {
        gp_report_sites_add(&m->device_sites, e.stack, e.size);
        add_dev_live(m, e.device, e.size, +1, rec->time_ns);
    }
    add_live(m, kind, e.size, +1);
    return 0;
}

static int apply_free(struct gp_report_model *m, const struct gp_record *rec)
{
    m->counts.frees++;
    if (rec->ptr == 0) {
        m->counts.null_frees++;
        return 0;
    }
    /* Any free API releases whatever allocation owns the pointer, and the result code
     * is not trusted: cudaFree also returns errors of earlier asynchronous work. */
    struct gp_report_live *e =
        gp_report_livemap_find(&m->live[gp_report_space_of(kind_of(rec))], rec->ptr);
    if (!e) {
        m->counts.unknown_frees++;
        return 0;
    }
    return drop_live(m, e);
}

static int add_module(struct gp_report_model *m, const struct gp_record *rec)
{
    if (m->nmodules == GP_REPORT_MAX_MODULES) {
        m->modules_ignored++;
        return 0;
    }
    if (m->nmodules == m->modules_cap) {
        size_t cap = m->modules_cap ? m->modules_cap * 2 : 64;
        struct gp_report_module *v = realloc(m->modules, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        m->modules = v;
        m->modules_cap = cap;
    }
    char *path = dup_or_empty(gp_trace_reader_string(m->reader, rec->path));
    if (!path)
        return -ENOMEM;
    m->modules[m->nmodules++] = (struct gp_report_module){
        .path = path,
        .load_bias = rec->load_bias,
        .start = rec->start,
        .end = rec->end,
    };
    return 0;
}

const char *gp_report_model_info(const struct gp_report_model *m, const char *key)
{
    for (size_t i = 0; i < m->ninfo; i++)
        if (strcmp(m->info[i].key, key) == 0)
            return m->info[i].value;
    return NULL;
}

static int add_info(struct gp_report_model *m, const struct gp_record *rec)
{
    const char *key = gp_trace_reader_string(m->reader, rec->key_id);
    const char *value = gp_trace_reader_string(m->reader, rec->value_id);
    if (key == NULL)
        return 0;
    char *v = dup_or_empty(value);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < m->ninfo; i++) {
        if (strcmp(m->info[i].key, key) == 0) {
            free(m->info[i].value);
            m->info[i].value = v;
            return 0;
        }
    }
    if (m->ninfo == GP_REPORT_MAX_INFO) {
        free(v);
        return 0;
    }
    if (m->ninfo % 16 == 0) {
        struct gp_report_info *n = realloc(m->info, (m->ninfo + 16) * sizeof(*n));
        if (!n) {
            free(v);
            return -ENOMEM;
        }
        m->info = n;
    }
    char *k = dup_or_empty(key);
    if (!k) {
        free(v);
        return -ENOMEM;
    }
    m->info[m->ninfo++] = (struct gp_report_info){.key = k, .value = v};
    return 0;
}

static void apply_pool(struct gp_report_pools *p, const struct gp_record *rec)
{
    size_t i = 0;
    while (i < p->n && p->v[i].handle != rec->ptr)
        i++;
    if (i == p->n) {
        if (p->n == GP_REPORT_MAX_POOLS) {
            p->ignored++;
            return;
        }
        p->v[p->n++] = (struct gp_report_pool){.handle = rec->ptr, .reserved = 0};
    }
    p->reserved += rec->size - p->v[i].reserved; /* unsigned wrap cancels out */
    p->v[i].reserved = rec->size;
    if (p->reserved > p->peak) {
        p->peak = p->reserved;
        p->peak_time_ns = rec->time_ns;
    }
}

static int apply(struct gp_report_model *m, const struct gp_record *rec)
{
    switch (rec->type) {
    case GP_REC_ALLOC:
        return apply_alloc(m, rec);
    case GP_REC_FREE:
        return apply_free(m, rec);
    case GP_REC_MEMINFO:
        m->counts.meminfo++;
        if (rec->aux1 > m->device_total_bytes)
            m->device_total_bytes = rec->aux1;
        return 0;
    case GP_REC_OOM:
        m->counts.oom++;
        if (rec->aux2 > m->device_total_bytes)
            m->device_total_bytes = rec->aux2;
        return 0;
    case GP_REC_POOL:
        apply_pool(&m->pools, rec);
        return 0;
    case GP_REC_DROPPED:
        m->health.dropped_records += rec->count;
        return 0;
    case GP_REC_END:
        m->health.end_events = rec->aux1;
        m->health.end_dropped = rec->aux2;
        return 0;
    case GP_REC_FRAME:
        /* A stack id the per-site table cannot hold is reported as "no stack". */
        if (gp_report_sites_reserve(&m->device_sites, rec->id) == -ENOMEM)
            return -ENOMEM;
        return 0;
    case GP_REC_MODULE:
        return add_module(m, rec);
    case GP_REC_INFO:
        return add_info(m, rec);
    default:
        return 0;
    }
}

static int is_event(uint8_t type)
{
    return type == GP_REC_ALLOC || type == GP_REC_FREE || type == GP_REC_MEMINFO ||
           type == GP_REC_OOM || type == GP_REC_POOL || type == GP_REC_LIBCALL ||
           type == GP_REC_TORCH || type == GP_REC_TORCH_STAT;
}

/* Progress on stderr for long reads: only on a terminal, not with --quiet, first after a
 * second (short reads stay silent), then twice a second, erased at the end. */
struct progress {
    int on, shown;
    uint64_t size, start_ns, next_ns;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void progress_start(struct progress *p, const struct gp_report_model *m)
{
    struct stat st;
    memset(p, 0, sizeof(*p));
    p->on = !gp_report_quiet && isatty(STDERR_FILENO) && m->path && stat(m->path, &st) == 0 &&
            st.st_size > 0;
    p->size = p->on ? (uint64_t)st.st_size : 0;
    p->start_ns = now_ns();
    p->next_ns = p->start_ns + 1000000000u;
}

static void progress_tick(struct progress *p, const struct gp_report_model *m)
{
    uint64_t t = now_ns();
    if (t < p->next_ns)
        return;
    p->next_ns = t + 500000000u;
    uint64_t done = gp_trace_reader_file_bytes(m->reader);
    char a[32], b[32];
    fprintf(stderr, "\rgpuprof-report: reading %3u%% (%s of %s)  ",
            (unsigned)(done >= p->size ? 100 : done * 100 / p->size),
            gp_report_fmt_bytes(a, sizeof(a), done), gp_report_fmt_bytes(b, sizeof(b), p->size));
    p->shown = 1;
}

static void progress_end(const struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
}

int gp_report_model_replay(struct gp_report_model *m, char *err, size_t errlen)
{
    struct gp_record rec;
    struct progress prog;
    int rc;
    progress_start(&prog, m);
    for (uint64_t n = 0;; n++) {
        if (prog.on && (n & 0xffff) == 0)
            progress_tick(&prog, m);
        rc = gp_trace_reader_next(m->reader, &rec, err, errlen);
        if (rc <= 0)
            break;
        if (is_event(rec.type) && rec.time_ns > m->run.last_ns)
            m->run.last_ns = rec.time_ns;
        rc = apply(m, &rec);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < m->nobs; i++) {
            if (m->obs[i].record) {
                rc = m->obs[i].record(m->obs[i].ctx, m, &rec);
                if (rc < 0)
                    goto out;
            }
        }
    }
    progress_end(&prog);
    prog.shown = 0;
    if (rc < 0) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "corrupt trace");
        return rc;
    }

    m->health.truncated = gp_trace_reader_status(m->reader) != GP_TRACE_OK;
    m->health.lost_bytes = gp_trace_reader_lost_bytes(m->reader);
    m->health.records = gp_trace_reader_records(m->reader);
    /* END states the total the writer dropped; DROPPED records report the same drops
     * as they happen. Take whichever is larger so that nothing is counted twice and a
     * truncated trace still reports the drops it recorded. */
    m->health.dropped_events = m->health.end_dropped > m->health.dropped_records
                                   ? m->health.end_dropped
                                   : m->health.dropped_records;

    for (size_t i = 0; i < m->nobs; i++) {
        if (m->obs[i].finish) {
            rc = m->obs[i].finish(m->obs[i].ctx, m);
            if (rc < 0)
                goto out;
        }
    }
    rc = 0;
out:
    progress_end(&prog);
    if (rc == -ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory");
    return rc;
}
