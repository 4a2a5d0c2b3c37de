using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Scoring;
using CtScan.Validation;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench hostile</c>: builds files made to cost more than a scan may (a gzip bomb behind a small valid scan,
/// a header at the data limit with 16384 slices, a 40000×40000×1 plane, a 1 GiB vox_offset gap) and scores each in a
/// child process (<c>ctscan score</c>'s path, with the model folder's gate and the work budget), so that every row's
/// peak working set is its own. Prints time, peak memory and outcome per construction. A benchmark, not a test.
/// </summary>
internal static class BenchHostileCommand
{
    private const double Mebibyte = 1024 * 1024;

    /// <summary>The issue's target: junk after the voxels is refused within this.</summary>
    private const double TrailingRefusalTargetSeconds = 1.5;

    private sealed record Construction(string Name, string File, string Description, Action<string, CancellationToken> Build);

    private sealed record ChildReport(string Status, string? Code, string? Message, double Milliseconds, long PeakWorkingSetBytes, long AllocatedBytes);

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "Model folder whose preprocessing and gate are used (default: the bundled demo model)",
            DefaultValueFactory = _ => new DirectoryInfo(DemoModel.Directory),
        };
        var trailingGib = new Option<double>("--trailing-gib") { Description = "GiB of gzipped zeros after the small scan in the bomb", DefaultValueFactory = _ => 32 };
        var folder = new Option<DirectoryInfo?>("--folder") { Description = "Build the files here and keep them (default: a temporary folder, deleted)" };
        var child = new Option<FileInfo?>("--child") { Description = "Internal: score this one file and print a JSON report", Hidden = true };
        var budget = new WorkBudgetOptions();
        var command = new Command("hostile", "Benchmark hostile constructions (gzip bomb, huge slice count, huge plane, vox_offset gap): time, peak memory, outcome")
        {
            model, trailingGib, folder, child,
        };
        budget.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var modelFolder = parse.GetRequiredValue(model).FullName;
            if (parse.GetValue(child) is { } file)
            {
                await ScoreAsChildAsync(stdout, file.FullName, modelFolder, budget.Budget(parse), budget.ReadOptions(parse), ct);
                return;
            }
            double gib = parse.GetValue(trailingGib);
            if (!(gib > 0)) throw new ArgumentException($"--trailing-gib: expected a positive number; got {gib}");
            var forwarded = ForwardedBudget(parse, budget);
            await RunAsync(stdout, modelFolder, (long)(gib * 1024 * Mebibyte), parse.GetValue(folder), forwarded, budget.Budget(parse), ct);
        }, cancellationToken));
        return command;
    }

    private static IReadOnlyList<Construction> Constructions(long trailingBytes) =>
    [
        new("normal scan", "normal.nii.gz", "a 128×128×64 phantom, for the baseline",
            (path, ct) => BudgetConstructions.WriteTrailingZeros(path, new VolumeShape(128, 128, 64), 0, ct)),
        new("(a) gzip bomb", "bomb.nii.gz", $"a 32×32×16 phantom followed by {trailingBytes / (1024 * Mebibyte):0.#} GiB of gzipped zeros",
            (path, ct) => BudgetConstructions.WriteTrailingZeros(path, new VolumeShape(32, 32, 16), trailingBytes, ct)),
        new("(b) 16384 slices", "slices-lps.nii.gz", "256×256×16384 int16 (2 GiB, the reader's limit) over gzipped zeros, LPS (streams)",
            (path, ct) => BudgetConstructions.WriteZeroVolume(path, new VolumeShape(256, 256, 16384), NiftiDataType.Int16, "LPS", ct)),
        new("(b') 16384 slices, RAS", "slices-ras.nii.gz", "the same stored RAS: reorienting to LPS needs the whole volume",
            (path, ct) => BudgetConstructions.WriteZeroVolume(path, new VolumeShape(256, 256, 16384), NiftiDataType.Int16, "RAS", ct)),
        new("(c) 40000×40000 plane", "plane.nii.gz", "40000×40000×1 uint8 over gzipped zeros",
            (path, ct) => BudgetConstructions.WriteZeroVolume(path, new VolumeShape(40000, 40000, 1), NiftiDataType.UInt8, "LPS", ct)),
        new("(d) vox_offset gap", "gap.nii.gz", "a 32×32×16 phantom behind vox_offset 2^30 (1 GiB of gzipped zeros)",
            (path, ct) => BudgetConstructions.WriteOffsetGap(path, new VolumeShape(32, 32, 16), 1L << 30, ct)),
    ];

    private static async Task RunAsync(TextWriter stdout, string modelFolder, long trailingBytes, DirectoryInfo? keep,
        IReadOnlyList<string> budgetArguments, ScanWorkBudget budget, CancellationToken ct)
    {
        var folder = keep ?? Directory.CreateTempSubdirectory("ctscan-bench-hostile-");
        folder.Create();
        try
        {
            stdout.WriteLine($"model {modelFolder}; memory budget {ScanWorkBudget.Megabytes(budget.MaxMemoryBytes)}, time budget {budget.MaxDuration.TotalSeconds:0.#} s; " +
                             $"each file scored in its own process; {Environment.ProcessorCount} cores");
            stdout.WriteLine($"{"case",-24} {"file MB",8} {"build s",8} {"score s",8} {"peak MB",8} {"alloc MB",9}  outcome");
            double? bombSeconds = null;
            long worstPeak = 0;
            foreach (var construction in Constructions(trailingBytes))
            {
                string path = Path.Combine(folder.FullName, construction.File);
                var build = Stopwatch.StartNew();
                if (!File.Exists(path)) construction.Build(path, ct);
                double buildSeconds = build.Elapsed.TotalSeconds;
                var report = await RunChildAsync(path, modelFolder, budgetArguments, ct);
                string outcome = report.Code is null ? report.Status : $"{report.Status} {report.Code}";
                stdout.WriteLine($"{construction.Name,-24} {new FileInfo(path).Length / 1e6,8:F1} {buildSeconds,8:F1} {report.Milliseconds / 1000,8:F2} " +
                                 $"{report.PeakWorkingSetBytes / 1e6,8:F0} {report.AllocatedBytes / 1e6,9:F0}  {outcome}");
                if (report.Message is { } message)
                    stdout.WriteLine($"{"",24} {Shorten(message, 150)}");
                if (construction.File == "bomb.nii.gz" && report.Code == ScanErrorCodes.TooLarge) bombSeconds = report.Milliseconds / 1000;
                if (construction.File != "normal.nii.gz") worstPeak = Math.Max(worstPeak, report.PeakWorkingSetBytes);
            }
            stdout.WriteLine($"targets: gzip bomb refused in < {TrailingRefusalTargetSeconds} s → " +
                             (bombSeconds is { } s ? $"{s:F2} s, {(s < TrailingRefusalTargetSeconds ? "met" : "NOT met")}" : "NOT refused as too-large") +
                             $"; largest peak working set of a hostile file {worstPeak / 1e6:F0} MB (whole process, runtime and model included) " +
                             $"vs memory budget {ScanWorkBudget.Megabytes(budget.MaxMemoryBytes)} → {(worstPeak <= budget.MaxMemoryBytes ? "within" : "OVER")}");
            if (keep is not null) stdout.WriteLine($"files kept in {folder.FullName}");
        }
        finally
        {
            if (keep is null) folder.Delete(recursive: true);
        }
    }

    /// <summary>Runs this CLI again with <c>--child FILE</c>: a fresh process, so its peak is this file's alone.</summary>
    private static async Task<ChildReport> RunChildAsync(string path, string modelFolder, IReadOnlyList<string> budgetArguments, CancellationToken ct)
    {
        var child = await ChildProcess.RunCtscanAsync(["bench", "hostile", "--child", path, "--model", modelFolder, .. budgetArguments], ct);
        string text = child.Output.Trim();
        int line = text.LastIndexOf('\n');
        string last = line < 0 ? text : text[(line + 1)..];
        if (child.ExitCode != 0 || !last.StartsWith('{'))
            return new ChildReport("crashed", null, $"exit code {child.ExitCode}: {Shorten(child.Errors.Trim(), 300)}", double.NaN, 0, 0);
        return JsonSerializer.Deserialize<ChildReport>(last, JsonOptions) ?? throw new InvalidDataException($"the benchmark child printed no report: {last}");
    }

    private static async Task ScoreAsChildAsync(TextWriter stdout, string path, string modelFolder, ScanWorkBudget budget, NiftiReadOptions readOptions, CancellationToken ct)
    {
        using var scorer = OnnxScorer.Open(modelFolder);
        var fileScorer = new FileScorer(scorer, budget: budget, readOptions: readOptions);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var result = await fileScorer.ScoreAsync(path, Path.GetFileName(path), ct);
        double ms = clock.Elapsed.TotalMilliseconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var report = new ChildReport(result.Status.ToString().ToLowerInvariant(), result.Error?.Code, result.Error?.Message, ms, self.PeakWorkingSet64, allocated);
        stdout.WriteLine(JsonSerializer.Serialize(report, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static IReadOnlyList<string> ForwardedBudget(ParseResult parse, WorkBudgetOptions budget)
    {
        var arguments = new List<string>();
        foreach (var option in (Option<double>[])[budget.MemoryMb, budget.TimeS, budget.TrailingMb, budget.GapMb])
        {
            arguments.Add(option.Name);
            arguments.Add(parse.GetValue(option).ToString("R", CultureInfo.InvariantCulture));
        }
        return arguments;
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
