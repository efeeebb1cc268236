/* test_torch.c — PyTorch's allocator in the report (report/analysis_torch.c, view_torch.c):
 * synthetic traces written with the real trace writer holding the shim's device events
 * (cudaMalloc'd segments, a cuBLAS workspace), TORCH events with Python stacks and
 * TORCH_STAT batches with known numbers; the replayed peaks, fragmentation, non-PyTorch
 * bytes, each OOM's every field, recovered/fatal, the advice, the JSON and text views, unknown
 * frees, expandable segments, the plot series, and hostile Python names in every view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

#define MiB (UINT64_C(1) << 20)
#define MS UINT64_C(1000000)
#define PY(k) (GP_TRACE_PY_TAG | (k))

struct pyframe {
    const char *file, *function;
    uint32_t line;
};

static const struct pyframe frames_ok[] = {
    { NULL, NULL, 0 },
    { "/src/model.py", "load_weights", 10 },
    { "/src/train.py", "main", 50 },
    { "/src/model.py", "Net.forward", 31 },
    { "/src/model.py", "Net.head", 77 },
};
static const struct pyframe frames_evil[] = {
    { NULL, NULL, 0 },
    { "/src/a\"b<c>.py", "evil\"</code><script>alert(1)</script>\nX", 1 },
    { "/src/train.py", "main", 50 },
    { "/src/model.py", "Net.forward", 31 },
    { "/src/model.py", "Net.head", 77 },
};
static const struct pyframe *frames = frames_ok;

static int resolve(void *ctx, uint64_t key, struct gp_trace_pyframe *out)
{
    (void)ctx;
    uint64_t k = key & ~GP_TRACE_PY_TAG;
    if (k == 0 || k >= sizeof(frames_ok) / sizeof(frames_ok[0]))
        return -1;
    out->file = frames[k].file;
    out->function = frames[k].function;
    out->line = frames[k].line;
    return 0;
}

static const struct tb_stack s_weights = { 2, { PY(1), PY(2) } };
static const struct tb_stack s_forward = { 2, { PY(3), PY(2) } };
static const struct tb_stack s_head = { 2, { PY(4), PY(2) } };

static void tev(struct tb *tb, unsigned action, int device, uint64_t time, uint64_t ptr,
                uint64_t size, uint64_t aux1, uint64_t aux2, const struct tb_stack *st)
{
    size_t n = st ? st->n : 0;
    struct gp_event *ev = calloc(1, gp_event_size((unsigned)n));
    assert_non_null(ev);
    ev->type = GP_REC_TORCH;
    ev->api = (uint8_t)action;
    ev->device = device;
    ev->tid = 77;
    ev->time_ns = TB_T0 + time;
    ev->size = size;
    ev->ptr = ptr;
    ev->aux1 = aux1;
    ev->aux2 = aux2;
    ev->nframes = (uint16_t)n;
    for (size_t i = 0; i < n; i++)
        ev->ips[i] = st->ips[i];
    assert_int_equal(gp_trace_writer_event(tb->w, ev), 0);
    free(ev);
}

static void tstat(struct tb *tb, unsigned occasion, int device, uint64_t time, unsigned stat,
                  uint64_t value)
{
    struct gp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = GP_REC_TORCH_STAT;
    ev.api = (uint8_t)stat;
    ev.kind = (uint8_t)occasion;
    ev.device = device;
    ev.time_ns = TB_T0 + time;
    ev.size = value;
    assert_int_equal(gp_trace_writer_event(tb->w, &ev), 0);
}

static void open_trace(struct tb *tb, const char *label)
{
    struct gp_trace_header h;
    tb_header_defaults(&h);
    h.label = label;
    assert_int_equal(tb_open(tb, &h), 0);
    gp_trace_writer_set_pyframe_resolver(tb->w, resolve, NULL);
}

static void load(struct gp_report *r, struct tb *tb, int timeline)
{
    char err[256];
    struct gp_report_options opt = { .top = 10, .timeline = timeline };
    assert_int_equal(tb_close(tb), 0);
    assert_int_equal(gp_report_load(r, tb->path, &opt, err, sizeof(err)), 0);
    tb_remove(tb);
}

static char *render(struct gp_report *r, int (*view)(FILE *, struct gp_report *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(view(f, r), 0);
    fclose(f);
    return buf;
}

/* The JSON view on one line: newlines and indentation gone, ", " between members, so the
 * expected text can be written as {"a": 1, "b": [2]}. Strings never hold raw newlines. */
