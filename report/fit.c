/* fit.c — the batch-size advisor behind `gpuprof-report fit`: reads one peak per trace
 * (with its batch size from the label's batch=N), fits peak = fixed + per_sample * batch by
 * least squares, says whether growth is linear, and finds the largest batch that fits in
 * the device's memory less a headroom and less the memory no fitted peak holds (the CUDA
 * context, allocations outside PyTorch, other processes: docs/views.md "Batch-size fit").
 * Fractions (headroom, fragmentation) are whole units of 1/10000 and max_batch is computed
 * in integers from the rounded fixed and per-sample bytes, so the inequality the JSON states
 * holds exactly for the numbers it prints. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int gp_report_quiet;

/* A residual above this share of the largest peak means "not linear". */
#define NONLINEAR_RESIDUAL_DIV 50 /* 2% */
/* A quadratic term counts only when the line misses by more than this share of the largest
 * peak (1/200 = 0.5%, below it allocator rounding dominates) and the quadratic cuts the sum
 * of squared residuals to at most a quarter (half the RMS). */
#define QUAD_MIN_RESIDUAL_DIV 200
#define QUAD_SSE_RATIO 0.25

void gp_report_fit_init(struct gp_report_fit *f)
{
    memset(f, 0, sizeof(*f));
    f->headroom_base = GP_REPORT_FIT_HEADROOM_DEFAULT;
}

void gp_report_fit_fini(struct gp_report_fit *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].file);
    free(f->v);
    memset(f, 0, sizeof(*f));
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int gp_report_fit_parse_label(const char *label, uint64_t *batch, char *err, size_t errlen)
{
    static const char key[] = "batch=";
    const size_t klen = sizeof(key) - 1;
    int found = 0;
    uint64_t got = 0;
    for (const char *p = label ? label : ""; *p;) {
        while (*p && is_space(*p))
            p++;
        const char *tok = p;
        while (*p && !is_space(*p))
            p++;
        size_t len = (size_t)(p - tok);
        if (len < klen || memcmp(tok, key, klen) != 0)
            continue;
        uint64_t v = 0;
        int ok = len > klen && tok[klen] != '0';
        for (size_t i = klen; ok && i < len; i++) {
            if (tok[i] < '0' || tok[i] > '9' || v > GP_REPORT_FIT_MAX_BATCH_INPUT)
                ok = 0;
            else
                v = v * 10 + (uint64_t)(tok[i] - '0');
        }
        if (!ok || v > GP_REPORT_FIT_MAX_BATCH_INPUT) {
            snprintf(err, errlen, "a batch=N token needs N a whole number from 1 to %u",
                     GP_REPORT_FIT_MAX_BATCH_INPUT);
            return -EINVAL;
        }
        if (found) {
            snprintf(err, errlen, "more than one batch=N token");
            return -EINVAL;
        }
        found = 1;
        got = v;
    }
    if (found)
        *batch = got;
    return found;
}

int gp_report_fit_add_point(struct gp_report_fit *f, const struct gp_report_fit_point *p)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct gp_report_fit_point *v = realloc(f->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    struct gp_report_fit_point *d = &f->v[f->n];
    *d = *p;
    d->file = strdup(p->file ? p->file : "");
    if (!d->file)
        return -ENOMEM;
    f->n++;
    return 0;
}

/* The label for an error message: control characters and bad UTF-8 shown as '?'. */
static void safe_label(char *buf, size_t len, const char *label)
{
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    buf[0] = '\0';
    if (!m)
        return;
    gp_report_fputs_safe(m, label);
    if (fclose(m) == 0 && s)
        snprintf(buf, len, "%s", s);
    free(s);
}

const char *gp_report_fit_context_name(int source)
{
    switch (source) {
    case GP_FIT_CONTEXT_MEMINFO:
        return "meminfo";
    case GP_FIT_CONTEXT_ADAPTER:
        return "adapter";
    case GP_FIT_CONTEXT_OPTION:
        return "option";
    default:
        return "default";
    }
}

