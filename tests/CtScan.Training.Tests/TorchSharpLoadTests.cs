using TorchSharp;

namespace CtScan.Training.Tests;

/// <summary>
/// Proves the native libraries load and compute. On Debian 12 this fails unless build/TorchSharpDebianFix.targets
/// patched the copied libLibTorchSharp.so: TorchSharp then throws TypeInitializationException with a misleading
/// "doesn't contain a reference to libtorch-cpu-linux-x64" (the real cause: GLIBCXX_3.4.32 not found).
/// </summary>
public sealed class TorchSharpLoadTests
{
    [Fact]
    public void Sum_OnesTwoByTwo_IsFour()
    {
        using var ones = torch.ones(2, 2);
        using var sum = ones.sum();

        Assert.Equal(4f, sum.item<float>());
    }
}