static char *flat_json(struct gp_report *r)
{
    char *in = render(r, gp_report_view_json), *out = malloc(strlen(in) * 2 + 1);
    size_t n = 0;
    assert_non_null(out);
    for (const char *p = in; *p;) {
        if (*p != '\n') {
            out[n++] = *p++;
            continue;
        }
        while (*p == '\n' || *p == ' ')
            p++;
        if (n && out[n - 1] == ',')
            out[n++] = ' ';
    }
    out[n] = '\0';
    free(in);
    return out;
}

static void oom_stats(struct tb *tb, uint64_t time, const unsigned *stat, const uint64_t *value,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        tstat(tb, GP_TORCH_AT_OOM, 0, time, stat[i], value[i]);
}

/* The main scenario (times in ms): a 64 MiB segment and a 12 MiB cuBLAS workspace; 16 MiB of
 * weights at 2 ms; at 6000-6003 ms a 16 MiB block comes and goes and an unknown block is
 * freed; OOM 1 at 6004 ms (10 MiB, fragmentation) is survived; 40 MiB more at 6006 ms; OOM 2
 * at 6010 ms (32 MiB) kills the process (EXIT FATAL=1). Device total 100 MiB, 2 MiB free. */
static void write_scenario(struct tb *tb)
{
    tstat(tb, GP_TORCH_AT_START, 0, MS / 2, GP_TSTAT_ALLOCATED, 0);
    tstat(tb, GP_TORCH_AT_START, 0, MS / 2, GP_TSTAT_RESERVED, 0);
    tstat(tb, GP_TORCH_AT_START, 0, MS / 2, GP_TSTAT_EXPANDABLE, 0);
    tstat(tb, GP_TORCH_AT_START, 0, MS / 2, GP_TSTAT_BACKEND_ASYNC, 0);
    tstat(tb, GP_TORCH_AT_START, 0, MS / 2, GP_TSTAT_TORCH_VERSION, 20401);
    tstat(tb, GP_TORCH_AT_START, 0, MS / 2, GP_TSTAT_DEVICE_TOTAL, 100 * MiB);
    assert_int_equal(tb_alloc(tb, 1 * MS, GP_MEM_DEVICE, 0x70000000, 64 * MiB, NULL), 0);
    assert_int_equal(tb_alloc(tb, 1 * MS, GP_MEM_DEVICE, 0x90000000, 12 * MiB, NULL), 0);
    tev(tb, GP_TORCH_SEGMENT_ALLOC, 0, 1 * MS, 0x70000000, 64 * MiB, 0, 0, &s_weights);
    tev(tb, GP_TORCH_ALLOC, 0, 2 * MS, 0x70000000, 16 * MiB, 0, 0, &s_weights);
    tev(tb, GP_TORCH_ALLOC, 0, 6000 * MS, 0x71000000, 16 * MiB, 0, 0, &s_forward);
    tev(tb, GP_TORCH_FREE_REQUESTED, 0, 6001 * MS, 0x71000000, 16 * MiB, 0, 0, NULL);
    tev(tb, GP_TORCH_FREE_COMPLETED, 0, 6002 * MS, 0x71000000, 16 * MiB, 0, 0, NULL);
    tev(tb, GP_TORCH_FREE_REQUESTED, 0, 6003 * MS, 0x7f000000, 4 * MiB, 0, 0, NULL);
    tev(tb, GP_TORCH_FREE_COMPLETED, 0, 6003 * MS, 0x7f000000, 4 * MiB, 0, 0, NULL);

    tev(tb, GP_TORCH_OOM, 0, 6004 * MS, 0, 10 * MiB, 2 * MiB, 0, &s_head);
    static const unsigned st1[] = { GP_TSTAT_ALLOCATED, GP_TSTAT_RESERVED, GP_TSTAT_LARGEST_FREE,
                                    GP_TSTAT_INACTIVE_SPLIT, GP_TSTAT_DEVICE_FREE };
    static const uint64_t v1[] = { 16 * MiB, 64 * MiB, 8 * MiB, 40 * MiB, 2 * MiB };
    oom_stats(tb, 6004 * MS, st1, v1, 5);

    tev(tb, GP_TORCH_ALLOC, 0, 6006 * MS, 0x72000000, 40 * MiB, 0, 0, &s_forward);
    tev(tb, GP_TORCH_OOM, 0, 6010 * MS, 0, 32 * MiB, 2 * MiB, 32 * MiB, &s_head);
    static const unsigned st2[] = { GP_TSTAT_ALLOCATED, GP_TSTAT_RESERVED, GP_TSTAT_INACTIVE_SPLIT,
                                    GP_TSTAT_LARGEST_FREE, GP_TSTAT_DEVICE_TOTAL, GP_TSTAT_DEVICE_FREE,
                                    GP_TSTAT_REQUEST, GP_TSTAT_SEGMENT_REQUEST };
    static const uint64_t v2[] = { 56 * MiB, 64 * MiB, 6 * MiB, 6 * MiB, 100 * MiB, 2 * MiB,
                                   32 * MiB, 32 * MiB };
    oom_stats(tb, 6010 * MS, st2, v2, 8);
    tstat(tb, GP_TORCH_AT_EXIT, 0, 6020 * MS, GP_TSTAT_ALLOCATED_PEAK, 56 * MiB);
    tstat(tb, GP_TORCH_AT_EXIT, 0, 6020 * MS, GP_TSTAT_HISTORY_LOST, 0);
    tstat(tb, GP_TORCH_AT_EXIT, 0, 6020 * MS, GP_TSTAT_FATAL, 1);
}

