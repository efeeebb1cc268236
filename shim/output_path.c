/* output_path.c — turns GPUPROF_OUTPUT into a file name and creates the file safely:
 * a trace is never written through a symlink and never replaces someone else's file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int gp_append(char *out, size_t outlen, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n >= outlen)
        return -ENAMETOOLONG;
    memcpy(out + *pos, s, n);
    *pos += n;
    out[*pos] = '\0';
    return 0;
}

/* Only digits survive from RANK/LOCAL_RANK: the value ends up in a file name. */
static void gp_rank(char *buf, size_t len)
{
    const char *r = getenv("RANK");
    if (r == NULL || *r == '\0')
        r = getenv("LOCAL_RANK");
    size_t n = 0;
    for (; r && *r && n + 1 < len && n < 9; r++)
        if (*r >= '0' && *r <= '9')
            buf[n++] = *r;
    if (n == 0)
        buf[n++] = '0';
    buf[n] = '\0';
}

int gp_shim_expand_output(const char *tmpl, char *out, size_t outlen)
{
    size_t pos = 0;
    char tmp[256];
    int rc = 0;
    if (outlen == 0)
        return -EINVAL;
    out[0] = '\0';
    for (const char *p = tmpl; *p && rc == 0; p++) {
        if (*p != '%') {
            char c[2] = {*p, '\0'};
            rc = gp_append(out, outlen, &pos, c);
            continue;
        }
        switch (*++p) {
        case 'p':
            snprintf(tmp, sizeof tmp, "%ld", (long)getpid());
            break;
        case 'h':
            if (gethostname(tmp, sizeof tmp - 1) != 0)
                strcpy(tmp, "unknown-host");
            tmp[sizeof tmp - 1] = '\0';
            for (char *c = tmp; *c; c++) /* a host name must not add a directory */
                if (*c == '/')
                    *c = '_';
            if (strcmp(tmp, ".") == 0 || strcmp(tmp, "..") == 0) /* nor leave this one */
                strcpy(tmp, "_");
            break;
        case 'r':
            gp_rank(tmp, sizeof tmp);
            break;
        case '%':
            strcpy(tmp, "%");
            break;
        default:
            return -EINVAL;
        }
        rc = gp_append(out, outlen, &pos, tmp);
    }
    if (rc == 0 && pos == 0)
        rc = -EINVAL;
    return rc;
}

int gp_shim_create_output(const char *path, char *used, size_t usedlen)
{
    char cand[4096];
    for (int i = 0; i < 100; i++) {
        int n = i == 0 ? snprintf(cand, sizeof cand, "%s", path)
                       : snprintf(cand, sizeof cand, "%s.%d", path, i);
        if (n < 0 || (size_t)n >= sizeof cand)
            return -ENAMETOOLONG;
        int fd = open(cand, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            snprintf(used, usedlen, "%s", cand);
            return fd;
        }
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}
