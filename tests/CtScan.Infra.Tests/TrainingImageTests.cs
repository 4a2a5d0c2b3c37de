using System.Diagnostics;
using System.Xml.Linq;

namespace CtScan.Infra.Tests;

/// <summary>
/// The GPU image cannot be built here (no Docker engine, TorchSharp-cuda-linux not served): these checks keep its
/// Dockerfile and the package switch it relies on consistent with the rest of the repository, and
/// <see cref="TrainingImageBuildTests"/> replays its build stage.
/// </summary>
public sealed class TrainingImageTests
{
    private static readonly string Dockerfile =
        File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "training", "Dockerfile"));

    [Fact]
    public void TrainingProject_LinksTorchSharpCpu_UnlessToldOtherwise()
    {
        var project = XDocument.Load(Path.Combine(BicepCli.RepositoryRoot, "src", "CtScan.Training", "CtScan.Training.csproj"));
        var property = project.Descendants("TorchSharpPackage").Single();
        var reference = project.Descendants("PackageReference").Single(p => ((string?)p.Attribute("Include"))!.Contains("TorchSharp", StringComparison.Ordinal));

        Assert.Equal("TorchSharp-cpu", property.Value);
        Assert.Equal("'$(TorchSharpPackage)' == ''", (string?)property.Attribute("Condition"));
        Assert.Equal("$(TorchSharpPackage)", (string?)reference.Attribute("Include"));
    }

    [Fact]
    public void CentralVersions_PinBothTorchSharpBuildsToTheSameVersion()
    {
        var props = XDocument.Load(Path.Combine(BicepCli.RepositoryRoot, "Directory.Packages.props"));
        string? Version(string id) => (string?)props.Descendants("PackageVersion")
            .SingleOrDefault(p => (string?)p.Attribute("Include") == id)?.Attribute("Version");

        Assert.NotNull(Version("TorchSharp-cpu"));
        Assert.Equal(Version("TorchSharp-cpu"), Version("TorchSharp-cuda-linux"));
    }

    [Fact]
    public void Dockerfile_PublishesTheJobAgainstCuda_OnACudaUbuntu2404Image_WithoutTheDebianPatch()
    {
        Assert.Contains("ARG TORCHSHARP_PACKAGE=TorchSharp-cuda-linux", Dockerfile);
        Assert.Contains("-p:TorchSharpPackage=${TORCHSHARP_PACKAGE}", Dockerfile);
        Assert.Contains("-p:TorchSharpDebianFix=false", Dockerfile);
        Assert.Contains("dotnet publish src/CtScan.TrainingJob/CtScan.TrainingJob.csproj", Dockerfile);
        // The Container Apps job runs `ctscan train --from-storage …` (infra/modules/trainingJob.bicep).
        Assert.Contains("ln -s /app/ctscan-train /usr/local/bin/ctscan", Dockerfile);
        Assert.Matches(@"ARG CUDA_IMAGE=nvidia/cuda:12\.8\.\d+-cudnn-runtime-ubuntu24\.04", Dockerfile);
        Assert.Contains("mcr.microsoft.com/dotnet/sdk:10.0", Dockerfile);
        Assert.Contains("ENTRYPOINT [\"ctscan\"]", Dockerfile);
        Assert.Contains("USER 10001", Dockerfile);
    }

    [Fact]
    public void Dockerfile_CopiesOnlyPathsThatExist()
    {
        var sources = Dockerfile.Split('\n')
            .Where(line => line.StartsWith("COPY ", StringComparison.Ordinal) && !line.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1]);

        Assert.All(sources, source =>
            Assert.True(File.Exists(Path.Combine(BicepCli.RepositoryRoot, source)) || Directory.Exists(Path.Combine(BicepCli.RepositoryRoot, source)),
                $"COPY source {source} does not exist"));
    }
}

/// <summary>
/// Replays the Dockerfile's build stage without Docker (<see cref="DockerBuildReplay"/>): its COPY and RUN steps in a
/// scratch folder, with TorchSharp-cpu in place of the CUDA package; then runs the published job executable. One
/// restore and one self-contained publish (a minute or two): the fixture does it once for the class.
/// </summary>
public sealed class TrainingImageBuildTests(TrainingImageBuildTests.Published image) : IClassFixture<TrainingImageBuildTests.Published>
{
    public sealed class Published : IDisposable
    {
        public Published()
        {
            Scratch = Directory.CreateTempSubdirectory("ctscan-image-replay-").FullName;
            var replay = new DockerBuildReplay(BicepCli.RepositoryRoot, Scratch);
            var stage = DockerBuildReplay.Stage(DockerBuildReplay.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "training", "Dockerfile"))), "build");
            try
            {
                replay.Run(stage, new Dictionary<string, string> { ["TORCHSHARP_PACKAGE"] = "TorchSharp-cpu" }, TimeSpan.FromMinutes(10));
            }
            catch (Exception error)
            {
                Failure = error.Message;
            }
            App = replay.Map("/app");
        }

        public string Scratch { get; }

        /// <summary>The replayed stage's /app.</summary>
        public string App { get; }

        /// <summary>Why the replay failed (the failing step and its output); null when it built.</summary>
        public string? Failure { get; }

        public void Dispose() => Directory.Delete(Scratch, recursive: true);
    }

    private string App
    {
        get
        {
            Assert.True(image.Failure is null, image.Failure);
            return image.App;
        }
    }

    private (int ExitCode, string Output) RunJob(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(App, "ctscan-train"), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = image.Scratch,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "ctscan-train did not exit within 2 minutes");
        return (process.ExitCode, output.Result + error.Result);
    }

    [Fact]
    public void BuildStage_Replayed_PublishesTheJobWithTrainingRegistryAndStorage_WithoutTheLocalHost()
    {
        string[] files = [.. Directory.EnumerateFiles(App).Select(Path.GetFileName).OfType<string>()];

        Assert.Contains("ctscan-train", files);
        Assert.Contains("CtScan.Retraining.dll", files);
        Assert.Contains("CtScan.Training.dll", files);
        Assert.Contains("CtScan.Pipeline.dll", files);
        Assert.Contains("TorchSharp.dll", files);
        Assert.Contains("libLibTorchSharp.so", files);
        Assert.Contains("Azure.Storage.Blobs.dll", files);
        Assert.Contains("Azure.Identity.dll", files);
        Assert.Contains("libcoreclr.so", files); // self-contained: the CUDA base image has no .NET
        Assert.DoesNotContain(files, f => f.StartsWith("Microsoft.Azure.WebJobs", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.StartsWith("CtScan.LocalHost", StringComparison.Ordinal) || f.StartsWith("CtScan.Cli", StringComparison.Ordinal));
    }

    [Fact]
    public void PublishedJob_Help_ListsTheTrainVerbAndItsStorageOptions()
    {
        var (exit, output) = RunJob("train", "--help");

        Assert.True(exit == 0, output);
        Assert.Contains("--from-storage", output);
        Assert.Contains("--account-url", output);
        Assert.Contains("--no-promote", output);
    }

    [Fact]
    public void PublishedJob_FromStorageWithStorageUnreachable_Exits4NamingTheTrainingContainer()
    {
        const string closed = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;";

        var (exit, output) = RunJob("train", "--from-storage", "--connection", closed, "--out", Path.Combine(image.Scratch, "work"));

        Assert.True(exit == 4, output); // storage unavailable (docs/cli-errors.md)
        Assert.Contains("storage unreachable: cannot read http://127.0.0.1:9/devstoreaccount1/training", output);
    }
}