static void check_site(struct gp_report *r, const struct gp_report_site *s, uint64_t bytes,
                       const char *fn)
{
    struct gp_report_frame fr[8];
    assert_int_equal(s->bytes, bytes);
    assert_int_equal(s->count, 1);
    assert_int_equal(gp_report_symbolize_stack(r->sym, s->stack, fr, 8), 2);
    assert_true(fr[0].python);
    assert_string_equal(fr[0].function, fn);
    assert_string_equal(fr[1].function, "main");
}

static void test_replay_and_ooms(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    frames = frames_ok;
    open_trace(&tb, "resnet batch=8");
    write_scenario(&tb);
    load(&r, &tb, 0);
    const struct gp_report_torch *t = &r.torch;
    assert_true(t->present);
    assert_int_equal(t->events, 10);
    assert_int_equal(t->unknown_frees, 1); /* its FREE_COMPLETED is not a second one */
    assert_int_equal(t->label_batch, 8);
    assert_int_equal(t->torch_version, 20401);
    assert_int_equal(t->expandable, 0);
    assert_int_equal(t->backend_async, 0);
    assert_int_equal(t->dev[0].allocated, 56 * MiB);
    assert_int_equal(t->dev[0].allocated_peak, 56 * MiB);
    assert_int_equal(t->dev[0].segments, 64 * MiB);
    assert_int_equal(t->dev[0].segments_peak, 64 * MiB);
    assert_int_equal(t->peak_allocated_bytes, 56 * MiB);
    assert_int_equal(t->peak_allocated_ns, TB_T0 + 6006 * MS);
    assert_int_equal(t->peak_reserved_bytes, 64 * MiB);
    /* 64 - 16 MiB; not the moment between the segment and the block it was taken for */
    assert_int_equal(t->peak_fragmentation_bytes, 48 * MiB);
    assert_int_equal(t->dev[0].frag_peak, 48 * MiB);
    assert_int_equal(t->device_total_bytes, 100 * MiB);
    assert_false(t->dev[1].used);
    assert_int_equal(t->nooms, 2);
    assert_int_equal(t->ooms_total, 2);

    const struct gp_report_torch_oom *o = &t->ooms[0];
    assert_int_equal(o->time_ns, TB_T0 + 6004 * MS);
    assert_int_equal(o->device, 0);
    assert_int_equal(o->request, 10 * MiB);
    assert_int_equal(o->have, GP_TORCH_HAVE_TOTAL | GP_TORCH_HAVE_FREE | GP_TORCH_HAVE_INACTIVE |
                                  GP_TORCH_HAVE_LARGEST | GP_TORCH_HAVE_OTHER);
    assert_int_equal(o->device_total, 100 * MiB); /* from the AT_START batch */
    assert_int_equal(o->device_free, 2 * MiB);
    assert_int_equal(o->allocated, 16 * MiB);
    assert_int_equal(o->reserved, 64 * MiB);
    assert_int_equal(o->inactive_split, 40 * MiB);
    assert_int_equal(o->largest_free, 8 * MiB);
    assert_int_equal(o->process_device, 76 * MiB);
    assert_int_equal(o->non_torch, 12 * MiB);
    assert_int_equal(o->other_processes, 22 * MiB);
    assert_int_equal(o->growth_bytes, 0);
    assert_true(o->recovered);
    assert_false(o->fatal);
    assert_int_equal(o->nadvice, 3);
    assert_string_equal(o->advice[0].kind, "expandable_segments");
    assert_string_equal(o->advice[0].text,
                        "fragmentation: 48.00 MiB reserved but unallocated (reserved 64.00 MiB - "
                        "allocated 16.00 MiB) is more than the request 10.00 MiB, but the largest "
                        "free block was 8.00 MiB. Set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True "
                        "(it is off)");
    assert_string_equal(o->advice[1].kind, "other_memory");
    assert_string_equal(o->advice[2].kind, "other_processes");
    assert_string_equal(o->advice[2].text,
                        "other processes: 22.00 MiB of the device's 100.00 MiB was held outside "
                        "this process's allocations (total 100.00 MiB - free 2.00 MiB - this "
                        "process 76.00 MiB; includes its CUDA context): stop them or use another GPU");
    assert_int_equal(o->sites.total_sites, 1);
    check_site(&r, &o->sites.v[0], 16 * MiB, "load_weights");

    o = &t->ooms[1];
    assert_int_equal(o->time_ns, TB_T0 + 6010 * MS);
    assert_int_equal(o->request, 32 * MiB);
    assert_int_equal(o->segment_request, 32 * MiB);
    assert_int_equal(o->have, GP_TORCH_HAVE_SEGMENT | GP_TORCH_HAVE_TOTAL | GP_TORCH_HAVE_FREE |
                                  GP_TORCH_HAVE_INACTIVE | GP_TORCH_HAVE_LARGEST | GP_TORCH_HAVE_OTHER);
    assert_int_equal(o->allocated, 56 * MiB);
    assert_int_equal(o->reserved, 64 * MiB);
    assert_int_equal(o->inactive_split, 6 * MiB);
    assert_int_equal(o->largest_free, 6 * MiB);
    assert_int_equal(o->non_torch, 12 * MiB);
    assert_int_equal(o->other_processes, 22 * MiB);
    /* lowest allocated in the 5 s before: 16 MiB, last there at 6003 ms */
    assert_int_equal(o->growth_bytes, 40 * MiB);
    assert_int_equal(o->growth_ns, 7 * MS);
    assert_false(o->recovered);
    assert_true(o->fatal);
    assert_int_equal(o->nadvice, 4);
    assert_string_equal(o->advice[0].kind, "batch_size");
    /* fixed 16 MiB; (56 + 32 - 16) / 8 = 9 MiB per sample; (64 + 2 - 16) / 9 = 5 */
    assert_string_equal(o->advice[0].text,
                        "batch size: at most 5 (batch=8 now). The step needed at least 88.00 MiB "
                        "(allocated 56.00 MiB + request 32.00 MiB); with 16.00 MiB fixed (allocated "
                        "when the step's growth began) that is at least 9.00 MiB per sample, and "
                        "66.00 MiB could be had (reserved + device free). The step may need more "
                        "after this allocation: measure with gpuprof-report fit");
    assert_string_equal(o->advice[1].kind, "activations");
    assert_string_equal(o->advice[1].text,
                        "activations: allocated grew by 40.00 MiB in the 0.007000 s before the OOM, "
                        "71% of the 56.00 MiB allocated then. Activation checkpointing "
                        "(torch.utils.checkpoint) or gradient accumulation over smaller "
                        "micro-batches cuts that growth");
    assert_string_equal(o->advice[2].kind, "other_memory");
    assert_string_equal(o->advice[2].text,
                        "other memory: this process held 12.00 MiB of device memory outside "
                        "PyTorch's allocator (cuBLAS/cuDNN workspaces, NCCL buffers, other "
                        "libraries), against 100.00 MiB of device memory; the peak section lists "
                        "device memory by library");
    assert_string_equal(o->advice[3].kind, "other_processes");
    assert_int_equal(o->sites.total_sites, 2);
    check_site(&r, &o->sites.v[0], 40 * MiB, "Net.forward");
    check_site(&r, &o->sites.v[1], 16 * MiB, "load_weights");
    gp_report_fini(&r);
}

