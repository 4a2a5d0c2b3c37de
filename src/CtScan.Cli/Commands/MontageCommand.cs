using System.CommandLine;
using CtScan.Imaging;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan montage IN -o montage.png</c>: a grid of axial slices like the seed's plot_slices.</summary>
internal static class MontageCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("in") { Description = "A tensor (.npy) or a NIfTI scan (preprocessed first, so you see what the model sees)" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "PNG to write", DefaultValueFactory = _ => new FileInfo("montage.png") };
        var rows = new Option<int>("--rows") { Description = "Rows of panels", DefaultValueFactory = _ => 4 };
        var columns = new Option<int>("--columns") { Description = "Columns of panels", DefaultValueFactory = _ => 10 };
        var first = new Option<int>("--first") { Description = "First slice shown" };
        var step = new Option<int>("--step") { Description = "Slices between panels", DefaultValueFactory = _ => 1 };
        var scanOptions = new ScanOptions();
        var command = new Command("montage", "Write a PNG grid of axial slices (the seed's plot_slices: 4 × 10 from slice 0)")
        {
            input, output, rows, columns, first, step,
        };
        scanOptions.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var path = parse.GetRequiredValue(input).FullName;
            Float32Tensor tensor;
            if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                tensor = await NpyFile.ReadAsync(path, cancellationToken: ct);
            else
            {
                tensor = scanOptions.Preprocess(parse, path, ct).Tensor;
            }
            var options = new SliceMontageOptions
            {
                Rows = parse.GetValue(rows),
                Columns = parse.GetValue(columns),
                FirstSlice = parse.GetValue(first),
                SliceStep = parse.GetValue(step),
            };
            var (pixels, width, height) = SliceMontage.Render(tensor.Data, tensor.ToVolumeShape(), options);
            var png = parse.GetRequiredValue(output).FullName;
            await using (var file = File.Create(png))
                PngEncoder.WriteGrayscale(file, pixels, width, height);
            stdout.WriteLine($"{png}: {options.Rows}×{options.Columns} slices of {tensor.ToVolumeShape()}, {width}×{height} px");
        }, cancellationToken));
        return command;
    }
}
