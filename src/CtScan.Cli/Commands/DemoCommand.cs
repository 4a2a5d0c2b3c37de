using System.CommandLine;
using System.Diagnostics;
using CtScan.Imaging;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan demo</c>: the local main job with nothing to set up — writes a normal and an abnormal phantom, reads
/// them back, preprocesses them exactly like the seed, caches the tensors as .npy and renders a montage of each.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the demo's files", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("out", "demo")) };
        var command = new Command("demo", "Phantom scans → NIfTI → seed preprocessing → .npy tensors and montages, locally") { output };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var root = parse.GetRequiredValue(output).FullName;
            var preprocessor = new ScanPreprocessor();
            foreach (var label in new[] { PhantomLabel.Normal, PhantomLabel.Abnormal })
            {
                var folder = Path.Combine(root, label == PhantomLabel.Normal ? PhantomsCommand.NormalFolder : PhantomsCommand.AbnormalFolder);
                Directory.CreateDirectory(folder);
                var scanPath = Path.Combine(folder, $"phantom-{label.ToString().ToLowerInvariant()}.nii.gz");
                ChestPhantomFile.Write(scanPath, new ChestPhantomOptions { Label = label, Seed = 42 }, ct);

                var clock = Stopwatch.StartNew();
                PreprocessedScan scan;
                using (var image = NiftiImage.Open(scanPath))
                {
                    stdout.WriteLine($"{scanPath}: NIfTI-{image.Header.NiftiVersion} {image.Header.DataType} {image.VolumeShape}, spacing {image.Header.SpacingMm} mm");
                    scan = preprocessor.Process(image.OpenVolume(), ct);
                }
                var elapsed = clock.Elapsed;
                var tensorPath = Path.ChangeExtension(scanPath[..^3], ".npy");
                await using (var file = File.Create(tensorPath))
                    await NpyFile.WriteAsync(file, scan.Tensor, ct);
                stdout.WriteLine("  " + PreprocessCommand.Summary(tensorPath, scan, elapsed));

                var (pixels, width, height) = SliceMontage.Render(scan.Tensor.Data, scan.Tensor.ToVolumeShape(), new SliceMontageOptions { FirstSlice = 12 });
                var pngPath = Path.ChangeExtension(tensorPath, ".png");
                await using (var png = File.Create(pngPath))
                    PngEncoder.WriteGrayscale(png, pixels, width, height);
                stdout.WriteLine($"  {pngPath}: montage of slices 12–51");
            }
            stdout.WriteLine($"done: scans, tensors and montages are in {root}");
        }, cancellationToken));
        return command;
    }
}