static void test_json_and_text(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    frames = frames_ok;
    open_trace(&tb, "batch=8");
    write_scenario(&tb);
    load(&r, &tb, 0);
    char *json = flat_json(&r);
    assert_non_null(strstr(json, "\"peak_allocated_bytes\": 58720256, \"peak_fragmentation_bytes\": 50331648"));
    const char *torch = strstr(json, "\"torch\": {");
    assert_non_null(torch);
    assert_non_null(strstr(torch,
        "\"torch\": {\"version\": \"2.4.1\", \"events\": 10, \"history_lost\": 0, \"unknown_frees\": 1, "
        "\"expandable_segments\": false, \"backend\": \"native\", \"peak_allocated_bytes\": 58720256, "
        "\"peak_allocated_time_s\": 6.006, \"peak_reserved_bytes\": 67108864, "
        "\"peak_fragmentation_bytes\": 50331648, \"device_total_bytes\": 104857600, \"label_batch\": 8, "
        "\"devices\": [{\"device\": 0, \"allocated_bytes\": 58720256, \"allocated_peak_bytes\": 58720256, "
        "\"reserved_bytes\": 67108864, \"reserved_peak_bytes\": 67108864, "
        "\"fragmentation_peak_bytes\": 50331648, \"stats\": {\"allocated\": 58720256, "));
    assert_non_null(strstr(torch,
        "\"ooms\": [{\"time_s\": 6.004, \"device\": 0, \"request_bytes\": 10485760, "
        "\"segment_request_bytes\": null, \"device_total_bytes\": 104857600, "
        "\"device_free_bytes\": 2097152, \"allocated_bytes\": 16777216, \"reserved_bytes\": 67108864, "
        "\"inactive_split_bytes\": 41943040, \"largest_free_block_bytes\": 8388608, "
        "\"non_torch_bytes\": 12582912, \"other_processes_bytes\": 23068672, "
        "\"process_device_bytes\": 79691776, \"recovered\": true, \"fatal\": false, "
        "\"growth_bytes\": 0, \"growth_s\": 0, \"sites\": [{\"bytes\": 16777216, \"count\": 1, "
        "\"frames\": [{\"function\": \"load_weights\", \"file\": \"/src/model.py\", \"line\": 10}, "
        "{\"function\": \"main\", \"file\": \"/src/train.py\", \"line\": 50}]}], "
        "\"advice\": [{\"kind\": \"expandable_segments\", \"text\": \"fragmentation: "));
    assert_non_null(strstr(torch, "\"recovered\": false, \"fatal\": true, \"growth_bytes\": 41943040, "
                                  "\"growth_s\": 0.007, "));
    assert_non_null(strstr(torch, "], \"oom_total\": 2}"));
    free(json);

    char *text = render(&r, gp_report_view_text);
    assert_non_null(strstr(text, "\nPyTorch memory (allocated = in tensors, reserved = PyTorch's cached segments)\n"
                                 "  torch 2.4.1, allocator native, expandable_segments off\n"
                                 "  device 0: allocated peak 56.00 MiB (58720256 bytes) at 6.006000 s, "
                                 "reserved peak 64.00 MiB (67108864 bytes)\n"));
    assert_non_null(strstr(text, "\nOut of memory (PyTorch): 2\n  OOM 1 at 6.004000 s on device 0: "
                                 "recovered (PyTorch allocated again afterwards)\n"
                                 "    request 10.00 MiB (10485760 bytes)\n"));
    assert_non_null(strstr(text, "  OOM 2 at 6.010000 s on device 0: fatal (the process died of it)\n"
                                 "    request 32.00 MiB (33554432 bytes), segment tried 32.00 MiB (33554432 bytes)\n"));
    assert_non_null(strstr(text, "    live PyTorch blocks by Python stack (2 of 2):\n"
                                 "      #1 40.00 MiB (41943040 bytes) in 1 block\n"
                                 "        Net.forward (/src/model.py:31)\n        main (/src/train.py:50)\n"));
    assert_non_null(strstr(text, "    advice:\n      - batch size: at most 5 (batch=8 now)."));
    assert_null(strstr(text, "WARNING: PyTorch's own"));
    free(text);
    gp_report_fini(&r);
}

