/* main.c — gpuprof-report's command line: options, input checks, which views to run,
 * and exit codes (0 done, 1 bad input or a failed output, 2 usage error). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "view_html.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2
#define TOP_DEFAULT 10
#define TOP_MAX 100000

static const char usage_text[] =
    "Usage: gpuprof-report [options] TRACE\n"
    "       gpuprof-report [--json] [--top N] TRACE TRACE... | DIR\n"
    "       gpuprof-report fit [fit options] TRACE TRACE [TRACE...]\n"
    "Summarize a gpuprof trace: peak device memory and the call sites holding it, PyTorch's\n"
    "allocated vs reserved memory, every OOM with its evidence and advice, kernels and the GPU\n"
    "busy share, and whether matrix products ran on Tensor Cores.\n"
    "\n"
    "Modes (text is the default; --json replaces it; --plot can be added to either):\n"
    "  text summary for people     gpuprof-report gpuprof.1234.gz\n"
    "  JSON summary for scripts    gpuprof-report --json gpuprof.1234.gz > summary.json\n"
    "  device memory plot          gpuprof-report --plot memory.png gpuprof.1234.gz\n"
    "                              gpuprof-report --json --plot memory.svg gpuprof.1234.gz\n"
    "  Perfetto timeline           gpuprof-report --perfetto trace.json gpuprof.1234.gz\n"
    "                              gpuprof-report --perfetto cut.json --from 2 --to 3 gpuprof.1234.gz\n"
    "                              gpuprof-report --perfetto job.json run/   (every process)\n"
    "  job of many processes       gpuprof-report run/gpuprof.*.gz\n"
    "  (peaks, first OOM, balance) gpuprof-report --json run/    (its gpuprof*.gz files)\n"
    "  kernel timeline plot        gpuprof-report --plot-timeline timeline.png gpuprof.1234.gz\n"
    "                              gpuprof-report --plot-timeline step.svg --range step gpuprof.1234.gz\n"
    "  one HTML page to share      gpuprof-report --html report.html gpuprof.1234.gz\n"
    "                              gpuprof-report --html job.html run/   (job page, batch fit)\n"
    "  CSV tables for pandas       gpuprof-report --csv tables/ gpuprof.1234.gz\n"
    "  largest batch that fits     gpuprof-report fit b8.gz b16.gz b32.gz\n"
    "  (runs labelled batch=N)     gpuprof-report fit --json --plot fit.png b8.gz b16.gz\n"    "  Tensor Core class of names  gpuprof-report --classify-kernels names.txt   (no trace)\n"
    "\n"
    "Options:\n"
    "  --json        print the JSON summary (docs/json-schema.md) instead of text\n"
    "  --plot FILE   draw device memory over time into FILE (.png or .svg; needs gnuplot)\n"
    "  --plot-timeline FILE\n"
    "                draw kernels and copies per stream over time into FILE (.png or .svg;\n"
    "                needs gnuplot); --timeline FILE is the same\n"
    "  --from S, --to S\n"
    "                the window of --plot-timeline and --perfetto, in seconds since the trace\n"
    "                started (--plot-timeline's default: the last complete NVTX range of the\n"
    "                most frequent name, else the whole run; --perfetto's: the whole run)\n"
    "  --range NAME  the window of --plot-timeline and --perfetto: the last complete NVTX\n"
    "                range called NAME (not with --from/--to)\n"
    "  --perfetto FILE\n"
    "                write Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing) into\n"
    "                FILE: memory counters, allocation and library calls, kernels, copies,\n"
    "                NVTX ranges, launch arrows; --from/--to cut it; with several traces, one\n"
    "                timeline of the job aligned on the hosts' wall clocks\n"
    "  --html FILE   write one self-contained HTML page into FILE: environment, memory plot,\n"
    "                kernel timeline (the window of --plot-timeline), peak sites, OOMs, PyTorch,\n"
    "                top kernels, Tensor Cores; with several traces the job page (and the\n"
    "                batch-size fit when their labels carry batch=N)\n"
    "  --csv DIR     write allocations.csv, kernels.csv and libcalls.csv into DIR (made if\n"
    "                missing)\n"
    "  --classify-kernels FILE\n"
    "                read kernel names, one per line (FILE or - for stdin), and print\n"
    "                name<TAB>tensor|cuda-core|unknown<TAB>rule: reason for each (no trace)\n"
    "  --top N       list the N largest call sites at each moment (default 10)\n"
    "  --native      text: every native frame under Python frames (by default a Python stack\n"
    "                shows its Python frames and the native frame that called CUDA)\n"
    "  --quiet       no progress on stderr (errors and warnings still go there)\n"
    "  --help        show this help\n"
    "  --version     show the version\n"
    "\n"
    "Batch-size fit (gpuprof-report fit): runs of the same job at different batch sizes,\n"
    "each labelled batch=N (GPUPROF_LABEL='batch=N' or gpuprof run --label 'batch=N'); fits\n"
    "peak = fixed + per sample x batch (PyTorch's allocated peak when the adapter ran in every\n"
    "run, else the device memory held) and prints the largest batch that fits the device\n"
    "less a headroom (the --headroom share plus the fragmentation seen in the runs).\n"
    "  --json              print the fit as JSON (docs/json-schema.md \"Batch-size fit\")\n"
    "  --plot FILE         draw the runs, the line and the usable memory (.png or .svg)\n"
    "  --batch N,N,...     the batch size of each trace, in order (instead of the labels)\n"
    "  --headroom F        share of the device kept free, 0 to 0.9 (default 0.05)\n"
    "  --device-total BYTES\n"
    "                      the device's memory (e.g. 85899345920, 80GiB, 16G) when the\n"
    "                      traces do not say, or to plan for another GPU\n"
    "  --context-bytes BYTES\n"
    "                      device memory to keep for the CUDA context, replacing what the\n"
    "                      traces measured (default where they did not: 500MiB); 0 = none\n"
    "  --quiet             no progress on stderr\n"
    "\n"
    "Exit status: 0 success, 1 unreadable or invalid trace or failed output, 2 usage error.\n";

struct cli {
    int json;
    int native;
    const char *plot;
    const char *timeline;
    const char *perfetto;
    const char *csv;
    const char *html;
    struct gp_report_window window;
    int quiet;
    size_t top;
    const char *trace;
    char **traces; /* all of them, ntraces >= 1 */
    int ntraces;
};

