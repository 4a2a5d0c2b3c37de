namespace CtScan.Infra.Tests;

/// <summary>infra/main.bicep (and its modules) compiles and lints clean.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class CompilationTests(MainTemplateFixture main)
{
    [Fact]
    public void MainTemplate_Build_SucceedsWithoutDiagnostics()
    {
        Assert.True(main.Build.ExitCode == 0, main.Build.ToString());
        Assert.Empty(main.Build.Diagnostics);
        Assert.NotNull(main.Compiled.Root["$schema"]);
    }

    [Fact]
    public void MainTemplate_Lint_ReportsNothing()
    {
        // Lint covers the modules too; any warning is a failure here, not only the rules raised to errors.
        var lint = BicepCli.Lint(BicepCli.MainTemplate);

        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.Empty(lint.Diagnostics);
    }
}
