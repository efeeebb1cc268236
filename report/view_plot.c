/* view_plot.c — device memory over time, drawn by gnuplot: reserved bytes as a step
 * line, the device total as a horizontal line, OOM events as points; when PyTorch's adapter
 * ran, also PyTorch's allocated bytes, the memory held outside PyTorch as a shaded band and
 * PyTorch's OOMs. Each series holds the max and last value per bucket (series.c), so a
 * spike shorter than a pixel still shows however long the run.
 * Safety: gnuplot runs as a child (fork + execvp, argv only, no shell) inside a private
 * mkdtemp directory. The script holds only fixed text and numbers and names files in
 * that directory by fixed relative names; no string from the trace or the command line
 * ever reaches it. The image is then copied to the user's path by this process. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

#define PLOT_TIMEOUT_MS 120000 /* gnuplot draws 2048 steps in well under a second */

static const char *const data_file = "reserved.dat";
static const char *const oom_file = "oom.dat";
static const char *const alloc_file = "allocated.dat";
static const char *const nontorch_file = "nontorch.dat";
static const char *const torch_oom_file = "torch_oom.dat";
static const char *const script_file = "plot.gp";
static const char *const log_file = "gnuplot.log";

enum gp_report_plot_format gp_report_plot_format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || dot == path || dot[-1] == '/')
        return GP_REPORT_PLOT_NONE;
    if (strcasecmp(dot, ".png") == 0)
        return GP_REPORT_PLOT_PNG;
    if (strcasecmp(dot, ".svg") == 0)
        return GP_REPORT_PLOT_SVG;
    return GP_REPORT_PLOT_NONE;
}

static FILE *create_in(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f)
        close(fd);
    return f;
}

static int finish_file(FILE *f)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return -EIO;
    return 0;
}

/* Scale so the y axis reads in a sensible unit; the label comes from a fixed table. */
struct plot_scale {
    double div;
    const char *label;
};

static struct plot_scale scale_for(uint64_t max)
{
    static const struct plot_scale units[] = {
        { 1.0, "bytes" },
        { 1024.0, "KiB" },
        { 1024.0 * 1024.0, "MiB" },
        { 1024.0 * 1024.0 * 1024.0, "GiB" },
        { 1024.0 * 1024.0 * 1024.0 * 1024.0, "TiB" },
    };
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && (double)max >= units[u + 1].div)
        u++;
    return units[u];
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static int write_data(int dirfd, const struct gp_report_series *s, uint64_t end_ns,
                      struct plot_scale sc, int *have_oom)
{
    FILE *d = create_in(dirfd, data_file);
    FILE *o = create_in(dirfd, oom_file);
    int rc = (d && o) ? 0 : -errno;
    uint64_t last = 0;
    *have_oom = 0;
    if (rc < 0)
        goto out;
    fprintf(d, "0 0\n");
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        const struct gp_report_bucket *b = &s->b[i];
        uint64_t t0 = (uint64_t)i * s->width_ns;
        if (b->used) {
            /* Hold the bucket's max across it (a spike never disappears), then its
             * last value until the next change. */
            uint64_t t1 = t0 + s->width_ns;
            if (t1 > end_ns)
                t1 = end_ns > t0 ? end_ns : t0;
            fprintf(d, "%.9g %.6f\n%.9g %.6f\n", secs(t0), (double)b->max / sc.div, secs(t1),
                    (double)b->last / sc.div);
            last = b->last;
        }
        if (b->oom) {
            fprintf(o, "%.9g %.6f\n", secs(t0 + s->width_ns / 2), (double)b->oom_live / sc.div);
            *have_oom = 1;
        }
    }
    fprintf(d, "%.9g %.6f\n", secs(end_ns), (double)last / sc.div);
out:
    if (d && finish_file(d) < 0 && rc == 0)
        rc = -EIO;
    if (o && finish_file(o) < 0 && rc == 0)
        rc = -EIO;
    return rc;
}

/* One of PyTorch's series as steps (each bucket's max, then its last value), with its OOM
 * marks when oom_name is set; without, it is a band (closed down to zero). */
