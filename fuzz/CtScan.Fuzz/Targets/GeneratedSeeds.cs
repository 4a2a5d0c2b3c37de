using System.IO.Compression;
using CtScan.Nifti;
using CtScan.Tensors;

namespace CtScan.Fuzz;

/// <summary>
/// Small seed inputs written by the product's own writers: NIfTI images that pass the input gate (so the fuzzer starts
/// inside the data and preprocessing paths, not only at header checks) in several datatypes, byte orders, versions and
/// compressions, and .npy tensors. A few KiB each: AFL++ mutates small inputs far faster.
/// </summary>
internal static class GeneratedSeeds
{
    public static IReadOnlyList<(string Name, byte[] Bytes)> Nifti()
    {
        var seeds = new List<(string, byte[])>();
        var ct = new NiftiWriteOptions { Shape = [16, 16, 8], VoxelSize = [1.5, 1.5, 3], QformCode = 1, Quaternion = (0, 0, 1) };
        seeds.Add(("ct-int16-16x16x8.nii", Single<short>(Chest<short>(16, 16, 8, v => (short)v), ct)));
        seeds.Add(("ct-int16-16x16x8.nii.gz", Gzip(seeds[^1].Item2)));
        seeds.Add(("ct-float32-be-nifti2-sform.nii", Single<float>(Chest<float>(16, 16, 8, v => (float)v), ct with
        {
            Version = 2, LittleEndian = false, QformCode = 0, SformCode = 2, Sform = [-1.5, 0, 0, 10, 0, -1.5, 0, 20, 0, 0, 3, -30],
        })));
        seeds.Add(("ct-uint8-scaled-extension.nii", Single<byte>(Chest<byte>(16, 16, 8, v => (byte)((v + 1024) / 8)), ct with
        {
            SclSlope = 8, SclInter = -1024, Extensions = [(6, "fuzz seed"u8.ToArray())],
        })));
        seeds.Add(("4d-int16-4x4x2x2.nii", Single<short>(new short[4 * 4 * 2 * 2], new NiftiWriteOptions { Shape = [4, 4, 2, 2], VoxelSize = [1, 1, 1, 1] })));
        seeds.Add(("tiny-uint8-2x2x2.nii.gz", Gzip(Single<byte>(new byte[] { 0, 1, 2, 3, 4, 5, 6, 7 }, new NiftiWriteOptions { Shape = [2, 2, 2] }))));
        return seeds;
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> Npy() =>
    [
        ("3x2x2.npy", NpyBytes(new Float32Tensor([.. Enumerable.Range(0, 12).Select(i => i * 0.5f)], [3, 2, 2]))),
        ("scalar.npy", NpyBytes(new Float32Tensor([1.5f], []))),
        ("empty-0x4.npy", NpyBytes(new Float32Tensor([], [0, 4]))),
    ];

    /// <summary>A smooth chest-like volume: air outside a disc of soft tissue, so the gate's air and smoothness checks pass.</summary>
    private static T[] Chest<T>(int width, int height, int depth, Func<double, T> convert)
    {
        var voxels = new T[width * height * depth];
        for (int z = 0; z < depth; z++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double r = Math.Sqrt(Math.Pow(x - width / 2.0, 2) + Math.Pow(y - height / 2.0, 2));
                    voxels[x + width * (y + height * z)] = convert(r < width / 3.0 ? 40 : -1000);
                }
        return voxels;
    }

    private static byte[] Single<T>(T[] data, NiftiWriteOptions options) where T : unmanaged
    {
        using var stream = new MemoryStream();
        NiftiWriter.WriteSingle<T>(stream, data, options);
        return stream.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return stream.ToArray();
    }

    private static byte[] NpyBytes(Float32Tensor tensor)
    {
        using var stream = new MemoryStream();
        NpyFile.Write(stream, tensor);
        return stream.ToArray();
    }
}
