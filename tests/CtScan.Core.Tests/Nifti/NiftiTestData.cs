using System.Security.Cryptography;
using System.Runtime.InteropServices;
using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>Helpers that read whole (small) images for assertions.</summary>
internal static class NiftiTestData
{
    /// <summary>All scaled voxels of an image opened by path, in Fortran (file) order, volume after volume.</summary>
    public static double[] ReadAll(string path, NiftiReadOptions? options = null)
    {
        using var image = NiftiImage.Open(path, options);
        return ReadAll(image);
    }

    /// <summary>All volumes of an image (reopening the file per volume when opened by path).</summary>
    public static double[] ReadAll(NiftiImage image)
    {
        var shape = image.VolumeShape;
        var all = new double[image.VolumeCount * shape.VoxelCount];
        for (var v = 0; v < image.VolumeCount; v++)
        {
            var volume = image.OpenVolume(image.VolumeCount > 1 ? v : null);
            for (var k = 0; k < shape.Depth; k++)
                volume.ReadNextSlice(all.AsSpan((int)(v * shape.VoxelCount + (long)k * shape.SliceVoxelCount), shape.SliceVoxelCount));
        }
        return all;
    }

    /// <summary>sha256 of values as little-endian float64 (this machine is little-endian), hex lower case.</summary>
    public static string Sha256OfFloat64(ReadOnlySpan<double> values)
    {
        Assert.True(BitConverter.IsLittleEndian);
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values)));
    }

    /// <summary>Fortran-order linear index of a voxel index over a shape.</summary>
    public static long FortranIndex(IReadOnlyList<long> shape, IReadOnlyList<long> index)
    {
        long linear = 0, stride = 1;
        for (var axis = 0; axis < shape.Count; axis++)
        {
            linear += index[axis] * stride;
            stride *= shape[axis];
        }
        return linear;
    }
}
