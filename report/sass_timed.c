/* sass_timed.c — sass.c's instruction count with bounds, for disassembling many cubins from
 * a trace (analysis_cubins.c): the disassembler runs without a shell in a process group of
 * its own, its listing goes to a file in the caller's private directory (at most
 * GP_SASS_LISTING_MAX bytes: RLIMIT_FSIZE), and it is killed, with anything it started, when
 * it runs past the time limit. The listing is then read by gp_report_sass_parse. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

#define GP_SASS_LISTING_MAX (1ull << 30)

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The first line of the tool's stderr, for a failure message. */
static void first_line(int fd, char *buf, size_t len)
{
    buf[0] = '\0';
    if (lseek(fd, 0, SEEK_SET) < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
}

int gp_report_sass_count_timed(const char *tool, const char *cubin, const char *workdir,
                               unsigned timeout_s, struct gp_report_sass *out, char *err,
                               size_t errlen)
{
    char lpath[4200], epath[4200];
    int lfd = -1, efd = -1, rc = 0, status = 0;
    FILE *lf = NULL;
    pid_t pid;

    snprintf(lpath, sizeof lpath, "%s/listing.txt", workdir);
    snprintf(epath, sizeof epath, "%s/stderr.txt", workdir);
    snprintf(out->tool, sizeof out->tool, "%s", tool);
    lfd = open(lpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    efd = open(epath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (lfd < 0 || efd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create the listing in %.300s: %s", workdir, strerror(errno));
        goto out;
    }
    const char *base = strrchr(tool, '/');
    base = base ? base + 1 : tool;
    char *const argv[] = {(char *)base, strstr(base, "cuobjdump") ? "-sass" : "-c",
                          (char *)cubin, NULL};
    if ((pid = fork()) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot run %.300s: %s", tool, strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* its own process group, so a timeout kills whatever it started too */
        struct rlimit fsz = {GP_SASS_LISTING_MAX, GP_SASS_LISTING_MAX};
        int null = open("/dev/null", O_RDONLY);
        if (setpgid(0, 0) < 0 || null < 0 || dup2(null, 0) < 0 || dup2(lfd, 1) < 0 ||
            dup2(efd, 2) < 0 || setrlimit(RLIMIT_FSIZE, &fsz) < 0)
            _exit(127);
        execv(tool, argv);
        _exit(127);
    }
    uint64_t deadline = mono_ms() + (uint64_t)timeout_s * 1000u;
    struct timespec nap = {0, 1000000};
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            rc = -errno;
            snprintf(err, errlen, "waiting for %.300s: %s", tool, strerror(errno));
            kill(-pid, SIGKILL);
            goto out;
        }
        if (mono_ms() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            snprintf(err, errlen, "%s took longer than %u s (GPUPROF_SASS_TIMEOUT): killed", base,
                     timeout_s);
            rc = -ETIMEDOUT;
            goto out;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 50000000)
            nap.tv_nsec *= 2;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[200];
        first_line(efd, msg, sizeof msg);
        snprintf(err, errlen, "%s %s %d%s%s", base, WIFEXITED(status) ? "exited with status" : "died of signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), msg[0] ? ": " : "", msg);
        rc = -EINVAL;
        goto out;
    }
    if (lseek(lfd, 0, SEEK_SET) < 0 || (lf = fdopen(lfd, "r")) == NULL) {
        rc = -errno;
        snprintf(err, errlen, "reading the listing: %s", strerror(errno));
        goto out;
    }
    lfd = -1; /* lf owns it */
    rc = gp_report_sass_parse(lf, out);
    if (rc < 0)
        snprintf(err, errlen, "reading the listing: %s", strerror(-rc));
out:
    if (lf)
        fclose(lf);
    if (lfd >= 0)
        close(lfd);
    if (efd >= 0)
        close(efd);
    unlink(lpath);
    unlink(epath);
    return rc;
}

