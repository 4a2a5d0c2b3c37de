using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace CtScan.Infra.Tests;

/// <summary>One Dockerfile instruction: its keyword (upper case) and its arguments, continuation lines joined.</summary>
public sealed record DockerInstruction(int Line, string Keyword, string Arguments);

/// <summary>
/// Replays one build stage of a Dockerfile without Docker: its ARG, WORKDIR, COPY and RUN steps, in a scratch folder
/// that stands for the container's root (an absolute path <c>/x</c> in WORKDIR, COPY or RUN becomes <c>SCRATCH/x</c>),
/// with the build context read through <c>.dockerignore</c>. Build arguments override ARG defaults and reach RUN as
/// environment variables, as <c>docker build --build-arg</c> does. Anything else in the stage (FROM aside) fails the
/// replay, so a new kind of step cannot be skipped silently.
/// </summary>
public sealed partial class DockerBuildReplay(string context, string scratch)
{
    public string Root { get; } = Path.Combine(scratch, "root");

    /// <summary>What each RUN printed, in order.</summary>
    public List<string> Log { get; } = [];

    public static IReadOnlyList<DockerInstruction> Parse(string dockerfile)
    {
        var instructions = new List<DockerInstruction>();
        var text = new StringBuilder();
        int start = 0;
        string[] lines = dockerfile.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimEnd('\r');
            if (text.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)) continue;
            if (text.Length == 0) start = n + 1;
            bool continued = line.EndsWith('\\');
            text.Append(continued ? line[..^1] : line).Append(' ');
            if (continued) continue;
            string instruction = text.ToString().Trim();
            int space = instruction.IndexOf(' ');
            instructions.Add(new DockerInstruction(start, instruction[..space].ToUpperInvariant(), instruction[(space + 1)..].Trim()));
            text.Clear();
        }
        return instructions;
    }

    /// <summary>The instructions of the stage <c>FROM … AS <paramref name="stage"/></c>, up to the next FROM.</summary>
    public static IReadOnlyList<DockerInstruction> Stage(IReadOnlyList<DockerInstruction> instructions, string stage)
    {
        int from = instructions.ToList().FindIndex(i => i.Keyword == "FROM" && i.Arguments.EndsWith(" AS " + stage, StringComparison.OrdinalIgnoreCase));
        if (from < 0) throw new InvalidDataException($"the Dockerfile has no stage '{stage}'");
        return instructions.Skip(from + 1).TakeWhile(i => i.Keyword != "FROM").ToList();
    }

    public void Run(IReadOnlyList<DockerInstruction> stage, IReadOnlyDictionary<string, string> buildArguments, TimeSpan timeout)
    {
        var ignore = DockerIgnore.Read(Path.Combine(context, ".dockerignore"));
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        string workdir = Root;
        Directory.CreateDirectory(Root);
        foreach (var step in stage)
        {
            switch (step.Keyword)
            {
                case "ARG":
                    string[] arg = step.Arguments.Split('=', 2);
                    environment[arg[0]] = buildArguments.TryGetValue(arg[0], out var given) ? given
                        : arg.Length == 2 ? arg[1] : throw new InvalidDataException($"Dockerfile line {step.Line}: ARG {arg[0]} has no default and no value was given");
                    break;
                case "WORKDIR":
                    workdir = Map(step.Arguments);
                    Directory.CreateDirectory(workdir);
                    break;
                case "COPY":
                    string[] parts = step.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts[0].StartsWith("--", StringComparison.Ordinal))
                        throw new InvalidDataException($"Dockerfile line {step.Line}: COPY {parts[0]} is not replayed");
                    string destination = parts[^1].StartsWith('/') ? Map(parts[^1]) : Path.Combine(workdir, parts[^1]);
                    foreach (string source in parts[..^1]) Copy(source.TrimEnd('/'), destination, ignore);
                    break;
                case "RUN":
                    Shell(MapPaths(step.Arguments), workdir, environment, timeout, step);
                    break;
                default:
                    throw new InvalidDataException($"Dockerfile line {step.Line}: {step.Keyword} is not replayed");
            }
        }
    }

    /// <summary>A container path (<c>/app</c>) in the scratch root.</summary>
    public string Map(string containerPath) =>
        containerPath.StartsWith('/') ? Path.Combine(Root, containerPath.TrimStart('/')) : throw new ArgumentException($"not absolute: {containerPath}");

    private string MapPaths(string command) => AbsolutePath().Replace(command, match => Map(match.Value));

    [GeneratedRegex(@"(?<=^|[\s""'=])/[A-Za-z][\w./-]*")]
    private static partial Regex AbsolutePath();

    private void Copy(string source, string destination, DockerIgnore ignore)
    {
        string from = Path.Combine(context, source);
        if (File.Exists(from))
        {
            Directory.CreateDirectory(destination);
            File.Copy(from, Path.Combine(destination, Path.GetFileName(from)), overwrite: true);
            return;
        }
        if (!Directory.Exists(from)) throw new FileNotFoundException($"COPY source {source} is not in the build context {context}");
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(context, file).Replace('\\', '/');
            if (ignore.Excludes(relative)) continue;
            string target = Path.Combine(destination, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    private void Shell(string command, string workdir, Dictionary<string, string> environment, TimeSpan timeout, DockerInstruction step)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = workdir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Dockerfile line {step.Line}: RUN did not finish in {timeout}: {command}");
        }
        string printed = output.Result + error.Result;
        Log.Add(printed);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Dockerfile line {step.Line}: RUN exited {process.ExitCode}: {command}\n{printed}");
    }
}

/// <summary>
/// The .dockerignore patterns this repository uses: <c>**/name/</c> (a directory of that name anywhere) and
/// <c>name/</c> (at the context root). Other pattern forms are refused rather than guessed at.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<string> _anywhere = [];
    private readonly List<string> _atRoot = [];

    public static DockerIgnore Read(string path)
    {
        var ignore = new DockerIgnore();
        if (!File.Exists(path)) return ignore;
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            bool anywhere = line.StartsWith("**/", StringComparison.Ordinal);
            string name = (anywhere ? line[3..] : line).TrimEnd('/');
            if (name.Length == 0 || name.IndexOfAny(['*', '?', '[', '!']) >= 0)
                throw new NotSupportedException($"{path}: pattern '{line}' is not understood by the replay");
            (anywhere ? ignore._anywhere : ignore._atRoot).Add(name);
        }
        return ignore;
    }

    public bool Excludes(string relativePath)
    {
        string[] segments = relativePath.Split('/');
        if (_atRoot.Any(p => relativePath == p || relativePath.StartsWith(p + "/", StringComparison.Ordinal))) return true;
        return segments[..^1].Any(s => _anywhere.Contains(s)) || _anywhere.Contains(segments[^1]);
    }
}
