/* format.c — numbers and strings as people read them in the text view: binary byte
 * units, seconds, and trace strings with anything that could drive a terminal
 * (control characters, invalid UTF-8) replaced. */
#include <inttypes.h>
#include <string.h>

#include <time.h>

#include "report.h"

const char *gp_report_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64 " B", bytes);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.2f %s", v, units[u]);
    return buf;
}

const char *gp_report_fmt_secs(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%" PRIu64 ".%06" PRIu64 " s", ns / 1000000000u, (ns % 1000000000u) / 1000u);
    return buf;
}

void gp_report_fputs_safe(FILE *f, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        uint32_t cp;
        size_t len = gp_report_utf8_next(p, n, &cp);
        /* C0, DEL and C1 controls could start terminal escape sequences. */
        if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            fputc('?', f);
            len = len ? len : 1;
        } else {
            fwrite(p, 1, len, f);
        }
        p += len;
        n -= len;
    }
}

const char *gp_report_fmt_wall(char *buf, size_t len, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    char day[32];
    if (!gmtime_r(&t, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(day, sizeof(day), "?");
    snprintf(buf, len, "%s.%03u UTC", day, (unsigned)(ns / 1000000u % 1000u));
    return buf;
}
