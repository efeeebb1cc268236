/* make_trace.c — writes the traces the command-line tests (check_cli.py) and the speed
 * measurement run gpuprof-report on, with the real trace writer.
 *   make_trace basic OUT          sites, kinds, an OOM, dropped events
 *   make_trace evil OUT MARKER    hostile strings everywhere a trace has strings
 *   make_trace truncated OUT      no END record
 *   make_trace symbols OUT        a stack through this program's static site_alpha
 *   make_trace big OUT N          N events with a bounded live set, for speed
 *   make_trace sawtooth OUT N     50000 live sites, then N events each setting a new
 *                                 peak and falling back: the worst case for peak sites */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_builder.h"

static const struct tb_stack site_a = { 3, { 0x401000, 0x402000, 0x403000 } };
static const struct tb_stack site_b = { 2, { 0x401100, 0x403000 } };
static const struct tb_stack site_c = { 2, { 0x401200, 0x403000 } };

static int basic_events(struct tb *tb)
{
    int rc = 0;
    rc |= gp_trace_writer_module(tb->w, "/opt/app/libmodel.so", 0x400000, 0x400000, 0x500000);
    rc |= tb_alloc(tb, 1000, GP_MEM_DEVICE, 0x7f0000000000, 3u << 20, &site_a);
    rc |= tb_alloc(tb, 2000, GP_MEM_DEVICE, 0x7f0000400000, 1u << 20, &site_b);
    rc |= tb_alloc(tb, 2100, GP_MEM_MANAGED, 0x7e0000000000, 5u << 20, &site_c);
    rc |= tb_alloc(tb, 2200, GP_MEM_HOST_PINNED, 0x600000000000, 2u << 20, &site_c);
    rc |= tb_event(tb, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, GP_MEM_DEVICE, 0, 2300, 2u << 20,
                   0, 6u << 20, 0, NULL);
    rc |= tb_event(tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, 2, 2500, 8u << 20, 0, 0, 0,
                   &site_c);
    rc |= tb_oom(tb, 2500, 8u << 20, 2u << 20, 6u << 20, &site_c);
    rc |= tb_free(tb, 3000, 0x7f0000000000);
    rc |= tb_free(tb, 3100, 0xdeadbeef000);
    rc |= gp_trace_writer_dropped(tb->w, 4);
    rc |= tb_alloc(tb, 4000, GP_MEM_DEVICE, 0x7f0000800000, 1u << 19, &site_a);
    return rc;
}

static int make_basic(const char *out, int cut)
{
    struct tb tb;
    int rc = tb_open_path(&tb, out, NULL);
    if (rc < 0)
        return rc;
    rc = basic_events(&tb);
    int rc2 = cut ? tb_cut(&tb) : tb_close(&tb);
    return rc ? rc : rc2;
}

static int make_evil(const char *out, const char *marker)
{
    char payload[1024], label[1200];
    struct gp_trace_header h;
    struct tb tb;
    snprintf(payload, sizeof(payload), "'; system(\"touch %s\")", marker);
    snprintf(label, sizeof(label),
             "%s\n\"quoted\" \\ \x01\x1b[2J \xff\xfe \xed\xa0\x80 caf\xc3\xa9 "
             "'; system(\"touch /tmp/pwned\")",
             payload);
    tb_header_defaults(&h);
    h.label = label;
    h.exe = payload;
    h.host = "host\"'`$(touch /tmp/pwned)`";
    h.cmdline = label;
    int rc = tb_open_path(&tb, out, &h);
    if (rc < 0)
        return rc;
    rc |= basic_events(&tb);
    /* later than basic's module over the same range, so frames name this path */
    rc |= gp_trace_writer_module(tb.w, payload, 0x400000, 0x400000, 0x500000);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

/* noinline and address-taken so it keeps its own symbol in this -g program. */
static __attribute__((noinline)) int site_alpha(int x)
{
    return x * 5 + 2;
}

struct self {
    uint64_t bias, start, end;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    struct self *s = data;
    (void)size;
    s->bias = info->dlpi_addr;
    s->start = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_LOAD)
            continue;
        uint64_t lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        uint64_t hi = lo + info->dlpi_phdr[i].p_memsz;
        s->start = lo < s->start ? lo : s->start;
        s->end = hi > s->end ? hi : s->end;
    }
    return 1; /* the main program comes first */
}

