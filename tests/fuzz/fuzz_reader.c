/* fuzz_reader.c — libFuzzer harness for the streaming trace reader (trace/reader*.c): opens
 * the input as a trace (fuzz_input.h), iterates every record and looks up everything a record
 * refers to: header strings, string ids, module paths, stack nodes and whole stacks, INFO
 * keys and values, every byte of a CUBIN chunk (which must lie inside its cubin). The
 * reader's own promises are checked too (an accepted id resolves, a stack walk ends, an error
 * is repeated and carries a message), so a broken promise is a crash, not a silent pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "gp_trace.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_reader: broken promise: %s (line %d)\n", #cond, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static volatile size_t gp_fuzz_sink; /* keeps the reads below from being optimized out */

static void touch(const char *s)
{
    if (s)
        gp_fuzz_sink += strlen(s);
}

static void touch_pyframe(const struct gp_trace_pyframe *f)
{
    touch(f->file);
    touch(f->function);
    gp_fuzz_sink += f->line;
}

/* Walks a stack from its innermost node: every node resolves, parents come first, and a
 * node standing for a Python frame names one (the reader checks that when it reads it). */
static void walk(const struct gp_trace_reader *r, uint32_t id)
{
    for (unsigned depth = 0; id != 0; depth++) {
        const struct gp_stack_node *n = gp_trace_reader_frame(r, id);
        CHECK(n != NULL);
        CHECK(n->parent < id);
        gp_fuzz_sink += (size_t)n->ip;
        uint32_t py = gp_trace_pyframe_id(n->ip);
        if (py != 0) {
            const struct gp_trace_pyframe *f = gp_trace_reader_pyframe(r, py);
            if (f)
                touch_pyframe(f);
        }
        id = n->parent;
        CHECK(depth < (1u << 24));
    }
}

static void check_activity(const struct gp_trace_reader *r, const struct gp_record *rec)
{
    const struct gp_activity *a = gp_trace_reader_activity(r);
    CHECK(a != NULL);
    CHECK(a->type == rec->type);
    touch(a->name);
    if (a->name_id)
        CHECK(gp_trace_reader_string(r, a->name_id) != NULL);
    gp_fuzz_sink += strlen(gp_trace_activity_type_name(a->type)) + (size_t)(a->end_ns - a->start_ns);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Inflate on the calling thread unless asked otherwise: coverage stays deterministic. */
    setenv("GPUPROF_TRACE_THREADS", "0", 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gp_trace_reader *r;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = gp_trace_reader_open(&r, gp_fuzz_trace_file(data, size), err, sizeof err);
    if (rc < 0) {
        CHECK(r == NULL);
        CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
        return 0;
    }
    const struct gp_trace_header *h = gp_trace_reader_header(r);
    touch(h->host);
    touch(h->exe);
    touch(h->cmdline);
    touch(h->label);
    struct gp_record rec;
    uint32_t max_string = 0, max_frame = 0;
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof err)) > 0) {
        switch (rec.type) {
        case GP_REC_STRING:
            CHECK(rec.id > max_string);
            max_string = rec.id;
            CHECK(gp_trace_reader_string(r, rec.id) != NULL);
            touch(gp_trace_reader_string(r, rec.id));
            break;
        case GP_REC_MODULE:
            CHECK(rec.path <= max_string);
            touch(gp_trace_reader_string(r, rec.path));
            break;
        case GP_REC_FRAME:
            CHECK(rec.id > max_frame);
            max_frame = rec.id;
            walk(r, rec.id);
            break;
        case GP_REC_PYFRAME: {
            const struct gp_trace_pyframe *f = gp_trace_reader_pyframe(r, rec.id);
            CHECK(f != NULL);
            touch_pyframe(f);
            break;
        }
        case GP_REC_ACT_STATUS: {
            const struct gp_activity_status *st = gp_trace_reader_activity_status(r);
            CHECK(st != NULL);
            touch(st->library);
            touch(st->reason);
            break;
        }
        case GP_REC_INFO:
            /* key and value were defined before (0 = empty value) */
            CHECK(rec.key_id != 0 && rec.key_id <= max_string && rec.value_id <= max_string);
            touch(gp_trace_reader_string(r, rec.key_id));
            touch(gp_trace_reader_string(r, rec.value_id));
            break;
        case GP_REC_CUBIN: {
            struct gp_cubin cb;
            gp_trace_record_cubin(&rec, &cb);
            CHECK(cb.state < GP_CUBIN_STATES);
            CHECK(cb.size >= 1 && cb.size <= GP_TRACE_CUBIN_MAX_SIZE);
            if (cb.state == GP_CUBIN_SAVED) /* a chunk inside its cubin, not empty */
                CHECK(cb.len > 0 && cb.offset < cb.size && cb.len <= cb.size - cb.offset);
            else
                CHECK(cb.len == 0 && cb.offset == 0);
            for (size_t i = 0; i < cb.len; i++) /* every byte readable (ASan) */
                gp_fuzz_sink += cb.data[i];
            break;
        }
        case GP_REC_LIBCALL:
            CHECK(rec.lib.conv.nspatial <= GP_LIB_CONV_MAX_SPATIAL);
            gp_fuzz_sink += strlen(gp_trace_lib_api_name(rec.api));
            /* fall through: an event with a stack */
        case GP_REC_TORCH:
        case GP_REC_TORCH_STAT:
        case GP_REC_ALLOC:
        case GP_REC_FREE:
        case GP_REC_MEMINFO:
        case GP_REC_OOM:
        case GP_REC_POOL:
            CHECK(rec.stack <= max_frame);
            walk(r, rec.stack);
            gp_fuzz_sink += strlen(gp_trace_api_name(rec.api)) + strlen(gp_trace_kind_name(rec.kind));
            break;
        default:
            if (gp_trace_is_activity(rec.type))
                check_activity(r, &rec);
            break;
        }
    }
    /* Ids past the end resolve to nothing. */
    CHECK(gp_trace_reader_string(r, max_string + 1) == NULL);
    CHECK(gp_trace_reader_frame(r, max_frame + 1) == NULL);
    CHECK(gp_trace_reader_string(r, 0) == NULL && gp_trace_reader_frame(r, 0) == NULL);
    if (rc < 0) {
        /* A failed reader repeats its error. */
        char again[256];
        CHECK(gp_trace_reader_next(r, &rec, again, sizeof again) == rc);
        CHECK(strcmp(err, again) == 0);
    } else {
        CHECK(gp_trace_reader_next(r, &rec, err, sizeof err) == 0);
        gp_fuzz_sink += (size_t)gp_trace_reader_status(r) + (size_t)gp_trace_reader_lost_bytes(r);
    }
    gp_fuzz_sink += (size_t)gp_trace_reader_records(r);
    gp_trace_reader_close(r);
    return 0;
}
