namespace CtScan.Build.Tests;

public sealed class SystemLibstdcxxTests
{
    [Fact]
    public void Locate_ThisMachine_FindsLibstdcxxDefiningItsVersions()
    {
        var found = SystemLibstdcxx.ForMachine(ElfFile.MachineX86_64).Locate(ElfFile.MachineX86_64);

        Assert.NotNull(found);
        Assert.EndsWith("/libstdc++.so.6", found);
        // GCC 12's libstdc++ (Debian 12) and every later one define these.
        Assert.True(SystemLibstdcxx.Defines(found, "GLIBCXX_3.4.30"));
        Assert.True(SystemLibstdcxx.Defines(found, "CXXABI_1.3.13"));
        Assert.False(SystemLibstdcxx.Defines(found, "GLIBCXX_9.9"));
        if (File.ReadAllText("/etc/os-release").Contains("VERSION_ID=\"12\"") && File.Exists("/etc/debian_version"))
        {
            Assert.False(SystemLibstdcxx.Defines(found, "GLIBCXX_3.4.32"));
        }
    }

    [Fact]
    public void Locate_NoLibrary_ReturnsNull()
    {
        using var empty = new ScratchDirectory();

        Assert.Null(new SystemLibstdcxx([empty.Path]).Locate(ElfFile.MachineX86_64));
    }

    [Fact]
    public void Locate_SkipsNonElfAndForeignMachine_TakesFirstMatch()
    {
        using var scratch = new ScratchDirectory();
        var notElf = Path.Combine(scratch.Path, "text", SystemLibstdcxx.FileName);
        Directory.CreateDirectory(Path.GetDirectoryName(notElf)!);
        File.WriteAllText(notElf, "INPUT(libstdc++.so.6.0.30)");
        var x86 = scratch.Copy(TestFiles.LibC10, Path.Combine("x86", SystemLibstdcxx.FileName));
        var directories = new[] { Path.Combine(scratch.Path, "missing"), Path.GetDirectoryName(notElf)!, Path.GetDirectoryName(x86)! };

        Assert.Equal(x86, new SystemLibstdcxx(directories).Locate(ElfFile.MachineX86_64));
        Assert.Null(new SystemLibstdcxx(directories).Locate(ElfFile.MachineAArch64));
    }
}