static int usage_error(const char *msg, const char *arg)
{
    if (arg)
        fprintf(stderr, "gpuprof-report: %s '%s'\n", msg, arg);
    else
        fprintf(stderr, "gpuprof-report: %s\n", msg);
    fputs("Try 'gpuprof-report --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct cli *cli)
{
    enum { OPT_JSON = 1000, OPT_PLOT, OPT_TOP, OPT_HELP, OPT_VERSION, OPT_TIMELINE, OPT_FROM,
           OPT_TO, OPT_PERFETTO, OPT_CSV, OPT_HTML, OPT_NATIVE, OPT_RANGE, OPT_QUIET };
    static const struct option longopts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "native", no_argument, NULL, OPT_NATIVE },
        { "plot", required_argument, NULL, OPT_PLOT },
        { "top", required_argument, NULL, OPT_TOP },
        { "plot-timeline", required_argument, NULL, OPT_TIMELINE },
        { "timeline", required_argument, NULL, OPT_TIMELINE },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "range", required_argument, NULL, OPT_RANGE },
        { "quiet", no_argument, NULL, OPT_QUIET },
        { "perfetto", required_argument, NULL, OPT_PERFETTO },
        { "csv", required_argument, NULL, OPT_CSV },
        { "html", required_argument, NULL, OPT_HTML },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    int c;
    cli->top = TOP_DEFAULT;
    cli->window.from_ns = cli->window.to_ns = UINT64_MAX;
    opterr = 0; /* our own messages */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            cli->json = 1;
            break;
        case OPT_NATIVE:
            cli->native = 1;
            break;
        case OPT_PLOT:
            cli->plot = optarg;
            if (gp_report_plot_format_of(optarg) == GP_REPORT_PLOT_NONE)
                return usage_error("--plot needs a file ending in .png or .svg, not", optarg);
            break;
        case OPT_TIMELINE:
            cli->timeline = optarg;
            if (gp_report_plot_format_of(optarg) == GP_REPORT_PLOT_NONE)
                return usage_error("--plot-timeline needs a file ending in .png or .svg, not", optarg);
            break;
        case OPT_PERFETTO:
            cli->perfetto = optarg;
            break;
        case OPT_CSV:
            cli->csv = optarg;
            break;
        case OPT_HTML:
            cli->html = optarg;
            break;
        case OPT_RANGE:
            if (!optarg[0])
                return usage_error("--range needs the name of an NVTX range", NULL);
            cli->window.range = optarg;
            break;
        case OPT_QUIET:
            cli->quiet = 1;
            break;
        case OPT_FROM:
        case OPT_TO: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || !(v >= 0 && v < 1e9))
                return usage_error(c == OPT_FROM ? "--from needs seconds (0 or more), not"
                                                 : "--to needs seconds (0 or more), not", optarg);
            *(c == OPT_FROM ? &cli->window.from_ns : &cli->window.to_ns) = (uint64_t)(v * 1e9);
            break;
        }
        case OPT_TOP: {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || v < 1 || v > TOP_MAX)
                return usage_error("--top needs a number from 1 to 100000, not", optarg);
            cli->top = v;
            break;
        }
        case OPT_HELP:
            fputs(usage_text, stdout);
            return ferror(stdout) ? EXIT_BAD_INPUT : 0;
        case OPT_VERSION:
            printf("gpuprof-report %s (trace format %u, JSON schema %d)\n", GP_REPORT_VERSION,
                   GP_TRACE_VERSION, GP_REPORT_JSON_SCHEMA_VERSION);
            return ferror(stdout) ? EXIT_BAD_INPUT : 0;
        default:
            if (optopt >= OPT_JSON)
                return usage_error("missing value for", argv[optind - 1]);
            if (optopt) {
                char opt[3] = { '-', (char)optopt, '\0' };
                return usage_error("unknown option", opt);
            }
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind == argc)
        return usage_error("no trace file given", NULL);
    if (cli->window.range &&
        (cli->window.from_ns != UINT64_MAX || cli->window.to_ns != UINT64_MAX))
        return usage_error("--range cannot be combined with --from or --to", NULL);
    if (cli->window.from_ns != UINT64_MAX && cli->window.to_ns != UINT64_MAX &&
        cli->window.to_ns <= cli->window.from_ns)
        return usage_error("--to must be later than --from", NULL);
    cli->trace = argv[optind];
    cli->traces = argv + optind;
    cli->ntraces = argc - optind;
    return -1;
}

