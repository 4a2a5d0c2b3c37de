using System.Reflection;
using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Tests.Tensors;

public class TensorNamesTests
{
    private static readonly string Sha = new('e', 64);

    [Fact]
    public void For_SeedOptions_HashVersionAndKey()
    {
        string name = TensorNames.For(Sha, new PreprocessingOptions());

        Assert.Matches($"^{Sha}-v{PreprocessingVersion.Current}-[0-9a-f]{{16}}\\.npy$", name);
        Assert.Equal(name, TensorNames.For(Sha, new PreprocessingOptions()));
        Assert.Equal(name, TensorNames.For(Sha, PreprocessingSpecs.ToSpec(new PreprocessingOptions()))); // the manifest record names it alike
    }

    [Fact]
    public void For_OtherVersion_OtherName()
    {
        var options = new PreprocessingOptions();

        string current = TensorNames.For(Sha, options);
        string next = TensorNames.For(Sha, options, PreprocessingVersion.Current + 1);

        Assert.NotEqual(current, next);
        Assert.Contains($"-v{PreprocessingVersion.Current + 1}-", next);
        Assert.NotEqual(TensorNames.PreprocessingKey(options), TensorNames.PreprocessingKey(options, PreprocessingVersion.Current + 1));
    }

    [Fact]
    public void PreprocessingKey_EachOptionChanged_OtherKey()
    {
        var seed = new PreprocessingOptions();
        var variants = new[]
        {
            seed with { WindowMinimumHu = -1024 },
            seed with { WindowMaximumHu = 400.5 },
            seed with { TargetShape = new VolumeShape(128, 128, 63) },
            seed with { TargetShape = new VolumeShape(64, 128, 64) },
            seed with { TargetOrientation = "LPS" },
            seed with { TargetOrientation = "RAS" },
            seed with { TargetSpacingMm = (1.0, 1.0, 2.5) },
            seed with { TargetSpacingMm = (1.0, 1.0, 5.0) },
        };

        var keys = variants.Select(v => TensorNames.PreprocessingKey(v)).Append(TensorNames.PreprocessingKey(seed)).ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void For_ManifestRecordWithOrientationAndSpacing_NamesLikeTheOptions()
    {
        // The pipeline names tensors from the manifest's record, training from options: one conversion, one name.
        var options = new PreprocessingOptions { TargetOrientation = "LPS", TargetSpacingMm = (0.8, 0.8, 2.5) };

        var spec = PreprocessingSpecs.ToSpec(options);

        Assert.Equal(options, PreprocessingSpecs.ToOptions(spec));
        Assert.Equal(TensorNames.For(Sha, options), TensorNames.For(Sha, spec));
        Assert.NotEqual(TensorNames.For(Sha, new PreprocessingOptions()), TensorNames.For(Sha, spec));
    }

    [Fact]
    public void CanonicalText_NamesEveryOption()
    {
        // Options added later (orientation, spacing, …) change the key because the whole record is serialised.
        string text = TensorNames.CanonicalText(new PreprocessingOptions());

        foreach (var property in typeof(PreprocessingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            Assert.Contains($"\"{property.Name}\"", text, StringComparison.Ordinal);
        Assert.StartsWith($"ctscan-preprocessing;version={PreprocessingVersion.Current};", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ABC")]
    [InlineData("EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE")]
    [InlineData("../eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    public void For_NotALowercaseSha256_Throws(string sha)
    {
        var error = Assert.Throws<ArgumentException>(() => TensorNames.For(sha, new PreprocessingOptions()));
        Assert.Contains(sha, error.Message, StringComparison.Ordinal);
    }
}
