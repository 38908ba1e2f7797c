/* SPDX-License-Identifier: MIT */
/* Imports of a shared object (see elf_imports.h). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf_imports.h"

int ksl__elf_imports(const char *path, const char *const *names, bool *found, size_t n, char *err, size_t errlen)
{
    memset(found, 0, n * sizeof *found);
    if (elf_version(EV_CURRENT) == EV_NONE) {
        snprintf(err, errlen, "libelf is unusable: %s", elf_errmsg(-1));
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    int rc = -1;
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        snprintf(err, errlen, "'%s' is not an ELF file", path);
        goto out;
    }
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        size_t count = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; data && i < count; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx != SHN_UNDEF)
                continue;
            const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
            for (size_t k = 0; name && k < n; k++)
                found[k] = found[k] || strcmp(name, names[k]) == 0;
        }
    }
    rc = 0;
out:
    if (elf)
        elf_end(elf);
    close(fd);
    return rc;
}
