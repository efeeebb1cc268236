/* gpuprof.c — the launcher: `gpuprof run [options] -- COMMAND ARGS...` runs COMMAND with
 * libgpuprof.so preloaded (found next to the launcher: ../lib/ both installed and in the
 * build tree), passes SIGINT/SIGTERM/SIGHUP/SIGQUIT on to it, and ends exactly as COMMAND
 * ended (same exit status, or killed by the same signal). Everything the launcher says goes
 * to stderr, after COMMAND has finished, so the program's stdout is untouched: the trace
 * files the run wrote and the gpuprof-report command for each. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

#define EXIT_USAGE 2
#define EXIT_LAUNCHER 125 /* the launcher itself failed before COMMAND ran (as env(1) does) */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
#define GP_DEPTH_MAX 256
#define GP_DEFAULT_OUTPUT "gpuprof.%p.gz"

static const char usage_text[] =
    "Usage: gpuprof run [options] [--] COMMAND [ARGS...]\n"
    "       gpuprof --help | --version\n"
    "Run COMMAND with the gpuprof profiler (libgpuprof.so) preloaded: every CUDA memory\n"
    "allocation it makes is recorded into a trace file. When COMMAND ends, the trace files\n"
    "of the run (those of its child processes included) are listed on stderr with the\n"
    "gpuprof-report command that summarizes each. COMMAND's output is left untouched.\n"
    "\n"
    "Options of 'run':\n"
    "  -o, --output FILE   trace file (GPUPROF_OUTPUT); %p pid, %h host, %r rank, %% a '%'.\n"
    "                      Default gpuprof.%p.gz; a relative name is taken from the directory\n"
    "                      gpuprof was started in. A taken name gets \".1\", \".2\", ...\n"
    "      --depth N       stack frames per event, 0 to 256 (GPUPROF_DEPTH, default 64)\n"
    "      --label TEXT    free text stored in the trace (GPUPROF_LABEL)\n"
    "      --no-python-stacks\n"
    "                      sets GPUPROF_PYTHON_STACKS=0; accepted now for forward\n"
    "                      compatibility (Python stacks are not recorded yet)\n"
    "  -h, --help          show this help\n"
    "Other GPUPROF_* settings in the environment (see README.md) are passed on as they are.\n"
    "\n"
    "Exit status: COMMAND's own; when COMMAND is killed by a signal, gpuprof is killed by the\n"
    "same signal. 127 COMMAND not found, 126 COMMAND cannot be run, 2 usage error,\n"
    "125 gpuprof itself failed (e.g. libgpuprof.so not found).\n";

struct gp_run_opts {
    const char *output;
    const char *depth;
    const char *label;
    bool no_python_stacks;
    char **command;
};

static int usage_error(const char *msg, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "gpuprof: %s '%s'\n", msg, arg);
    else
        fprintf(stderr, "gpuprof: %s\n", msg);
    fputs("Try 'gpuprof --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int show_help(void)
{
    fputs(usage_text, stdout);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* "--name VALUE", "--name=VALUE" or (short) "-oVALUE": the value, or NULL if a is not
 * this option. *i moves past a separate value; *missing is set when there is none. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
                             bool *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    if (strcmp(a, lng) == 0 || (shrt != NULL && strcmp(a, shrt) == 0)) {
        if (*i + 1 >= argc) {
            *missing = true;
            return a;
        }
        return argv[++*i];
    }
    if (strncmp(a, lng, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (shrt != NULL && strncmp(a, shrt, 2) == 0 && a[2] != '\0')
        return a + 2;
    return NULL;
}

/* Returns -1 to go on, else the exit code. */
static int parse_run(int argc, char **argv, struct gp_run_opts *o)
{
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break; /* COMMAND starts here */
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return show_help();
        if (strcmp(a, "--no-python-stacks") == 0) {
            o->no_python_stacks = true;
        } else if ((v = opt_value(argc, argv, &i, "--output", "-o", &missing)) != NULL) {
            if (missing)
                return usage_error("missing value for", a);
            if (!gp_template_valid(v))
                return usage_error("-o needs a file name using only %p %h %r %% escapes, not", v);
            o->output = v;
        } else if ((v = opt_value(argc, argv, &i, "--depth", NULL, &missing)) != NULL) {
            if (missing)
                return usage_error("missing value for", a);
            char *end;
            errno = 0;
            unsigned long d = strtoul(v, &end, 10);
            if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || d > GP_DEPTH_MAX)
                return usage_error("--depth needs a number from 0 to 256, not", v);
            o->depth = v;
        } else if ((v = opt_value(argc, argv, &i, "--label", NULL, &missing)) != NULL) {
            if (missing)
                return usage_error("missing value for", a);
            o->label = v;
        } else {
            return usage_error("unknown option", a);
        }
    }
    if (i >= argc)
        return usage_error("no command given to run", NULL);
    o->command = argv + i;
    return -1;
}

/* ---- where the launcher's companions live --------------------------------------- */
static bool self_dir(char *dir, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0)
        return false;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    return true;
}

