/* series.c — a time series in fixed memory: GP_REPORT_SERIES_BUCKETS buckets, each
 * holding the min, max and last value seen in its time span. When time runs past the
 * last bucket the bucket width doubles and neighbouring pairs merge, so a trace of any
 * length fits, and a short spike still shows in its bucket's max. */
#include <string.h>

#include "report.h"

#define SERIES_FIRST_WIDTH_NS 1000u

void gp_report_series_init(struct gp_report_series *s)
{
    memset(s, 0, sizeof(*s));
    s->width_ns = SERIES_FIRST_WIDTH_NS;
}

static void merge_into(struct gp_report_bucket *dst, const struct gp_report_bucket *a,
                       const struct gp_report_bucket *b)
{
    struct gp_report_bucket r = *a;
    if (b->used) {
        if (!r.used) {
            r.min = b->min;
            r.max = b->max;
            r.used = 1;
        } else {
            r.min = b->min < r.min ? b->min : r.min;
            r.max = b->max > r.max ? b->max : r.max;
        }
        r.last = b->last;
    }
    if (b->oom) {
        r.oom = 1;
        r.oom_live = b->oom_live > r.oom_live ? b->oom_live : r.oom_live;
    }
    *dst = r;
}

static void widen(struct gp_report_series *s)
{
    const size_t half = GP_REPORT_SERIES_BUCKETS / 2;
    for (size_t i = 0; i < half; i++)
        merge_into(&s->b[i], &s->b[2 * i], &s->b[2 * i + 1]);
    memset(&s->b[half], 0, half * sizeof(s->b[0]));
    s->width_ns *= 2;
}

static struct gp_report_bucket *bucket_at(struct gp_report_series *s, uint64_t rel_ns)
{
    /* The width can double at most 64 times, so this ends. */
    while (rel_ns / s->width_ns >= GP_REPORT_SERIES_BUCKETS && s->width_ns <= UINT64_MAX / 2)
        widen(s);
    uint64_t i = rel_ns / s->width_ns;
    if (i >= GP_REPORT_SERIES_BUCKETS)
        i = GP_REPORT_SERIES_BUCKETS - 1;
    return &s->b[i];
}

void gp_report_series_add(struct gp_report_series *s, uint64_t rel_ns, uint64_t value)
{
    struct gp_report_bucket *b = bucket_at(s, rel_ns);
    if (!b->used) {
        b->min = b->max = value;
        b->used = 1;
    } else {
        if (value < b->min)
            b->min = value;
        if (value > b->max)
            b->max = value;
    }
    b->last = value;
    if (value > s->max_value)
        s->max_value = value;
}

void gp_report_series_oom(struct gp_report_series *s, uint64_t rel_ns, uint64_t live)
{
    struct gp_report_bucket *b = bucket_at(s, rel_ns);
    if (!b->oom || live > b->oom_live)
        b->oom_live = live;
    b->oom = 1;
}
