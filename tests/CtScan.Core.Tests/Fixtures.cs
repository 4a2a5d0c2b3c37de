namespace CtScan.Tests;

/// <summary>Finds files under <c>tests/fixtures</c> (see its README) from the test binary's folder.</summary>
internal static class Fixtures
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "CtFunctions.sln")))
                return System.IO.Path.Combine(dir.FullName, "tests", "fixtures");
        }
        throw new DirectoryNotFoundException($"no CtFunctions.sln above {AppContext.BaseDirectory}");
    });

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    public static string Golden(string file) => Path("golden", file);

    public static string RealNifti(string file) => Path("nifti-real", file);
}