/* The first of dir/rel... that exists (a regular file), made canonical into out. */
static bool find_next_to(const char *dir, const char *const *rels, char *out)
{
    for (; *rels != NULL; rels++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof cand, "%s/%s", dir, *rels);
        if (access(cand, F_OK) == 0 && realpath(cand, out) != NULL)
            return true;
    }
    return false;
}

/* ---- environment for COMMAND ----------------------------------------------------- */
/* The template made absolute against the launcher's directory, '%' in that directory
 * escaped, so the trace lands where the launcher will look for it. */
static char *absolute_template(const char *tmpl)
{
    if (tmpl[0] == '/')
        return strdup(tmpl);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return NULL;
    size_t n = strlen(cwd), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += cwd[i] == '%';
    char *out = malloc(n + extra + strlen(tmpl) + 2);
    if (out == NULL)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        *p++ = cwd[i];
        if (cwd[i] == '%')
            *p++ = '%';
    }
    if (p == out || p[-1] != '/')
        *p++ = '/';
    strcpy(p, tmpl);
    return out;
}

/* A sanitizer runtime must stay first in LD_PRELOAD (it refuses to start otherwise). */
static bool is_sanitizer_runtime(const char *path, size_t len)
{
    const char *base = path;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '/')
            base = path + i + 1;
    static const char *const prefixes[] = {"libasan", "libtsan", "libubsan", "liblsan", "libhwasan",
                                           "libclang_rt."};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* LD_PRELOAD for COMMAND: the shim first, after any sanitizer runtime, then the rest. */
static char *preload_value(const char *shim, const char *old)
{
    size_t len = strlen(shim) + (old ? strlen(old) : 0) + 3;
    char *out = malloc(len), *p = out;
    if (out == NULL)
        return NULL;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) {
            p += sprintf(p, "%s%s", p == out ? "" : ":", shim);
            continue;
        }
        for (const char *s = old ? old : ""; *s;) {
            size_t n = strcspn(s, ": ");
            if (n > 0 && is_sanitizer_runtime(s, n) == (pass == 0) && !(strlen(shim) == n &&
                                                                        !strncmp(s, shim, n)))
                p += sprintf(p, "%s%.*s", p == out ? "" : ":", (int)n, s);
            s += n + (s[n] != '\0');
        }
    }
    return out;
}

static int setup_env(const struct gp_run_opts *o, const char *shim, char **tmpl_out)
{
    /* ld.so splits LD_PRELOAD at ':' and ' ', with no way to quote. */
    if (strpbrk(shim, ": \t\n") != NULL) {
        fprintf(stderr, "gpuprof: cannot preload %s: LD_PRELOAD cannot hold a path with ':' "
                "or spaces\n", shim);
        return -1;
    }
    char *preload = preload_value(shim, getenv("LD_PRELOAD"));
    if (preload == NULL)
        return -1;
    int rc = setenv("LD_PRELOAD", preload, 1);
    free(preload);

    const char *tmpl = o->output;
    if (tmpl == NULL) {
        tmpl = getenv("GPUPROF_OUTPUT");
        if (tmpl != NULL && !gp_template_valid(tmpl)) { /* what the shim itself would do */
            fprintf(stderr, "gpuprof: GPUPROF_OUTPUT=%s cannot be used (empty or an unknown %% "
                    "escape); using %s\n", tmpl, GP_DEFAULT_OUTPUT);
            tmpl = NULL;
        }
        if (tmpl == NULL)
            tmpl = GP_DEFAULT_OUTPUT;
    }
    *tmpl_out = absolute_template(tmpl);
    if (*tmpl_out == NULL)
        return -1;
    rc |= setenv("GPUPROF_OUTPUT", *tmpl_out, 1);
    if (o->depth != NULL)
        rc |= setenv("GPUPROF_DEPTH", o->depth, 1);
    if (o->label != NULL)
        rc |= setenv("GPUPROF_LABEL", o->label, 1);
    if (o->no_python_stacks)
        rc |= setenv("GPUPROF_PYTHON_STACKS", "0", 1);
    return rc == 0 ? 0 : -1;
}

/* ---- signals ----------------------------------------------------------------------- */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])
static volatile pid_t child_pid;
static bool handler_set[NFORWARDED];

static void forward_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    pid_t c = child_pid;
    /* SI_KERNEL: the terminal (Ctrl-C, Ctrl-\, hangup) signalled the whole foreground
     * process group, COMMAND included; and a signal from COMMAND itself is not bounced. */
    if (c > 0 && si->si_code != SI_KERNEL && !(si->si_code <= 0 && si->si_pid == c))
        kill(c, sig);
    errno = saved;
}

/* Handlers for the forwarded signals, except those the launcher was told to ignore
 * (nohup, a background job's SIGINT): COMMAND inherits the ignoring instead. */
static void install_forwarding(void)
{
    for (size_t i = 0; i < NFORWARDED; i++) {
        struct sigaction cur;
        if (sigaction(forwarded[i], NULL, &cur) != 0 || cur.sa_handler == SIG_IGN)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        handler_set[i] = sigaction(forwarded[i], &sa, NULL) == 0;
    }
}

