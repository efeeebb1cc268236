/* fake_cupti_resource.c — the callback API of the fake libcupti.so.13, as far as the resource
 * domain's module-loaded callback goes: cuptiEnableCallback switches it on for the one
 * subscriber, and the test hook fakecupti_load_module plays CUDA loading a module, calling
 * the subscriber's callback with the cubin exactly as the real library hands it over (a
 * CUpti_ResourceData whose resourceDescriptor points to a CUpti_ModuleResourceData that is
 * valid only during the call). Environment: FAKECUPTI_CALLBACK_FAIL=1 makes
 * cuptiEnableCallback fail with CUPTI_ERROR_NOT_COMPATIBLE. */
#include <stdlib.h>
#include <string.h>

#include <cupti.h>

#include "fake_cupti_int.h"

static struct {
    pthread_mutex_t mu;
    CUpti_CallbackFunc callback;
    void *userdata;
    int module_loaded; /* the subscriber enabled RESOURCE / MODULE_LOADED */
} fake_res = {.mu = PTHREAD_MUTEX_INITIALIZER};

void fake_resource_subscribed(CUpti_CallbackFunc callback, void *userdata)
{
    pthread_mutex_lock(&fake_res.mu);
    fake_res.callback = callback;
    fake_res.userdata = userdata;
    fake_res.module_loaded = 0;
    pthread_mutex_unlock(&fake_res.mu);
}

CUptiResult CUPTIAPI cuptiEnableCallback(uint32_t enable, CUpti_SubscriberHandle subscriber,
                                         CUpti_CallbackDomain domain, CUpti_CallbackId cbid)
{
    const char *fail = getenv("FAKECUPTI_CALLBACK_FAIL");
    if (fail && strcmp(fail, "1") == 0)
        return CUPTI_ERROR_NOT_COMPATIBLE;
    if (subscriber != (CUpti_SubscriberHandle)(&fake_cupti_g) || domain <= CUPTI_CB_DOMAIN_INVALID ||
        domain >= CUPTI_CB_DOMAIN_SIZE)
        return CUPTI_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&fake_res.mu);
    CUptiResult rc = fake_res.callback ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_PARAMETER;
    if (rc == CUPTI_SUCCESS && domain == CUPTI_CB_DOMAIN_RESOURCE &&
        cbid == CUPTI_CBID_RESOURCE_MODULE_LOADED)
        fake_res.module_loaded = enable != 0;
    pthread_mutex_unlock(&fake_res.mu);
    return rc;
}

int fakecupti_load_module(uint32_t module_id, const void *cubin, uint64_t size)
{
    pthread_mutex_lock(&fake_res.mu);
    CUpti_CallbackFunc cb = fake_res.module_loaded ? fake_res.callback : NULL;
    void *userdata = fake_res.userdata;
    pthread_mutex_unlock(&fake_res.mu);
    if (!cb)
        return 0;
    /* A copy that dies with the call: a client keeping the pointer would read freed memory
     * (and AddressSanitizer would say so), as with the real library. */
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, cubin, size);
    CUpti_ModuleResourceData md = {.moduleId = module_id, .cubinSize = size, .pCubin = copy};
    CUpti_ResourceData rd = {.context = NULL, .resourceDescriptor = &md};
    cb(userdata, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_MODULE_LOADED, &rd);
    memset(copy, 0xdb, size); /* what a reader keeping the pointer would see */
    free(copy);
    return 1;
}
