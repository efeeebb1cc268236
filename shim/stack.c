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
    /* Per-thread caches avoid a global lock inside libunwind on every unwind. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

unsigned gp_stack_capture(uint64_t *ips, unsigned max)
{
    if (max == 0)
        return 0;
    _Static_assert(sizeof(void *) == sizeof(uint64_t), "ips are stored as 64-bit values");
    void *buf[GP_TRACE_MAX_FRAMES + GP_STACK_SKIP_MAX];
    int n = unw_backtrace(buf, (int)(max + GP_STACK_SKIP_MAX));
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