/* What one replay collects for the fit besides the peaks: the device memory in use that the
 * process did not allocate (its CUDA context, and any other process present) at the first
 * free/total answer, and the other processes NVML saw. */
struct fit_watch {
    uint64_t context;
    int context_source;
    uint64_t adapter_total[GP_REPORT_TORCH_DEVICES]; /* latest DEVICE_TOTAL stat, 0 = none */
    uint64_t nvml_others;
};

static uint64_t own_device_bytes(const struct gp_report_model *m, int32_t device)
{
    /* memory of an unknown device is counted as this one's: the usual single-GPU case */
    const struct gp_report_dev_mem *d =
        &m->dev_mem[device < 0 ? 0 : device >= GP_REPORT_DEVICES ? GP_REPORT_DEVICES : device + 1];
    return d->live + (device < 0 ? 0 : m->dev_mem[0].live);
}

/* total - free - what the process holds; 0 when the answer is malformed or the process
 * holds more (an answer that crossed an allocation in another thread). */
static void note_gap(struct fit_watch *w, const struct gp_report_model *m, int32_t device,
                     uint64_t total, uint64_t free_b, int source)
{
    if (!total || free_b > total)
        return;
    uint64_t used = total - free_b, own = own_device_bytes(m, device);
    w->context = used > own ? used - own : 0;
    w->context_source = source;
}

static int watch_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct fit_watch *w = ctx;
    if (rec->type == GP_REC_MEMINFO && rec->api == GP_API_NVML_PROCESSES) {
        if (rec->size > w->nvml_others)
            w->nvml_others = rec->size;
    } else if (w->context_source != GP_FIT_CONTEXT_DEFAULT) {
        /* the first answer only: later ones may count other processes that came and went,
         * and the first already sees the context (asking for it creates it) */
        return 0;
    } else if (rec->type == GP_REC_MEMINFO) {
        note_gap(w, m, rec->device, rec->aux1, rec->size, GP_FIT_CONTEXT_MEMINFO);
    } else if (rec->type == GP_REC_TORCH_STAT) {
        unsigned d = rec->device < 0 ? 0
                     : rec->device >= GP_REPORT_TORCH_DEVICES ? GP_REPORT_TORCH_DEVICES - 1
                                                              : (unsigned)rec->device;
        if (rec->api == GP_TSTAT_DEVICE_TOTAL)
            w->adapter_total[d] = rec->size;
        else if (rec->api == GP_TSTAT_DEVICE_FREE)
            note_gap(w, m, rec->device, w->adapter_total[d], rec->size, GP_FIT_CONTEXT_ADAPTER);
    }
    return 0;
}

/* The analyses the fit reads (peaks, PyTorch's allocator) and the watch, in one replay. */
static int load(struct gp_report *r, struct fit_watch *w, const char *path, char *err,
                size_t errlen)
{
    memset(r, 0, sizeof(*r));
    memset(w, 0, sizeof(*w));
    err[0] = '\0';
    int rc = gp_report_model_open(&r->model, path, err, errlen);
    if (rc < 0)
        goto out;
    rc = gp_report_peak_attach(&r->peak, r->model, 1);
    if (rc == 0)
        rc = gp_report_torch_attach(&r->torch, r->model, 1, 0);
    if (rc == 0) {
        struct gp_report_observer obs = { .ctx = w, .record = watch_record };
        rc = gp_report_model_observe(r->model, &obs);
    }
    if (rc == 0)
        rc = gp_report_model_replay(r->model, err, errlen);
out:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc < 0)
        gp_report_fini(r);
    return rc;
}

/* Device memory the process held beyond PyTorch's segments: on each device, its peak less
 * PyTorch's reserved peak. Neither peak depends on how the adapter's clock lines up with
 * the shim's, and the difference lies between the non-PyTorch memory held at PyTorch's
 * reserved peak and the most held at any moment. The largest over the devices. */
