/* writer.c — the background writer thread: the only code that touches the trace file.
 * It drains the event queue in claim order, encodes through the trace library (which
 * interns strings and stacks and deflates), writes MODULE records for code it has not
 * seen yet, and sync-flushes at least every GPUPROF_FLUSH_MS, on request (OOM) and at
 * exit, so a killed process leaves a file readable up to its last flush. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "gp_cupti.h"
#include "stack_python.h"

#define GP_MODULES_MAX 4096
#define GP_IDLE_SLEEP_MIN_NS 1000000ull   /* 1 ms right after activity */
#define GP_IDLE_SLEEP_MAX_NS 20000000ull  /* 20 ms when quiet; producers wake us when half full */
#define GP_STOP_WAIT_NS 3000000000ull     /* at exit, wait this long for claimed slots */
#define GP_CUPTI_FLUSH_NS 1000000000ull   /* CUPTI hands back its buffers at least this often */

struct gp_module {
    uint64_t start, end, bias;
};

static struct {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t flush_req, flush_done; /* under mu */
    uint64_t flush_upto;            /* under mu: queue position a requested flush must cover */
    _Atomic bool stop;
    int fd;
    struct gp_trace_writer *w;
    char path[4096];
    struct gp_module mods[GP_MODULES_MAX];
    unsigned nmods;
    bool rescanned; /* module rescan already done in this batch */
} gp_wr = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1};

/* A last flush asked for from a fatal-signal handler (hooks_process.c): atomics only, no
 * lock or condition variable, so the writer polls them on every turn of its loop. */
static _Atomic unsigned gp_crash_req, gp_crash_done;
static _Atomic bool gp_wr_alive; /* the writer thread exists and has not finished */

/* ---- module map --------------------------------------------------------------- */
static bool gp_module_known(uint64_t start, uint64_t bias)
{
    for (unsigned i = 0; i < gp_wr.nmods; i++)
        if (gp_wr.mods[i].start == start && gp_wr.mods[i].bias == bias)
            return true;
    return false;
}

static int gp_module_scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    uint64_t start = 0, end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (start == 0 || a < start)
            start = a;
        if (a + ph->p_memsz > end)
            end = a + ph->p_memsz;
    }
    if (start == 0 || gp_module_known(start, info->dlpi_addr) || gp_wr.nmods == GP_MODULES_MAX)
        return 0;
    char exe[4096];
    const char *name = info->dlpi_name;
    if (name == NULL || name[0] == '\0') { /* the main program */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        name = exe;
    }
    gp_wr.mods[gp_wr.nmods++] = (struct gp_module){start, end, info->dlpi_addr};
    (void)gp_trace_writer_module(gp_wr.w, name, info->dlpi_addr, start, end);
    return 0;
}

static void gp_module_new_ip(void *ctx, struct gp_trace_writer *w, uint64_t ip)
{
    (void)ctx;
    (void)w;
    for (unsigned i = 0; i < gp_wr.nmods; i++)
        if (ip >= gp_wr.mods[i].start && ip < gp_wr.mods[i].end)
            return;
    if (gp_wr.rescanned) /* JIT code or a gap: one rescan per batch is enough */
        return;
    gp_wr.rescanned = true;
    dl_iterate_phdr(gp_module_scan_one, NULL);
}

/* ---- header -------------------------------------------------------------------- */
static void gp_read_cmdline(char *buf, size_t len)
{
    buf[0] = '\0';
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return;
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
}

