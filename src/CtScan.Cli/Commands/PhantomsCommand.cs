using System.CommandLine;
using CtScan.Phantoms;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan phantoms --out DIR --count N --seed S</c>: synthetic labelled chest CTs in MosMedData layout.</summary>
internal static class PhantomsCommand
{
    /// <summary>MosMedData's folder names: CT-0 holds normal studies, CT-23 those with viral pneumonia findings.</summary>
    public const string NormalFolder = "CT-0";
    public const string AbnormalFolder = "CT-23";

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write CT-0/ and CT-23/ into", Required = true };
        var count = new Option<int>("--count") { Description = "How many phantoms (half normal, half abnormal)", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed of the first phantom; the others follow", DefaultValueFactory = _ => 0 };
        var shape = new ShapeOption("--shape", "Voxels", new VolumeShape(512, 512, 64));
        var noise = new Option<double>("--noise") { Description = "Noise sigma in HU", DefaultValueFactory = _ => 15 };
        var uncompressed = new Option<bool>("--uncompressed") { Description = "Write .nii instead of .nii.gz" };
        var masks = new Option<bool>("--masks") { Description = "Also write each phantom's ground-glass opacity mask beside it (<name>.mask.nii.gz, uint8, same grid and affine)" };
        var command = new Command("phantoms", "Write synthetic chest CT phantoms (normal lungs vs ground-glass opacities); deterministic from --seed")
        {
            output, count, seed, shape.Option, noise, uncompressed, masks,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
        {
            var n = parse.GetValue(count);
            if (n < 1) throw new ArgumentException($"--count must be at least 1; got {n}");
            var size = shape.GetValue(parse);
            var root = parse.GetRequiredValue(output).FullName;
            var extension = parse.GetValue(uncompressed) ? ".nii" : ".nii.gz";
            for (int index = 0; index < n; index++)
            {
                var options = new ChestPhantomOptions
                {
                    Shape = size,
                    Seed = parse.GetValue(seed) + index,
                    Label = index % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal,
                    NoiseHu = parse.GetValue(noise),
                };
                var folder = Path.Combine(root, options.Label == PhantomLabel.Normal ? NormalFolder : AbnormalFolder);
                Directory.CreateDirectory(folder);
                var path = Path.Combine(folder, $"phantom-{options.Seed:D5}{extension}");
                var phantom = ChestPhantomFile.Write(path, options, ct);
                if (parse.GetValue(masks)) ChestPhantomFile.WriteMask(ChestPhantomFile.MaskPathFor(path), phantom, ct);
                stdout.WriteLine($"{path}: {options.Label.ToString().ToLowerInvariant()}, {size}, {phantom.Opacities.Count} opacities");
            }
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }
}