static void test_no_adapter(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    open_trace(&tb, "batch=8");
    assert_int_equal(tb_alloc(&tb, MS, GP_MEM_DEVICE, 0x1000, 4 * MiB, NULL), 0);
    assert_int_equal(tb_oom(&tb, 2 * MS, 8 * MiB, MiB, 6 * MiB, NULL), 0);
    load(&r, &tb, 1);
    assert_false(r.torch.present);
    assert_int_equal(r.torch.nooms, 0);
    char *json = flat_json(&r);
    assert_non_null(strstr(json, "\"peak_allocated_bytes\": null, \"peak_fragmentation_bytes\": null"));
    assert_non_null(strstr(json, "\"torch\": null"));
    free(json);
    char *text = render(&r, gp_report_view_text);
    assert_null(strstr(text, "PyTorch"));
    free(text);
    gp_report_fini(&r);
}

/* Frees of blocks allocated before the history started take from what AT_START said was
 * held, never below zero; a known block's FREE_REQUESTED + FREE_COMPLETED subtracts once. */
static void test_unknown_frees(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    open_trace(&tb, "");
    tev(&tb, GP_TORCH_FREE_REQUESTED, 1, MS, 0x500, 3 * MiB, 0, 0, NULL); /* no base yet */
    tstat(&tb, GP_TORCH_AT_START, 1, 2 * MS, GP_TSTAT_ALLOCATED, 10 * MiB);
    tstat(&tb, GP_TORCH_AT_START, 1, 2 * MS, GP_TSTAT_RESERVED, 20 * MiB);
    tev(&tb, GP_TORCH_ALLOC, 1, 3 * MS, 0x100, 2 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_REQUESTED, 1, 4 * MS, 0x100, 2 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_COMPLETED, 1, 5 * MS, 0x100, 2 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_REQUESTED, 1, 6 * MS, 0x200, 4 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_COMPLETED, 1, 6 * MS, 0x200, 4 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_REQUESTED, 1, 7 * MS, 0x300, 50 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_COMPLETED, 1, 8 * MS, 0x400, 1 * MiB, 0, 0, NULL); /* request lost */
    tev(&tb, GP_TORCH_SEGMENT_FREE, 1, 9 * MS, 0x9000, 30 * MiB, 0, 0, NULL);
    load(&r, &tb, 0);
    const struct gp_report_torch_dev *dv = &r.torch.dev[1];
    assert_int_equal(r.torch.unknown_frees, 4);
    assert_int_equal(dv->allocated, 0);
    assert_int_equal(dv->allocated_peak, 12 * MiB);
    assert_int_equal(dv->segments, 0);
    assert_int_equal(dv->segments_peak, 20 * MiB);
    assert_int_equal(dv->alloc_base, 0);
    assert_int_equal(r.torch.peak_allocated_bytes, 12 * MiB);
    assert_int_equal(r.torch.peak_allocated_ns, TB_T0 + 3 * MS);
    assert_int_equal(r.torch.expandable, -1);
    assert_int_equal(r.torch.device_total_bytes, 0);
    char *json = flat_json(&r);
    assert_non_null(strstr(json, "\"version\": null, \"events\": 9, \"history_lost\": 0, \"unknown_frees\": 4, "
                                 "\"expandable_segments\": null, \"backend\": null"));
    assert_non_null(strstr(json, "\"device_total_bytes\": null, \"label_batch\": null, \"devices\": [{\"device\": 1, "
                                 "\"allocated_bytes\": 0, \"allocated_peak_bytes\": 12582912"));
    free(json);
    gp_report_fini(&r);
}

