/* blas_missing.c — a program without cuBLAS finds the shim's cuBLAS wrappers by name
 * (dlsym) and calls them: with no real function behind them they must fail the way a
 * missing library would (CUBLAS_STATUS_NOT_INITIALIZED), never crash, and record nothing. */
#include <dlfcn.h>
#include <stdio.h>

typedef int (*sgemm_fn)(void *, int, int, int, int, int, const float *, const float *, int,
                        const float *, int, const float *, float *, int);
typedef int (*setmath_fn)(void *, int);

int main(void)
{
    sgemm_fn sgemm = (sgemm_fn)dlsym(RTLD_DEFAULT, "cublasSgemm_v2");
    setmath_fn setmath = (setmath_fn)dlsym(RTLD_DEFAULT, "cublasSetMathMode");
    if (sgemm == NULL || setmath == NULL) {
        fprintf(stderr, "the shim's wrappers are not visible\n");
        return 1;
    }
    float f = 0;
    int a = sgemm(NULL, 0, 0, 4, 4, 4, &f, &f, 4, &f, 4, &f, &f, 4);
    int b = setmath(NULL, 3);
    if (a != 1 || b != 1) { /* CUBLAS_STATUS_NOT_INITIALIZED */
        fprintf(stderr, "got %d and %d, want 1 and 1\n", a, b);
        return 1;
    }
    printf("not initialized, as without the shim's library behind it\n");
    return 0;
}
