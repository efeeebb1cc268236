// tc_kernels.cu — kernels whose SASS is known exactly, for the layer-4 test (test_sass_cubin.c):
// each inline mma.sync is one Tensor Core instruction on sm_80 (PTX ISA, "Warp-level matrix
// multiply-accumulate": m16n8k16 f16 -> HMMA.16816, m16n8k32 s8 -> IMMA.16832, m8n8k4 f64 ->
// DMMA.884), and the WMMA m16n16k16 tile is two m16n8k16 steps.
#include <mma.h>

extern "C" __global__ void tc_mma_f16(const unsigned *a, const unsigned *b, float *d)
{
    unsigned t = threadIdx.x;
    float c0 = 0.f, c1 = 0.f, c2 = 0.f, c3 = 0.f;
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c0), "+f"(c1), "+f"(c2), "+f"(c3)
                 : "r"(a[t * 4]), "r"(a[t * 4 + 1]), "r"(a[t * 4 + 2]), "r"(a[t * 4 + 3]),
                   "r"(b[t * 2]), "r"(b[t * 2 + 1]));
    d[t * 4] = c0;
    d[t * 4 + 1] = c1;
    d[t * 4 + 2] = c2;
    d[t * 4 + 3] = c3;
}

extern "C" __global__ void tc_mma_s8(const unsigned *a, const unsigned *b, int *d)
{
    unsigned t = threadIdx.x;
    int c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+r"(c0), "+r"(c1), "+r"(c2), "+r"(c3)
                 : "r"(a[t * 4]), "r"(a[t * 4 + 1]), "r"(a[t * 4 + 2]), "r"(a[t * 4 + 3]),
                   "r"(b[t * 2]), "r"(b[t * 2 + 1]));
    d[t * 4] = c0;
    d[t * 4 + 1] = c1;
    d[t * 4 + 2] = c2;
    d[t * 4 + 3] = c3;
}

extern "C" __global__ void tc_mma_f64(const double *a, const double *b, double *d)
{
    unsigned t = threadIdx.x;
    double c0 = 0, c1 = 0;
    asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0,%1}, {%2}, {%3}, {%0,%1};"
                 : "+d"(c0), "+d"(c1)
                 : "d"(a[t]), "d"(b[t]));
    d[t * 2] = c0;
    d[t * 2 + 1] = c1;
}

extern "C" __global__ void tc_wmma_f16(const half *a, const half *b, float *c)
{
    using namespace nvcuda;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
    wmma::fill_fragment(fc, 0.0f);
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::mma_sync(fc, fa, fb, fc);
    wmma::store_matrix_sync(c, fc, 16, wmma::mem_row_major);
}