/* Refuses what the reader should never be handed: a directory, or a FIFO or device
 * that could block forever. Writes the reason into err. */
static int check_input(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "is a directory, not a trace file");
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        return -1;
    }
    if (st.st_size == 0) {
        snprintf(err, errlen, "empty file, not a trace");
        return -1;
    }
    return 0;
}

/* Writes the Perfetto timeline into path; the reason on stderr when it fails. */
static int write_perfetto(const char *path, const struct gp_report *r,
                          const struct gp_report_window *win)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gpuprof-report: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = gp_report_view_perfetto(f, r, win);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0) {
        fprintf(stderr, "gpuprof-report: %s: cannot write: %s\n", path, strerror(-rc));
        return -1;
    }
    return 0;
}

/* Writes the HTML page into path (one trace: r and win; several: mu, with the batch-size
 * fit when fit is set, or why not in fit_note); the reason on stderr when it fails. */
static int write_html(const char *path, struct gp_report *r, const struct gp_report_window *win,
                      const struct gp_report_multi *mu, const struct gp_report_fit *fit,
                      const char *fit_note)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gpuprof-report: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = mu ? gp_report_view_html_job(f, mu, fit, fit_note)
                : gp_report_view_html_window(f, r, win);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0) {
        fprintf(stderr, "gpuprof-report: %s: cannot write: %s\n", path, strerror(-rc));
        return -1;
    }
    return 0;
}

