using System.Runtime.InteropServices;
using System.Text;

namespace CtScan.Build.Tests;

/// <summary>The patch on copies of the real libLibTorchSharp.so (the package file itself is only read).</summary>
public sealed partial class WeakVersionPatchTests : IDisposable
{
    private const string Marker = "_ZSt21ios_base_library_initv";
    // Where readelf puts the three fields in TorchSharp 0.107.0's file: st_info of .dynsym entry 482, its
    // .gnu.version entry, and vna_flags of the GLIBCXX_3.4.32 vernaux.
    private const int SymbolInfoOffset = 0x3890 + 482 * 24 + 4;
    private const int VersionOffset = 0x3dfae + 2 * 482;
    private const int NeedFlagsOffset = 0x3f8f0 + 0x140 + 4;

    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void ApplyToFile_LibTorchSharp_ChangesExactlyTheThreeFields()
    {
        var copy = _scratch.Copy(TestFiles.LibTorchSharp);
        var original = File.ReadAllBytes(copy);

        var outcome = WeakVersionPatch.TorchSharpGlibcxx.ApplyToFile(copy);

        var patched = File.ReadAllBytes(copy);
        Assert.Equal(WeakVersionPatchOutcome.Patched, outcome);
        Assert.Equal(original.Length, patched.Length);
        var changed = Enumerable.Range(0, patched.Length).Where(i => patched[i] != original[i]).ToArray();
        Assert.Equal(new[] { SymbolInfoOffset, VersionOffset, NeedFlagsOffset }, changed);
        Assert.Equal(0x12, original[SymbolInfoOffset]); // STB_GLOBAL, STT_FUNC
        Assert.Equal(0x22, patched[SymbolInfoOffset]);  // STB_WEAK, STT_FUNC
        Assert.Equal(18, BitConverter.ToUInt16(original, VersionOffset));
        Assert.Equal(1, BitConverter.ToUInt16(patched, VersionOffset)); // VER_NDX_GLOBAL
        Assert.Equal(0, BitConverter.ToUInt16(original, NeedFlagsOffset));
        Assert.Equal(2, BitConverter.ToUInt16(patched, NeedFlagsOffset)); // VER_FLG_WEAK
        Assert.Equal(File.GetUnixFileMode(TestFiles.LibTorchSharp), File.GetUnixFileMode(copy));
    }

    [Fact]
    public void ApplyToFile_SecondRun_ChangesNothing()
    {
        var copy = _scratch.Copy(TestFiles.LibTorchSharp);
        WeakVersionPatch.TorchSharpGlibcxx.ApplyToFile(copy);
        var once = File.ReadAllBytes(copy);
        var written = File.GetLastWriteTimeUtc(copy);

        var outcome = WeakVersionPatch.TorchSharpGlibcxx.ApplyToFile(copy);

        Assert.Equal(WeakVersionPatchOutcome.AlreadyPatched, outcome);
        Assert.Equal(once, File.ReadAllBytes(copy));
        Assert.Equal(written, File.GetLastWriteTimeUtc(copy));
        Assert.Empty(Directory.GetFiles(_scratch.Path, ".*.tmp"));
    }

    [Fact]
    public void ApplyToFile_HardLink_ReplacesTheLinkAndLeavesTheOtherName()
    {
        // The output copy may be a hard link into the NuGet cache: the cache's bytes must not change.
        var cache = _scratch.Copy(TestFiles.LibTorchSharp, Path.Combine("cache", "libLibTorchSharp.so"));
        var output = Path.Combine(_scratch.Path, "libLibTorchSharp.so");
        Assert.Equal(0, Link(cache, output));
        var original = File.ReadAllBytes(cache);

        WeakVersionPatch.TorchSharpGlibcxx.ApplyToFile(output);

        Assert.Equal(original, File.ReadAllBytes(cache));
        Assert.Equal(0x22, File.ReadAllBytes(output)[SymbolInfoOffset]);
    }

    [Fact]
    public void Apply_LibraryNotNeedingTheVersion_LeavesItAlone()
    {
        var image = File.ReadAllBytes(TestFiles.LibC10);
        var original = (byte[])image.Clone();

        var outcome = WeakVersionPatch.TorchSharpGlibcxx.Apply(image, TestFiles.LibC10);

        Assert.Equal(WeakVersionPatchOutcome.VersionNotNeeded, outcome);
        Assert.Equal(original, image);
    }

    [Fact]
    public void Apply_MarkerSymbolMissing_NamesSymbolAndFile()
    {
        var image = File.ReadAllBytes(TestFiles.LibTorchSharp);
        var name = Encoding.ASCII.GetBytes(Marker + "\0");
        var at = image.AsSpan().IndexOf(name);
        Assert.True(at > 0);
        image[at + 1] = (byte)'X'; // the .dynstr name becomes _XSt21ios_base_library_initv

        var error = Assert.Throws<ElfFormatException>(() => WeakVersionPatch.TorchSharpGlibcxx.Apply(image, "renamed.so"));

        Assert.Equal($"symbol {Marker} not found in .dynsym of renamed.so.", error.Message);
    }

    [Fact]
    public void Apply_VersionNeededByOtherSymbols_Refuses()
    {
        var elf = ElfFile.Read(TestFiles.LibTorchSharp);
        var bound = elf.SymbolsBoundToVersion(2); // GLIBCXX_3.4: 21 real functions
        var image = File.ReadAllBytes(TestFiles.LibTorchSharp);

        var error = Assert.Throws<ElfFormatException>(() => new WeakVersionPatch("GLIBCXX_3.4", bound[0]).Apply(image, "lib.so"));

        Assert.Equal($"lib.so needs GLIBCXX_3.4 for {bound[1]}, not only for the marker {bound[0]}; marking the version weak would leave {bound[1]} unresolved, so the library cannot be patched.", error.Message);
        Assert.Equal(File.ReadAllBytes(TestFiles.LibTorchSharp), image);
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string created);
}
