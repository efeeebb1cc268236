/* info.c — INFO records: facts about the run's environment (driver and runtime versions,
 * GPU names, library versions) as key/value strings, written by the shim's writer thread
 * when it learns them and read back as plain string pairs. Kept apart from the event path
 * because they are rare and carry strings. */
#include <errno.h>
#include <stdio.h>

#include "activity.h"
#include "reader_int.h"
#include "varint.h"

int gp_trace_writer_info(struct gp_trace_writer *w, const char *key, const char *value)
{
    uint8_t buf[2 * GP_TRACE_VARINT_MAX];
    uint32_t k = 0, v = 0;
    int rc;
    if (key == NULL || key[0] == '\0')
        return -EINVAL;
    if ((rc = gp_trace_writer_intern_string(w, key, &k)) < 0 ||
        (rc = gp_trace_writer_intern_string(w, value ? value : "", &v)) < 0)
        return rc;
    uint8_t *p = buf;
    p = gp_trace_put_varint(p, k);
    p = gp_trace_put_varint(p, v);
    return gp_trace_writer_emit_record(w, GP_REC_INFO, buf, (size_t)(p - buf));
}

int gp_rd_info(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
               struct gp_record *rec, char *why, size_t whylen)
{
    uint64_t k, v;
    if (gp_trace_get_varint(&p, end, &k) <= 0 || gp_trace_get_varint(&p, end, &v) <= 0) {
        snprintf(why, whylen, "bad or short INFO payload");
        return -EBADMSG;
    }
    if (k == 0 || k > r->nstrings || v > r->nstrings) {
        snprintf(why, whylen, "undefined string id %llu", (unsigned long long)(k > v ? k : v));
        return -EBADMSG;
    }
    rec->key_id = (uint32_t)k;
    rec->value_id = (uint32_t)v;
    return 0;
}
