/* hooks_process.c — the process's own lifecycle around its trace: exec and fatal signals.
 *
 * exec: execve, execv, execvp, execvpe and execl, execlp, execle (collected into an argv
 * and passed to the execv forms) are interposed. Before the real call, if this process is
 * tracing, tracing is switched off and the writer stopped cleanly (drain, END, close), so
 * the trace is complete when the image is replaced; the new image loads the shim again
 * through LD_PRELOAD and traces itself at its first CUDA call (same pid, so its file gets
 * the ".1" suffix of output_path.c). If the exec fails, the state goes back to "not yet
 * started": the next CUDA call starts a NEW trace file (".1", ".2", ...), whose header
 * clocks are those of the moment tracing stopped, so no event it holds predates it. Calls
 * other threads make while the exec is in progress are not recorded. The result and errno
 * of the real call are never changed. A vfork()ed child (it shares our memory but has
 * its own pid) leaves everything alone.
 *
 * Fatal signals: at the first CUDA call (never in a constructor) handlers for SIGSEGV,
 * SIGABRT, SIGBUS, SIGFPE and SIGILL are installed with sigaction, except where the program
 * ignores the signal; the program's earlier actions are kept. On the first fatal signal the
 * handler asks the writer thread for a last flush of everything queued (atomics and
 * nanosleep only: no lock, no allocation) and waits for it at most 1 s; the trace then
 * stops without END, so the report marks it truncated, as after any crash. It then puts the
 * program's earlier action (or SIG_DFL) back and queues the very same signal, with the same
 * siginfo, to the same thread: it is delivered the moment the handler returns, so the
 * program dies (or its own handler runs) exactly as it would have without us, core dump
 * included. A program that installs its own handlers later simply replaces ours. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

#define GP_FATAL_FLUSH_MS 1000

/* ---- the real exec functions ------------------------------------------------------ */
typedef int (*gp_execve_fn)(const char *, char *const[], char *const[]);
typedef int (*gp_execv_fn)(const char *, char *const[]);

static void *_Atomic gp_real_execve, *_Atomic gp_real_execv, *_Atomic gp_real_execvp,
    *_Atomic gp_real_execvpe;

static void *gp_real_exec(void *_Atomic *slot, const char *name)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    if (GP_UNLIKELY(p == NULL)) {
        p = dlsym(RTLD_NEXT, name);
        atomic_store_explicit(slot, p, memory_order_release);
    }
    return p;
}

/* Found before any exec can happen (an exec may come from a vfork()ed child, where the
 * less done the better). Only dlsym: nothing else happens when the library loads. */
__attribute__((constructor)) static void gp_process_resolve(void)
{
    (void)gp_real_exec(&gp_real_execve, "execve");
    (void)gp_real_exec(&gp_real_execv, "execv");
    (void)gp_real_exec(&gp_real_execvp, "execvp");
    (void)gp_real_exec(&gp_real_execvpe, "execvpe");
}

/* ---- exec: stop before, resume after a failure --------------------------------------- */
static _Atomic pid_t gp_traced_pid; /* the process whose trace is being written */
static _Atomic bool gp_resume_pending;
static uint64_t gp_resume_rt, gp_resume_mono;

static void gp_clocks(uint64_t *rt, uint64_t *mono)
{
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    *rt = (uint64_t)a.tv_sec * 1000000000ull + (uint64_t)a.tv_nsec;
    *mono = (uint64_t)b.tv_sec * 1000000000ull + (uint64_t)b.tv_nsec;
}

/* Returns true when it stopped this process's tracing. */
static bool gp_exec_begin(void)
{
    if (atomic_load(&gp_shim_g.state) != GP_SHIM_ACTIVE || getpid() != atomic_load(&gp_traced_pid))
        return false;
    int saved = errno;
    uint64_t rt, mono;
    gp_clocks(&rt, &mono); /* before any later event can be claimed */
    int expected = GP_SHIM_ACTIVE;
    if (!atomic_compare_exchange_strong(&gp_shim_g.state, &expected, GP_SHIM_OFF)) {
        errno = saved;
        return false;
    }
    gp_resume_rt = rt;
    gp_resume_mono = mono;
    gp_writer_stop();
    errno = saved;
    return true;
}

static void gp_exec_failed(bool stopped)
{
    /* A writer that did not finish in time still owns the queue: tracing stays off. */
    if (!stopped || gp_writer_alive())
        return;
    atomic_store(&gp_resume_pending, true);
    int expected = GP_SHIM_OFF;
    atomic_compare_exchange_strong(&gp_shim_g.state, &expected, GP_SHIM_UNINIT);
}

void gp_process_resume_clocks(void)
{
    if (atomic_exchange(&gp_resume_pending, false)) {
        gp_shim_g.start_realtime_ns = gp_resume_rt;
        gp_shim_g.start_monotonic_ns = gp_resume_mono;
    }
}

static int gp_do_execve(const char *path, char *const argv[], char *const envp[])
{
    gp_execve_fn real = (gp_execve_fn)gp_real_exec(&gp_real_execve, "execve");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    bool stopped = gp_exec_begin();
    int rc = real(path, argv, envp);
    int err = errno;
    gp_exec_failed(stopped);
    errno = err;
    return rc;
}

static int gp_do_execv(void *_Atomic *slot, const char *name, const char *file,
                       char *const argv[])
{
    gp_execv_fn real = (gp_execv_fn)gp_real_exec(slot, name);
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    bool stopped = gp_exec_begin();
    int rc = real(file, argv);
    int err = errno;
    gp_exec_failed(stopped);
    errno = err;
    return rc;
}

