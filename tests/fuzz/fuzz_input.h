/* fuzz_input.h — how the libFuzzer harnesses turn an input into a trace file.
 *
 * An input whose first byte is 0x1f (gzip's first magic byte) is the trace file itself, so
 * real traces are seeds as they are. Any other first byte is a mode and the rest is the
 * *decompressed* record stream ("GPUPROF\0", version, records), which the harness gzips
 * itself, so mutations reach the record decoder instead of dying in inflate's checks:
 *   bit 0 clear: a complete gzip member (what a clean exit leaves);
 *   bit 0 set:   sync-flushed without the gzip trailer (what a crash leaves after a flush);
 *   bits 1-7:    that many bytes more cut off the end of the compressed file.
 * The file is a memfd named through /proc/self/fd, so nothing touches the disk. */
#ifndef GP_FUZZ_INPUT_H
#define GP_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Returns the path of a file holding the trace for this input (valid until the next call). */
const char *gp_fuzz_trace_file(const uint8_t *data, size_t size);

#endif