/* Expandable segments on: reserved follows MAP/UNMAP, and fragmentation never suggests them.
 * No EXIT batch (killed): the last OOM with no allocation after it is the fatal one. The
 * stat peak 10% above the replay wins and the text says events were lost. */
static void test_expandable_killed(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    open_trace(&tb, "batch=x4");
    tstat(&tb, GP_TORCH_AT_START, 0, MS, GP_TSTAT_EXPANDABLE, 1);
    tev(&tb, GP_TORCH_SEGMENT_MAP, 0, 2 * MS, 0x1000000, 40 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_ALLOC, 0, 3 * MS, 0x1000000, 10 * MiB, 0, 0, &s_forward);
    tev(&tb, GP_TORCH_SEGMENT_UNMAP, 0, 4 * MS, 0x1800000, 8 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_OOM, 0, 5 * MS, 0, 20 * MiB, MiB, 0, &s_head);
    tstat(&tb, GP_TORCH_AT_OOM, 0, 5 * MS, GP_TSTAT_LARGEST_FREE, 2 * MiB);
    tstat(&tb, GP_TORCH_AT_PERIODIC, 0, 6 * MS, GP_TSTAT_ALLOCATED_PEAK, 11 * MiB);
    tstat(&tb, GP_TORCH_AT_PERIODIC, 0, 6 * MS, GP_TSTAT_HISTORY_LOST, 3);
    tev(&tb, GP_TORCH_OOM, 0, 7 * MS, 0, 20 * MiB, MiB, 0, &s_head);
    tev(&tb, GP_TORCH_SEGMENT_UNMAP, 0, 8 * MS, 0x1000000, 64 * MiB, 0, 0, NULL);
    load(&r, &tb, 0);
    const struct gp_report_torch *t = &r.torch;
    assert_int_equal(t->label_batch, 0);
    assert_int_equal(t->expandable, 1);
    assert_int_equal(t->dev[0].segments_peak, 40 * MiB);
    assert_int_equal(t->dev[0].segments, 0);
    assert_int_equal(t->peak_fragmentation_bytes, 30 * MiB); /* 40 mapped - 10 allocated */
    assert_int_equal(t->peak_allocated_bytes, 11 * MiB);
    assert_int_equal(t->dev[0].allocated_peak_replayed, 10 * MiB);
    assert_int_equal(t->history_lost, 3);
    assert_int_equal(t->nooms, 2);
    assert_int_equal(t->ooms[0].reserved, 32 * MiB);
    assert_int_equal(t->ooms[0].have, GP_TORCH_HAVE_FREE | GP_TORCH_HAVE_LARGEST);
    /* fragmentation (22 MiB unallocated, largest block 2 MiB), but expandable is on */
    assert_int_equal(t->ooms[0].nadvice, 1);
    assert_string_equal(t->ooms[0].advice[0].kind, "activations");
    assert_false(t->ooms[0].fatal);
    assert_false(t->ooms[0].recovered);
    assert_true(t->ooms[1].fatal);
    assert_int_equal(t->ooms[1].have, GP_TORCH_HAVE_FREE);
    char *text = render(&r, gp_report_view_text);
    assert_non_null(strstr(text, "    WARNING: PyTorch's own allocated peak 11.00 MiB (11534336 bytes) is above "
                                 "the replayed 10.00 MiB (10485760 bytes): allocator events were lost"));
    assert_non_null(strstr(text, "  WARNING: the adapter missed 3 allocator events (history_lost)"));
    assert_non_null(strstr(text, "torch version unknown, allocator unknown, expandable_segments on\n"));
    assert_non_null(strstr(text, "  OOM 1 at 0.005000 s on device 0: not followed by more allocations\n"));
    free(text);
    gp_report_fini(&r);
}