static int gp_writer_open_trace(void)
{
    gp_wr.nmods = 0; /* a new file knows no module yet (a restart after a failed exec) */
    char expanded[4096];
    int rc = gp_shim_expand_output(gp_shim_g.opt.output, expanded, sizeof expanded);
    if (rc < 0) {
        gp_shim_warn("GPUPROF_OUTPUT=%.200s cannot be used (%s); using gpuprof.%%p.gz",
                     gp_shim_g.opt.output, rc == -ENAMETOOLONG ? "too long" : "unknown % escape");
        (void)gp_shim_expand_output("gpuprof.%p.gz", expanded, sizeof expanded);
    }
    int fd = gp_shim_create_output(expanded, gp_wr.path, sizeof gp_wr.path);
    if (fd < 0) {
        gp_shim_warn("cannot create trace file %.300s: %s; tracing is off", expanded, strerror(-fd));
        return fd;
    }
    static char cmdline[8192], exe[4096], host[256];
    gp_read_cmdline(cmdline, sizeof cmdline);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    struct gp_trace_header h = {
        .version = GP_TRACE_VERSION,
        .pid = (uint32_t)getpid(),
        .ppid = (uint32_t)getppid(),
        .stack_depth = gp_shim_g.opt.depth,
        .realtime_ns = gp_shim_g.start_realtime_ns,
        .monotonic_ns = gp_shim_g.start_monotonic_ns,
        .host = host,
        .exe = exe,
        .cmdline = cmdline,
        .label = gp_shim_g.opt.label,
    };
    rc = gp_trace_writer_open(&gp_wr.w, fd, &h, NULL);
    if (rc < 0) {
        gp_shim_warn("cannot write trace file %.300s: %s; tracing is off", gp_wr.path, strerror(-rc));
        close(fd);
        return rc;
    }
    gp_trace_writer_set_new_ip_hook(gp_wr.w, gp_module_new_ip, NULL);
    gp_trace_writer_set_pyframe_resolver(gp_wr.w, gp_py_resolve, NULL);
    gp_wr.fd = fd;
    gp_cupti_trace_opened();
    gp_env_trace_opened();
    return 0;
}

/* ---- the loop ------------------------------------------------------------------ */
static bool gp_write_failed(int rc)
{
    if (rc >= 0)
        return false;
    gp_shim_warn("writing %.300s failed: %s; tracing is off, the program goes on", gp_wr.path,
                 strerror(-rc));
    atomic_store(&gp_shim_g.state, GP_SHIM_OFF);
    return true;
}

/* Encodes every published event at the head of the queue; returns how many. */
static unsigned gp_drain(bool *failed)
{
    unsigned n = 0;
    struct gp_event *ev;
    gp_wr.rescanned = false;
    while ((ev = gp_queue_peek(gp_shim_g.queue)) != NULL) {
        if (!*failed)
            *failed = gp_write_failed(gp_trace_writer_event(gp_wr.w, ev));
        gp_queue_release(gp_shim_g.queue);
        n++;
    }
    return n;
}

/* GPU activity CUPTI handed back (cupti/): converted here, on this thread; then the cubins
 * of newly loaded modules (GPUPROF_CUBINS=1, cupti/cubin.c). */
static unsigned gp_drain_cupti(bool *failed)
{
    int rc = gp_cupti_drain(*failed ? NULL : gp_wr.w);
    if (rc < 0)
        *failed = gp_write_failed(rc);
    int cubins = gp_cupti_cubin_drain(*failed ? NULL : gp_wr.w);
    if (cubins < 0)
        *failed = gp_write_failed(cubins);
    return (rc > 0 ? (unsigned)rc : 0) + (cubins > 0 ? (unsigned)cubins : 0);
}

static void gp_flush(bool *failed)
{
    uint64_t dropped = gp_queue_take_dropped(gp_shim_g.queue);
    if (*failed)
        return;
    if (dropped)
        *failed = gp_write_failed(gp_trace_writer_dropped(gp_wr.w, dropped));
    if (!*failed)
        *failed = gp_write_failed(gp_env_write(gp_wr.w));
    if (!*failed)
        *failed = gp_write_failed(gp_trace_writer_flush(gp_wr.w));
}

static void gp_timed_wait(uint64_t ns)
{
    struct timespec ts; /* the condition variable waits on CLOCK_REALTIME */
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t t = (uint64_t)ts.tv_nsec + ns;
    ts.tv_sec += (time_t)(t / 1000000000ull);
    ts.tv_nsec = (long)(t % 1000000000ull);
    pthread_mutex_lock(&gp_wr.mu);
    if (!atomic_load(&gp_wr.stop) && gp_wr.flush_req == gp_wr.flush_done)
        pthread_cond_timedwait(&gp_wr.cv, &gp_wr.mu, &ts);
    pthread_mutex_unlock(&gp_wr.mu);
}

