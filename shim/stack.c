/* stack.c — native call stacks with libunwind's fast local unwinder. The shim's own
 * frames are cut off the top so every stack starts in the program. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <string.h>

#include "internal.h"
#include "stack.h"

#define GP_STACK_SKIP_MAX 8 /* shim frames above the program's: wrapper + helpers */

static uintptr_t gp_self_start, gp_self_end; /* the shim's own code */
/* Under ThreadSanitizer, unw_backtrace's per-thread cache is torn down after TSan has
 * finished the thread, which crashes every thread that unwound. Step by step
 * unwinding keeps no such cache: slower, used only there. */
static bool gp_stack_slow;

struct gp_self_search {
    uintptr_t base;
    uintptr_t start, end;
};

static int gp_find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct gp_self_search *s = arg;
    if (info->dlpi_addr != s->base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (s->start == 0 || a < s->start)
            s->start = a;
        if (a + ph->p_memsz > s->end)
            s->end = a + ph->p_memsz;
    }
    return 1;
}

void gp_stack_init(void)
{
    Dl_info dli;
    if (dladdr((void *)&gp_stack_init, &dli) == 0)
        return;
    struct gp_self_search s = {(uintptr_t)dli.dli_fbase, 0, 0};
    dl_iterate_phdr(gp_find_self, &s);
    gp_self_start = s.start;
    gp_self_end = s.end;
    gp_stack_slow = dlsym(RTLD_DEFAULT, "__tsan_init") != NULL;
    /* Per-thread caches avoid a global lock inside libunwind on every unwind. */
    if (!gp_stack_slow)
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

static int gp_stack_step(void **buf, int size)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0)
        return 0;
    int n = 0;
    while (n < size && unw_step(&cur) > 0) {
        unw_word_t ip = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        buf[n++] = (void *)(uintptr_t)ip;
    }
    return n;
}

unsigned gp_stack_capture(uint64_t *ips, unsigned max)
{
    if (max == 0)
        return 0;
    _Static_assert(sizeof(void *) == sizeof(uint64_t), "ips are stored as 64-bit values");
    void *buf[GP_TRACE_MAX_FRAMES + GP_STACK_SKIP_MAX];
    int n = gp_stack_slow ? gp_stack_step(buf, (int)(max + GP_STACK_SKIP_MAX))
                          : unw_backtrace(buf, (int)(max + GP_STACK_SKIP_MAX));
    if (n <= 0)
        return 0;
    int skip = 0;
    while (skip < n && skip < GP_STACK_SKIP_MAX && (uintptr_t)buf[skip] >= gp_self_start &&
           (uintptr_t)buf[skip] < gp_self_end)
        skip++;
    unsigned count = (unsigned)(n - skip);
    if (count > max)
        count = max;
    memcpy(ips, buf + skip, count * sizeof(uint64_t));
    return count;
}
