using CtScan.Contracts;

namespace CtScan.Pipeline.Tests;

public sealed class PipelineOptionsTests
{
    [Fact]
    public void FromSettings_ConnectionStringAndTuning_Applied()
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["CtScan__ModelRefreshSeconds"] = "2.5",
            ["CtScan__MaxScanBytes"] = "1000",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));

        Assert.Equal("UseDevelopmentStorage=true", options.ConnectionString);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.ModelRefreshInterval);
        Assert.Equal(1000, options.MaxScanBytes);
        Assert.Equal("scans", options.ScansContainer);
        Assert.Equal("score-requests-poison", options.ScoreRequestsPoisonQueue);
        Assert.Equal("webjobs-blobtrigger-poison", options.BlobTriggerPoisonQueue);
        Assert.Equal(Azure.Storage.Queues.QueueMessageEncoding.Base64, options.MessageEncoding);
    }

    [Fact]
    public void FromSettings_IdentityConnection_UsesServiceUris()
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage__accountName"] = "ctscanprod" };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
        var clients = new PipelineClients(options);

        Assert.Null(options.ConnectionString);
        Assert.Equal("https://ctscanprod.blob.core.windows.net/", clients.BlobService.Uri.AbsoluteUri);
        Assert.Equal("https://ctscanprod.queue.core.windows.net/", clients.QueueService.Uri.AbsoluteUri);
    }

    [Fact]
    public void FromSettings_Nothing_SaysWhatToSet()
    {
        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(_ => null));
        Assert.Contains("AzureWebJobsStorage", error.Message);
    }

    [Theory]
    [InlineData("Scans")]
    [InlineData("ab")]
    [InlineData("a--b")]
    public void Validated_BadContainerName_NamesIt(string name)
    {
        var error = Assert.Throws<PipelineConfigurationException>(() =>
            (PipelineOptions.ForConnectionString("UseDevelopmentStorage=true") with { ResultsContainer = name }).Validated());
        Assert.Contains($"'{name}'", error.Message);
    }

    [Theory]
    [InlineData("a.nii", null)]
    [InlineData("x/y z/ü 名.nii.gz", null)]
    [InlineData("..", "'..'")]
    [InlineData("a/./b.nii", "'.'")]
    [InlineData("/a.nii", "slash")]
    [InlineData("a\\b.nii", "backslash")]
    [InlineData("a\tb.nii", "U+0009")]
    [InlineData("a/", "empty path segment")]
    public void UnsafeReason_ExplainsWhy(string name, string? expected)
    {
        var reason = ScanNames.UnsafeReason(name);
        if (expected is null) Assert.Null(reason);
        else Assert.Contains(expected, reason);
        if (expected is not null)
        {
            string safe = ScanNames.ResultBlobName(name);
            Assert.StartsWith(ScanNames.UnsafeNamesFolder + "/", safe);
            Assert.Null(ScanNames.UnsafeReason(safe));
        }
    }

    [Theory]
    [InlineData(1018, false)]
    [InlineData(1019, false)]
    [InlineData(1020, true)]
    [InlineData(1024, true)]
    public void ResultBlobName_NameTooLongForSuffix_HashedUnderLongNames(int length, bool hashed)
    {
        string name = "ward/" + new string('x', length - "ward/".Length - ".nii".Length) + ".nii";

        string result = ScanNames.ResultBlobName(name);

        Assert.Null(ScanNames.UnsafeReason(name)); // acceptable: storage holds names up to 1,024 characters
        Assert.True(result.Length <= ScanNames.MaxBlobNameLength, $"{result.Length} characters");
        if (hashed) Assert.Matches($"^{ScanNames.LongNamesFolder}/[0-9a-f]{{16}}-ward_x{{75}}\\.json$", result);
        else Assert.Equal(name + ".json", result);
        Assert.Equal(result, ScanNames.ResultBlobName(name)); // stable
        Assert.Contains("1025 characters", ScanNames.UnsafeReason(name + new string('y', 1025 - length)));
    }

    [Fact]
    public void UnsafeReason_LoneSurrogate_Rejected()
    {
        // Built at run time: attribute strings cannot carry a lone surrogate (metadata is UTF-8).
        string name = "bad" + (char)0xD800 + ".nii";
        Assert.Contains("surrogate", ScanNames.UnsafeReason(name));
        Assert.Null(ScanNames.UnsafeReason("ok" + char.ConvertFromUtf32(0x1F600) + ".nii"));
    }
}