static int make_symbols(const char *out)
{
    char exe[PATH_MAX];
    struct self self = { 0 };
    struct tb tb;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0 || site_alpha(1) != 7)
        return -EIO;
    exe[n] = '\0';
    dl_iterate_phdr(find_self, &self);
    struct tb_stack st = { 1, { (uint64_t)(uintptr_t)&site_alpha + 1 } };
    int rc = tb_open_path(&tb, out, NULL);
    if (rc < 0)
        return rc;
    rc |= gp_trace_writer_module(tb.w, exe, self.bias, self.start, self.end);
    rc |= tb_alloc(&tb, 10, GP_MEM_DEVICE, 0x1000, 4096, &st);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

/* N events: allocations from 64 stacks (depth 8) into a ring of 4096 live pointers,
 * each allocation freeing the pointer that held the slot before, with a pinned and a
 * managed allocation now and then: bounded live set, as in a training loop. */
static int make_big(const char *out, uint64_t n)
{
    enum { RING = 4096, STACKS = 64 };
    static uint64_t ring[RING];
    struct tb_stack stacks[STACKS];
    struct tb tb;
    for (int s = 0; s < STACKS; s++) {
        stacks[s].n = 8;
        for (int d = 0; d < 8; d++)
            stacks[s].ips[d] = 0x400000 + (uint64_t)(d == 0 ? s : (s % 8) * 8 + d) * 0x40;
    }
    int rc = tb_open_path(&tb, out, NULL);
    if (rc < 0)
        return rc;
    uint64_t t = 0, next_ptr = 0x7f0000000000, i = 0;
    for (uint64_t j = 0; i < n && rc == 0; j++, t += 150) {
        size_t slot = (size_t)(j % RING);
        if (ring[slot]) {
            rc = tb_free(&tb, t, ring[slot]);
            ring[slot] = 0;
            if (++i == n || rc < 0)
                break;
        }
        unsigned kind = j % 97 == 0   ? GP_MEM_HOST_PINNED
                        : j % 89 == 0 ? GP_MEM_MANAGED
                                      : GP_MEM_DEVICE;
        ring[slot] = next_ptr;
        next_ptr += 0x10000;
        rc = tb_alloc(&tb, t, kind, ring[slot], 256 + (j % 7919) * 512, &stacks[j % STACKS]);
        i++;
    }
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

static int make_sawtooth(const char *out, uint64_t n)
{
    enum { SITES = 50000 };
    struct tb tb;
    struct tb_stack st = { 2, { 0, 0x300000 } };
    int rc = tb_open_path(&tb, out, NULL);
    if (rc < 0)
        return rc;
    uint64_t t = 0;
    for (uint64_t i = 0; i < SITES && rc == 0; i++, t++) {
        st.ips[0] = 0x400000 + i * 16;
        rc = tb_alloc(&tb, t, GP_MEM_DEVICE, 0x7f0000000000 + i * 0x1000, 4096, &st);
    }
    st.ips[0] = 0x200000;
    for (uint64_t i = 0; i + 1 < n && rc == 0; i += 2, t++) {
        rc = tb_alloc(&tb, t, GP_MEM_DEVICE, 0x10000, 1 + i, &st);
        if (rc == 0)
            rc = tb_free(&tb, t, 0x10000);
    }
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc >= 3 && strcmp(argv[1], "basic") == 0)
        rc = make_basic(argv[2], 0);
    else if (argc >= 3 && strcmp(argv[1], "truncated") == 0)
        rc = make_basic(argv[2], 1);
    else if (argc >= 4 && strcmp(argv[1], "evil") == 0)
        rc = make_evil(argv[2], argv[3]);
    else if (argc >= 3 && strcmp(argv[1], "symbols") == 0)
        rc = make_symbols(argv[2]);
    else if (argc >= 4 && strcmp(argv[1], "big") == 0)
        rc = make_big(argv[2], strtoull(argv[3], NULL, 10));
    else if (argc >= 4 && strcmp(argv[1], "sawtooth") == 0)
        rc = make_sawtooth(argv[2], strtoull(argv[3], NULL, 10));
    else {
        fprintf(stderr, "usage: make_trace basic|truncated|symbols OUT | evil OUT MARKER | "
                        "big|sawtooth OUT N\n");
        return 2;
    }
    if (rc != 0)
        fprintf(stderr, "make_trace: %s: %s\n", argv[1], strerror(rc < 0 ? -rc : EIO));
    return rc != 0;
}
