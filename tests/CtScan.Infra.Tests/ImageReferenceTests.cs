namespace CtScan.Infra.Tests;

/// <summary>
/// infra/modules/imageReference.bicep's check, evaluated by Bicep itself: `bicep build-params` evaluates a parameters
/// file's expressions at compile time, so calling the exported function there shows what ARM would decide.
/// </summary>
public sealed class ImageReferenceTests : IDisposable
{
    private const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("ctscan-image-ref-");

    public void Dispose() => scratch.Delete(recursive: true);

    [Theory]
    [InlineData("crctfunc.azurecr.io/ctscan-train@sha256:" + Digest, true)]
    [InlineData("crctfunc.azurecr.io/team/ctscan-train@sha256:" + Digest, true)]
    [InlineData("crctfunc.azurecr.io/ctscan-train:latest", false)]
    [InlineData("crctfunc.azurecr.io/ctscan-train:1.0@sha256:" + Digest, false)]
    [InlineData("ctscan-train@sha256:" + Digest, false)]
    [InlineData("crctfunc.azurecr.io/ctscan-train@sha256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("crctfunc.azurecr.io/ctscan-train@sha256:" + "0123456789abcdef", false)]
    [InlineData("crctfunc.azurecr.io/ctscan-train@sha256:" + Digest + "0", false)]
    [InlineData("crctfunc.azurecr.io/ctscan-train@sha256:" + "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("", false)]
    public void IsImageDigestReference_AcceptsOnlyRegistryRepositoryAtSha256(string image, bool expected)
    {
        File.Copy(Path.Combine(BicepCli.InfraDirectory, "modules", "imageReference.bicep"), Path.Combine(scratch.FullName, "imageReference.bicep"));
        File.WriteAllText(Path.Combine(scratch.FullName, "probe.bicep"), "param result bool\noutput result bool = result\n");
        var parameters = Path.Combine(scratch.FullName, "probe.bicepparam");
        File.WriteAllText(parameters, $"""
            using 'probe.bicep'
            import {"{"} isImageDigestReference {"}"} from 'imageReference.bicep'
            param result = isImageDigestReference('{image}')
            """);

        var values = BicepCli.EvaluateParameters(parameters);

        Assert.Equal(expected, values["result"]!["value"]!.GetValue<bool>());
    }
}