static int write_steps(int dirfd, const char *name, const char *oom_name,
                       const struct gp_report_series *s, uint64_t end_ns, struct plot_scale sc,
                       int *have_oom)
{
    FILE *d = create_in(dirfd, name);
    FILE *o = oom_name ? create_in(dirfd, oom_name) : NULL;
    int rc = d && (o || !oom_name) ? 0 : -errno;
    uint64_t last = 0;
    if (rc < 0)
        goto out;
    fprintf(d, "0 0\n");
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        const struct gp_report_bucket *b = &s->b[i];
        uint64_t t0 = (uint64_t)i * s->width_ns, t1 = t0 + s->width_ns;
        if (b->used) {
            if (t1 > end_ns)
                t1 = end_ns > t0 ? end_ns : t0;
            fprintf(d, "%.9g %.6f\n%.9g %.6f\n", secs(t0), (double)b->max / sc.div, secs(t1),
                    (double)b->last / sc.div);
            last = b->last;
        }
        if (o && b->oom) {
            fprintf(o, "%.9g %.6f\n", secs(t0 + s->width_ns / 2), (double)b->oom_live / sc.div);
            *have_oom = 1;
        }
    }
    fprintf(d, "%.9g %.6f\n", secs(end_ns), (double)last / sc.div);
    if (!oom_name) /* a band: closed down to zero */
        fprintf(d, "%.9g 0\n", secs(end_ns));
out:
    if (d && finish_file(d) < 0 && rc == 0)
        rc = -EIO;
    if (o && finish_file(o) < 0 && rc == 0)
        rc = -EIO;
    return rc;
}

struct torch_plot {
    int on, have_oom;
};

static int write_script(int dirfd, enum gp_report_plot_format fmt, const char *out_name,
                        uint64_t end_ns, uint64_t total, double ymax, struct plot_scale sc,
                        int have_oom, struct torch_plot tp)
{
    FILE *f = create_in(dirfd, script_file);
    if (!f)
        return -errno;
    if (fmt == GP_REPORT_PLOT_SVG)
        fputs("set terminal svg size 1280,720 noenhanced\n", f);
    else
        fputs("set terminal pngcairo size 1280,720 noenhanced\n", f);
    fprintf(f, "set output '%s'\n", out_name);
    fputs(tp.on ? "set title 'gpuprof: device memory over time (reserved, PyTorch allocated)'\n"
                : "set title 'gpuprof: device memory reserved over time'\n", f);
    fputs("set xlabel 'time since start (s)'\n", f);
    fprintf(f, "set ylabel 'device memory (%s)'\n", sc.label);
    fputs("set grid\nset key outside below horizontal\n", f);
    fprintf(f, "set xrange [0:%.9g]\n", secs(end_ns ? end_ns : 1000));
    fprintf(f, "set yrange [0:%.9g]\n", ymax > 0 ? ymax * 1.1 : 1.0);
    fputs("plot ", f);
    if (tp.on)
        fprintf(f, "'%s' using 1:2 with filledcurves y1=0 fs transparent solid 0.3 noborder "
                   "lc rgb '#ff7f0e' title 'outside PyTorch', \\\n  ", nontorch_file);
    fprintf(f, "'%s' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'reserved'", data_file);
    if (tp.on)
        fprintf(f, ", \\\n  '%s' using 1:2 with steps lw 2 lc rgb '#2ca02c' title 'allocated (PyTorch)'",
                alloc_file);
    if (total)
        fprintf(f, ", \\\n  %.6f with lines dt 2 lw 1 lc rgb '#d62728' title 'device total'",
                (double)total / sc.div);
    if (have_oom)
        fprintf(f, ", \\\n  '%s' using 1:2 with points pt 7 ps 1.5 lc rgb '#ff7f0e' title 'OOM'",
                oom_file);
    if (tp.have_oom)
        fprintf(f, ", \\\n  '%s' using 1:2 with points pt 9 ps 1.5 lc rgb '#d62728' "
                   "title 'OOM (PyTorch)'", torch_oom_file);
    fputs("\nunset output\n", f);
    return finish_file(f);
}

/* Runs gnuplot on the script inside dir; -ENOENT when it cannot be executed at all. */
static int run_gnuplot(const char *dir, char *err, size_t errlen)
{
    int pipefd[2], status = 0, child_errno = 0;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot run gnuplot: %s", strerror(errno));
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        snprintf(err, errlen, "cannot run gnuplot: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        char *const argv[] = { (char *)"gnuplot", (char *)script_file, NULL };
        int e = 0, null_fd, log_fd;
        close(pipefd[0]);
        if (chdir(dir) < 0)
            goto child_fail;
        null_fd = open("/dev/null", O_RDWR);
        log_fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
        if (null_fd < 0 || log_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
            dup2(log_fd, 2) < 0)
            goto child_fail;
        execvp("gnuplot", argv);
    child_fail:
        e = errno;
        if (write(pipefd[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    close(pipefd[1]);
    ssize_t got;
    do
        got = read(pipefd[0], &child_errno, sizeof(child_errno));
    while (got < 0 && errno == EINTR);
    close(pipefd[0]);

    /* Wait, but never forever. */
    int waited_ms = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (waited_ms >= PLOT_TIMEOUT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "gnuplot did not finish within %d s", PLOT_TIMEOUT_MS / 1000);
            return -ETIMEDOUT;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        waited_ms += 10;
    }
    if (got == (ssize_t)sizeof(child_errno)) {
        if (child_errno == ENOENT) {
            snprintf(err, errlen, "gnuplot not found; install gnuplot to use --plot");
            return -ENOENT;
        }
        snprintf(err, errlen, "cannot run gnuplot: %s", strerror(child_errno));
        return -child_errno;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "gnuplot failed (%s %d)",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -EIO;
    }
    return 0;
}

static int copy_out(int dirfd, const char *name, const char *dest, char *err, size_t errlen)
{
    char buf[65536];
    int rc = 0;
    int in = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int out = -1;
    if (in < 0) {
        snprintf(err, errlen, "gnuplot wrote no image");
        rc = -EIO;
        goto out;
    }
    out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dest, strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0) {
                rc = -errno;
                snprintf(err, errlen, "reading the plot: %s", strerror(errno));
            }
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -errno;
                snprintf(err, errlen, "%s: %s", dest, strerror(errno));
                goto out;
            }
            done += w;
        }
    }
