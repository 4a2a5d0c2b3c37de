namespace CtScan.Tensors;

/// <summary>A stream is not a .npy file this product can read (little-endian float32, C order, version 1.0 or 2.0).</summary>
public sealed class NpyFormatException : Exception
{
    public NpyFormatException(string message) : base(message) { }

    public NpyFormatException(string message, Exception innerException) : base(message, innerException) { }
}
