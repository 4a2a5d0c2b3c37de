using CtScan.Pipeline;

namespace CtScan.Pipeline.Tests;

/// <summary>The local host's calls into glibc's allocator bind (right library, right entry points) and do what they say.</summary>
public sealed class NativeAllocatorTests
{
    [Fact]
    public void LimitArenasAndTrim_OnThisLinux_BindToGlibc()
    {
        string? limited = NativeAllocator.LimitArenas();
        bool trimmed = NativeAllocator.Trim();

        string expected = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 } set
            ? $"malloc arenas: MALLOC_ARENA_MAX={set} (from the environment)"
            : $"malloc arenas: at most {NativeAllocator.ArenaMax}";
        Assert.Equal(expected, limited);
        Assert.True(trimmed);
    }
}
