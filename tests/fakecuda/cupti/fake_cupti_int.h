/* fake_cupti_int.h — the fake libcupti's state, shared by fake_cupti.c (the CUPTI API the
 * shim calls) and fake_cupti_emit.c (the test hooks that make activity records). */
#ifndef FAKECUPTI_INT_H
#define FAKECUPTI_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <cupti.h>

#include "fakecupti.h"

#define FAKE_HIDDEN __attribute__((visibility("hidden")))
#define FAKE_STREAMS 64 /* per-stream clocks; stream ids are taken modulo this */

struct fake_cupti {
    /* Held by whoever fills or hands back buffers, across the client's callbacks: they
     * may call cuptiActivityGetNumDroppedRecords, which takes only `mu`. */
    pthread_mutex_t emit_mu;
    pthread_mutex_t mu; /* the counters and flags below */
    CUpti_BuffersCallbackRequestFunc requested;
    CUpti_BuffersCallbackCompleteFunc completed;
    CUpti_TimestampCallbackFunc timestamp;
    uint64_t enabled_low, enabled_high; /* activity kinds */
    int subscribed;
    int other_subscriber;  /* FAKECUPTI_SUBSCRIBED */
    int enable_fail_kind;  /* FAKECUPTI_ENABLE_FAIL, -1 = none */
    uint32_t version;
    uint64_t dropped;      /* since the last GetNumDroppedRecords */
    struct fakecupti_stats stats;
    /* under emit_mu: the buffer being filled */
    uint8_t *buf;
    size_t size, used;
    uint32_t next_correlation;
    uint64_t stream_end[FAKE_STREAMS];
    uint8_t *seen[64]; /* distinct buffers handed over (under mu) */
    uint64_t held;     /* buffers handed over and not yet given back (under mu) */
    int launch_runtime_api, launch_driver_api; /* enabled per API (under mu) */
};

extern FAKE_HIDDEN struct fake_cupti fake_cupti_g;

/* Size of the record struct of an activity kind, 0 for kinds the fake does not make. */
FAKE_HIDDEN size_t fake_record_size(CUpti_ActivityKind kind);
FAKE_HIDDEN int fake_kind_enabled(CUpti_ActivityKind kind);
FAKE_HIDDEN uint64_t fake_now(void);
/* Counts one call of a cupti* entry point (fakecupti_stats.api_calls). */
FAKE_HIDDEN void fake_api_call(void);
/* Under emit_mu, before a kernel record: the EXTERNAL_CORRELATION and API records of its
 * launch, when this thread has ids pushed and those records are on (fakecupti.h). */
FAKE_HIDDEN void fake_launch_records(uint32_t correlation);
/* Under emit_mu: room for one record of `size` bytes, or NULL (the record is dropped and
 * counted). May hand the full buffer back and ask for a new one. */
FAKE_HIDDEN void *fake_reserve(size_t size);
/* Under emit_mu: hands the current buffer back (if it holds records, or `even_empty`). */
FAKE_HIDDEN void fake_complete_current(int even_empty);
/* fake_cupti_resource.c: the subscriber's callback (NULL after cuptiUnsubscribe). */
FAKE_HIDDEN void fake_resource_subscribed(CUpti_CallbackFunc callback, void *userdata);

#endif