/* A requested flush (OOM) must hold every event claimed before the request, including
 * the requester's own OOM event queued behind another thread's free that is still
 * inside cudaFree (frees claim their slot first). Waits for those slots, briefly. */
#define GP_CATCH_UP_NS 1500000000ull
static unsigned gp_catch_up(bool *failed)
{
    pthread_mutex_lock(&gp_wr.mu);
    uint64_t upto = gp_wr.flush_upto;
    pthread_mutex_unlock(&gp_wr.mu);
    unsigned n = 0;
    uint64_t deadline = gp_shim_now() + GP_CATCH_UP_NS;
    while (!*failed && gp_queue_consumed(gp_shim_g.queue) < upto && gp_shim_now() < deadline) {
        unsigned got = gp_drain(failed);
        n += got;
        if (got == 0) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
    return n;
}

static void *gp_writer_main(void *arg)
{
    (void)arg;
    gp_shim_in_hook = 1; /* anything this thread does is the shim's own business */
    bool failed = gp_writer_open_trace() < 0;
    if (failed)
        atomic_store(&gp_shim_g.state, GP_SHIM_OFF);
    uint64_t last_flush = gp_shim_now(), last_cupti = last_flush, sleep_ns = GP_IDLE_SLEEP_MIN_NS, stop_at = 0;
    const uint64_t period = (uint64_t)gp_shim_g.opt.flush_ms * 1000000ull;
    for (;;) {
        unsigned n = gp_drain(&failed);
        n += gp_drain_cupti(&failed);
        unsigned crash = atomic_load(&gp_crash_req);
        if (crash != atomic_load(&gp_crash_done)) { /* the program is dying: no END */
            n += gp_drain(&failed);
            n += gp_drain_cupti(&failed);
            gp_flush(&failed);
            atomic_store(&gp_crash_done, crash);
        }
        uint64_t now = gp_shim_now();
        pthread_mutex_lock(&gp_wr.mu);
        uint64_t req = gp_wr.flush_req;
        bool want = req != gp_wr.flush_done;
        pthread_mutex_unlock(&gp_wr.mu);
        if (want || now - last_cupti >= GP_CUPTI_FLUSH_NS) {
            gp_cupti_flush(want); /* forced when asked (OOM, exit): incomplete buffers too */
            n += gp_drain_cupti(&failed);
            last_cupti = now;
        }
        if (want || now - last_flush >= period) {
            n += gp_drain(&failed); /* what was published before the request (OOM) */
            if (want)
                n += gp_catch_up(&failed);
            gp_flush(&failed);
            last_flush = now;
            pthread_mutex_lock(&gp_wr.mu);
            gp_wr.flush_done = req;
            pthread_cond_broadcast(&gp_wr.cv);
            pthread_mutex_unlock(&gp_wr.mu);
        }
        if (atomic_load(&gp_wr.stop)) {
            if (stop_at == 0)
                stop_at = now + GP_STOP_WAIT_NS;
            /* a slot claimed by a thread still inside cudaFree is waited for, briefly */
            if (!gp_queue_pending(gp_shim_g.queue) || now >= stop_at)
                break;
        }
        if (n == 0) {
            gp_timed_wait(sleep_ns);
            sleep_ns = sleep_ns * 2 > GP_IDLE_SLEEP_MAX_NS ? GP_IDLE_SLEEP_MAX_NS : sleep_ns * 2;
        } else {
            sleep_ns = GP_IDLE_SLEEP_MIN_NS;
        }
    }
    gp_cupti_flush(true); /* exec: CUDA is alive; at exit the exit flush made this a no-op */
    while (gp_drain_cupti(&failed) > 0) /* cubins go a bounded amount per call */
        ;
    uint64_t dropped = gp_queue_take_dropped(gp_shim_g.queue);
    if (!failed && dropped)
        failed = gp_write_failed(gp_trace_writer_dropped(gp_wr.w, dropped));
    if (!failed && gp_wr.w != NULL)
        failed = gp_write_failed(gp_env_write(gp_wr.w));
    if (gp_wr.w != NULL) {
        if (!failed)
            (void)gp_write_failed(gp_trace_writer_close(gp_wr.w));
        else
            gp_trace_writer_abandon(gp_wr.w);
        gp_wr.w = NULL;
    }
    if (gp_wr.fd >= 0)
        close(gp_wr.fd);
    gp_wr.fd = -1;
    pthread_mutex_lock(&gp_wr.mu);
    gp_wr.flush_done = gp_wr.flush_req = gp_wr.flush_req + 1; /* release any waiter */
    pthread_cond_broadcast(&gp_wr.cv);
    pthread_mutex_unlock(&gp_wr.mu);
    atomic_store(&gp_wr_alive, false);
    return NULL;
}

int gp_writer_start(void)
{
    sigset_t all, old;
    sigfillset(&all);
    /* The program's signals must never be delivered to our thread. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_store(&gp_wr.stop, false);
    atomic_store(&gp_wr_alive, true);
    int rc = pthread_create(&gp_wr.thread, NULL, gp_writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        atomic_store(&gp_wr_alive, false);
        return -rc;
    }
    gp_wr.started = true;
    return 0;
}

void gp_writer_wake(void) { pthread_cond_signal(&gp_wr.cv); }

int gp_writer_flush_wait(unsigned timeout_ms)
{
    if (!gp_wr.started)
        return -ESRCH;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t t = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * 1000000ull;
    ts.tv_sec += (time_t)(t / 1000000000ull);
    ts.tv_nsec = (long)(t % 1000000000ull);
    int rc = 0;
    pthread_mutex_lock(&gp_wr.mu);
    uint64_t mine = ++gp_wr.flush_req;
    uint64_t claimed = gp_queue_claimed(gp_shim_g.queue);
    if (claimed > gp_wr.flush_upto)
        gp_wr.flush_upto = claimed;
    pthread_cond_broadcast(&gp_wr.cv);
    while (gp_wr.flush_done < mine && rc == 0)
        rc = pthread_cond_timedwait(&gp_wr.cv, &gp_wr.mu, &ts);
    pthread_mutex_unlock(&gp_wr.mu);
    return rc == 0 ? 0 : -rc;
}

void gp_writer_stop(void)
{
    if (!gp_wr.started)
        return;
    gp_wr.started = false;
    atomic_store(&gp_wr.stop, true);
    pthread_mutex_lock(&gp_wr.mu);
    pthread_cond_broadcast(&gp_wr.cv);
    pthread_mutex_unlock(&gp_wr.mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10; /* a wedged disk must not hang the program's exit forever */
    if (pthread_timedjoin_np(gp_wr.thread, NULL, &ts) != 0)
        gp_shim_warn("the trace writer did not finish in time; the trace may be cut short");
}

void gp_writer_forget(void)
{
    /* In a forked child only this thread exists: the parent's writer state, mutex
     * included, is abandoned as it was (memory is not freed: it may be mid-use). */
    gp_wr.started = false;
    gp_wr.w = NULL;
    if (gp_wr.fd >= 0)
        close(gp_wr.fd);
    gp_wr.fd = -1;
    gp_wr.nmods = 0;
    gp_wr.flush_req = gp_wr.flush_done = gp_wr.flush_upto = 0;
    atomic_store(&gp_wr_alive, false);
    atomic_store(&gp_crash_done, atomic_load(&gp_crash_req));
    pthread_mutex_init(&gp_wr.mu, NULL);
    pthread_cond_init(&gp_wr.cv, NULL);
}

bool gp_writer_alive(void) { return atomic_load(&gp_wr_alive); }

bool gp_writer_crash_flush(unsigned timeout_ms)
{
    /* Never from the writer itself (it blocks every signal; a fault there kills at once). */
    if (!atomic_load(&gp_wr_alive) || pthread_equal(pthread_self(), gp_wr.thread))
        return false;
    unsigned mine = atomic_fetch_add(&gp_crash_req, 1) + 1;
    struct timespec step = {0, 1000000};
    for (unsigned waited = 0; waited < timeout_ms; waited++) {
        if ((int)(atomic_load(&gp_crash_done) - mine) >= 0)
            return true;
        if (!atomic_load(&gp_wr_alive))
            return false;
        nanosleep(&step, NULL);
    }
    return false;
}
