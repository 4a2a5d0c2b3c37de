using CtScan.Fuzz;
using SharpFuzz;

// Usage (fuzz/run.sh drives the first form under afl-fuzz):
//   CtScan.Fuzz TARGET                 one input on stdin; under afl-fuzz, SharpFuzz's fork server
//   CtScan.Fuzz TARGET replay FILE...  runs files through TARGET, prints each outcome; exit 1 if any escaped
//   CtScan.Fuzz TARGET seeds DIR       writes TARGET's generated seeds into DIR
var targets = new Dictionary<string, Action<byte[]>>
{
    [NiftiTarget.Name] = NiftiTarget.Run,
    [NpyTarget.Name] = NpyTarget.Run,
    [ScoreRequestTarget.Name] = ScoreRequestTarget.Run,
    [ManifestTarget.Name] = ManifestTarget.Run,
};
if (args.Length == 0 || !targets.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: CtScan.Fuzz TARGET [replay FILE... | seeds DIR]; TARGET is one of {string.Join(", ", targets.Keys)}");
    return 2;
}
switch (args.Length > 1 ? args[1] : null)
{
    case null:
        // Out of process: a hang or a crash that kills the runtime (stack overflow) is reported, and the server restarts.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    case "replay":
        int escaped = 0;
        foreach (var file in args.Skip(2))
        {
            try
            {
                target(File.ReadAllBytes(file));
                Console.WriteLine($"ok       {file}");
            }
            catch (Exception error)
            {
                escaped++;
                Console.WriteLine($"ESCAPED  {file}: {error.GetType().Name}: {error.Message}");
                Console.WriteLine(error.StackTrace);
            }
        }
        return escaped == 0 ? 0 : 1;
    case "seeds" when args.Length == 3:
        var seeds = args[0] switch
        {
            NiftiTarget.Name => GeneratedSeeds.Nifti(),
            NpyTarget.Name => GeneratedSeeds.Npy(),
            _ => [],
        };
        Directory.CreateDirectory(args[2]);
        foreach (var (name, bytes) in seeds) File.WriteAllBytes(Path.Combine(args[2], name), bytes);
        Console.WriteLine($"{seeds.Count} generated {args[0]} seed(s) in {args[2]}");
        return 0;
    default:
        Console.Error.WriteLine("usage: CtScan.Fuzz TARGET [replay FILE... | seeds DIR]");
        return 2;
}
