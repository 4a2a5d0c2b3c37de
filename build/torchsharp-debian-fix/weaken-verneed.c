/*
 * weaken-verneed FILE VERSION
 * Marks every VERSION entry in FILE's ELF version-needs table (.gnu.version_r) weak (VER_FLG_WEAK), so the
 * dynamic loader no longer refuses the library when the system lacks that version. Edits one flag in place;
 * exits 0 when done or already weak, 1 when VERSION is not needed, 2 on a file it cannot handle.
 * Plain C over <elf.h>: it needs only the compiler that already builds the shim.
 */
#include <elf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *file, const char *why)
{
    fprintf(stderr, "weaken-verneed: %s: %s\n", file, why);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 3)
    {
        fprintf(stderr, "usage: weaken-verneed FILE VERSION\n");
        return 2;
    }
    const char *path = argv[1], *version = argv[2];
    FILE *f = fopen(path, "r+b");
    if (!f) return fail(path, "cannot open for writing");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (size < (long)sizeof(Elf64_Ehdr)) { fclose(f); return fail(path, "too small for an ELF header"); }
    unsigned char *image = malloc((size_t)size);
    rewind(f);
    if (!image || fread(image, 1, (size_t)size, f) != (size_t)size) { fclose(f); return fail(path, "cannot read"); }

    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
    { fclose(f); return fail(path, "not a 64-bit little-endian ELF file"); }
    if (eh->e_shoff == 0 || eh->e_shoff + (Elf64_Off)eh->e_shnum * sizeof(Elf64_Shdr) > (Elf64_Off)size)
    { fclose(f); return fail(path, "section headers missing or out of range"); }

    const Elf64_Shdr *sections = (const Elf64_Shdr *)(image + eh->e_shoff);
    int found = 0;
    for (int s = 0; s < eh->e_shnum; s++)
    {
        if (sections[s].sh_type != SHT_GNU_verneed) continue;
        const Elf64_Shdr *needs = &sections[s];
        const Elf64_Shdr *strings = &sections[needs->sh_link];
        if (needs->sh_offset + needs->sh_size > (Elf64_Off)size || strings->sh_offset + strings->sh_size > (Elf64_Off)size)
        { fclose(f); return fail(path, "version-needs table out of range"); }
        const char *names = (const char *)(image + strings->sh_offset);
        Elf64_Off need_at = needs->sh_offset;
        for (unsigned n = 0; n < needs->sh_info; n++)
        {
            const Elf64_Verneed *need = (const Elf64_Verneed *)(image + need_at);
            Elf64_Off aux_at = need_at + need->vn_aux;
            for (unsigned a = 0; a < need->vn_cnt; a++)
            {
                Elf64_Vernaux *aux = (Elf64_Vernaux *)(image + aux_at);
                if (aux->vna_name < strings->sh_size && strcmp(names + aux->vna_name, version) == 0)
                {
                    found = 1;
                    if (!(aux->vna_flags & VER_FLG_WEAK))
                    {
                        aux->vna_flags |= VER_FLG_WEAK;
                        fseek(f, (long)(aux_at + offsetof(Elf64_Vernaux, vna_flags)), SEEK_SET);
                        if (fwrite(&aux->vna_flags, sizeof aux->vna_flags, 1, f) != 1) { fclose(f); return fail(path, "cannot write"); }
                    }
                }
                aux_at += aux->vna_next;
            }
            need_at += need->vn_next;
        }
    }
    free(image);
    if (fclose(f) != 0) return fail(path, "cannot write");
    if (!found) { fprintf(stderr, "weaken-verneed: %s does not need %s\n", path, version); return 1; }
    return 0;
}
