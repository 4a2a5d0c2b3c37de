using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>Typed sample data covering each datatype's extremes, written with <see cref="NiftiWriter"/>.</summary>
internal static class Samples
{
    /// <summary>Writes 60 values of <paramref name="type"/> and returns what get_fdata should give for them.</summary>
    public static double[] Write(NiftiDataType type, string path, NiftiWriteOptions options, (float Slope, float Inter)? scale) =>
        type switch
        {
            NiftiDataType.UInt8 => Write(path, options, scale, byte.MinValue, byte.MaxValue, i => (byte)(i * 7)),
            NiftiDataType.Int8 => Write(path, options, scale, sbyte.MinValue, sbyte.MaxValue, i => (sbyte)(i * 7 - 100)),
            NiftiDataType.Int16 => Write(path, options, scale, short.MinValue, short.MaxValue, i => (short)(i * 999 - 30000)),
            NiftiDataType.UInt16 => Write(path, options, scale, ushort.MinValue, ushort.MaxValue, i => (ushort)(i * 1001)),
            NiftiDataType.Int32 => Write(path, options, scale, int.MinValue, int.MaxValue, i => i * 123456789 - 7),
            NiftiDataType.UInt32 => Write(path, options, scale, uint.MinValue, uint.MaxValue, i => (uint)i * 70000000u),
            NiftiDataType.Int64 => Write(path, options, scale, long.MinValue, long.MaxValue, i => i * 1234567890123457L - 3),
            NiftiDataType.UInt64 => Write(path, options, scale, ulong.MinValue, ulong.MaxValue, i => (ulong)i * 300000000000000000UL),
            NiftiDataType.Float32 => Write(path, options, scale, float.MinValue, float.MaxValue, i => i * 0.37f - 11.5f),
            NiftiDataType.Float64 => Write(path, options, scale, double.MinValue, double.MaxValue, i => i * 0.1 - 2.9),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };

    private static double[] Write<T>(string path, NiftiWriteOptions options, (float Slope, float Inter)? scale,
        T min, T max, Func<int, T> value) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        var count = (int)options.Shape.Aggregate(1L, (a, b) => a * b);
        var data = new T[count];
        for (var i = 0; i < count; i++) data[i] = value(i);
        data[0] = min;
        data[count - 1] = max;
        NiftiWriter.Write<T>(path, data, options);
        return data.Select(v => scale is { } s
            ? double.CreateTruncating(v) * (double)s.Slope + (double)s.Inter
            : double.CreateTruncating(v)).ToArray();
    }
}
