/* fake_cublaslt.c — a stand-in for libcublasLt.so.13 with the real prototypes (cublasLt.h):
 * matmul and matrix-layout descriptors that hold the attributes the shim reads (compute type,
 * transposes; type, rows, columns, leading dimension, batch count), and cublasLtMatmul doing
 * no math. It counts its calls so a test can see that the fake cuBLAS really reached it
 * (fake_cublaslt_matmul_calls). An algorithm is made by fake_cublaslt_algo_init with the
 * config id and numerical-implementation flags a test wants, and read back with the real
 * getters (cublasLtMatmulAlgoConfigGetAttribute / ...CapGetAttribute). Test-only. */
#include <stdlib.h>
#include <string.h>

#include <cublasLt.h>

#include "fake_blas_kernel.h"

/* The descriptors behind the opaque pointers. */
struct fake_desc {
    int32_t compute, scale, transa, transb;
};
struct fake_layout {
    uint32_t type;
    uint64_t rows, cols;
    int64_t ld;
    int32_t batch;
};

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *matmulDesc,
                                        cublasComputeType_t computeType, cudaDataType_t scaleType)
{
    struct fake_desc *d = calloc(1, sizeof(cublasLtMatmulDescOpaque_t));
    if (matmulDesc == NULL || d == NULL) {
        free(d);
        return CUBLAS_STATUS_ALLOC_FAILED;
    }
    d->compute = (int32_t)computeType;
    d->scale = (int32_t)scaleType;
    *matmulDesc = (cublasLtMatmulDesc_t)(void *)d;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc)
{
    free(matmulDesc);
    return CUBLAS_STATUS_SUCCESS;
}

