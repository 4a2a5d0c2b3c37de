using System.Globalization;

namespace CtScan.Nifti;

/// <summary>One header check: returns a problem, or null when the header passes.</summary>
public delegate HeaderProblem? HeaderCheck(NiftiHeader header, NiftiReadOptions options);

/// <summary>
/// The header check battery (after nibabel's <c>_chk_*</c> checks): an ordered list of pure checks. Readers throw
/// the first <see cref="ProblemLevel.Error"/>; <see cref="NiftiHeader.Diagnose"/> returns all problems. Checks
/// that depend on an earlier one (datatype before bitpix, dims before size) pass quietly when it failed.
/// </summary>
public static class NiftiHeaderChecks
{
    public static IReadOnlyList<HeaderCheck> All { get; } = Array.AsReadOnly<HeaderCheck>(
    [
        CheckMagic, CheckRank, CheckDims, CheckDataType, CheckBitPix, CheckVoxOffset, CheckDataSize,
        CheckScaling, CheckPixDims, CheckQfac, CheckXformCodes, CheckVoxOffsetAlignment,
    ]);

    public static IReadOnlyList<HeaderProblem> Run(NiftiHeader header, NiftiReadOptions options)
    {
        var problems = new List<HeaderProblem>();
        foreach (var check in All)
        {
            if (check(header, options) is { } problem) problems.Add(problem);
        }
        return problems;
    }

    /// <summary>Throws the first error-level problem as a <see cref="NiftiFormatException"/>.</summary>
    public static void ThrowIfInvalid(NiftiHeader header, string fileName, NiftiReadOptions options)
    {
        foreach (var check in All)
        {
            if (check(header, options) is { Level: ProblemLevel.Error } problem)
                throw new NiftiFormatException(fileName, problem.Field, problem.Message);
        }
    }

    public static HeaderProblem? CheckMagic(NiftiHeader h, NiftiReadOptions _)
    {
        if (h.HasValidMagic) return null;
        var expected = h.NiftiVersion == 1 ? "'n+1' or 'ni1'" : "'n+2' or 'ni2' (with \\0\\r\\n\\x1A\\n)";
        return Error("magic", $"magic is {Quote(h.MagicBytes)}; expected {expected} for NIfTI-{h.NiftiVersion}");
    }

    public static HeaderProblem? CheckRank(NiftiHeader h, NiftiReadOptions _) =>
        h.Dim[0] is >= 1 and <= NiftiLayout.MaxDims
            ? null
            : Error("dim", $"dim[0] (number of dimensions) is {h.Dim[0]}; expected 1..{NiftiLayout.MaxDims}");

    public static HeaderProblem? CheckDims(NiftiHeader h, NiftiReadOptions _)
    {
        for (var i = 1; i <= h.Rank && i <= NiftiLayout.MaxDims; i++)
        {
            if (h.Dim[i] <= 0)
                return Error("dim", $"dim[{i}] is {h.Dim[i]}; every used dim (1..{h.Rank}) must be at least 1 " +
                    $"(dim = [{string.Join(", ", h.Dim)}])");
        }
        return null;
    }

    public static HeaderProblem? CheckDataType(NiftiHeader h, NiftiReadOptions _) =>
        h.DataType.IsSupported()
            ? null
            : Error("datatype", $"datatype {(short)h.DataType} ({h.DataType.Name()}) is not supported; supported: " +
                string.Join(", ", NiftiDataTypes.Supported.Select(t => $"{t.Name()} ({(short)t})")));

    public static HeaderProblem? CheckBitPix(NiftiHeader h, NiftiReadOptions _)
    {
        if (!h.DataType.IsSupported()) return null;
        var expected = 8 * h.DataType.BytesPerVoxel();
        return h.BitPix == expected
            ? null
            : Error("bitpix", $"bitpix is {h.BitPix} but datatype {h.DataType.Name()} needs {expected}");
    }