static void default_forwarded(void)
{
    for (size_t i = 0; i < NFORWARDED; i++)
        if (handler_set[i])
            signal(forwarded[i], SIG_DFL);
}

/* Dies of sig as COMMAND did, without a core file of the launcher's own (which could
 * overwrite COMMAND's). Falls back to the shell's 128+n. */
static int die_like(int sig)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_CORE, &rl) == 0) {
        rl.rlim_cur = 0;
        setrlimit(RLIMIT_CORE, &rl);
    }
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    fflush(NULL);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return 128 + sig;
}

/* ---- the report hint --------------------------------------------------------------- */
static void print_quoted(const char *s)
{
    if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_./,:+=@%-") == strlen(s)) {
        fputs(s, stderr);
        return;
    }
    fputc('\'', stderr);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stderr);
        else
            fputc(*s, stderr);
    }
    fputc('\'', stderr);
}

static void print_traces(const struct gp_trace_list *l, const char *report)
{
    if (l->count == 0) {
        fputs("gpuprof: no trace file was written (no CUDA allocation call was made, or tracing "
              "was off)\n", stderr);
        return;
    }
    for (size_t i = 0; i < l->count; i++) {
        fputs("gpuprof: trace written: ", stderr);
        print_quoted(l->files[i].path);
        fputs("\ngpuprof:   report: ", stderr);
        print_quoted(report);
        fputc(' ', stderr);
        print_quoted(l->files[i].path);
        fputc('\n', stderr);
    }
    fflush(stderr);
}

/* ---- run ---------------------------------------------------------------------------- */
static int cmd_run(int argc, char **argv)
{
    struct gp_run_opts o = {0};
    int rc = parse_run(argc, argv, &o);
    if (rc >= 0)
        return rc;

    char dir[PATH_MAX] = "", shim[PATH_MAX], report[PATH_MAX];
    static const char *const shim_rel[] = {"../lib/libgpuprof.so", NULL};
    static const char *const report_rel[] = {"gpuprof-report", "../report/gpuprof-report", NULL};
    if (!self_dir(dir, sizeof dir) || !find_next_to(dir, shim_rel, shim)) {
        fprintf(stderr, "gpuprof: cannot find libgpuprof.so (looked in %s/../lib)\n", dir);
        return EXIT_LAUNCHER;
    }
    if (!find_next_to(dir, report_rel, report))
        snprintf(report, sizeof report, "gpuprof-report");
    char *tmpl = NULL;
    if (setup_env(&o, shim, &tmpl) < 0) {
        fprintf(stderr, "gpuprof: cannot set up the environment: %s\n", strerror(errno));
        return EXIT_LAUNCHER;
    }
    struct gp_trace_list before;
    if (gp_traces_list(tmpl, &before) < 0)
        before.count = 0;

    /* The forwarded signals stay blocked until child_pid is known. */
    sigset_t fwd, old_mask;
    sigemptyset(&fwd);
    for (size_t i = 0; i < NFORWARDED; i++)
        sigaddset(&fwd, forwarded[i]);
    sigprocmask(SIG_BLOCK, &fwd, &old_mask);
    install_forwarding();
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        fprintf(stderr, "gpuprof: pipe: %s\n", strerror(errno));
        return EXIT_LAUNCHER;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "gpuprof: fork: %s\n", strerror(errno));
        return EXIT_LAUNCHER;
    }
    if (pid == 0) {
        close(pipefd[0]);
        default_forwarded();
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        execvp(o.command[0], o.command);
        int err = errno;
        ssize_t w = write(pipefd[1], &err, sizeof err);
        (void)w;
        _exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
    }
    close(pipefd[1]);
    child_pid = pid;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);

    int exec_err = 0;
    ssize_t n;
    do
        n = read(pipefd[0], &exec_err, sizeof exec_err);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);

    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "gpuprof: waitpid: %s\n", strerror(errno));
            return EXIT_LAUNCHER;
        }
    }
    child_pid = 0;
    if (n == (ssize_t)sizeof exec_err) {
        if (exec_err == ENOENT && strchr(o.command[0], '/') == NULL)
            fprintf(stderr, "gpuprof: %s: command not found\n", o.command[0]);
        else
            fprintf(stderr, "gpuprof: %s: %s\n", o.command[0], strerror(exec_err));
        return exec_err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
    }

    struct gp_trace_list now;
    if (gp_traces_list(tmpl, &now) == 0) {
        gp_traces_subtract(&now, &before);
        print_traces(&now, report);
        gp_traces_free(&now);
    }
    gp_traces_free(&before);
    free(tmpl);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return die_like(WTERMSIG(status));
    return EXIT_LAUNCHER;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("no command given", NULL);
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0)
        return show_help();
    if (strcmp(a, "--version") == 0) {
        printf("gpuprof %s\n", GPUPROF_VERSION);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    if (strcmp(a, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    return usage_error(a[0] == '-' ? "unknown option" : "unknown command", a);
}
