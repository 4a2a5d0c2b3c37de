namespace CtScan.Cli.Commands;

/// <summary>
/// The bundled demo model (repository folder <c>models/demo</c>, copied next to <c>ctscan</c> as <c>demo-model/</c>):
/// trained on synthetic phantoms only, so that <c>score</c> and <c>up</c> work out of the box. Not for clinical use.
/// </summary>
internal static class DemoModel
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "demo-model");
}
