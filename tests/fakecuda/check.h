/* Exact-assertion macros shared by the fake CUDA self-tests: each failed check prints where and
 * what and is counted, and the run goes on, so one run shows every mismatch. The program
 * defines `int check_failures;` once. */
#ifndef GPUPROF_FAKECUDA_CHECK_H
#define GPUPROF_FAKECUDA_CHECK_H

#include <stdio.h>

extern int check_failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                                       \
    do {                                                                                     \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);       \
        if (a_ != b_) {                                                                      \
            fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", __FILE__, __LINE__,  \
                    #a, a_, #b, b_);                                                         \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#endif
