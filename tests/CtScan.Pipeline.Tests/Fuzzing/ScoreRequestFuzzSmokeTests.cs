using System.Text;
using CsCheck;
using CtScan.Fuzz;
using CtScan.Pipeline;
using CtScan.Tests.Fuzzing;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests.Fuzzing;

/// <summary>
/// The in-suite smoke run of the score-request fuzz driver (fuzz/CtScan.Fuzz, docs/fuzzing.md), no AFL++ needed: a few
/// seconds of mutated queue messages, and a replay of every crash regression. The driver returns when the message
/// parses into a usable request or is refused with <see cref="InvalidDataException"/>; anything else fails the test.
/// </summary>
public sealed class ScoreRequestFuzzSmokeTests(ITestOutputHelper output)
{
    private static readonly int Seconds =
        int.TryParse(Environment.GetEnvironmentVariable("CTSCAN_FUZZ_SECONDS"), out var seconds) && seconds > 0 ? seconds : 3;

    [Fact]
    public void ScoreRequestMessage_MutatedSeeds_ParseOrThrowInvalidDataException()
    {
        var seeds = FuzzCorpus.Seeds(ScoreRequestTarget.Name).Select(f => (Name: Path.GetFileName(f), Text: File.ReadAllText(f))).ToList();
        Assert.NotEmpty(seeds);
        foreach (var (name, text) in seeds) Assert.False(string.IsNullOrEmpty(ScoreRequestMessage.Parse(text).Scan), name);
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int).Sample(
            (seed, random) => ScoreRequestTarget.Run(Encoding.UTF8.GetBytes(Mutations.Json(seeds[seed].Text, random))),
            time: Seconds, threads: 1, writeLine: output.WriteLine, print: t => $"{seeds[t.Item1].Name} mutated with random seed {t.Item2}");
    }

    [Fact]
    public void ScoreRequestMessage_CrashRegressions_ParseOrThrowInvalidDataException()
    {
        var escaped = FuzzCorpus.Replay(FuzzCorpus.Regressions(ScoreRequestTarget.Name), ScoreRequestTarget.Run);
        Assert.True(escaped.Count == 0, string.Join("\n", escaped));
    }

    [Theory]
    [InlineData("{}", "invalid score request")]
    [InlineData("{\"scan\":\"a.nii\",\"tensor\":\"t.npy\",\"sha256\":\"abc\",\"enqueuedAt\":\"2026-11-29T10:00:00Z\"}", "64-hex-digit sha256")]
    [InlineData("[", "invalid score request")]
    [InlineData("null", "JSON null")]
    public void Parse_BadMessage_ThrowsInvalidDataExceptionNamingTheProblem(string message, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => ScoreRequestMessage.Parse(message));
        Assert.Contains(expected, error.Message);
    }
}
