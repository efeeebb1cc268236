/* multi.c — one job of many processes (torchrun ranks, DataLoader workers, traces gathered
 * from several hosts): the traces a directory holds, one summary per process taken from
 * its loaded report, and across them the process that ran out of memory first and how
 * unevenly device memory was spread. Times compare on the wall clock each header records
 * (realtime_ns), so traces from hosts whose monotonic clocks differ line up. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gp_report_multi_list_dir(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!d)
        return -errno;
    struct dirent *e;
    size_t cap = 0;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "gpuprof", 7) != 0 || len < 10 ||
            strcmp(e->d_name + len - 3, ".gz") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(*out, cap * sizeof(*p));
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            *out = p;
        }
        size_t plen = strlen(dir) + len + 2;
        char *path = malloc(plen);
        if (!path) {
            rc = -ENOMEM;
            break;
        }
        snprintf(path, plen, "%s/%s", dir, e->d_name);
        (*out)[(*n)++] = path;
    }
    closedir(d);
    if (rc < 0) {
        gp_report_multi_free_list(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*out, *n, sizeof(**out), by_name);
    return 0;
}

void gp_report_multi_free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static uint64_t wall(const struct gp_report_model *m, uint64_t abs_ns)
{
    return m->run.realtime_ns + gp_report_model_rel_ns(m, abs_ns);
}

int gp_report_multi_add(struct gp_report_multi *mu, const char *path, const struct gp_report *r)
{
    const struct gp_report_model *m = r->model;
    struct gp_report_proc *p = realloc(mu->v, (mu->n + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    mu->v = p;
    p = &mu->v[mu->n];
    memset(p, 0, sizeof(*p));
    p->path = dup_or_empty(path);
    p->host = dup_or_empty(m->run.host);
    p->label = dup_or_empty(m->run.label);
    if (!p->path || !p->host || !p->label) {
        free(p->path);
        free(p->host);
        free(p->label);
        return -ENOMEM;
    }
    mu->n++;
    p->pid = m->run.pid;
    p->start_wall_ns = m->run.realtime_ns;
    p->duration_ns = gp_report_model_rel_ns(m, m->run.last_ns);
    p->peak_bytes = r->peak.bytes[GP_MEM_DEVICE];
    p->peak_rel_ns = gp_report_model_rel_ns(m, r->peak.time_ns[GP_MEM_DEVICE]);
    p->peak_wall_ns = wall(m, r->peak.time_ns[GP_MEM_DEVICE]);
    p->device_total = m->device_total_bytes;
    for (unsigned d = 0; d <= GP_REPORT_DEVICES; d++) {
        const struct gp_report_dev_mem *dm = &m->dev_mem[d];
        if (dm->peak == 0)
            continue;
        if (p->ngpus == GP_REPORT_PROC_GPUS) {
            p->gpus_more++;
            continue;
        }
        p->gpus[p->ngpus++] = (struct gp_report_proc_gpu){
            .device = (int32_t)d - 1,
            .peak_bytes = dm->peak,
            .peak_rel_ns = gp_report_model_rel_ns(m, dm->peak_ns),
        };
    }
    p->has_allocated = r->torch.present;
    p->allocated_peak = r->torch.peak_allocated_bytes;
    p->ooms = r->oom.total;
    p->truncated = m->health.truncated;
    if (r->oom.n) {
        const struct gp_report_oom_event *o = &r->oom.v[0];
        for (size_t i = 1; i < r->oom.n; i++)
            if (r->oom.v[i].time_ns < o->time_ns)
                o = &r->oom.v[i];
        p->first_oom_wall_ns = wall(m, o->time_ns);
        p->first_oom_rel_ns = gp_report_model_rel_ns(m, o->time_ns);
        p->first_oom_device = o->device;
        p->first_oom_requested = o->requested;
    }
    return 0;
}

/* The job's GPUs: each (host, device) some process used, with the largest process peak. On
 * failure to allocate the table the job simply has no per-GPU view. */
static void job_gpus(struct gp_report_multi *mu)
{
    size_t cap = 0;
    for (size_t i = 0; i < mu->n; i++)
        cap += mu->v[i].ngpus;
    free(mu->gpus);
    mu->gpus = cap ? calloc(cap, sizeof(*mu->gpus)) : NULL;
    mu->ngpus = 0;
    if (!mu->gpus)
        return;
    for (size_t i = 0; i < mu->n; i++) {
        const struct gp_report_proc *p = &mu->v[i];
        for (unsigned k = 0; k < p->ngpus; k++) {
            size_t g = 0;
            while (g < mu->ngpus && !(mu->gpus[g].device == p->gpus[k].device &&
                                      strcmp(mu->gpus[g].host, p->host) == 0))
                g++;
            if (g == mu->ngpus)
                mu->gpus[mu->ngpus++] = (struct gp_report_job_gpu){
                    .host = p->host, .device = p->gpus[k].device, .max_i = i};
            struct gp_report_job_gpu *jg = &mu->gpus[g];
            jg->processes++;
            jg->sum_peaks += p->gpus[k].peak_bytes;
            if (p->gpus[k].peak_bytes > jg->max_peak) {
                jg->max_peak = p->gpus[k].peak_bytes;
                jg->max_i = i;
            }
        }
    }
}

void gp_report_multi_finish(struct gp_report_multi *mu)
{
    uint64_t sum = 0;
    mu->first_oom = mu->max_i = mu->min_i = SIZE_MAX;
    for (size_t i = 0; i < mu->n; i++) {
        const struct gp_report_proc *p = &mu->v[i];
        sum += p->peak_bytes;
        if (mu->max_i == SIZE_MAX || p->peak_bytes > mu->v[mu->max_i].peak_bytes)
            mu->max_i = i;
        if (mu->min_i == SIZE_MAX || p->peak_bytes < mu->v[mu->min_i].peak_bytes)
            mu->min_i = i;
        if (p->ooms && p->first_oom_wall_ns &&
            (mu->first_oom == SIZE_MAX ||
             p->first_oom_wall_ns < mu->v[mu->first_oom].first_oom_wall_ns))
            mu->first_oom = i;
    }
    mu->mean_peak = mu->n ? sum / mu->n : 0;
    job_gpus(mu);
    /* the largest peak against the mean: 1.0 is perfectly even */
    mu->imbalance = mu->mean_peak ? (double)mu->v[mu->max_i].peak_bytes / (double)mu->mean_peak
                                  : 1.0;
}

void gp_report_multi_fini(struct gp_report_multi *mu)
{
    for (size_t i = 0; i < mu->n; i++) {
        free(mu->v[i].path);
        free(mu->v[i].host);
        free(mu->v[i].label);
    }
    free(mu->v);
    free(mu->gpus);
    memset(mu, 0, sizeof(*mu));
}