static uint64_t non_torch(const struct gp_report *r)
{
    uint64_t most = 0;
    for (unsigned d = 0; d < GP_REPORT_TORCH_DEVICES; d++) {
        const struct gp_report_torch_dev *dv = &r->torch.dev[d];
        if (!dv->used)
            continue;
        uint64_t peak = r->model->dev_mem[d + 1].peak;
        if (peak > dv->segments_peak && peak - dv->segments_peak > most)
            most = peak - dv->segments_peak;
    }
    return most;
}

int gp_report_fit_add_trace(struct gp_report_fit *f, const char *path, uint64_t batch, char *err,
                            size_t errlen)
{
    struct gp_report r;
    struct fit_watch w;
    char why[512] = "", label[256];
    int rc = load(&r, &w, path, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, why[0] ? why : "cannot read the trace");
        return rc;
    }
    if (batch == 0) {
        safe_label(label, sizeof(label), r.model->run.label);
        rc = gp_report_fit_parse_label(r.model->run.label, &batch, why, sizeof(why));
        if (rc == 0) {
            snprintf(err, errlen,
                     "%s: no batch=N in the trace's label '%s'; record runs with "
                     "GPUPROF_LABEL='batch=N' (or gpuprof run --label 'batch=N'), or give "
                     "the sizes in order with --batch N,N,...",
                     path, label);
            rc = -EINVAL;
        } else if (rc < 0) {
            snprintf(err, errlen,
                     "%s: bad batch size in the trace's label '%s': %s; fix the label or give "
                     "the sizes in order with --batch N,N,...",
                     path, label, why);
        }
        if (rc <= 0)
            goto out;
    }
    struct gp_report_fit_point p = {
        .file = (char *)path,
        .batch = batch,
        .reserved_peak = r.peak.bytes[GP_MEM_DEVICE],
        .device_total = r.model->device_total_bytes,
        .truncated = r.model->health.truncated,
        .context_bytes = w.context,
        .context_source = w.context_source,
        .other_processes_bytes = w.nvml_others,
    };
    if (r.torch.present) {
        p.torch = 1;
        p.allocated_peak = r.torch.peak_allocated_bytes;
        /* Reserved but unallocated, as much of it as stood next to the allocated peak: the
         * largest gap seen also counts cached blocks freed after the peak (reusable, not
         * lost), which would make the allowance far too large. */
        uint64_t gap = r.torch.peak_reserved_bytes > r.torch.peak_allocated_bytes
                           ? r.torch.peak_reserved_bytes - r.torch.peak_allocated_bytes
                           : 0;
        p.frag_bytes = r.torch.peak_fragmentation_bytes < gap ? r.torch.peak_fragmentation_bytes
                                                              : gap;
        p.frag_reserved = r.torch.peak_reserved_bytes;
        if (r.torch.device_total_bytes)
            p.device_total = r.torch.device_total_bytes;
        p.non_torch_bytes = non_torch(&r);
    }
    if ((p.torch ? p.allocated_peak : p.reserved_peak) == 0) {
        snprintf(err, errlen,
                 "%s: the trace holds no device memory (peak 0); was it recorded with "
                 "gpuprof and did the run allocate on the GPU?",
                 path);
        rc = -ENODATA;
        goto out;
    }
    rc = gp_report_fit_add_point(f, &p);
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
out:
    gp_report_fini(&r);
    return rc < 0 ? rc : 0;
}

/* See report.h. */
uint64_t gp_report_fit_parse_bytes(const char *s)
{
    static const char units[] = "KMGT";
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return 0;
    const char *u = *end ? strchr(units, *end) : NULL;
    if (u) {
        for (long i = 0; i <= u - units; i++) {
            if (v > UINT64_MAX / 1024)
                return 0;
            v *= 1024;
        }
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
    } else if (strcmp(end, "B") == 0) {
        end++;
    }
    return *end ? 0 : v;
}