/* The int32 attributes of a matmul descriptor this fake keeps; NULL for the others. */
static int32_t *desc_field(struct fake_desc *d, cublasLtMatmulDescAttributes_t attr)
{
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_COMPUTE_TYPE:
        return &d->compute;
    case CUBLASLT_MATMUL_DESC_SCALE_TYPE:
        return &d->scale;
    case CUBLASLT_MATMUL_DESC_TRANSA:
        return &d->transa;
    case CUBLASLT_MATMUL_DESC_TRANSB:
        return &d->transb;
    default:
        return NULL;
    }
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc,
                                              cublasLtMatmulDescAttributes_t attr, const void *buf,
                                              size_t sizeInBytes)
{
    int32_t *f = matmulDesc ? desc_field((struct fake_desc *)(void *)matmulDesc, attr) : NULL;
    if (f == NULL || buf == NULL || sizeInBytes != sizeof *f)
        return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(f, buf, sizeof *f);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescGetAttribute(cublasLtMatmulDesc_t matmulDesc,
                                              cublasLtMatmulDescAttributes_t attr, void *buf,
                                              size_t sizeInBytes, size_t *sizeWritten)
{
    int32_t *f = matmulDesc ? desc_field((struct fake_desc *)(void *)matmulDesc, attr) : NULL;
    if (f == NULL || buf == NULL || sizeInBytes != sizeof *f)
        return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(buf, f, sizeof *f);
    if (sizeWritten)
        *sizeWritten = sizeof *f;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *matLayout, cudaDataType type,
                                          uint64_t rows, uint64_t cols, int64_t ld)
{
    struct fake_layout *l = calloc(1, sizeof(cublasLtMatrixLayoutOpaque_t));
    if (matLayout == NULL || l == NULL) {
        free(l);
        return CUBLAS_STATUS_ALLOC_FAILED;
    }
    *l = (struct fake_layout){(uint32_t)type, rows, cols, ld, 1};
    *matLayout = (cublasLtMatrixLayout_t)(void *)l;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout)
{
    free(matLayout);
    return CUBLAS_STATUS_SUCCESS;
}

/* Address and size of a layout attribute this fake keeps; NULL for the others. */
static void *layout_field(struct fake_layout *l, cublasLtMatrixLayoutAttribute_t attr, size_t *size)
{
    switch (attr) {
    case CUBLASLT_MATRIX_LAYOUT_TYPE:
        *size = sizeof l->type;
        return &l->type;
    case CUBLASLT_MATRIX_LAYOUT_ROWS:
        *size = sizeof l->rows;
        return &l->rows;
    case CUBLASLT_MATRIX_LAYOUT_COLS:
        *size = sizeof l->cols;
        return &l->cols;
    case CUBLASLT_MATRIX_LAYOUT_LD:
        *size = sizeof l->ld;
        return &l->ld;
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT:
        *size = sizeof l->batch;
        return &l->batch;
    default:
        return NULL;
    }
}

cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t matLayout,
                                                cublasLtMatrixLayoutAttribute_t attr,
                                                const void *buf, size_t sizeInBytes)
{
    size_t size = 0;
    void *f = matLayout ? layout_field((struct fake_layout *)(void *)matLayout, attr, &size) : NULL;
    if (f == NULL || buf == NULL || sizeInBytes != size)
        return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(f, buf, size);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutGetAttribute(cublasLtMatrixLayout_t matLayout,
                                                cublasLtMatrixLayoutAttribute_t attr, void *buf,
                                                size_t sizeInBytes, size_t *sizeWritten)
{
    size_t size = 0;
    void *f = matLayout ? layout_field((struct fake_layout *)(void *)matLayout, attr, &size) : NULL;
    if (f == NULL || buf == NULL || sizeInBytes != size)
        return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(buf, f, size);
    if (sizeWritten)
        *sizeWritten = size;
    return CUBLAS_STATUS_SUCCESS;
}

/* A fake algorithm: data[0] = config id, data[1] = cublasLtNumericalImplFlags_t. */
void fake_cublaslt_algo_init(cublasLtMatmulAlgo_t *algo, int32_t id, uint64_t flags);
void fake_cublaslt_algo_init(cublasLtMatmulAlgo_t *algo, int32_t id, uint64_t flags)
{
    memset(algo, 0, sizeof *algo);
    algo->data[0] = (uint64_t)(uint32_t)id;
    algo->data[1] = flags;
}

/* Copies size bytes of v to buf the way cuBLASLt's getters do: sizeInBytes 0 asks the size. */
static cublasStatus_t fake_get(const void *v, size_t size, void *buf, size_t sizeInBytes,
                               size_t *sizeWritten)
{
    if (sizeInBytes == 0 && sizeWritten != NULL) {
        *sizeWritten = size;
        return CUBLAS_STATUS_SUCCESS;
    }
    if (buf == NULL || sizeInBytes != size)
        return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(buf, v, size);
    if (sizeWritten)
        *sizeWritten = size;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulAlgoConfigGetAttribute(const cublasLtMatmulAlgo_t *algo,
                                                    cublasLtMatmulAlgoConfigAttributes_t attr,
                                                    void *buf, size_t sizeInBytes,
                                                    size_t *sizeWritten)
{
    if (algo == NULL || attr != CUBLASLT_ALGO_CONFIG_ID)
        return CUBLAS_STATUS_INVALID_VALUE;
    int32_t id = (int32_t)(uint32_t)algo->data[0];
    return fake_get(&id, sizeof id, buf, sizeInBytes, sizeWritten);
}

cublasStatus_t cublasLtMatmulAlgoCapGetAttribute(const cublasLtMatmulAlgo_t *algo,
                                                 cublasLtMatmulAlgoCapAttributes_t attr, void *buf,
                                                 size_t sizeInBytes, size_t *sizeWritten)
{
    if (algo == NULL || attr != CUBLASLT_ALGO_CAP_NUMERICAL_IMPL_FLAGS)
        return CUBLAS_STATUS_INVALID_VALUE;
    return fake_get(&algo->data[1], sizeof algo->data[1], buf, sizeInBytes, sizeWritten);
}

static unsigned fake_matmul_calls;

unsigned fake_cublaslt_matmul_calls(void);
unsigned fake_cublaslt_matmul_calls(void) { return __atomic_load_n(&fake_matmul_calls, __ATOMIC_RELAXED); }

cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc,
                              const void *alpha, const void *A, cublasLtMatrixLayout_t Adesc,
                              const void *B, cublasLtMatrixLayout_t Bdesc, const void *beta,
                              const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo,
                              void *workspace, size_t workspaceSizeInBytes, cudaStream_t stream)
{
    (void)lightHandle, (void)alpha, (void)A, (void)B, (void)beta, (void)C, (void)D, (void)algo;
    (void)workspace, (void)workspaceSizeInBytes;
    __atomic_add_fetch(&fake_matmul_calls, 1, __ATOMIC_RELAXED);
    /* Described by its descriptors: one kernel. Without them (the fake cublasGemmEx passes
     * none and launches its own kernel) nothing is launched here. */
    const struct fake_desc *d = (const void *)computeDesc;
    const struct fake_layout *a = (const void *)Adesc, *b = (const void *)Bdesc,
                             *c = (const void *)Cdesc, *dl = (const void *)Ddesc;
    if (d != NULL && a != NULL && b != NULL && c != NULL && dl != NULL)
        fake_blas_launch(stream, (int)a->type, d->compute, 0, (int64_t)dl->rows,
                         (int64_t)dl->cols, (int64_t)(d->transa ? a->rows : a->cols), a->ld, b->ld,
                         c->ld);
    return CUBLAS_STATUS_SUCCESS;
}
