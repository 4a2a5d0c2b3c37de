using CtScan.Tensors;

namespace CtScan.Fuzz;

/// <summary>
/// The .npy reader as the scorer calls it on a downloaded tensor (a seekable stream), synchronously and asynchronously.
/// Property: a tensor whose shape matches its data, or an <see cref="NpyFormatException"/> naming the cause.
/// </summary>
internal static class NpyTarget
{
    public const string Name = "npy";

    public static void Run(byte[] input)
    {
        try
        {
            Check(NpyFile.Read(new MemoryStream(input, writable: false)));
            Check(NpyFile.ReadAsync(new MemoryStream(input, writable: false)).GetAwaiter().GetResult());
        }
        catch (NpyFormatException error) when (Refusal.Names(error.Message, ""))
        {
        }
    }

    private static void Check(Float32Tensor tensor)
    {
        long count = 1;
        foreach (int extent in tensor.Shape) count *= extent;
        if (count != tensor.Data.LongLength)
            throw new InvalidOperationException($"shape [{string.Join(", ", tensor.Shape)}] holds {count} values but {tensor.Data.LongLength} were read");
    }
}