/* See report.h. */
int gp_report_fit_parse_batches(const char *s, uint64_t **v)
{
    int n = 0;
    *v = NULL;
    for (const char *p = s;; p++) {
        char *end;
        if (*p < '0' || *p > '9' || *p == '0')
            goto bad;
        errno = 0;
        unsigned long long b = strtoull(p, &end, 10);
        if (errno || b > GP_REPORT_FIT_MAX_BATCH_INPUT || (*end && *end != ','))
            goto bad;
        uint64_t *nv = realloc(*v, (size_t)(n + 1) * sizeof(**v));
        if (!nv)
            goto bad;
        *v = nv;
        (*v)[n++] = b;
        if (!*end)
            return n;
        p = end;
    }
bad:
    free(*v);
    *v = NULL;
    return -1;
}

/* Rounded to the nearest integer, saturating: peaks near 2^64 (a hostile trace) make the
 * line's numbers too large for int64_t, and converting those would be undefined. */
static int64_t round_i64(double x)
{
    if (!(x == x))
        return 0;
    if (x >= 0x1p63 - 0.5)
        return INT64_MAX;
    if (x <= -0x1p63 + 0.5)
        return INT64_MIN + 1;
    return x >= 0 ? (int64_t)(x + 0.5) : -(int64_t)(-x + 0.5);
}

/* Solves the 3x3 system a x = b by Gaussian elimination with partial pivoting; 0 when
 * it is singular. */
static int solve3(double a[3][3], double b[3], double x[3])
{
    for (int c = 0; c < 3; c++) {
        int piv = c;
        for (int r = c + 1; r < 3; r++)
            if ((a[r][c] < 0 ? -a[r][c] : a[r][c]) > (a[piv][c] < 0 ? -a[piv][c] : a[piv][c]))
                piv = r;
        if (a[piv][c] == 0)
            return 0;
        for (int k = 0; k < 3; k++) {
            double t = a[c][k];
            a[c][k] = a[piv][k];
            a[piv][k] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (int r = c + 1; r < 3; r++) {
            double m = a[r][c] / a[c][c];
            for (int k = c; k < 3; k++)
                a[r][k] -= m * a[c][k];
            b[r] -= m * b[c];
        }
    }
    for (int r = 2; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < 3; k++)
            s -= a[r][k] * x[k];
        x[r] = s / a[r][r];
    }
    return 1;
}

/* Least squares of peak = c0 + c1 x + c2 x^2 with x the batch centred and scaled to
 * [-1, 1]; its sum of squared residuals, and the sign of c2. -1 when it cannot be fitted. */
static double quadratic_sse(const struct gp_report_fit *f, double xm, double ym, int *sign)
{
    double scale = 0, a[3][3] = { { 0 } }, b[3] = { 0 }, c[3] = { 0 }, sse = 0;
    for (size_t i = 0; i < f->n; i++) {
        double d = (double)f->v[i].batch - xm;
        if ((d < 0 ? -d : d) > scale)
            scale = d < 0 ? -d : d;
    }
    if (scale == 0)
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        double x = ((double)f->v[i].batch - xm) / scale, y = (double)f->v[i].peak_bytes - ym;
        const double pw[3] = { 1, x, x * x };
        for (int r = 0; r < 3; r++) {
            for (int k = 0; k < 3; k++)
                a[r][k] += pw[r] * pw[k];
            b[r] += pw[r] * y;
        }
    }
    if (!solve3(a, b, c))
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        double x = ((double)f->v[i].batch - xm) / scale;
        double e = (double)f->v[i].peak_bytes - ym - (c[0] + c[1] * x + c[2] * x * x);
        sse += e * e;
    }
    *sign = c[2] > 0 ? 1 : -1;
    return sse;
}