/* --html with several traces: the job page, with the batch-size fit when every trace's label
 * carries batch=N and there are two sizes or more (ranks of one job share one size: no fit). */
static int write_html_job(const char *path, const struct gp_report_multi *mu)
{
    struct gp_report_fit fit;
    char err[1024];
    const char *note = NULL;
    size_t labelled = 0, distinct = 0;
    gp_report_fit_init(&fit);
    for (size_t i = 0; i < mu->n; i++) {
        uint64_t b = gp_report_torch_label_batch(mu->v[i].label);
        int seen = 0;
        for (size_t k = 0; b && k < i; k++)
            seen |= gp_report_torch_label_batch(mu->v[k].label) == b;
        labelled += b != 0;
        distinct += b && !seen;
    }
    if (labelled == mu->n && distinct >= 2) {
        for (size_t i = 0; i < mu->n && !note; i++)
            if (gp_report_fit_add_trace(&fit, mu->v[i].path,
                                        gp_report_torch_label_batch(mu->v[i].label), err,
                                        sizeof(err)) < 0)
                note = err;
        if (!note && gp_report_fit_solve(&fit, err, sizeof(err)) < 0)
            note = err;
    } else if (labelled && labelled < mu->n) {
        note = "only some of the traces' labels carry a batch size (batch=N)";
    }
    int rc = write_html(path, NULL, NULL, mu, labelled == mu->n && distinct >= 2 && !note ? &fit : NULL,
                        note);
    gp_report_fit_fini(&fit);
    return rc;
}

