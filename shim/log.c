/* log.c — warnings to stderr. Never stdio (a hook may run while the program holds
 * stdio locks) and never stdout; a hard cap keeps a broken setup from flooding logs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "internal.h"

#define GP_WARN_MAX 32

static _Atomic unsigned gp_warn_count;

void gp_shim_warn(const char *fmt, ...)
{
    if (atomic_fetch_add_explicit(&gp_warn_count, 1, memory_order_relaxed) >= GP_WARN_MAX)
        return;
    int saved = errno;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "gpuprof: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + ((size_t)m < sizeof buf - (size_t)n - 1 ? (size_t)m : sizeof buf - (size_t)n - 2);
    for (size_t i = 0; i < len; i++) /* one line per warning, whatever the settings hold */
        buf[i] = (unsigned char)buf[i] < 0x20 || buf[i] == 0x7f ? '?' : buf[i];
    buf[len++] = '\n';
    for (size_t off = 0; off < len;) {
        ssize_t w = write(STDERR_FILENO, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    errno = saved;
}