    public static HeaderProblem? CheckVoxOffset(NiftiHeader h, NiftiReadOptions _)
    {
        var offset = h.VoxOffset;
        var minimum = h.IsPairFormat ? 0 : h.SizeOfHeader;
        if (!double.IsFinite(offset) || offset != Math.Floor(offset))
            return Error("vox_offset", $"vox_offset is {Format(offset)}; expected a whole number of bytes");
        if (offset < minimum)
            return Error("vox_offset", $"vox_offset is {Format(offset)}, inside the {h.SizeOfHeader}-byte header; " +
                $"a single-file NIfTI-{h.NiftiVersion} needs at least {minimum} (normally {h.Layout.SingleVoxOffset})");
        return offset > long.MaxValue / 2
            ? Error("vox_offset", $"vox_offset is {Format(offset)}; too large")
            : null;
    }

    public static HeaderProblem? CheckDataSize(NiftiHeader h, NiftiReadOptions options)
    {
        if (CheckRank(h, options) is not null || CheckDims(h, options) is not null || !h.DataType.IsSupported())
            return null;
        var bytes = (Int128)h.VoxelCount * h.DataType.BytesPerVoxel();
        var shape = string.Join("×", h.DataShape);
        return h.VoxelCount == long.MaxValue || bytes > options.MaxVoxelDataBytes
            ? Error("dim", $"dim declares {shape} {h.DataType.Name()} voxels = " +
                $"{(h.VoxelCount == long.MaxValue ? "more than 2^63 voxels" : $"{bytes} bytes")}; the limit " +
                $"(NiftiReadOptions.MaxVoxelDataBytes) is {options.MaxVoxelDataBytes} bytes")
            : null;
    }

    public static HeaderProblem? CheckScaling(NiftiHeader h, NiftiReadOptions _) =>
        h.SclSlope != 0 && double.IsFinite(h.SclSlope) && !double.IsFinite(h.SclInter)
            ? Error("scl_inter", $"scl_slope is {Format(h.SclSlope)} but scl_inter is {Format(h.SclInter)}; " +
                "a scaled file needs a finite intercept")
            : null;

    public static HeaderProblem? CheckPixDims(NiftiHeader h, NiftiReadOptions _)
    {
        for (var i = 1; i <= Math.Min(h.Rank, 3); i++)
        {
            var p = h.PixDim[i];
            if (!double.IsFinite(p) || p <= 0)
                return new HeaderProblem(ProblemLevel.Warning, "pixdim",
                    $"pixdim[{i}] (voxel size) is {Format(p)}; expected a positive finite size" +
                    (p < 0 ? " (its absolute value is used)" : ""));
        }
        return null;
    }

    public static HeaderProblem? CheckQfac(NiftiHeader h, NiftiReadOptions _) =>
        h.PixDim[0] is 1 or -1
            ? null
            : new HeaderProblem(ProblemLevel.Info, "pixdim",
                $"pixdim[0] (qfac) is {Format(h.PixDim[0])}; expected 1 or -1 (read as 1)");

    public static HeaderProblem? CheckXformCodes(NiftiHeader h, NiftiReadOptions _)
    {
        const int maxXformCode = 5; // NIFTI_XFORM_TEMPLATE_OTHER
        foreach (var (field, code) in new[] { ("qform_code", h.QformCode), ("sform_code", h.SformCode) })
        {
            if (code is < 0 or > maxXformCode)
                return new HeaderProblem(ProblemLevel.Warning, field,
                    $"{field} is {code}; expected 0..{maxXformCode}");
        }
        return null;
    }

    public static HeaderProblem? CheckVoxOffsetAlignment(NiftiHeader h, NiftiReadOptions _)
    {
        const int alignment = 16; // nifti1.h: vox_offset should be a multiple of 16 (SPM compatibility)
        return h.IsPairFormat || !double.IsFinite(h.VoxOffset) || h.VoxOffset % alignment == 0
            ? null
            : new HeaderProblem(ProblemLevel.Info, "vox_offset",
                $"vox_offset is {Format(h.VoxOffset)}, not a multiple of {alignment} (not SPM compatible)");
    }

    private static HeaderProblem Error(string field, string message) => new(ProblemLevel.Error, field, message);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(byte[] bytes) =>
        "'" + string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}")) + "'";
}
