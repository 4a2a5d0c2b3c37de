using System.CommandLine;
using CtScan.Nifti;
using CtScan.Validation;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>--memory-budget-mb</c>, <c>--time-budget-s</c>, <c>--max-trailing-mb</c> and <c>--max-offset-gap-mb</c>: the work
/// budget one scan may cost (docs/input-gate.md, "Work budget"), for the verbs that preprocess scans.
/// </summary>
internal sealed class WorkBudgetOptions
{
    private const double Mebibyte = 1024 * 1024;

    public Option<double> MemoryMb { get; } = new("--memory-budget-mb")
    {
        Description = "Most memory one scan's preprocessing may need, in MiB (estimated from the header; beyond: rejected, too-large)",
        DefaultValueFactory = _ => ScanWorkBudget.DefaultMaxMemoryBytes / Mebibyte,
    };

    public Option<double> TimeS { get; } = new("--time-budget-s")
    {
        Description = "Longest one scan's decoding and preprocessing may take, in seconds (beyond: rejected, too-large)",
        DefaultValueFactory = _ => ScanWorkBudget.DefaultMaxDuration.TotalSeconds,
    };

    public Option<double> TrailingMb { get; } = new("--max-trailing-mb")
    {
        Description = "Most decompressed data read after the voxels of a .nii.gz, in MiB (beyond: rejected, too-large)",
        DefaultValueFactory = _ => NiftiReadOptions.DefaultMaxTrailingDataBytes / Mebibyte,
    };

    public Option<double> GapMb { get; } = new("--max-offset-gap-mb")
    {
        Description = "Most bytes between the header and vox_offset, in MiB (beyond: rejected, too-large)",
        DefaultValueFactory = _ => NiftiReadOptions.DefaultMaxDataOffsetGapBytes / Mebibyte,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(MemoryMb);
        command.Options.Add(TimeS);
        command.Options.Add(TrailingMb);
        command.Options.Add(GapMb);
    }

    /// <exception cref="ArgumentException">A value is not a positive number (exit 2 with the option named).</exception>
    public ScanWorkBudget Budget(ParseResult parse) => new ScanWorkBudget
    {
        MaxMemoryBytes = Bytes(parse, MemoryMb),
        MaxDuration = TimeSpan.FromSeconds(Positive(parse, TimeS)),
    };

    public NiftiReadOptions ReadOptions(ParseResult parse) => NiftiReadOptions.Default with
    {
        MaxTrailingDataBytes = Bytes(parse, TrailingMb),
        MaxDataOffsetGapBytes = Bytes(parse, GapMb),
    };

    private static long Bytes(ParseResult parse, Option<double> option) => (long)(Positive(parse, option) * Mebibyte);

    private static double Positive(ParseResult parse, Option<double> option)
    {
        double value = parse.GetValue(option);
        return double.IsFinite(value) && value > 0 ? value
            : throw new ArgumentException($"{option.Name}: expected a positive number; got {value}");
    }
}
