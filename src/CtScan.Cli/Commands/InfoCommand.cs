using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using CtScan.Nifti;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan info FILE [--json] [--stats]</c>: the header facts of any valid NIfTI file.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "A NIfTI file: .nii, .nii.gz, .hdr/.img" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var stats = new Option<bool>("--stats") { Description = "Also read the data: min, max, mean, sum, NaN and inf counts of the scaled values" };
        var command = new Command("info", "Show a NIfTI file's header (and, with --stats, statistics of its scaled data)") { file, json, stats };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
        {
            using var image = NiftiImage.Open(parse.GetRequiredValue(file).FullName);
            var report = Describe(image);
            Exception? dataError = null;
            if (parse.GetValue(stats))
            {
                try
                {
                    report["stats"] = DescribeStatistics(image.ComputeStatistics(ct));
                }
                catch (NiftiFormatException error)
                {
                    // The header is still worth showing; the data error is reported after it.
                    dataError = error;
                }
            }
            stdout.WriteLine(parse.GetValue(json) ? report.ToJsonString(CliJson.Indented) : CliJson.ToText(report));
            if (dataError is not null) throw dataError;
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }

    internal static JsonObject Describe(NiftiImage image)
    {
        var h = image.Header;
        var scaling = image.Scaling;
        return new JsonObject
        {
            ["file"] = image.FileName,
            ["format"] = $"NIfTI-{h.NiftiVersion} {(h.IsPairFormat ? "pair (.hdr/.img)" : "single file")}",
            ["byteOrder"] = h.IsLittleEndian ? "little-endian" : "big-endian",
            ["datatype"] = h.DataType.ToString(),
            ["bitpix"] = h.BitPix,
            ["dim"] = CliJson.Array(h.Dim),
            ["shape"] = CliJson.Array(h.DataShape),
            ["volumes"] = image.VolumeCount,
            ["pixdim"] = CliJson.Array(h.PixDim),
            ["spacingMm"] = CliJson.Array([h.SpacingMm.X, h.SpacingMm.Y, h.SpacingMm.Z]),
            ["voxOffset"] = h.VoxOffset,
            ["sclSlope"] = CliJson.Number(h.SclSlope),
            ["sclInter"] = CliJson.Number(h.SclInter),
            ["scaling"] = scaling is { } s ? new JsonObject { ["slope"] = s.Slope, ["inter"] = s.Intercept } : null,
            ["qformCode"] = h.QformCode,
            ["sformCode"] = h.SformCode,
            ["affine"] = CliJson.Matrix(h.GetBestAffine()),
            ["descrip"] = h.Descrip,
            ["intentCode"] = h.IntentCode,
            ["xyztUnits"] = h.XyztUnits,
            ["magic"] = h.Magic,
            ["extensions"] = new JsonArray([.. image.Extensions.Select(e => (JsonNode)new JsonObject { ["code"] = e.Code, ["size"] = e.Size })]),
            ["problems"] = new JsonArray([.. h.Diagnose().Select(p => (JsonNode)JsonValue.Create(p.ToString()))]),
        };
    }

    private static JsonObject DescribeStatistics(VoxelStatistics s) => new()
    {
        ["voxels"] = s.VoxelCount,
        ["min"] = CliJson.Number(s.Min),
        ["max"] = CliJson.Number(s.Max),
        ["mean"] = CliJson.Number(s.Mean),
        ["sum"] = CliJson.Number(s.Sum),
        ["nanCount"] = s.NaNCount,
        ["positiveInfinityCount"] = s.PositiveInfinityCount,
        ["negativeInfinityCount"] = s.NegativeInfinityCount,
    };
}
