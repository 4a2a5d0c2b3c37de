using System.Text;
using CsCheck;
using Xunit.Abstractions;
using CtScan.Contracts;
using CtScan.Fuzz;
using CtScan.Nifti;
using CtScan.Tensors;

namespace CtScan.Tests.Fuzzing;

/// <summary>
/// The in-suite smoke run of the fuzz drivers (fuzz/CtScan.Fuzz/Targets, docs/fuzzing.md), no AFL++ needed: a few
/// seconds of random mutations of the seed corpus per parser, and a replay of every crash regression. A driver returns
/// when its input parses or is refused with the parser's own exception; anything else escapes and fails the test.
/// </summary>
public sealed class ParserFuzzSmokeTests(ITestOutputHelper output)
{
    /// <summary>Seconds per parser: 3 in the suite; CTSCAN_FUZZ_SECONDS runs longer by hand.</summary>
    private static readonly int Seconds =
        int.TryParse(Environment.GetEnvironmentVariable("CTSCAN_FUZZ_SECONDS"), out var seconds) && seconds > 0 ? seconds : 3;

    [Fact]
    public void NiftiReader_MutatedSeeds_ParseOrThrowNiftiFormatException()
    {
        var seeds = NiftiSeeds();
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int).Sample(
            (seed, random) => NiftiTarget.Run(Mutations.Binary(seeds[seed].Bytes, random, niftiHeader: true)),
            time: Seconds, threads: 1, writeLine: output.WriteLine, print: t => $"{seeds[t.Item1].Name} mutated with random seed {t.Item2}");
    }

    [Fact]
    public void NpyReader_MutatedSeeds_ParseOrThrowNpyFormatException()
    {
        var seeds = NpySeeds();
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int).Sample(
            (seed, random) => NpyTarget.Run(Mutations.Binary(seeds[seed].Bytes, random, niftiHeader: false)),
            time: Seconds, threads: 1, writeLine: output.WriteLine, print: t => $"{seeds[t.Item1].Name} mutated with random seed {t.Item2}");
    }

    [Fact]
    public void ManifestParser_MutatedSeeds_ParseOrThrowInvalidDataException()
    {
        var seeds = FuzzCorpus.Seeds(ManifestTarget.Name).Select(f => (Name: Path.GetFileName(f), Text: File.ReadAllText(f))).ToList();
        Assert.NotEmpty(seeds);
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int).Sample(
            (seed, random) => ManifestTarget.Run(Encoding.UTF8.GetBytes(Mutations.Json(seeds[seed].Text, random))),
            time: Seconds, threads: 1, writeLine: output.WriteLine, print: t => $"{seeds[t.Item1].Name} mutated with random seed {t.Item2}");
    }

    [Theory]
    [InlineData(NiftiTarget.Name)]
    [InlineData(NpyTarget.Name)]
    [InlineData(ManifestTarget.Name)]
    public void CrashRegressions_Replayed_ParseOrThrowTheParsersException(string target)
    {
        Action<byte[]> run = target switch
        {
            NiftiTarget.Name => NiftiTarget.Run,
            NpyTarget.Name => NpyTarget.Run,
            _ => ManifestTarget.Run,
        };
        var escaped = FuzzCorpus.Replay(FuzzCorpus.Regressions(target), run);
        Assert.True(escaped.Count == 0, string.Join("\n", escaped));
    }

    [Fact]
    public void Seeds_Unmutated_Parse()
    {
        // The mutations start from inputs the parsers accept; a seed that is refused would make the runs above weaker.
        foreach (var (name, bytes) in NiftiSeeds())
            using (var image = NiftiImage.Read(new MemoryStream(bytes), name)) Assert.True(image.Header.VoxelCount > 0, name);
        foreach (var (name, bytes) in NpySeeds())
            Assert.Equal(NpyFile.Read(new MemoryStream(bytes)).Data.Length, NpyFile.Read(new MemoryStream(bytes)).Shape.Aggregate(1, (a, b) => a * b));
        foreach (var file in FuzzCorpus.Seeds(ManifestTarget.Name))
            Assert.Empty(ContractsJson.DeserializeManifest(File.ReadAllText(file)).Validate());
    }

    private static List<(string Name, byte[] Bytes)> NiftiSeeds() =>
    [
        .. GeneratedSeeds.Nifti(),
        .. new[] { "functional.nii", "example_nifti2.nii.gz" }.Select(f => (f, File.ReadAllBytes(Fixtures.RealNifti(f)))),
    ];

    private static List<(string Name, byte[] Bytes)> NpySeeds() =>
        [.. GeneratedSeeds.Npy(), ("input_12x10x7.npy", File.ReadAllBytes(Fixtures.Path("spacing", "input_12x10x7.npy")))];
}
