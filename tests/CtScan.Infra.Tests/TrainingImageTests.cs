using System.Xml.Linq;

namespace CtScan.Infra.Tests;

/// <summary>
/// The GPU image cannot be built here (no Docker engine, TorchSharp-cuda-linux not served): these checks keep its
/// Dockerfile and the package switch it relies on consistent with the rest of the repository.
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
    public void Dockerfile_PublishesCtscanAgainstCuda_OnACudaUbuntu2404Image_WithoutTheDebianPatch()
    {
        Assert.Contains("-p:TorchSharpPackage=TorchSharp-cuda-linux", Dockerfile);
        Assert.Contains("-p:TorchSharpDebianFix=false", Dockerfile);
        Assert.Contains("dotnet publish src/CtScan.Cli/CtScan.Cli.csproj", Dockerfile);
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
