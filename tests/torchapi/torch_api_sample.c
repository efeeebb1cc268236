/* torch_api_sample.c — drives libgpuprof.so's adapter API (gpuprof_torch_events,
 * gpuprof_torch_stat, gpuprof_py_function) the way the Python adapter does, with good and
 * malformed input, and prints each return value on stdout for the test to compare. Run
 * under LD_PRELOAD=libgpuprof.so; the functions are found with dlsym as an adapter would.
 * check_torch_trace.c then reads the trace it left. No CUDA is needed: the API starts
 * tracing by itself. */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

typedef long (*events_fn)(const unsigned long long *, unsigned long);
typedef int (*stat_fn)(unsigned, int, unsigned, unsigned long long);
typedef unsigned (*function_fn)(const char *, const char *);
typedef int (*flush_fn)(unsigned);

int main(void)
{
    events_fn events = (events_fn)dlsym(RTLD_DEFAULT, "gpuprof_torch_events");
    stat_fn stat = (stat_fn)dlsym(RTLD_DEFAULT, "gpuprof_torch_stat");
    function_fn function = (function_fn)dlsym(RTLD_DEFAULT, "gpuprof_py_function");
    flush_fn flush = (flush_fn)dlsym(RTLD_DEFAULT, "gpuprof_flush");
    if (!events || !stat || !function || !flush) {
        printf("no gpuprof API\n");
        return 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long now = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
    unsigned long long second_ago = now - 1000000000ull;

    /* Not a Python process: no Python frame table, so handles are 0. */
    printf("function %u\n", function("train.py", "step"));

    /* alloc with two frames (handle 0 = unknown function, lines 42 and 7), then its free. */
    const unsigned long long good[] = {
        1, 0, second_ago, 0x7f0000200000ull, 4096, 7, 0, 0, 2, 42, 7,
        2, 0, now, 0x7f0000200000ull, 4096, 7, 0, 0, 0,
        8, (unsigned long long)-1 /* device -1 */, 0, 0, 1ull << 30, 0, 123, 2ull << 30, 0,
    };
    printf("good %ld\n", events(good, sizeof good / sizeof good[0]));

    /* One good event, then action 0: the first is recorded, the call says -EINVAL. */
    const unsigned long long bad_action[] = {
        4, 1, 0, 0x7f0000400000ull, 2097152, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    printf("bad_action %ld\n", events(bad_action, sizeof bad_action / sizeof bad_action[0]));
    /* nframes past the end of the words. */
    const unsigned long long bad_frames[] = {1, 0, 0, 0x10, 512, 0, 0, 0, 5, 1};
    printf("bad_frames %ld\n", events(bad_frames, sizeof bad_frames / sizeof bad_frames[0]));
    /* A cut header, an action past the list, nothing at all. */
    printf("short %ld\n", events(good, 5));
    const unsigned long long bad_big[] = {9, 0, 0, 0, 0, 0, 0, 0, 0};
    printf("bad_big %ld\n", events(bad_big, 9));
    printf("empty %ld\n", events(good, 0));
    printf("null %ld\n", events(NULL, 3));

    printf("stat %d\n", stat(3, 0, 12, 1ull << 30));
    printf("stat_bad_id %d\n", stat(2, 0, 0, 1));
    printf("stat_bad_id2 %d\n", stat(2, 0, 23, 1));
    printf("stat_bad_occasion %d\n", stat(5, 0, 1, 1));
    printf("stat_exit %d\n", stat(4, 1, 22, 1));
    printf("flush %d\n", flush(2000));
    return 0;
}
