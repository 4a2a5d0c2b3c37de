namespace CtScan.Preprocessing;

/// <summary>Argument checks shared by the transforms; kept out of their loops.</summary>
internal static class TransformGuard
{
    public static void CheckLength(int length, VolumeShape shape, string name)
    {
        if (length != shape.VoxelCount)
            throw new ArgumentException($"{name} holds {length} values; shape {shape} needs {shape.VoxelCount}", name);
    }

    public static void CheckNoOverlap<T>(ReadOnlySpan<T> source, Span<T> destination)
    {
        if (source.Overlaps(destination))
            throw new ArgumentException("source and destination must not share memory: the transform reads the source after writing", nameof(destination));
    }
}
