/* test_fit_trace.c — writes the traces tests/e2e/test_fit.py runs `gpuprof-report fit` on,
 * with the real trace writer: a run whose device memory peaks at exactly
 * FIXED + PER_SAMPLE * BATCH bytes.
 *   report_test_fit_trace OUT LABEL FIXED PER_SAMPLE BATCH TOTAL [SLACK [CONTEXT WORKSPACE]]
 * LABEL goes into the header as given (any bytes); TOTAL 0 = no MEMINFO record, so the
 * trace does not say how much memory the device has. Events: the fixed block, a transient
 * block freed before the batch (smaller than the peak), one block per sample, a MEMINFO at
 * the peak, then everything but the fixed block freed.
 * With SLACK, a PyTorch run instead (TORCH records as the adapter writes them): a segment
 * for the fixed block and one of PER_SAMPLE x BATCH + SLACK bytes for the samples (so the
 * allocated peak is FIXED + PER_SAMPLE x BATCH and the reserved one SLACK more), the
 * device total as PyTorch's statistic, then the samples' blocks freed and the segments
 * kept cached, as PyTorch does. CONTEXT (not 0): a cudaMemGetInfo answer first, before any
 * allocation, saying CONTEXT bytes are in use (the CUDA context); WORKSPACE (not 0): a
 * device allocation outside PyTorch (a cuBLAS workspace) held from before the segments to
 * the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_builder.h"

static const struct tb_stack site_fixed = { 2, { 0x401000, 0x403000 } };
static const struct tb_stack site_sample = { 2, { 0x401100, 0x403000 } };
static const struct tb_stack site_ws = { 2, { 0x401200, 0x403000 } };

static int write_run(const char *out, const char *label, uint64_t fixed, uint64_t per,
                     uint64_t batch, uint64_t total)
{
    struct gp_trace_header h;
    struct tb tb;
    tb_header_defaults(&h);
    h.label = label;
    int rc = tb_open_path(&tb, out, &h);
    if (rc < 0)
        return rc;
    const uint64_t base = 0x7f0000000000, transient = 0x7e0000000000;
    uint64_t t = 1000;
    rc |= tb_alloc(&tb, t++, GP_MEM_DEVICE, base, fixed, &site_fixed);
    if (per * batch > 1) {
        rc |= tb_alloc(&tb, t++, GP_MEM_DEVICE, transient, per * batch / 2, &site_sample);
        rc |= tb_free(&tb, t++, transient);
    }
    for (uint64_t i = 0; i < batch; i++)
        rc |= tb_alloc(&tb, t++, GP_MEM_DEVICE, base + (i + 1) * 0x100000000ull, per,
                       &site_sample);
    if (total)
        rc |= tb_event(&tb, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, GP_MEM_DEVICE, 0, t++,
                       total - (fixed + per * batch), 0, total, 0, NULL);
    for (uint64_t i = 0; i < batch; i++)
        rc |= tb_free(&tb, t++, base + (i + 1) * 0x100000000ull);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

static int torch_event(struct tb *tb, uint64_t t, unsigned action, uint64_t ptr, uint64_t size)
{
    return tb_event(tb, GP_REC_TORCH, action, 0, 0, t, size, ptr, 0, 0, NULL);
}

static int write_torch_run(const char *out, const char *label, uint64_t fixed, uint64_t per,
                           uint64_t batch, uint64_t total, uint64_t slack, uint64_t context,
                           uint64_t workspace)
{
    struct gp_trace_header h;
    struct tb tb;
    tb_header_defaults(&h);
    h.label = label;
    int rc = tb_open_path(&tb, out, &h);
    if (rc < 0)
        return rc;
    const uint64_t seg_a = 0x7f0000000000, seg_b = 0x7f4000000000, seg_b_size = per * batch + slack;
    const uint64_t ws = 0x7e0000000000;
    uint64_t t = 1000;
    if (context)
        rc |= tb_event(&tb, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, GP_MEM_DEVICE, 0, t++,
                       total - context, 0, total, 0, NULL);
    if (workspace)
        rc |= tb_alloc(&tb, t++, GP_MEM_DEVICE, ws, workspace, &site_ws);
    rc |= tb_alloc(&tb, t++, GP_MEM_DEVICE, seg_a, fixed, &site_fixed);
    rc |= torch_event(&tb, t++, GP_TORCH_SEGMENT_ALLOC, seg_a, fixed);
    rc |= torch_event(&tb, t++, GP_TORCH_ALLOC, seg_a, fixed);
    rc |= tb_alloc(&tb, t++, GP_MEM_DEVICE, seg_b, seg_b_size, &site_sample);
    rc |= torch_event(&tb, t++, GP_TORCH_SEGMENT_ALLOC, seg_b, seg_b_size);
    for (uint64_t i = 0; i < batch; i++)
        rc |= torch_event(&tb, t++, GP_TORCH_ALLOC, seg_b + i * per, per);
    if (total)
        rc |= tb_event(&tb, GP_REC_TORCH_STAT, GP_TSTAT_DEVICE_TOTAL, GP_TORCH_AT_PERIODIC, 0,
                       t++, total, 0, 0, 0, NULL);
    for (uint64_t i = 0; i < batch; i++) {
        rc |= torch_event(&tb, t++, GP_TORCH_FREE_REQUESTED, seg_b + i * per, per);
        rc |= torch_event(&tb, t++, GP_TORCH_FREE_COMPLETED, seg_b + i * per, per);
    }
    if (workspace)
        rc |= tb_free(&tb, t++, ws);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8 && argc != 10) {
        fprintf(stderr, "usage: %s OUT LABEL FIXED PER_SAMPLE BATCH TOTAL "
                "[SLACK [CONTEXT WORKSPACE]]\n", argv[0]);
        return 2;
    }
    uint64_t v[7] = { 0 };
    for (int i = 0; i < argc - 3; i++)
        v[i] = strtoull(argv[3 + i], NULL, 10);
    int rc = argc >= 8 ? write_torch_run(argv[1], argv[2], v[0], v[1], v[2], v[3], v[4], v[5], v[6])
                       : write_run(argv[1], argv[2], v[0], v[1], v[2], v[3]);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", argv[0], argv[1], strerror(-rc));
        return 1;
    }
    return 0;
}
