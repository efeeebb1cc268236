/* fuzz_classify.c — libFuzzer harness for `gpuprof-report --classify-kernels`
 * (gp_report_classify_kernels): the input is the names file as it is, any bytes. Besides
 * not crashing, the output keeps its promise: one line per name (a line that is not empty
 * once its trailing CR/LF are gone), each "name<TAB>class<TAB>rule: reason" with exactly two
 * tabs, a known class, and no control byte, so a hostile name cannot forge columns or lines
 * or drive a terminal. The C++ demangler (__cxa_demangle) sees every name starting with _Z. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_classify: " __VA_ARGS__);                                            \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

/* Names in the input: lines split at LF, trailing CR and LF removed, empty ones skipped. */
static size_t count_names(const uint8_t *p, size_t n)
{
    size_t names = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '\n')
            continue;
        size_t end = i;
        while (end > start && p[end - 1] == '\r')
            end--;
        names += end > start;
        start = i + 1;
    }
    return names;
}

static void check_line(const char *s, size_t len)
{
    const char *tab1 = memchr(s, '\t', len);
    const char *tab2 = tab1 ? memchr(tab1 + 1, '\t', len - (size_t)(tab1 + 1 - s)) : NULL;
    if (!tab2 || memchr(tab2 + 1, '\t', len - (size_t)(tab2 + 1 - s)))
        FAIL("line without exactly two tabs: %.*s", (int)len, s);
    size_t cls = (size_t)(tab2 - tab1 - 1);
    if (!((cls == 6 && memcmp(tab1 + 1, "tensor", 6) == 0) ||
          (cls == 9 && memcmp(tab1 + 1, "cuda-core", 9) == 0) ||
          (cls == 7 && memcmp(tab1 + 1, "unknown", 7) == 0)))
        FAIL("unknown class in: %.*s", (int)len, s);
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            FAIL("control byte 0x%02x in output line", (unsigned char)s[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t outlen = 0;
    /* fmemopen refuses a zero-length buffer on some C libraries: an empty file has no names */
    FILE *in = fmemopen((void *)(uintptr_t)(size ? data : (const uint8_t *)"\n"), size ? size : 1, "r");
    FILE *o = open_memstream(&out, &outlen);
    if (!in || !o)
        FAIL("cannot open the streams");
    if (gp_report_classify_kernels(in, o) < 0)
        FAIL("classify failed on memory streams");
    fclose(in);
    if (fclose(o) != 0)
        FAIL("cannot close the output stream");
    size_t lines = 0;
    for (size_t start = 0; start < outlen;) {
        const char *nl = memchr(out + start, '\n', outlen - start);
        if (!nl)
            FAIL("output does not end with a newline");
        check_line(out + start, (size_t)(nl - (out + start)));
        lines++;
        start = (size_t)(nl - out) + 1;
    }
    if (lines != count_names(data, size))
        FAIL("%zu output lines for %zu names", lines, count_names(data, size));
    free(out);
    return 0;
}
