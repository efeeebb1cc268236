/* dwarf.c — symbol and line lookup with libdw, one offline Dwfl session per module so
 * that modules from different times of a long run can never clash over addresses.
 * Only files that are regular files are opened (a FIFO named in a trace must not
 * block the report), and debuginfod is never asked (see main.c). */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

struct gp_report_dwarf {
    Dwfl *dwfl;
};

static char *debuginfo_path; /* NULL: libdwfl's default search path */

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

struct gp_report_dwarf *gp_report_dwarf_open(const struct gp_report_module *mod)
{
    struct gp_report_dwarf *d = NULL;
    Dwfl *dwfl = NULL;
    struct stat st;
    int fd = open(mod->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        goto out;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        goto out;
    dwfl = dwfl_begin(&offline_callbacks);
    if (!dwfl)
        goto out;
    dwfl_report_begin(dwfl);
    /* add_p_vaddr: the module's addresses are load_bias + the ELF's own p_vaddr, which
     * is what dl_iterate_phdr's dlpi_addr means. On success the fd belongs to libdw. */
    if (!dwfl_report_elf(dwfl, mod->path, mod->path, fd, mod->load_bias, true))
        goto out;
    fd = -1;
    if (dwfl_report_end(dwfl, NULL, NULL) != 0)
        goto out;
    d = malloc(sizeof(*d));
    if (!d)
        goto out;
    d->dwfl = dwfl;
    dwfl = NULL;
out:
    if (dwfl)
        dwfl_end(dwfl);
    if (fd >= 0)
        close(fd);
    return d;
}

void gp_report_dwarf_lookup(struct gp_report_dwarf *d, uint64_t addr, const char **function,
                            const char **file, uint32_t *line)
{
    Dwfl_Module *mod = dwfl_addrmodule(d->dwfl, addr);
    if (!mod)
        return;
    *function = dwfl_module_addrname(mod, addr);
    Dwfl_Line *l = dwfl_module_getsrc(mod, addr);
    if (l) {
        Dwarf_Addr line_addr;
        int lineno = 0;
        *file = dwfl_lineinfo(l, &line_addr, &lineno, NULL, NULL, NULL);
        *line = lineno > 0 ? (uint32_t)lineno : 0;
    }
}

void gp_report_dwarf_close(struct gp_report_dwarf *d)
{
    dwfl_end(d->dwfl);
    free(d);
}
