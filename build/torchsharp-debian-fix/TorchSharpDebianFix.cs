// Makes TorchSharp's libLibTorchSharp.so load on distributions whose libstdc++ predates GCC 13 (Debian 12 stops at
// GLIBCXX_3.4.30). See docs/torchsharp-on-debian.md.
//
// This one file is compiled twice: by MSBuild's RoslynCodeTaskFactory for build/TorchSharpDebianFix.targets (which
// accepts a single source file and compiles it against netstandard 2.0, hence no spans, records or newer BCL APIs), and
// into tests/CtScan.Build.Tests. That is why the reader, the patch, the libstdc++ probe and the task share a file.
// The tests define CTSCAN_BUILD_TESTS to leave out the task class (it needs Microsoft.Build assemblies); they run the
// task through real MSBuild instead.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace CtScan.Build
{
    /// <summary>A file that is not the ELF64 little-endian shared library the patch expects, or is damaged.</summary>
    public sealed class ElfFormatException : Exception
    {
        public ElfFormatException(string message) : base(message) { }
    }

    /// <summary>One section header of an ELF64 file.</summary>
    public sealed class ElfSection
    {
        public ElfSection(int index, string name, uint type, long offset, long size, uint link, uint info, long entrySize)
        {
            Index = index;
            Name = name;
            Type = type;
            Offset = offset;
            Size = size;
            Link = link;
            Info = info;
            EntrySize = entrySize;
        }

        public int Index { get; }
        public string Name { get; }
        public uint Type { get; }
        public long Offset { get; }
        public long Size { get; }
        public uint Link { get; }
        public uint Info { get; }
        public long EntrySize { get; }
    }

    /// <summary>A .dynsym entry: where it lies in the file and its fields.</summary>
    public sealed class ElfDynamicSymbol
    {
        public ElfDynamicSymbol(int index, string name, long offset, byte info, ushort sectionIndex)
        {
            Index = index;
            Name = name;
            Offset = offset;
            Info = info;
            SectionIndex = sectionIndex;
        }

        public int Index { get; }
        public string Name { get; }
        /// <summary>File offset of the Elf64_Sym; st_info is at +4.</summary>
        public long Offset { get; }
        public byte Info { get; }
        public int Binding => Info >> 4;
        /// <summary>st_shndx; 0 (SHN_UNDEF) for a symbol the library imports.</summary>
        public ushort SectionIndex { get; }
    }

    /// <summary>A version the file needs (a Elf64_Vernaux of .gnu.version_r).</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string name, long offset, ushort flags, ushort versionIndex)
        {
            File = file;
            Name = name;
            Offset = offset;
            Flags = flags;
            VersionIndex = versionIndex;
        }

        /// <summary>The library that must define the version (vn_file), e.g. libstdc++.so.6.</summary>
        public string File { get; }
        public string Name { get; }
        /// <summary>File offset of the Elf64_Vernaux; vna_flags is at +4.</summary>
        public long Offset { get; }
        public ushort Flags { get; }
        /// <summary>vna_other: the index .gnu.version entries use to bind a symbol to this version.</summary>
        public ushort VersionIndex { get; }
    }

    /// <summary>
    /// Read-only view of an ELF64 little-endian file held in memory: section headers, .dynsym with its string table,
    /// .gnu.version, .gnu.version_r and .gnu.version_d. Every offset is checked against the file before it is read.
    /// </summary>
    public sealed class ElfFile
    {
        public const uint SectionTypeStringTable = 3;
        public const uint SectionTypeDynamicSymbols = 11;
        public const uint SectionTypeVersionDefinitions = 0x6ffffffd;
        public const uint SectionTypeVersionNeeds = 0x6ffffffe;
        public const uint SectionTypeVersionSymbols = 0x6fffffff;
        public const int BindingGlobal = 1;
        public const int BindingWeak = 2;
        public const ushort VersionIndexGlobal = 1;
        public const ushort VersionFlagWeak = 2;
        public const ushort MachineX86_64 = 62;
        public const ushort MachineAArch64 = 183;

        private const int HeaderSize = 64;
        private const int SectionHeaderSize = 64;
        private const int SymbolSize = 24;
        private const int VerneedSize = 16;
        private const int VernauxSize = 16;
        private const int VerdefSize = 20;
        private const int VerdauxSize = 8;

        private readonly byte[] _image;

        private ElfFile(byte[] image, string path, ushort machine, IReadOnlyList<ElfSection> sections)
        {
            _image = image;
            Path = path;
            Machine = machine;
            Sections = sections;
        }

        public string Path { get; }
        public ushort Machine { get; }
        public IReadOnlyList<ElfSection> Sections { get; }

        public static ElfFile Read(string path) => Parse(File.ReadAllBytes(path), path);

        /// <summary>Parses the header and section headers; <paramref name="path"/> names the file in errors.</summary>
        public static ElfFile Parse(byte[] image, string path)
        {
            if (image.Length < HeaderSize || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            {
                throw new ElfFormatException($"{path} is not an ELF64 file: no ELF magic number (0x7f 'E' 'L' 'F') at its start.");
            }
            if (image[4] != 2)
            {
                throw new ElfFormatException($"{path} is not an ELF64 file: its class byte is {image[4]} (1 = ELF32, 2 = ELF64).");
            }
            if (image[5] != 1)
            {
                throw new ElfFormatException($"{path} is a big-endian ELF64 file (data byte {image[5]}); only little-endian files are supported.");
            }

            ushort machine = U16(image, 18);
            long sectionTableOffset = checked((long)U64(image, 40));
            int sectionHeaderSize = U16(image, 58);
            long sectionCount = U16(image, 60);
            int namesIndex = U16(image, 62);
            if (sectionTableOffset == 0)
            {
                throw new ElfFormatException($"{path} has no section headers (e_shoff is 0).");
            }
            if (sectionHeaderSize != SectionHeaderSize)
            {
                throw new ElfFormatException($"{path} has section headers of {sectionHeaderSize} bytes; ELF64 uses {SectionHeaderSize}.");
            }
            RequireRange(image, path, sectionTableOffset, SectionHeaderSize, "the first section header");
            if (sectionCount == 0)
            {
                // More than 0xff00 sections: the real count is in sh_size of section 0.
                sectionCount = checked((long)U64(image, sectionTableOffset + 32));
            }
            RequireRange(image, path, sectionTableOffset, sectionCount * SectionHeaderSize, $"the {sectionCount} section headers");
            if (namesIndex == 0xffff)
            {
                namesIndex = (int)U32(image, sectionTableOffset + 40);
            }
            if (namesIndex >= sectionCount)
            {
                throw new ElfFormatException($"{path}: the section-name table index {namesIndex} is beyond its {sectionCount} sections.");
            }

            long namesHeader = sectionTableOffset + namesIndex * SectionHeaderSize;
            long namesOffset = checked((long)U64(image, namesHeader + 24));
            long namesSize = checked((long)U64(image, namesHeader + 32));
            RequireRange(image, path, namesOffset, namesSize, "the section-name table");

            var sections = new List<ElfSection>();
            for (int index = 0; index < sectionCount; index++)
            {
                long header = sectionTableOffset + (long)index * SectionHeaderSize;
                uint type = U32(image, header + 4);
                long offset = checked((long)U64(image, header + 24));
                long size = checked((long)U64(image, header + 32));
                string name = ReadString(image, path, namesOffset, namesSize, U32(image, header), "section-name table");
                sections.Add(new ElfSection(index, name, type, offset, size, U32(image, header + 40), U32(image, header + 44),
                    checked((long)U64(image, header + 56))));
            }
            return new ElfFile(image, path, machine, sections);
        }

        /// <summary>The symbol called <paramref name="name"/> in .dynsym; throws when there is none.</summary>
        public ElfDynamicSymbol FindDynamicSymbol(string name)
        {
            ElfSection symbols = RequireSection(SectionTypeDynamicSymbols, ".dynsym");
            ElfSection strings = LinkedStringTable(symbols);
            long count = symbols.Size / SymbolSize;
            for (int index = 0; index < count; index++)
            {
                long offset = symbols.Offset + (long)index * SymbolSize;
                if (StringAt(strings, U32(_image, offset)) == name)
                {
                    return new ElfDynamicSymbol(index, name, offset, _image[offset + 4], U16(_image, offset + 6));
                }
            }
            throw new ElfFormatException($"symbol {name} not found in .dynsym of {Path}.");
        }

        /// <summary>Names of the .dynsym symbols whose .gnu.version entry is <paramref name="versionIndex"/>.</summary>
        public IReadOnlyList<string> SymbolsBoundToVersion(ushort versionIndex)
        {
            ElfSection symbols = RequireSection(SectionTypeDynamicSymbols, ".dynsym");
            ElfSection strings = LinkedStringTable(symbols);
            var names = new List<string>();
            long count = symbols.Size / SymbolSize;
            for (int index = 0; index < count; index++)
            {
                if ((SymbolVersionIndex(index) & 0x7fff) == versionIndex)
                {
                    long offset = symbols.Offset + (long)index * SymbolSize;
                    names.Add(StringAt(strings, U32(_image, offset)));
                }
            }
            return names;
        }

        /// <summary>The .gnu.version entry of dynamic symbol <paramref name="symbolIndex"/> (bit 15 = hidden).</summary>
        public ushort SymbolVersionIndex(int symbolIndex) => U16(_image, SymbolVersionOffset(symbolIndex));

        /// <summary>File offset of the .gnu.version entry of dynamic symbol <paramref name="symbolIndex"/>.</summary>
        public long SymbolVersionOffset(int symbolIndex)
        {
            ElfSection versions = RequireSection(SectionTypeVersionSymbols, ".gnu.version");
            long offset = versions.Offset + 2L * symbolIndex;
            if (2L * symbolIndex + 2 > versions.Size)
            {
                throw new ElfFormatException($"{Path}: .gnu.version has no entry for dynamic symbol {symbolIndex}.");
            }
            return offset;
        }

        /// <summary>Every version the file needs, walking each Elf64_Verneed of .gnu.version_r and its Elf64_Vernaux chain.</summary>
        public IReadOnlyList<ElfVersionNeed> VersionNeeds()
        {
            var needs = new List<ElfVersionNeed>();
            foreach (ElfSection section in SectionsOfType(SectionTypeVersionNeeds))
            {
                ElfSection strings = LinkedStringTable(section);
                // sh_info holds the number of Elf64_Verneed entries; vn_cnt that of each one's Elf64_Vernaux.
                foreach (long needAt in Chain(section, section.Offset, section.Info, VerneedSize, nextField: 12))
                {
                    string file = StringAt(strings, U32(_image, needAt + 4));
                    foreach (long auxAt in Chain(section, needAt + U32(_image, needAt + 8), U16(_image, needAt + 2), VernauxSize, nextField: 12))
                    {
                        needs.Add(new ElfVersionNeed(file, StringAt(strings, U32(_image, auxAt + 8)), auxAt, U16(_image, auxAt + 4), U16(_image, auxAt + 6)));
                    }
                }
            }
            return needs;
        }

        /// <summary>The version names the file defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 in libstdc++.</summary>
        public IReadOnlyList<string> DefinedVersions()
        {
            var names = new List<string>();
            foreach (ElfSection section in SectionsOfType(SectionTypeVersionDefinitions))
            {
                ElfSection strings = LinkedStringTable(section);
                foreach (long defAt in Chain(section, section.Offset, section.Info, VerdefSize, nextField: 16))
                {
                    // The first Elf64_Verdaux names the version; later ones name its predecessors.
                    long auxAt = defAt + U32(_image, defAt + 12);
                    RequireWithin(auxAt, VerdauxSize, section);
                    names.Add(StringAt(strings, U32(_image, auxAt)));
                }
            }
            return names;
        }

        private IEnumerable<ElfSection> SectionsOfType(uint type)
        {
            foreach (ElfSection section in Sections)
            {
                if (section.Type == type)
                {
                    RequireRange(_image, Path, section.Offset, section.Size, section.Name);
                    yield return section;
                }
            }
        }

        /// <summary>
        /// Offsets of the entries of a version table chain inside <paramref name="section"/>: at most
        /// <paramref name="count"/>, each next one at the offset its 32-bit field at <paramref name="nextField"/> adds (0 ends).
        /// </summary>
        private IEnumerable<long> Chain(ElfSection section, long first, uint count, int entrySize, int nextField)
        {
            long at = first;
            for (uint entry = 0; entry < count; entry++)
            {
                RequireWithin(at, entrySize, section);
                yield return at;
                uint next = U32(_image, at + nextField);
                if (next == 0)
                {
                    yield break;
                }
                at += next;
            }
        }

        private string StringAt(ElfSection strings, uint index) => ReadString(_image, Path, strings.Offset, strings.Size, index, strings.Name);

        private ElfSection RequireSection(uint type, string name)
        {
            foreach (ElfSection section in SectionsOfType(type))
            {
                return section;
            }
            throw new ElfFormatException($"{Path} has no {name} section.");
        }

        private ElfSection LinkedStringTable(ElfSection section)
        {
            if (section.Link == 0 || section.Link >= Sections.Count || Sections[(int)section.Link].Type != SectionTypeStringTable)
            {
                throw new ElfFormatException($"{Path}: {section.Name} links to section {section.Link}, which is not a string table.");
            }
            ElfSection strings = Sections[(int)section.Link];
            RequireRange(_image, Path, strings.Offset, strings.Size, strings.Name);
            return strings;
        }

        private void RequireWithin(long offset, long length, ElfSection section)
        {
            long end = section.Offset + section.Size;
            if (offset < section.Offset || offset + length > end)
            {
                throw new ElfFormatException($"{Path}: an entry of {section.Name} at offset 0x{offset:x} runs outside the section (0x{section.Offset:x}-0x{end:x}).");
            }
        }

        private static void RequireRange(byte[] image, string path, long offset, long length, string what)
        {
            if (offset < 0 || length < 0 || offset + length > image.Length)
            {
                throw new ElfFormatException($"{path}: {what} (offset 0x{offset:x}, {length} bytes) lies beyond the end of the file ({image.Length} bytes); the file is truncated or not ELF64.");
            }
        }

        private static string ReadString(byte[] image, string path, long tableOffset, long tableSize, uint index, string table)
        {
            if (index >= tableSize)
            {
                throw new ElfFormatException($"{path}: string index {index} is beyond {table} ({tableSize} bytes).");
            }
            long start = tableOffset + index;
            long end = start;
            long tableEnd = tableOffset + tableSize;
            while (end < tableEnd && image[end] != 0)
            {
                end++;
            }
            if (end == tableEnd)
            {
                throw new ElfFormatException($"{path}: the string at index {index} of {table} is not terminated.");
            }
            return Encoding.ASCII.GetString(image, (int)start, (int)(end - start));
        }

        internal static ushort U16(byte[] image, long offset) => (ushort)(image[offset] | image[offset + 1] << 8);

        internal static uint U32(byte[] image, long offset) =>
            (uint)(image[offset] | image[offset + 1] << 8 | image[offset + 2] << 16 | image[offset + 3] << 24);

        internal static ulong U64(byte[] image, long offset) => U32(image, offset) | (ulong)U32(image, offset + 4) << 32;
    }

    /// <summary>What <see cref="WeakVersionPatch.Apply"/> found and did.</summary>
    public enum WeakVersionPatchOutcome
    {
        /// <summary>The three fields were edited.</summary>
        Patched,
        /// <summary>The file was patched before; nothing changed.</summary>
        AlreadyPatched,
        /// <summary>The file does not need the version at all (another TorchSharp build); nothing changed.</summary>
        VersionNotNeeded,
    }

    /// <summary>
    /// Stops the dynamic loader from demanding a symbol version that only one link-time marker symbol uses.
    /// libLibTorchSharp.so (TorchSharp 0.107) needs GLIBCXX_3.4.32 for _ZSt21ios_base_library_initv alone: GCC 13 emits a
    /// reference to it wherever &lt;iostream&gt; is included so that static linking pulls in the stream initialisation,
    /// which libstdc++ (loaded by libtorch anyway) performs itself. Three fields change: the symbol becomes STB_WEAK in
    /// .dynsym, its .gnu.version entry becomes VER_NDX_GLOBAL (1), and the version's vernaux gets VER_FLG_WEAK, so an
    /// older libstdc++ leaves the weak undefined symbol at 0 and the version check passes.
    /// </summary>
    public sealed class WeakVersionPatch
    {
        public WeakVersionPatch(string version, string markerSymbol)
        {
            Version = version;
            MarkerSymbol = markerSymbol;
        }

        /// <summary>The TorchSharp 0.107 case: GLIBCXX_3.4.32, needed for std::ios_base_library_init() only.</summary>
        public static WeakVersionPatch TorchSharpGlibcxx { get; } = new WeakVersionPatch("GLIBCXX_3.4.32", "_ZSt21ios_base_library_initv");

        public string Version { get; }
        public string MarkerSymbol { get; }

        /// <summary>
        /// Edits <paramref name="image"/> (the bytes of <paramref name="path"/>) in memory. Refuses when any other symbol
        /// is bound to the version: weakening it would then leave real functions unresolved.
        /// </summary>
        public WeakVersionPatchOutcome Apply(byte[] image, string path)
        {
            ElfFile elf = ElfFile.Parse(image, path);
            ElfVersionNeed? need = null;
            foreach (ElfVersionNeed candidate in elf.VersionNeeds())
            {
                if (candidate.Name == Version)
                {
                    need = candidate;
                }
            }
            if (need == null)
            {
                return WeakVersionPatchOutcome.VersionNotNeeded;
            }

            ElfDynamicSymbol symbol = elf.FindDynamicSymbol(MarkerSymbol);
            if (symbol.SectionIndex != 0)
            {
                throw new ElfFormatException($"{path} defines {MarkerSymbol} (section {symbol.SectionIndex}); the patch only weakens an imported marker symbol.");
            }
            IReadOnlyList<string> others = elf.SymbolsBoundToVersion(need.VersionIndex);
            foreach (string other in others)
            {
                if (other != MarkerSymbol)
                {
                    throw new ElfFormatException($"{path} needs {Version} for {other}, not only for the marker {MarkerSymbol}; marking the version weak would leave {other} unresolved, so the library cannot be patched.");
                }
            }

            long versionOffset = elf.SymbolVersionOffset(symbol.Index);
            ushort symbolVersion = ElfFile.U16(image, versionOffset);
            bool versionBound = (symbolVersion & 0x7fff) == need.VersionIndex;
            if (!versionBound && symbolVersion != ElfFile.VersionIndexGlobal)
            {
                throw new ElfFormatException($"{path}: {MarkerSymbol} has version index {symbolVersion}, neither {Version} ({need.VersionIndex}) nor global (1).");
            }

            bool changed = false;
            if (symbol.Binding != ElfFile.BindingWeak)
            {
                image[symbol.Offset + 4] = (byte)(ElfFile.BindingWeak << 4 | symbol.Info & 0x0f);
                changed = true;
            }
            if (versionBound)
            {
                image[versionOffset] = (byte)ElfFile.VersionIndexGlobal;
                image[versionOffset + 1] = 0;
                changed = true;
            }
            if ((need.Flags & ElfFile.VersionFlagWeak) == 0)
            {
                ushort flags = (ushort)(need.Flags | ElfFile.VersionFlagWeak);
                image[need.Offset + 4] = (byte)flags;
                image[need.Offset + 5] = (byte)(flags >> 8);
                changed = true;
            }
            return changed ? WeakVersionPatchOutcome.Patched : WeakVersionPatchOutcome.AlreadyPatched;
        }

        /// <summary>
        /// Patches the file at <paramref name="path"/>. A changed file is written to a temporary copy beside it and renamed
        /// over it, so a hard link into the NuGet cache is replaced, never written through; an unchanged file is not touched.
        /// </summary>
        public WeakVersionPatchOutcome ApplyToFile(string path)
        {
            byte[] image = File.ReadAllBytes(path);
            WeakVersionPatchOutcome outcome = Apply(image, path);
            if (outcome != WeakVersionPatchOutcome.Patched)
            {
                return outcome;
            }
            string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
            string temporary = System.IO.Path.Combine(directory, "." + System.IO.Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                // File.Copy carries the permissions over; the bytes are then replaced in the copy.
                File.Copy(path, temporary);
                File.WriteAllBytes(temporary, image);
                File.Replace(temporary, path, null);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }
            return outcome;
        }
    }

    /// <summary>
    /// Finds the libstdc++.so.6 the dynamic loader would use for a library of a given machine, by probing the standard
    /// library directories (no ldconfig), and tells which symbol versions it defines.
    /// </summary>
    public sealed class SystemLibstdcxx
    {
        public const string FileName = "libstdc++.so.6";

        private readonly IReadOnlyList<string> _directories;

        public SystemLibstdcxx(IReadOnlyList<string> directories)
        {
            _directories = directories;
        }

        /// <summary>Debian/Ubuntu multiarch directories first, then the Fedora/Arch layouts.</summary>
        public static SystemLibstdcxx ForMachine(ushort machine)
        {
            string triplet = machine == ElfFile.MachineAArch64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
            return new SystemLibstdcxx(new[]
            {
                "/lib/" + triplet, "/usr/lib/" + triplet, "/lib64", "/usr/lib64", "/usr/local/lib64", "/lib", "/usr/lib",
            });
        }

        /// <summary>The first libstdc++.so.6 that is an ELF64 file for <paramref name="machine"/>; null when there is none.</summary>
        public string? Locate(ushort machine)
        {
            foreach (string directory in _directories)
            {
                string candidate = System.IO.Path.Combine(directory, FileName);
                if (!File.Exists(candidate))
                {
                    continue;
                }
                try
                {
                    if (ElfFile.Read(candidate).Machine == machine)
                    {
                        return candidate;
                    }
                }
                catch (ElfFormatException)
                {
                    // A 32-bit or foreign libstdc++ in a shared directory: not the one the loader would pick.
                }
            }
            return null;
        }

        public static bool Defines(string libstdcxx, string version)
        {
            foreach (string name in ElfFile.Read(libstdcxx).DefinedVersions())
            {
                if (name == version)
                {
                    return true;
                }
            }
            return false;
        }
    }

#if !CTSCAN_BUILD_TESTS
    /// <summary>
    /// MSBuild task: patches Directory/libLibTorchSharp.so when the system libstdc++ lacks the version it needs.
    /// A no-op where the file is absent or the system is new enough.
    /// </summary>
    public sealed class TorchSharpDebianFix : Microsoft.Build.Utilities.Task
    {
        public const string LibraryName = "libLibTorchSharp.so";

        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = "";

        public override bool Execute()
        {
            string library = System.IO.Path.Combine(Directory, LibraryName);
            if (!File.Exists(library))
            {
                return true;
            }
            WeakVersionPatch patch = WeakVersionPatch.TorchSharpGlibcxx;
            try
            {
                ElfFile elf = ElfFile.Read(library);
                string? libstdcxx = SystemLibstdcxx.ForMachine(elf.Machine).Locate(elf.Machine);
                if (libstdcxx == null)
                {
                    Log.LogWarning($"torchsharp-debian-fix: no {SystemLibstdcxx.FileName} for ELF machine {elf.Machine} in the standard library directories; leaving {library} as it is.");
                    return true;
                }
                if (SystemLibstdcxx.Defines(libstdcxx, patch.Version))
                {
                    return true;
                }
                WeakVersionPatchOutcome outcome = patch.ApplyToFile(library);
                if (outcome == WeakVersionPatchOutcome.Patched)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"torchsharp-debian-fix: patched {library} for {libstdcxx} (no {patch.Version}): {patch.MarkerSymbol} and the {patch.Version} need marked weak.");
                }
                return true;
            }
            catch (Exception error) when (error is ElfFormatException || error is IOException || error is UnauthorizedAccessException)
            {
                Log.LogError($"torchsharp-debian-fix: {error.Message}");
                return false;
            }
        }
    }
#endif
}
