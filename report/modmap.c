/* modmap.c — which module covers an address, in O(log n) per lookup whatever the trace
 * holds. MODULE records may overlap (an object unloaded and another loaded at its
 * addresses); the latest record wins. A sweep over the sorted start and end points,
 * keeping the covering modules in a max-heap by record index, cuts the address space
 * into segments with one owner each, so a lookup is a binary search. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct point {
    uint64_t x;
    uint32_t mod;
    uint8_t is_start;
};

static int point_cmp(const void *a, const void *b)
{
    const struct point *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* Max-heap of module indices. */
static void heap_push(uint32_t *h, size_t *n, uint32_t v)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] < v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static void heap_pop(uint32_t *h, size_t *n)
{
    uint32_t v = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] > h[c])
            c++;
        if (h[c] <= v)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = v;
}

int gp_report_modmap_build(struct gp_report_modmap *mm, const struct gp_report_module *mods,
                           size_t n)
{
    struct point *pts = NULL;
    uint32_t *heap = NULL;
    uint8_t *ended = NULL;
    size_t npts = 0, nheap = 0;
    int rc = -ENOMEM;
    memset(mm, 0, sizeof(*mm));
    if (n == 0)
        return 0;
    pts = malloc(2 * n * sizeof(*pts));
    heap = malloc(n * sizeof(*heap));
    ended = calloc(n, 1);
    mm->segs = malloc(2 * n * sizeof(*mm->segs));
    if (!pts || !heap || !ended || !mm->segs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (mods[i].start >= mods[i].end)
            continue; /* an empty range covers nothing */
        pts[npts++] = (struct point){ mods[i].start, (uint32_t)i, 1 };
        pts[npts++] = (struct point){ mods[i].end, (uint32_t)i, 0 };
    }
    if (npts)
        qsort(pts, npts, sizeof(*pts), point_cmp);
    for (size_t i = 0; i < npts;) {
        uint64_t x = pts[i].x;
        for (; i < npts && pts[i].x == x; i++) {
            if (pts[i].is_start)
                heap_push(heap, &nheap, pts[i].mod);
            else
                ended[pts[i].mod] = 1;
        }
        while (nheap && ended[heap[0]])
            heap_pop(heap, &nheap);
        int32_t owner = nheap ? (int32_t)heap[0] : -1;
        if (mm->n == 0 || mm->segs[mm->n - 1].mod != owner)
            mm->segs[mm->n++] = (struct gp_report_modseg){ .start = x, .mod = owner };
    }
    rc = 0;
out:
    free(pts);
    free(heap);
    free(ended);
    if (rc < 0)
        gp_report_modmap_fini(mm);
    return rc;
}

int32_t gp_report_modmap_find(const struct gp_report_modmap *mm, uint64_t addr)
{
    /* The last segment starting at or before addr. */
    size_t lo = 0, hi = mm->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mm->segs[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? mm->segs[lo - 1].mod : -1;
}

void gp_report_modmap_fini(struct gp_report_modmap *mm)
{
    free(mm->segs);
    memset(mm, 0, sizeof(*mm));
}
