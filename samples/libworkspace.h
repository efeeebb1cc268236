/* libworkspace.so: a stand-in for a library with a static CUDA runtime (see libworkspace.c). */
#ifndef GPUPROF_SAMPLES_LIBWORKSPACE_H
#define GPUPROF_SAMPLES_LIBWORKSPACE_H

#include <stddef.h>

/* Allocates the library's device workspace on the current device (32 MiB) and returns its size
 * in bytes, or 0 on failure (a message on stderr). Kept until workspace_destroy. */
size_t workspace_create(void);

/* Frees the workspace; nothing to do if there is none. */
void workspace_destroy(void);

#endif
