/* names.c — printable names for the API and memory-kind numbers stored in traces,
 * generated from GP_API_LIST so a new API needs one line in gp_trace.h only. */
#include "gp_trace.h"

const char *gp_trace_api_name(unsigned api)
{
    switch (api) {
#define GP_API_CASE(id, num, name)                                                                 \
    case num:                                                                                      \
        return name;
        GP_API_LIST(GP_API_CASE)
#undef GP_API_CASE
    default:
        /* A static string: callers may print it from any thread without owning memory. */
        return "?";
    }
}

const char *gp_trace_kind_name(unsigned kind)
{
    switch (kind) {
    case GP_MEM_DEVICE:
        return "device";
    case GP_MEM_MANAGED:
        return "managed";
    case GP_MEM_HOST_PINNED:
        return "host-pinned";
    case GP_MEM_PHYSICAL:
        return "physical";
    case GP_MEM_ADDRESS_RANGE:
        return "address-range";
    case GP_MEM_MAPPING:
        return "mapping";
    default:
        return "?";
    }
}

const char *gp_trace_lib_api_name(unsigned api)
{
    switch (api) {
#define GP_LIB_API_CASE(id, num, name)                                                             \
    case num:                                                                                      \
        return name;
        GP_LIB_API_LIST(GP_LIB_API_CASE)
#undef GP_LIB_API_CASE
    default:
        return "?";
    }
}

const char *gp_trace_torch_action_name(unsigned action)
{
    switch (action) {
#define GP_TORCH_ACTION_CASE(id, num, name)                                                        \
    case num:                                                                                      \
        return name;
        GP_TORCH_ACTION_LIST(GP_TORCH_ACTION_CASE)
#undef GP_TORCH_ACTION_CASE
    default:
        return "?";
    }
}

const char *gp_trace_torch_stat_name(unsigned stat)
{
    switch (stat) {
#define GP_TORCH_STAT_CASE(id, num, name)                                                          \
    case num:                                                                                      \
        return name;
        GP_TORCH_STAT_LIST(GP_TORCH_STAT_CASE)
#undef GP_TORCH_STAT_CASE
    default:
        return "?";
    }
}
