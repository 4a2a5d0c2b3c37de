namespace CtScan.Pipeline.Tests;

public sealed class ExplainSettingsTests
{
    private static PipelineOptions From(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" };
        foreach (var (key, value) in extra) settings[key] = value;
        return PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
    }

    [Fact]
    public void FromSettings_NoExplainSetting_IsOffWithTheContractQueue()
    {
        var options = From();

        Assert.False(options.Explain);
        Assert.Equal("explain-requests", options.ExplainRequestsQueue);
        Assert.Equal(8, options.Occlusion.MaxPatches);
        Assert.Equal("occlusion", options.ExplainMethod);
    }

    [Fact]
    public void FromSettings_ExplainMethod_Applied()
    {
        Assert.Equal("guided-gradcam", From(("CtScan__ExplainMethod", "guided-gradcam")).ExplainMethod);
        Assert.Equal("gradcam", From(("CtScan__ExplainMethod", "gradcam")).ExplainMethod);
    }

    [Fact]
    public void Services_GradCamMethodWithoutTorchSharp_RefusedNamingTheSetting()
    {
        var options = From(("CtScan__Explain", "true"), ("CtScan__ExplainMethod", "guided-gradcam"));

        var error = Assert.Throws<PipelineConfigurationException>(() => new PipelineServices(options));

        Assert.Equal("CtScan__ExplainMethod guided-gradcam needs TorchSharp, which this host does not load; use occlusion here (`ctscan up` runs Grad-CAM)", error.Message);
        // Explanations off: the method is not used, so nothing is refused.
        using var off = new PipelineServices(options with { Explain = false });
    }

    [Fact]
    public void FromSettings_ExplainTrueAndPatches_Applied()
    {
        var options = From(("CtScan__Explain", "true"), ("CtScan__ExplainMaxPatches", "27"));

        Assert.True(options.Explain);
        Assert.Equal(27, options.Occlusion.MaxPatches);
    }

    [Theory]
    [InlineData("CtScan__Explain", "yes", "expected true or false")]
    [InlineData("CtScan__ExplainMaxPatches", "0", "MaxPatches must lie in [1, 100000]")]
    [InlineData("CtScan__ExplainMethod", "saliency", "CtScan__ExplainMethod: expected occlusion, guided-gradcam or gradcam; got 'saliency'")]
    public void FromSettings_BadExplainSetting_NamesTheSetting(string key, string value, string expected)
    {
        var error = Assert.Throws<PipelineConfigurationException>(() => From((key, value)));

        Assert.Contains(expected, error.Message);
    }
}