out:
    if (out >= 0 && close(out) < 0 && rc == 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dest, strerror(errno));
    }
    if (in >= 0)
        close(in);
    return rc;
}

int gp_report_view_plot(const char *path, const struct gp_report *r, char *err, size_t errlen)
{
    enum gp_report_plot_format fmt = gp_report_plot_format_of(path);
    const char *out_name = fmt == GP_REPORT_PLOT_SVG ? "out.svg" : "out.png";
    const char *names[] = { data_file, oom_file, alloc_file, nontorch_file, torch_oom_file,
                            script_file, log_file, out_name };
    const struct gp_report_torch *t = &r->torch;
    struct torch_plot tp = { .on = t->present && t->allocated_series && t->non_torch_series };
    const struct gp_report_series *s = r->timeline.series;
    const struct gp_report_model *m = r->model;
    char dir[4096];
    int dirfd = -1, rc, have_oom = 0;

    if (fmt == GP_REPORT_PLOT_NONE || !s) {
        snprintf(err, errlen, "%s: the plot file must end in .png or .svg", path);
        return -EINVAL;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' ||
        (size_t)snprintf(dir, sizeof(dir), "%s/gpuprof-plot.XXXXXX", tmp) >= sizeof(dir))
        snprintf(dir, sizeof(dir), "/tmp/gpuprof-plot.XXXXXX");
    if (!mkdtemp(dir)) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        return rc;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open the temporary directory: %s", strerror(errno));
        goto out;
    }

    uint64_t end_ns = gp_report_model_rel_ns(m, m->run.last_ns);
    uint64_t total = m->device_total_bytes > t->device_total_bytes ? m->device_total_bytes
                                                                   : t->device_total_bytes;
    uint64_t ymax = s->max_value > total ? s->max_value : total;
    if (tp.on) { /* PyTorch's events may end after the shim's last one */
        const struct gp_report_series *ts[] = { t->allocated_series, t->non_torch_series };
        for (size_t k = 0; k < 2; k++) {
            if (ts[k]->max_value > ymax)
                ymax = ts[k]->max_value;
            for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++)
                if (ts[k]->b[i].used && (i + 1) * ts[k]->width_ns > end_ns)
                    end_ns = (i + 1) * ts[k]->width_ns;
        }
    }
    struct plot_scale sc = scale_for(ymax);
    rc = write_data(dirfd, s, end_ns, sc, &have_oom);
    if (rc == 0 && tp.on)
        rc = write_steps(dirfd, alloc_file, torch_oom_file, t->allocated_series, end_ns, sc,
                         &tp.have_oom);
    if (rc == 0 && tp.on)
        rc = write_steps(dirfd, nontorch_file, NULL, t->non_torch_series, end_ns, sc, NULL);
    if (rc == 0)
        rc = write_script(dirfd, fmt, out_name, end_ns, total, (double)ymax / sc.div, sc,
                          have_oom, tp);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write the plot data: %s", strerror(-rc));
        goto out;
    }
    rc = run_gnuplot(dir, err, errlen);
    if (rc == 0)
        rc = copy_out(dirfd, out_name, path, err, errlen);
out:
    if (dirfd >= 0) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            unlinkat(dirfd, names[i], 0);
        close(dirfd);
    }
    rmdir(dir);
    return rc;
}

/* For view_timeline.c, which draws the same safe way (see the top of this file). */
FILE *gp_report_plot_create(int dirfd, const char *name) { return create_in(dirfd, name); }
int gp_report_plot_close(FILE *f) { return finish_file(f); }
int gp_report_plot_run(const char *dir, char *err, size_t errlen)
{
    return run_gnuplot(dir, err, errlen);
}
int gp_report_plot_copy(int dirfd, const char *name, const char *dest, char *err, size_t errlen)
{
    return copy_out(dirfd, name, dest, err, errlen);
}
