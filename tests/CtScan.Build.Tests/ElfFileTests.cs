namespace CtScan.Build.Tests;

/// <summary>
/// The reader on the real TorchSharp 0.107.0 libLibTorchSharp.so; expected values are what `readelf -V --dyn-syms`
/// prints for that file (.dynsym at 0x3890, .gnu.version at 0x3dfae, .gnu.version_r at 0x3f8f0).
/// </summary>
public sealed class ElfFileTests
{
    private const string Marker = "_ZSt21ios_base_library_initv";

    [Fact]
    public void FindDynamicSymbol_Marker_IsUndefinedGlobalEntry482BoundToVersion18()
    {
        var elf = ElfFile.Read(TestFiles.LibTorchSharp);

        var symbol = elf.FindDynamicSymbol(Marker);

        Assert.Equal(ElfFile.MachineX86_64, elf.Machine);
        Assert.Equal(482, symbol.Index);
        Assert.Equal(0x3890 + 482 * 24, symbol.Offset);
        Assert.Equal(ElfFile.BindingGlobal, symbol.Binding);
        Assert.Equal(0, symbol.SectionIndex);
        Assert.Equal(18, elf.SymbolVersionIndex(symbol.Index));
        Assert.Equal(0x3dfae + 2 * 482, elf.SymbolVersionOffset(symbol.Index));
    }

    [Fact]
    public void VersionNeeds_LibTorchSharp_ListsAll28WithGlibcxx3432FromLibstdcxx()
    {
        var needs = ElfFile.Read(TestFiles.LibTorchSharp).VersionNeeds();

        Assert.Equal(28, needs.Count);
        var glibcxx = Assert.Single(needs, need => need.Name == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", glibcxx.File);
        Assert.Equal(0x3f8f0 + 0x140, glibcxx.Offset);
        Assert.Equal(0, glibcxx.Flags);
        Assert.Equal(18, glibcxx.VersionIndex);
        Assert.Equal(20, needs.Count(need => need.File == "libstdc++.so.6"));
        Assert.Equal(new[] { "GLIBC_2.3" }, needs.Where(need => need.File == "ld-linux-x86-64.so.2").Select(need => need.Name));
    }

    [Fact]
    public void SymbolsBoundToVersion_Glibcxx3432_IsTheMarkerAlone()
    {
        var elf = ElfFile.Read(TestFiles.LibTorchSharp);

        Assert.Equal(new[] { Marker }, elf.SymbolsBoundToVersion(18));
        Assert.Equal(21, elf.SymbolsBoundToVersion(2).Count); // GLIBCXX_3.4
    }

    [Fact]
    public void FindDynamicSymbol_Absent_NamesSymbolAndFile()
    {
        var elf = ElfFile.Read(TestFiles.LibTorchSharp);

        var error = Assert.Throws<ElfFormatException>(() => elf.FindDynamicSymbol("no_such_symbol"));

        Assert.Equal($"symbol no_such_symbol not found in .dynsym of {TestFiles.LibTorchSharp}.", error.Message);
    }

    [Fact]
    public void Parse_TextFile_SaysNotElf64()
    {
        var error = Assert.Throws<ElfFormatException>(() => ElfFile.Parse("#!/bin/sh\necho not a library\n"u8.ToArray(), "fake.so"));

        Assert.StartsWith("fake.so is not an ELF64 file: no ELF magic number", error.Message);
    }

    [Fact]
    public void Parse_Elf32Class_SaysNotElf64()
    {
        var image = File.ReadAllBytes(TestFiles.LibTorchSharp);
        image[4] = 1;

        var error = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(image, "lib32.so"));

        Assert.Equal("lib32.so is not an ELF64 file: its class byte is 1 (1 = ELF32, 2 = ELF64).", error.Message);
    }

    [Fact]
    public void Parse_BigEndian_SaysOnlyLittleEndian()
    {
        var image = File.ReadAllBytes(TestFiles.LibTorchSharp);
        image[5] = 2;

        var error = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(image, "be.so"));

        Assert.Equal("be.so is a big-endian ELF64 file (data byte 2); only little-endian files are supported.", error.Message);
    }

    [Fact]
    public void Parse_Truncated_SaysSectionHeadersBeyondEnd()
    {
        var image = File.ReadAllBytes(TestFiles.LibTorchSharp)[..4096];

        var error = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(image, "cut.so"));

        Assert.StartsWith("cut.so: the first section header (offset 0x", error.Message);
        Assert.EndsWith("lies beyond the end of the file (4096 bytes); the file is truncated or not ELF64.", error.Message);
    }

    [Fact]
    public void Parse_TooShortForHeader_SaysNotElf64()
    {
        var error = Assert.Throws<ElfFormatException>(() => ElfFile.Parse([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1], "tiny.so"));

        Assert.StartsWith("tiny.so is not an ELF64 file", error.Message);
    }

    [Fact]
    public void VersionNeeds_AuxiliaryOffsetOutsideSection_NamesSection()
    {
        var image = File.ReadAllBytes(TestFiles.LibTorchSharp);
        // vn_aux of the first Elf64_Verneed (.gnu.version_r + 8) pointed far past the section.
        BitConverter.TryWriteBytes(image.AsSpan(0x3f8f0 + 8), 0x100000);

        var error = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(image, "bad.so").VersionNeeds());

        Assert.StartsWith("bad.so: an entry of .gnu.version_r at offset 0x", error.Message);
        Assert.Contains("runs outside the section", error.Message);
    }
}