/* part / whole in units of 1/10000, rounded up; exact while whole stays below
 * 2^64 / 10000 bytes (1.8 PB). */
static uint64_t units_up(uint64_t part, uint64_t whole)
{
    uint64_t q = part / whole, r = part % whole;
    return q * GP_REPORT_FIT_UNITS + (r * GP_REPORT_FIT_UNITS + whole - 1) / whole;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Each run's memory outside the fitted peak, and the largest of them: the batch has to fit
 * next to it in every run's conditions. With reserved peaks the process's own allocations
 * outside PyTorch are in the peak already, so only the context and other processes count. */
static void gather_other(struct gp_report_fit *f, int all_torch)
{
    f->other_bytes = f->other_non_torch = f->other_context = f->other_processes = 0;
    f->other_context_source = GP_FIT_CONTEXT_DEFAULT;
    f->other_run = 0;
    f->context_defaulted = 0;
    for (size_t i = 0; i < f->n; i++) {
        struct gp_report_fit_point *p = &f->v[i];
        uint64_t nt = all_torch ? p->non_torch_bytes : 0, ctx = p->context_bytes;
        int src = p->context_source;
        if (f->context_opt_given) {
            ctx = f->context_opt;
            src = GP_FIT_CONTEXT_OPTION;
        } else if (src == GP_FIT_CONTEXT_DEFAULT || src == GP_FIT_CONTEXT_OPTION) {
            ctx = GP_REPORT_FIT_CONTEXT_DEFAULT;
            src = GP_FIT_CONTEXT_DEFAULT;
            f->context_defaulted++;
        }
        p->other_bytes = add_sat(add_sat(nt, ctx), p->other_processes_bytes);
        if (i == 0 || p->other_bytes > f->other_bytes) {
            f->other_bytes = p->other_bytes;
            f->other_non_torch = nt;
            f->other_context = ctx;
            f->other_processes = p->other_processes_bytes;
            f->other_context_source = src;
            f->other_run = i;
        }
    }
}

/* Peaks, fragmentation allowance and the device total of the runs. */
static int gather(struct gp_report_fit *f, char *err, size_t errlen)
{
    int all_torch = 1;
    uint64_t total = 0;
    for (size_t i = 0; i < f->n; i++)
        all_torch &= f->v[i].torch;
    f->source = all_torch ? GP_FIT_ALLOCATED : GP_FIT_RESERVED;
    f->frag_units = 0;
    f->max_peak = 0;
    f->totals_differ = 0;
    for (size_t i = 0; i < f->n; i++) {
        struct gp_report_fit_point *p = &f->v[i];
        p->peak_bytes = all_torch ? p->allocated_peak : p->reserved_peak;
        if (p->peak_bytes > f->max_peak)
            f->max_peak = p->peak_bytes;
        /* A reserved peak holds the allocator's overhead already. */
        if (all_torch && p->frag_reserved) {
            /* rounded up: the allowance never falls short of what was seen */
            uint64_t u = units_up(p->frag_bytes, p->frag_reserved);
            if (u > f->frag_units)
                f->frag_units = u > GP_REPORT_FIT_UNITS ? GP_REPORT_FIT_UNITS : (uint32_t)u;
        }
        if (p->device_total) {
            if (total && p->device_total != total)
                f->totals_differ = 1;
            if (!total || p->device_total < total)
                total = p->device_total;
        }
    }
    f->device_total = f->device_total_opt ? f->device_total_opt : total;
    if (!f->device_total) {
        snprintf(err, errlen,
                 "no trace says how much memory the device has (no cudaMemGetInfo call was "
                 "recorded); give it with --device-total BYTES (e.g. --device-total 80GiB)");
        return -ENODATA;
    }
    uint32_t h = f->headroom_base + f->frag_units;
    f->headroom_units = h > GP_REPORT_FIT_UNITS ? GP_REPORT_FIT_UNITS : h;
    uint64_t keep = GP_REPORT_FIT_UNITS - f->headroom_units;
    f->kept_bytes = f->device_total / GP_REPORT_FIT_UNITS * keep +
                    f->device_total % GP_REPORT_FIT_UNITS * keep / GP_REPORT_FIT_UNITS;
    gather_other(f, all_torch);
    f->usable_bytes = f->kept_bytes > f->other_bytes ? f->kept_bytes - f->other_bytes : 0;
    return 0;
}

int gp_report_fit_solve(struct gp_report_fit *f, char *err, size_t errlen)
{
    f->ndistinct = 0;
    for (size_t i = 0; i < f->n; i++) {
        size_t k = 0;
        while (k < i && f->v[k].batch != f->v[i].batch)
            k++;
        f->ndistinct += k == i;
    }
    if (f->ndistinct < 2) {
        snprintf(err, errlen,
                 "the fit needs runs at two or more different batch sizes (got %zu run%s, "
                 "%zu batch size%s); record another run at a different batch size",
                 f->n, f->n == 1 ? "" : "s", f->ndistinct, f->ndistinct == 1 ? "" : "s");
        return -EDOM;
    }
    int rc = gather(f, err, errlen);
    if (rc < 0)
        return rc;

    /* Centred sums keep the products small enough for doubles to stay exact on the
     * integer data of real runs. */
    double xm = 0, ym = 0, sxx = 0, sxy = 0, n = (double)f->n;
    for (size_t i = 0; i < f->n; i++) {
        xm += (double)f->v[i].batch / n;
        ym += (double)f->v[i].peak_bytes / n;
    }
    for (size_t i = 0; i < f->n; i++) {
        double dx = (double)f->v[i].batch - xm;
        sxx += dx * dx;
        sxy += dx * ((double)f->v[i].peak_bytes - ym);
    }
    f->per_sample = sxy / sxx;
    f->fixed = ym - f->per_sample * xm;
    f->fixed_bytes = round_i64(f->fixed);
    f->per_sample_bytes = round_i64(f->per_sample);

    double worst = 0, sse = 0;
    for (size_t i = 0; i < f->n; i++) {
        double e = (double)f->v[i].peak_bytes - (f->fixed + f->per_sample * (double)f->v[i].batch);
        sse += e * e;
        if ((e < 0 ? -e : e) > worst)
            worst = e < 0 ? -e : e;
    }
    f->residual_bytes = f->ndistinct == 2 && f->n == 2 ? 0 : (uint64_t)round_i64(worst);
    /* r * DIV > max, written so that it cannot wrap */
    f->nonlinear_residual = f->residual_bytes > f->max_peak / NONLINEAR_RESIDUAL_DIV;
    f->nonlinear_quadratic = 0;
    if (f->ndistinct >= 3 && f->residual_bytes > f->max_peak / QUAD_MIN_RESIDUAL_DIV) {
        int sign = 0;
        double q = quadratic_sse(f, xm, ym, &sign);
        if (q >= 0 && q <= sse * QUAD_SSE_RATIO)
            f->nonlinear_quadratic = sign;
    }
    f->linear = !f->nonlinear_residual && !f->nonlinear_quadratic;

    f->have_max = f->per_sample_bytes > 0;
    f->max_batch = 0;
    if (f->have_max) {
        /* Integers from here: fixed + per_sample * max_batch <= usable, exactly. */
        int64_t usable = f->usable_bytes > INT64_MAX ? INT64_MAX : (int64_t)f->usable_bytes;
        /* saturated: a smaller room only lowers max_batch, the inequality still holds */
        int64_t room = f->fixed_bytes < 0 && usable > INT64_MAX + f->fixed_bytes
                           ? INT64_MAX
                           : usable - f->fixed_bytes;
        f->max_batch = room > 0 ? (uint64_t)room / (uint64_t)f->per_sample_bytes : 0;
    }
    return 0;
}
