using static TorchSharp.torch;

namespace CtScan.Training;

/// <summary>Turns a user's device name (cpu or cuda) into a TorchSharp device, refusing CUDA where it cannot run.</summary>
public static class TrainingDevice
{
    public static IReadOnlyList<string> Names { get; } = ["cpu", "cuda"];

    /// <exception cref="ArgumentException">An unknown name, or cuda without a CUDA build of libtorch and a GPU.</exception>
    public static Device Resolve(string name)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case "cpu":
                return CPU;
            case "cuda":
                if (!cuda.is_available())
                    throw new ArgumentException("CUDA requested but not available: this build uses TorchSharp-cpu / no GPU found (use --device cpu, or a build with TorchSharp-cuda on a machine with an NVIDIA GPU)");
                return CUDA;
            default:
                throw new ArgumentException($"unknown device '{name}'; expected one of: {string.Join(", ", Names)}");
        }
    }
}
