/* launcher_traces.c — finds the trace files a run wrote. The output template is turned
 * into a coarse glob(3) pattern to enumerate candidates, then each candidate is matched
 * exactly against the template the way the shim expands it (shim/output_path.c): %p and
 * %r are digits, %h is this host's name with '/' made '_', %% is '%', and the shim may
 * have added ".1", ".2", ... when the name was taken. Which of them the run created is
 * decided by comparing with a listing taken before the launch (path and inode). */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"

enum gp_tok_kind { GP_TOK_LIT, GP_TOK_DIGITS };

struct gp_tok {
    enum gp_tok_kind kind;
    char c;
};

static void gp_host_name(char *buf, size_t len)
{
    if (gethostname(buf, len - 1) != 0)
        snprintf(buf, len, "unknown-host");
    buf[len - 1] = '\0';
    for (char *c = buf; *c; c++)
        if (*c == '/')
            *c = '_';
}

bool gp_template_valid(const char *tmpl)
{
    if (tmpl == NULL || *tmpl == '\0')
        return false;
    for (const char *p = tmpl; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p != 'p' && *p != 'h' && *p != 'r' && *p != '%')
            return false;
    }
    return true;
}

/* Template -> tokens (exact matcher) and glob pattern (enumeration). Returns the token
 * count, or -1 when out of memory. */
static long gp_compile(const char *tmpl, struct gp_tok **toks_out, char **glob_out)
{
    char host[256];
    gp_host_name(host, sizeof host);
    size_t cap = strlen(tmpl) + strlen(tmpl) / 2 * strlen(host) + 16;
    struct gp_tok *toks = calloc(cap, sizeof *toks);
    char *pat = malloc(cap * 2 + 2);
    if (toks == NULL || pat == NULL) {
        free(toks);
        free(pat);
        return -1;
    }
    size_t nt = 0, np = 0;
    for (const char *p = tmpl; *p; p++) {
        const char *lit = NULL;
        char one[2] = {0, 0};
        if (*p == '%' && (p[1] == 'p' || p[1] == 'r')) {
            p++;
            toks[nt++] = (struct gp_tok){GP_TOK_DIGITS, 0};
            if (np == 0 || pat[np - 1] != '*')
                pat[np++] = '*';
            continue;
        }
        if (*p == '%' && p[1] == 'h') {
            p++;
            lit = host;
        } else if (*p == '%' && p[1] == '%') {
            p++;
            lit = "%";
        } else {
            one[0] = *p;
            lit = one;
        }
        for (const char *c = lit; *c; c++) {
            toks[nt++] = (struct gp_tok){GP_TOK_LIT, *c};
            if (strchr("*?[\\", *c))
                pat[np++] = '\\';
            pat[np++] = *c;
        }
    }
    pat[np++] = '*'; /* room for the ".N" the shim adds on a clash */
    pat[np] = '\0';
    *toks_out = toks;
    *glob_out = pat;
    return (long)nt;
}

/* After the template: nothing, or "." and digits. */
static bool gp_suffix_ok(const char *s)
{
    if (*s == '\0')
        return true;
    if (*s++ != '.' || *s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool gp_match(const struct gp_tok *t, size_t nt, const char *s)
{
    for (; nt > 0 && t->kind == GP_TOK_LIT; t++, nt--, s++)
        if (*s != t->c)
            return false;
    if (nt == 0)
        return gp_suffix_ok(s);
    for (size_t n = 0; s[n] >= '0' && s[n] <= '9'; n++) /* one or more digits */
        if (gp_match(t + 1, nt - 1, s + n + 1))
            return true;
    return false;
}

static int gp_cmp_files(const void *a, const void *b)
{
    const struct gp_trace_file *x = a, *y = b;
    return strverscmp(x->path, y->path);
}

int gp_traces_list(const char *tmpl, struct gp_trace_list *out)
{
    out->files = NULL;
    out->count = 0;
    struct gp_tok *toks;
    char *pat;
    long nt = gp_compile(tmpl, &toks, &pat);
    if (nt < 0)
        return -ENOMEM;
    glob_t g;
    int rc = glob(pat, GLOB_NOSORT, NULL, &g);
    free(pat);
    if (rc != 0) {
        free(toks);
        if (rc != GLOB_NOMATCH)
            globfree(&g);
        return rc == GLOB_NOSPACE ? -ENOMEM : 0;
    }
    out->files = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *out->files);
    if (out->files == NULL) {
        globfree(&g);
        free(toks);
        return -ENOMEM;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat st;
        const char *p = g.gl_pathv[i];
        if (!gp_match(toks, (size_t)nt, p) || lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        char *copy = strdup(p);
        if (copy == NULL)
            continue;
        out->files[out->count++] = (struct gp_trace_file){copy, st.st_dev, st.st_ino};
    }
    globfree(&g);
    free(toks);
    qsort(out->files, out->count, sizeof *out->files, gp_cmp_files);
    return 0;
}

void gp_traces_subtract(struct gp_trace_list *now, const struct gp_trace_list *before)
{
    size_t keep = 0;
    for (size_t i = 0; i < now->count; i++) {
        struct gp_trace_file *f = &now->files[i];
        bool old = false;
        for (size_t j = 0; j < before->count && !old; j++) {
            const struct gp_trace_file *b = &before->files[j];
            old = b->dev == f->dev && b->ino == f->ino && strcmp(b->path, f->path) == 0;
        }
        if (old)
            free(f->path);
        else
            now->files[keep++] = *f;
    }
    now->count = keep;
}

void gp_traces_free(struct gp_trace_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->files[i].path);
    free(l->files);
    l->files = NULL;
    l->count = 0;
}