static int gp_do_execvpe(const char *file, char *const argv[], char *const envp[])
{
    gp_execve_fn real = (gp_execve_fn)gp_real_exec(&gp_real_execvpe, "execvpe");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    bool stopped = gp_exec_begin();
    int rc = real(file, argv, envp);
    int err = errno;
    gp_exec_failed(stopped);
    errno = err;
    return rc;
}

GP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return gp_do_execve(path, argv, envp);
}

GP_EXPORT int execv(const char *path, char *const argv[])
{
    return gp_do_execv(&gp_real_execv, "execv", path, argv);
}

GP_EXPORT int execvp(const char *file, char *const argv[])
{
    return gp_do_execv(&gp_real_execvp, "execvp", file, argv);
}

GP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return gp_do_execvpe(file, argv, envp);
}

/* The execl forms: arguments up to the NULL, collected on the stack as the C library
 * itself does. The C library declares arg nonnull, yet a NULL there is legal (an empty
 * argv): the asm hides the declaration from the optimizer. */
#define GP_COUNT_ARGS(first, n)                                                                    \
    do {                                                                                           \
        va_list ap_;                                                                               \
        const char *first_ = first;                                                                \
        __asm__("" : "+r"(first_));                                                                \
        va_start(ap_, first);                                                                      \
        n = 0;                                                                                     \
        if (first_ != NULL)                                                                        \
            for (n = 1; va_arg(ap_, const char *) != NULL; n++)                                    \
                ;                                                                                  \
        va_end(ap_);                                                                               \
    } while (0)

/* argv[0..n) from arg and the rest of the variadic list; argv[n] = NULL. */
static void gp_fill_args(char **argv, size_t n, const char *arg, va_list *ap)
{
    argv[0] = (char *)arg;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(*ap, char *);
    argv[n] = NULL;
}

GP_EXPORT int execl(const char *path, const char *arg, ...)
{
    size_t n;
    GP_COUNT_ARGS(arg, n);
    char *argv[n + 1];
    va_list ap;
    va_start(ap, arg);
    gp_fill_args(argv, n, arg, &ap);
    va_end(ap);
    return gp_do_execv(&gp_real_execv, "execv", path, argv);
}

GP_EXPORT int execlp(const char *file, const char *arg, ...)
{
    size_t n;
    GP_COUNT_ARGS(arg, n);
    char *argv[n + 1];
    va_list ap;
    va_start(ap, arg);
    gp_fill_args(argv, n, arg, &ap);
    va_end(ap);
    return gp_do_execv(&gp_real_execvp, "execvp", file, argv);
}

GP_EXPORT int execle(const char *path, const char *arg, ...)
{
    size_t n;
    GP_COUNT_ARGS(arg, n);
    char *argv[n + 1];
    va_list ap;
    va_start(ap, arg);
    gp_fill_args(argv, n, arg, &ap);
    if (n > 0)
        (void)va_arg(ap, char *); /* the NULL that ends the arguments */
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return gp_do_execve(path, argv, envp);
}

/* ---- fatal signals ------------------------------------------------------------------ */
static const int gp_fatal_sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
#define GP_NFATAL (sizeof gp_fatal_sigs / sizeof gp_fatal_sigs[0])
static struct sigaction gp_prev_action[GP_NFATAL]; /* written before our handler is set */
static bool gp_handlers_installed;
enum { GP_FATAL_NONE, GP_FATAL_FLUSHING, GP_FATAL_DONE };
static _Atomic int gp_fatal_state;

static void gp_fatal_handler(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    int saved = errno;
    pid_t pid = getpid();
    int expected = GP_FATAL_NONE;
    if (atomic_compare_exchange_strong(&gp_fatal_state, &expected, GP_FATAL_FLUSHING)) {
        if (pid == atomic_load(&gp_traced_pid)) /* not in a vfork()ed child */
            (void)gp_writer_crash_flush(GP_FATAL_FLUSH_MS);
        atomic_store(&gp_fatal_state, GP_FATAL_DONE);
    } else if (expected == GP_FATAL_FLUSHING) {
        /* Another thread is flushing: die after it, not before. */
        struct timespec step = {0, 1000000};
        for (int i = 0; i < GP_FATAL_FLUSH_MS && atomic_load(&gp_fatal_state) != GP_FATAL_DONE; i++)
            nanosleep(&step, NULL);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    const struct sigaction *prev = &dfl;
    for (size_t i = 0; i < GP_NFATAL; i++)
        if (gp_fatal_sigs[i] == sig)
            prev = &gp_prev_action[i];
    sigaction(sig, prev, NULL);
    /* sig is blocked while this handler runs: the copy stays pending until it returns. */
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, info) != 0)
        syscall(SYS_tgkill, pid, tid, sig);
    errno = saved;
}

static void gp_install_fatal_handlers(void)
{
    for (size_t i = 0; i < GP_NFATAL; i++) {
        struct sigaction cur;
        if (sigaction(gp_fatal_sigs[i], NULL, &cur) != 0 || cur.sa_handler == SIG_IGN)
            continue; /* an ignored signal stays ignored */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = gp_fatal_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | (cur.sa_flags & SA_RESTART);
        sigfillset(&sa.sa_mask);
        gp_prev_action[i] = cur;
        if (sigaction(gp_fatal_sigs[i], &sa, &gp_prev_action[i]) != 0)
            gp_prev_action[i] = cur;
    }
}

void gp_process_on_start(void)
{
    atomic_store(&gp_traced_pid, getpid());
    if (!gp_handlers_installed) { /* once per process image; a forked child inherits them */
        gp_handlers_installed = true;
        gp_install_fatal_handlers();
    }
}
