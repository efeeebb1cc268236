/* dnn_missing.c — a program without cuDNN finds the shim's cuDNN wrappers by name (dlsym)
 * and calls them: with no real function behind them they must fail the way a missing
 * library would (CUDNN_STATUS_NOT_INITIALIZED, 1001), never crash, and record nothing. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

typedef int (*conv_fn)(void *, const void *, void *, const void *, void *, const void *, void *,
                       int, void *, size_t, const void *, void *, void *);
typedef int (*execute_fn)(void *, void *, void *);
typedef int (*setmath_fn)(void *, int);

int main(void)
{
    const char *names[] = {"cudnnConvolutionForward", "cudnnConvolutionBackwardData",
                           "cudnnConvolutionBackwardFilter"};
    int got[5];
    for (int i = 0; i < 3; i++) {
        conv_fn f = (conv_fn)dlsym(RTLD_DEFAULT, names[i]);
        if (f == NULL) {
            fprintf(stderr, "the shim's %s is not visible\n", names[i]);
            return 1;
        }
        got[i] = f(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL);
    }
    execute_fn ex = (execute_fn)dlsym(RTLD_DEFAULT, "cudnnBackendExecute");
    setmath_fn sm = (setmath_fn)dlsym(RTLD_DEFAULT, "cudnnSetConvolutionMathType");
    if (ex == NULL || sm == NULL) {
        fprintf(stderr, "the shim's backend / math wrappers are not visible\n");
        return 1;
    }
    got[3] = ex(NULL, NULL, NULL);
    got[4] = sm(NULL, 1);
    for (int i = 0; i < 5; i++)
        if (got[i] != 1001) {
            fprintf(stderr, "call %d returned %d, want 1001\n", i, got[i]);
            return 1;
        }
    printf("not initialized, as without the shim's library behind it\n");
    return 0;
}
