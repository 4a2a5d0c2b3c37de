using System.CommandLine;
using System.Diagnostics;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan preprocess IN OUT.npy</c>: the seed's process_scan, written as the .npy tensor cache format.</summary>
internal static class PreprocessCommand
{
    /// <param name="read">How to read the scan (the native launcher inflates ahead on a second thread); default <see cref="NiftiReadOptions.Default"/>.</param>
    public static Command Create(NiftiReadOptions? read = null)
    {
        var input = new Argument<FileInfo>("in") { Description = "A NIfTI scan: .nii, .nii.gz, .hdr/.img" };
        var output = new Argument<FileInfo>("out") { Description = "Where to write the float32 tensor (.npy)" };
        var options = new ScanOptions();
        var command = new Command("preprocess", "HU window, rotate 90°, zoom to the target shape, exactly as the seed; write .npy") { input, output };
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var scan = options.Preprocess(parse, parse.GetRequiredValue(input).FullName, ct, read);
            var elapsed = clock.Elapsed;
            var path = parse.GetRequiredValue(output).FullName;
            await using (var file = File.Create(path))
                await NpyFile.WriteAsync(file, scan.Tensor, ct);
            stdout.WriteLine(Summary(path, scan, elapsed));
        }, cancellationToken));
        return command;
    }

    internal static string Summary(string path, PreprocessedScan scan, TimeSpan elapsed)
    {
        var data = scan.Tensor.Data;
        double sum = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in data)
        {
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        var nonFinite = scan.NonFinite;
        var warning = nonFinite.Total > 0
            ? $"\nwarning: {nonFinite.NaN} NaN voxels (set to the window minimum), {nonFinite.PositiveInfinity} +inf and {nonFinite.NegativeInfinity} -inf voxels (clipped)"
            : "";
        return $"{path}: {scan.SourceShape} → {string.Join("×", scan.Tensor.Shape)} float32, min {min:G6} max {max:G6} mean {sum / data.Length:G8}, {elapsed.TotalMilliseconds:F1} ms{warning}";
    }
}

/// <summary>The preprocessing options several verbs share: target shape, HU window, volume index.</summary>
internal sealed class ScanOptions
{
    private readonly ShapeOption _target = new("--target", "Target shape", VolumeShape.SeedTarget);

    private readonly Option<double> _huMin = new("--hu-min") { Description = "HU window minimum", DefaultValueFactory = _ => HuWindow.SeedMinimumHu };
    private readonly Option<double> _huMax = new("--hu-max") { Description = "HU window maximum", DefaultValueFactory = _ => HuWindow.SeedMaximumHu };
    private readonly Option<int?> _volume = new("--volume") { Description = "Volume index of a 4-D file (0-based)" };

    public void AddTo(Command command)
    {
        command.Options.Add(_target.Option);
        command.Options.Add(_huMin);
        command.Options.Add(_huMax);
        command.Options.Add(_volume);
    }

    public PreprocessingOptions Options(ParseResult parse)
    {
        return new PreprocessingOptions
        {
            WindowMinimumHu = parse.GetValue(_huMin),
            WindowMaximumHu = parse.GetValue(_huMax),
            TargetShape = _target.GetValue(parse),
        }.Validated();
    }

    public PreprocessedScan Preprocess(ParseResult parse, string path, CancellationToken cancellationToken, NiftiReadOptions? read = null)
    {
        var preprocessor = new ScanPreprocessor(Options(parse));
        using var image = NiftiImage.Open(path, read);
        return preprocessor.Process(image.OpenVolume(parse.GetValue(_volume)), cancellationToken);
    }
}