/* Several traces (or a directory of them): the job summary. */
static int run_multi(const struct cli *cli, char **paths, size_t n)
{
    const char *single = cli->plot       ? "--plot"
                         : cli->timeline ? "--plot-timeline"
                         : cli->csv      ? "--csv"
                         : cli->perfetto && cli->window.range ? "--range"
                                         : NULL;
    if (single)
        return usage_error("this option takes one trace, not several:", single);
    /* One process counted twice would skew every comparison. */
    for (size_t i = 0; i < n; i++) {
        struct stat a, b;
        if (stat(paths[i], &a) < 0)
            continue;
        for (size_t k = 0; k < i; k++)
            if (stat(paths[k], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return usage_error("the same trace given twice:", paths[i]);
    }
    struct gp_report_multi mu = { 0 };
    struct gp_report_options opt = { .top = cli->top };
    struct gp_report_pf_proc *pf = NULL; /* --perfetto: what the combined timeline needs */
    size_t npf = 0;
    char err[512];
    int status = 0;
    if (cli->perfetto && !(pf = calloc(n, sizeof(*pf)))) {
        fprintf(stderr, "gpuprof-report: out of memory\n");
        return EXIT_BAD_INPUT;
    }
    for (size_t i = 0; i < n && status == 0; i++) {
        struct gp_report r;
        err[0] = '\0';
        if (check_input(paths[i], err, sizeof(err)) < 0 ||
            gp_report_load(&r, paths[i], &opt, err, sizeof(err)) < 0) {
            fprintf(stderr, "gpuprof-report: %s: %s\n", paths[i],
                    err[0] ? err : "cannot read the trace");
            status = EXIT_BAD_INPUT;
            break;
        }
        if (gp_report_multi_add(&mu, paths[i], &r) < 0 ||
            (pf && gp_report_pf_proc_set(&pf[npf++], paths[i], r.model, r.torch.present) < 0)) {
            fprintf(stderr, "gpuprof-report: out of memory\n");
            status = EXIT_BAD_INPUT;
        }
        gp_report_fini(&r);
    }
    if (status == 0) {
        gp_report_multi_finish(&mu);
        int rc = cli->json ? gp_report_view_multi_json(stdout, &mu)
                           : gp_report_view_multi_text(stdout, &mu);
        if (rc == 0 && fflush(stdout) != 0)
            rc = -EIO;
        if (rc < 0) {
            fprintf(stderr, "gpuprof-report: cannot write the report: %s\n", strerror(-rc));
            status = EXIT_BAD_INPUT;
        }
    }
    if (status == 0 && pf) {
        FILE *f = fopen(cli->perfetto, "w");
        int rc = f ? gp_report_view_perfetto_job(f, pf, npf, &cli->window, err, sizeof(err)) : -errno;
        if (!f)
            snprintf(err, sizeof(err), "%s: cannot create: %s", cli->perfetto, strerror(-rc));
        if (f && fclose(f) != 0 && rc == 0) {
            rc = -EIO;
            snprintf(err, sizeof(err), "%s: cannot write: %s", cli->perfetto, strerror(EIO));
        } else if (f && rc == -EIO) {
            snprintf(err, sizeof(err), "%s: cannot write: %s", cli->perfetto, strerror(EIO));
        }
        if (rc < 0) {
            fprintf(stderr, "gpuprof-report: %s\n", err);
            status = EXIT_BAD_INPUT;
        }
    }
    if (status == 0 && cli->html && write_html_job(cli->html, &mu) < 0)
        status = EXIT_BAD_INPUT;
    for (size_t i = 0; i < npf; i++)
        gp_report_pf_proc_fini(&pf[i]);
    free(pf);
    gp_report_multi_fini(&mu);
    return status;
}

/* ---- gpuprof-report fit ------------------------------------------------------------ */
static int run_fit(int argc, char **argv)
{
    enum { F_JSON = 1000, F_PLOT, F_BATCH, F_HEADROOM, F_TOTAL, F_CONTEXT, F_QUIET, F_HELP };
    static const struct option longopts[] = {
        { "json", no_argument, NULL, F_JSON },
        { "plot", required_argument, NULL, F_PLOT },
        { "batch", required_argument, NULL, F_BATCH },
        { "headroom", required_argument, NULL, F_HEADROOM },
        { "device-total", required_argument, NULL, F_TOTAL },
        { "context-bytes", required_argument, NULL, F_CONTEXT },
        { "quiet", no_argument, NULL, F_QUIET },
        { "help", no_argument, NULL, F_HELP },
        { NULL, 0, NULL, 0 },
    };
    struct gp_report_fit fit;
    const char *plot = NULL;
    uint64_t *batches = NULL;
    int json = 0, nbatches = 0, c, status = 0, rc;
    char err[1024];
    gp_report_fit_init(&fit);
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case F_JSON:
            json = 1;
            break;
        case F_PLOT:
            plot = optarg;
            if (gp_report_plot_format_of(optarg) == GP_REPORT_PLOT_NONE)
                status = usage_error("--plot needs a file ending in .png or .svg, not", optarg);
            break;
        case F_BATCH:
            free(batches);
            nbatches = gp_report_fit_parse_batches(optarg, &batches);
            if (nbatches < 0)
                status = usage_error("--batch needs whole numbers from 1, comma-separated "
                                     "(e.g. 8,16,32), not", optarg);
            break;
        case F_HEADROOM: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || !(v >= 0 && v <= 0.9))
                status = usage_error("--headroom needs a share from 0 to 0.9 (e.g. 0.05), not",
                                     optarg);
            else
                fit.headroom_base = (uint32_t)(v * GP_REPORT_FIT_UNITS + 0.5);
            break;
        }
        case F_TOTAL:
            fit.device_total_opt = gp_report_fit_parse_bytes(optarg);
            if (!fit.device_total_opt)
                status = usage_error("--device-total needs bytes (e.g. 85899345920 or 80GiB), "
                                     "not", optarg);
            break;
        case F_CONTEXT:
            /* 0 is a valid answer here ("no context"), unlike for --device-total */
            fit.context_opt = gp_report_fit_parse_bytes(optarg);
            fit.context_opt_given = 1;
            if (!fit.context_opt && strcmp(optarg, "0") != 0)
                status = usage_error("--context-bytes needs bytes (e.g. 524288000 or 500MiB), "
                                     "not", optarg);
            break;
        case F_QUIET:
            gp_report_quiet = 1;
            break;
        case F_HELP:
            fputs(usage_text, stdout);
            status = ferror(stdout) ? EXIT_BAD_INPUT : 0;
            goto out;
        default:
            if (optopt >= F_JSON)
                status = usage_error("missing value for", argv[optind - 1]);
            else
                status = usage_error("unknown option for fit", argv[optind - 1]);
        }
        if (status)
            goto out;
    }
    int ntraces = argc - optind;
    if (ntraces < 2) {
        status = usage_error("fit needs two or more traces (runs at different batch sizes)",
                             NULL);
        goto out;
    }
    if (batches && nbatches != ntraces) {
        snprintf(err, sizeof(err), "--batch gives %d sizes for %d traces; give one per trace, "
                 "in order", nbatches, ntraces);
        status = usage_error(err, NULL);
        goto out;
    }
    for (int i = 0; i < ntraces; i++) {
        const char *path = argv[optind + i];
        err[0] = '\0';
        if (check_input(path, err, sizeof(err)) < 0) {
            fprintf(stderr, "gpuprof-report: fit: %s: %s\n", path, err);
            status = EXIT_BAD_INPUT;
            goto out;
        }
        if (gp_report_fit_add_trace(&fit, path, batches ? batches[i] : 0, err, sizeof(err)) < 0) {
            fprintf(stderr, "gpuprof-report: fit: %s\n", err);
            status = EXIT_BAD_INPUT;
            goto out;
        }
        if (fit.v[fit.n - 1].truncated)
            fprintf(stderr, "gpuprof-report: fit: %s: warning: the trace is truncated; its "
                    "peak may be too low\n", path);
    }
    if (gp_report_fit_solve(&fit, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: fit: %s\n", err);
        status = EXIT_BAD_INPUT;
        goto out;
    }
    rc = json ? gp_report_view_fit_json(stdout, &fit) : gp_report_view_fit_text(stdout, &fit);
    if (rc == 0 && fflush(stdout) != 0)
        rc = -EIO;
    if (rc < 0) {
        fprintf(stderr, "gpuprof-report: cannot write the report: %s\n", strerror(-rc));
        status = EXIT_BAD_INPUT;
    }
    if (status == 0 && plot && gp_report_view_fit_plot(plot, &fit, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: fit: %s\n", err);
        status = EXIT_BAD_INPUT;
    }
out:
    free(batches);
    gp_report_fit_fini(&fit);
    return status;
}

/* --classify-kernels FILE: the Tensor Core name table on names alone (docs/tensor-cores.md). */
static int run_classify(const char *path)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    if (!in) {
        fprintf(stderr, "gpuprof-report: %s: %s\n", path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    int rc = gp_report_classify_kernels(in, stdout);
    if (rc == 0 && (ferror(in) || fflush(stdout) != 0))
        rc = -EIO;
    if (in != stdin)
        fclose(in);
    if (rc < 0) {
        fprintf(stderr, "gpuprof-report: --classify-kernels: %s\n", strerror(-rc));
        return EXIT_BAD_INPUT;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli = { 0 };
    struct gp_report r;
    char err[512] = "";
    if (argc == 3 && strcmp(argv[1], "--classify-kernels") == 0)
        return run_classify(argv[2]);
    if (argc > 1 && strcmp(argv[1], "--classify-kernels") == 0)
        return usage_error("--classify-kernels takes one FILE (or -) and nothing else", NULL);
    if (argc > 1 && strcmp(argv[1], "fit") == 0) {
        unsetenv("DEBUGINFOD_URLS"); /* as below */
        return run_fit(argc - 1, argv + 1);
    }
    int status = parse_args(argc, argv, &cli);
    if (status >= 0)
        return status;
    gp_report_quiet = cli.quiet;

    /* An offline report must not wait on the network: keep libdw from asking
     * debuginfod servers for debug information. */
    unsetenv("DEBUGINFOD_URLS");

    if (cli.ntraces > 1)
        return run_multi(&cli, cli.traces, (size_t)cli.ntraces);
    struct stat st;
    if (stat(cli.trace, &st) == 0 && S_ISDIR(st.st_mode)) {
        char **paths;
        size_t n;
        int rc = gp_report_multi_list_dir(cli.trace, &paths, &n);
        if (rc < 0 || n == 0) {
            /* no gpuprof*.gz there: the plain "not a trace file" error below */
            gp_report_multi_free_list(paths, n);
        } else {
            status = run_multi(&cli, paths, n);
            gp_report_multi_free_list(paths, n);
            return status;
        }
    }

    if (check_input(cli.trace, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: %s: %s\n", cli.trace, err);
        return EXIT_BAD_INPUT;
    }
    struct gp_report_options opt = { .top = cli.top, .timeline = cli.plot || cli.html,
                                     .events = 0 /* --perfetto, --csv stream (second read) */ };
    if (gp_report_load(&r, cli.trace, &opt, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: %s: %s\n", cli.trace,
                err[0] ? err : "cannot read the trace");
        return EXIT_BAD_INPUT;
    }
    r.native = cli.native;
    cli.window.trace = cli.trace;
    if (cli.window.range && (cli.timeline || cli.perfetto || cli.html)) {
        struct gp_report_range g;
        if (gp_report_kernels_find_range(&r.kernels, r.model, cli.window.range, &g, err,
                                         sizeof(err)) < 0) {
            fprintf(stderr, "gpuprof-report: %s: %s\n", cli.trace, err);
            gp_report_fini(&r);
            return EXIT_BAD_INPUT;
        }
    }
    if (r.model->health.truncated)
        fprintf(stderr,
                "gpuprof-report: %s: warning: the trace is truncated; reporting what was read\n",
                cli.trace);

    status = 0;
    int rc = cli.json ? gp_report_view_json(stdout, &r) : gp_report_view_text(stdout, &r);
    if (rc == 0 && fflush(stdout) != 0)
        rc = -EIO;
    if (rc < 0) {
        fprintf(stderr, "gpuprof-report: cannot write the report: %s\n", strerror(-rc));
        status = EXIT_BAD_INPUT;
    }
    if (status == 0 && cli.plot && gp_report_view_plot(cli.plot, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: %s\n", err);
        status = EXIT_BAD_INPUT;
    }
    if (status == 0 && cli.timeline &&
        gp_report_view_timeline(cli.timeline, &r, &cli.window, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: %s\n", err);
        status = EXIT_BAD_INPUT;
    }
    if (status == 0 && cli.html && write_html(cli.html, &r, &cli.window, NULL, NULL, NULL) < 0)
        status = EXIT_BAD_INPUT;
    if (status == 0 && cli.perfetto && write_perfetto(cli.perfetto, &r, &cli.window) < 0)
        status = EXIT_BAD_INPUT;
    if (status == 0 && cli.csv && gp_report_view_csv(cli.csv, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "gpuprof-report: %s\n", err);
        status = EXIT_BAD_INPUT;
    }
    gp_report_fini(&r);
    return status;
}
