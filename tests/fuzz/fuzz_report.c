/* fuzz_report.c — libFuzzer harness for the report pipeline: the input, as a trace
 * (fuzz_input.h), goes through gp_report_load (model replay, every analysis including the
 * timeline, the symbolizer) and then the text and JSON views, written to /dev/null. The plot
 * view is left out: it only hands the timeline's series to a gnuplot child process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "report.h"

static FILE *gp_fuzz_null;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("GPUPROF_TRACE_THREADS", "0", 0);
    unsetenv("DEBUGINFOD_URLS"); /* as gpuprof-report does: never ask the network */
    gp_fuzz_null = fopen("/dev/null", "w");
    if (!gp_fuzz_null)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gp_report r;
    char err[512];
    /* top 3 rather than 10: the same code paths, less time per input. */
    struct gp_report_options opt = {.top = 3, .timeline = 1};
    if (gp_report_load(&r, gp_fuzz_trace_file(data, size), &opt, err, sizeof err) < 0) {
        if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0') {
            fprintf(stderr, "fuzz_report: load failed without a reason\n");
            abort();
        }
        return 0;
    }
    if (gp_report_view_json(gp_fuzz_null, &r) < 0 || gp_report_view_text(gp_fuzz_null, &r) < 0) {
        fprintf(stderr, "fuzz_report: a view failed on /dev/null\n");
        abort();
    }
    gp_report_fini(&r);
    return 0;
}
