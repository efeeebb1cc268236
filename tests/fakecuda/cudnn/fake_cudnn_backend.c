/* fake_cudnn_backend.c — the part of cuDNN's backend API the tests need, as the fake of
 * libcudnn.so.9 has it: a descriptor is a typed bag of attributes. Set stores elements;
 * Finalize checks the attributes that type needs (an execution plan also gets its read-only
 * workspace size: 4096 * (engine global index + 1) bytes); Get copies them out and, for
 * descriptor-valued attributes, copies the stored descriptor into one the caller created
 * with the same type (as cuDNN does; a wrong type is refused). cudnnBackendExecute checks
 * plan and variant pack and launches one kernel, a Tensor Core one when the plan's engine
 * carries CUDNN_NUMERICAL_NOTE_TENSOR_CORE. Test-only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cudnn_int.h"

#define FAKE_BE_ATTRS 12
#define FAKE_BE_ELEMS 16

struct fake_be_attr {
    cudnnBackendAttributeName_t name;
    cudnnBackendAttributeType_t type;
    int64_t count;
    unsigned char data[FAKE_BE_ELEMS * 8];
};

struct fake_be {
    cudnnBackendDescriptorType_t type;
    int finalized, nattr;
    struct fake_be_attr attr[FAKE_BE_ATTRS];
};

static size_t elem_size(cudnnBackendAttributeType_t t)
{
    switch (t) {
    case CUDNN_TYPE_INT64:
        return sizeof(int64_t);
    case CUDNN_TYPE_NUMERICAL_NOTE:
        return sizeof(cudnnBackendNumericalNote_t);
    case CUDNN_TYPE_BACKEND_DESCRIPTOR:
    case CUDNN_TYPE_VOID_PTR:
        return sizeof(void *);
    case CUDNN_TYPE_HANDLE:
        return sizeof(cudnnHandle_t);
    default:
        return 0;
    }
}

static struct fake_be_attr *find(struct fake_be *d, cudnnBackendAttributeName_t name)
{
    for (int i = 0; i < d->nattr; i++)
        if (d->attr[i].name == name)
            return &d->attr[i];
    return NULL;
}

cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t type,
                                           cudnnBackendDescriptor_t *descriptor)
{
    if (descriptor == NULL)
        return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
    struct fake_be *d = calloc(1, sizeof *d);
    if (d == NULL)
        return CUDNN_STATUS_ALLOC_FAILED;
    d->type = type;
    *descriptor = d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t descriptor)
{
    free(descriptor);
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t put(struct fake_be *d, cudnnBackendAttributeName_t name,
                         cudnnBackendAttributeType_t type, int64_t count, const void *elems)
{
    size_t es = elem_size(type);
    if (es == 0)
        return CUDNN_STATUS_NOT_SUPPORTED;
    if (count < 0 || count > FAKE_BE_ELEMS || (count > 0 && elems == NULL))
        return CUDNN_STATUS_BAD_PARAM;
    struct fake_be_attr *a = find(d, name);
    if (a == NULL) {
        if (d->nattr == FAKE_BE_ATTRS)
            return CUDNN_STATUS_NOT_SUPPORTED;
        a = &d->attr[d->nattr++];
    }
    a->name = name, a->type = type, a->count = count;
    memcpy(a->data, elems, (size_t)count * es);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t descriptor,
                                       cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t count,
                                       const void *elems)
{
    struct fake_be *d = descriptor;
    if (d == NULL)
        return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
    if (d->finalized)
        return CUDNN_STATUS_NOT_SUPPORTED;
    return put(d, name, type, count, elems);
}

/* The descriptor an attribute holds (its first element), or NULL. */
static struct fake_be *child(struct fake_be *d, cudnnBackendAttributeName_t name)
{
    struct fake_be_attr *a = d != NULL ? find(d, name) : NULL;
    struct fake_be *c = NULL;
    if (a != NULL && a->type == CUDNN_TYPE_BACKEND_DESCRIPTOR && a->count >= 1)
        memcpy(&c, a->data, sizeof c);
    return c;
}

static int64_t engine_index(struct fake_be *eng)
{
    struct fake_be_attr *a = eng != NULL ? find(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX) : NULL;
    int64_t v = -1;
    if (a != NULL && a->count == 1)
        memcpy(&v, a->data, sizeof v);
    return v;
}

cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t descriptor)
{
    struct fake_be *d = descriptor;
    if (d == NULL)
        return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
    switch (d->type) {
    case CUDNN_BACKEND_ENGINE_DESCRIPTOR:
        if (engine_index(d) < 0)
            return CUDNN_STATUS_BAD_PARAM;
        break;
    case CUDNN_BACKEND_ENGINECFG_DESCRIPTOR: {
        struct fake_be *e = child(d, CUDNN_ATTR_ENGINECFG_ENGINE);
        if (e == NULL || e->type != CUDNN_BACKEND_ENGINE_DESCRIPTOR || !e->finalized)
            return CUDNN_STATUS_BAD_PARAM;
        break;
    }
    case CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR: {
        struct fake_be *c = child(d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG);
        if (c == NULL || c->type != CUDNN_BACKEND_ENGINECFG_DESCRIPTOR || !c->finalized ||
            find(d, CUDNN_ATTR_EXECUTION_PLAN_HANDLE) == NULL)
            return CUDNN_STATUS_BAD_PARAM;
        int64_t ws = 4096 * (engine_index(child(c, CUDNN_ATTR_ENGINECFG_ENGINE)) + 1);
        cudnnStatus_t s = put(d, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &ws);
        if (s != CUDNN_STATUS_SUCCESS)
            return s;
        break;
    }
    case CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR:
        break;
    default:
        return CUDNN_STATUS_NOT_SUPPORTED;
    }
    d->finalized = 1;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t const descriptor,
                                       cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t requested,
                                       int64_t *count, void *elems)
{
    struct fake_be *d = descriptor;
    if (d == NULL || count == NULL || requested < 0 || (requested > 0 && elems == NULL))
        return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
    if (!d->finalized)
        return CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED;
    struct fake_be_attr *a = find(d, name);
    if (a == NULL && type == CUDNN_TYPE_NUMERICAL_NOTE) { /* an engine without notes */
        *count = 0;
        return CUDNN_STATUS_SUCCESS;
    }
    if (a == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    if (a->type != type)
        return CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE;
    *count = a->count;
    int64_t n = requested < a->count ? requested : a->count;
    if (type != CUDNN_TYPE_BACKEND_DESCRIPTOR) {
        memcpy(elems, a->data, (size_t)n * elem_size(type));
        return CUDNN_STATUS_SUCCESS;
    }
    for (int64_t i = 0; i < n; i++) {
        struct fake_be *src, *dst = ((struct fake_be **)elems)[i];
        memcpy(&src, a->data + i * (int64_t)sizeof src, sizeof src);
        if (dst == NULL || src == NULL || dst->type != src->type)
            return CUDNN_STATUS_BAD_PARAM;
        *dst = *src;
    }
    return CUDNN_STATUS_SUCCESS;
}

static int has_tensor_core_note(struct fake_be *eng)
{
    struct fake_be_attr *a = eng != NULL ? find(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE) : NULL;
    for (int64_t i = 0; a != NULL && i < a->count; i++) {
        cudnnBackendNumericalNote_t n;
        memcpy(&n, a->data + i * (int64_t)sizeof n, sizeof n);
        if (n == CUDNN_NUMERICAL_NOTE_TENSOR_CORE)
            return 1;
    }
    return 0;
}

cudnnStatus_t cudnnBackendExecute(cudnnHandle_t handle, cudnnBackendDescriptor_t executionPlan,
                                  cudnnBackendDescriptor_t variantPack)
{
    struct fake_be *plan = executionPlan, *pack = variantPack;
    if (handle == NULL || plan == NULL || pack == NULL)
        return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
    if (plan->type != CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR ||
        pack->type != CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR)
        return CUDNN_STATUS_BAD_PARAM;
    if (!plan->finalized || !pack->finalized)
        return CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED;
    struct fake_be *eng =
        child(child(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG), CUDNN_ATTR_ENGINECFG_ENGINE);
    fake_cudnn_launch(handle, has_tensor_core_note(eng)
                                  ? "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_nhwckrsc_"
                                    "nhwc_tilesize128x128x64_warpgroupsize1x1x1_g1_execute_"
                                    "segment_k_off_kernel__5x_cudnn"
                                  : "implicit_convolve_sgemm_fprop");
    return CUDNN_STATUS_SUCCESS;
}