/* The plot series: PyTorch's events reach the trace after the shim's records of the same
 * moments; the non-PyTorch series is merged by time, so the segment makes no spike. */
static void test_series(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    open_trace(&tb, "");
    assert_int_equal(tb_alloc(&tb, 1 * MS, GP_MEM_DEVICE, 0x90000000, 12 * MiB, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 2 * MS, GP_MEM_DEVICE, 0x70000000, 64 * MiB, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 3 * MS, GP_MEM_DEVICE, 0x78000000, 32 * MiB, NULL), 0);
    assert_int_equal(tb_free(&tb, 4 * MS, 0x78000000), 0);
    tev(&tb, GP_TORCH_SEGMENT_ALLOC, 0, 2 * MS, 0x70000000, 64 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_ALLOC, 0, 2 * MS, 0x70000000, 20 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_SEGMENT_ALLOC, 0, 3 * MS, 0x78000000, 32 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_SEGMENT_FREE, 0, 4 * MS, 0x78000000, 32 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_FREE_REQUESTED, 0, 5 * MS, 0x70000000, 20 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_OOM, 0, 6 * MS, 0, 80 * MiB, MiB, 0, NULL);
    load(&r, &tb, 1);
    const struct gp_report_series *a = r.torch.allocated_series, *n = r.torch.non_torch_series;
    assert_non_null(a);
    assert_non_null(n);
    assert_int_equal(a->max_value, 20 * MiB);
    assert_int_equal(n->max_value, 12 * MiB);
    int oom = 0;
    uint64_t last_a = 1, last_n = 0;
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        if (a->b[i].oom) {
            oom++;
            assert_int_equal(a->b[i].oom_live, 0);
        }
        if (a->b[i].used)
            last_a = a->b[i].last;
        if (n->b[i].used)
            last_n = n->b[i].last;
    }
    assert_int_equal(oom, 1);
    assert_int_equal(last_a, 0);
    assert_int_equal(last_n, 12 * MiB);
    gp_report_fini(&r);
}

