// cc_kernels.cu — a CUDA-core kernel for the layer-4 test (test_sass_cubin.c): one fp32
// multiply-add, y = a*x + y, which ptxas turns into exactly one FFMA and no MMA.
extern "C" __global__ void cc_axpy(const float *x, float *y, float a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = a * x[i] + y[i];
}