static void test_hostile_names(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    frames = frames_evil;
    open_trace(&tb, "");
    tev(&tb, GP_TORCH_SEGMENT_ALLOC, 0, MS, 0x1000, 8 * MiB, 0, 0, NULL);
    tev(&tb, GP_TORCH_ALLOC, 0, 2 * MS, 0x1000, 4 * MiB, 0, 0, &s_weights);
    tev(&tb, GP_TORCH_OOM, 0, 3 * MS, 0, 8 * MiB, MiB, 0, &s_weights);
    load(&r, &tb, 1);
    frames = frames_ok;
    char *json = flat_json(&r);
    assert_non_null(strstr(json, "{\"function\": \"evil\\\"</code><script>alert(1)</script>\\u000aX\", "
                                 "\"file\": \"/src/a\\\"b<c>.py\", \"line\": 1}"));
    free(json);
    char *text = render(&r, gp_report_view_text);
    assert_non_null(strstr(text, "        evil\"</code><script>alert(1)</script>?X (/src/a\"b<c>.py:1)\n"));
    free(text);
    char *html = render(&r, gp_report_view_html);
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "evil&quot;&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;?X"));
    assert_non_null(strstr(html, "/src/a&quot;b&lt;c&gt;.py:1"));
    free(html);
    gp_report_fini(&r);
}

static void test_label_batch(void **state)
{
    (void)state;
    assert_int_equal(gp_report_torch_label_batch("batch=32"), 32);
    assert_int_equal(gp_report_torch_label_batch("run=a\tbatch=7 lr=1"), 7);
    assert_int_equal(gp_report_torch_label_batch("batch=7;lr=1"), 0);
    assert_int_equal(gp_report_torch_label_batch("batch=7 batch=8"), 0);
    assert_int_equal(gp_report_torch_label_batch("batch=08"), 0);
    assert_int_equal(gp_report_torch_label_batch("batch=1000000000"), 1000000000);
    assert_int_equal(gp_report_torch_label_batch("batch=1000000001"), 0);
    assert_int_equal(gp_report_torch_label_batch("batch=99999999999999999999"), 0);
    assert_int_equal(gp_report_torch_label_batch("minibatch=8 batch=x"), 0);
    assert_int_equal(gp_report_torch_label_batch("batch= 8"), 0);
    assert_int_equal(gp_report_torch_label_batch("batch=8k"), 0);
    assert_int_equal(gp_report_torch_label_batch(""), 0);
    assert_int_equal(gp_report_torch_label_batch(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_and_ooms),
        cmocka_unit_test(test_json_and_text),
        cmocka_unit_test(test_no_adapter),
        cmocka_unit_test(test_unknown_frees),
        cmocka_unit_test(test_expandable_killed),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_label_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
