using System.IO.Compression;
using System.IO.Hashing;

namespace CtScan.Cli.Datasets;

/// <summary>
/// Integrity check and safe extraction of a dataset zip. .NET's <see cref="ZipArchive"/> (10.0) does not check an entry's
/// CRC-32 when reading it (a flipped byte in a stored entry reads back silently), so both paths compute CRC-32 themselves.
/// </summary>
public static class ZipChecks
{
    private const int BufferSize = 81920;

    /// <summary>Reads every entry of <paramref name="path"/> fully and compares its CRC-32 and length with the zip's directory.</summary>
    /// <exception cref="DatasetDownloadException">The zip is unreadable or an entry is corrupt.</exception>
    public static async Task VerifyAsync(string path, string archive, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var file = File.OpenRead(path);
            await using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            foreach (var entry in zip.Entries)
            {
                if (IsDirectory(entry)) continue;
                await using var data = entry.Open();
                await CopyCheckedAsync(data, Stream.Null, entry, archive, cancellationToken);
            }
        }
        catch (InvalidDataException error)
        {
            throw Corrupt(archive, error.Message, error);
        }
    }

    /// <summary>
    /// Extracts <paramref name="path"/> so that its files end up under <c>root/archive.Folder/</c>, whether the zip holds that
    /// folder itself or only the files. Every entry is checked before anything is written: one that would land outside that
    /// folder (<c>../</c>, an absolute path: zip-slip) fails the whole extraction. Returns the number of files written.
    /// </summary>
    public static async Task<int> ExtractAsync(string path, DatasetArchive archive, string root, CancellationToken cancellationToken = default)
    {
        string target = Path.GetFullPath(Path.Combine(root, archive.Folder));
        string targetWithSeparator = target + Path.DirectorySeparatorChar;
        try
        {
            await using var file = File.OpenRead(path);
            await using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            var entries = zip.Entries.Where(e => !IsJunk(Normalize(e.FullName))).ToList();
            string folderPrefix = archive.Folder + "/";
            // The release's zips hold the folder itself (CT-0/…); a zip of the bare files is extracted into it.
            bool holdsFolder = entries.Count > 0 && entries.All(e => Normalize(e.FullName).StartsWith(folderPrefix, StringComparison.Ordinal)
                                                                     || Normalize(e.FullName) == archive.Folder);
            var plan = new List<(ZipArchiveEntry Entry, string Destination)>();
            foreach (var entry in entries)
            {
                string name = Normalize(entry.FullName);
                string relative = holdsFolder ? name[Math.Min(name.Length, folderPrefix.Length)..] : name;
                if (Path.IsPathRooted(relative) || relative.StartsWith('/'))
                {
                    throw Unsafe(archive, entry.FullName, target);
                }
                string destination = Path.GetFullPath(Path.Combine(target, relative));
                if (destination != target && !destination.StartsWith(targetWithSeparator, StringComparison.Ordinal))
                {
                    throw Unsafe(archive, entry.FullName, target);
                }
                if (!IsDirectory(entry)) plan.Add((entry, destination));
            }

            Directory.CreateDirectory(target);
            foreach (var (entry, destination) in plan)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                await using var data = entry.Open();
                await using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
                await CopyCheckedAsync(data, output, entry, archive.Name, cancellationToken);
            }
            return plan.Count;
        }
        catch (InvalidDataException error)
        {
            throw Corrupt(archive.Name, error.Message, error);
        }
    }

    private static async Task CopyCheckedAsync(Stream source, Stream destination, ZipArchiveEntry entry, string archive, CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        var buffer = new byte[BufferSize];
        long length = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            crc.Append(buffer.AsSpan(0, read));
            length += read;
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
        if (length != entry.Length)
        {
            throw Corrupt(archive, $"entry '{entry.FullName}' has {length} bytes; its header says {entry.Length}");
        }
        uint actual = crc.GetCurrentHashAsUInt32();
        if (actual != entry.Crc32)
        {
            throw Corrupt(archive, $"entry '{entry.FullName}' fails its CRC-32 check (stored {entry.Crc32:x8}, computed {actual:x8})");
        }
    }

    private static string Normalize(string entryName) => entryName.Replace('\\', '/');

    private static bool IsDirectory(ZipArchiveEntry entry) => entry.FullName.EndsWith('/') || entry.FullName.EndsWith('\\');

    /// <summary>macOS resource forks and Finder files that some zips carry; never scans.</summary>
    private static bool IsJunk(string name) => name.StartsWith("__MACOSX/", StringComparison.Ordinal) || Path.GetFileName(name) == ".DS_Store";

    private static DatasetDownloadException Corrupt(string archive, string cause, Exception? inner = null) =>
        new(archive, $"{archive} is corrupt: {cause}", innerException: inner);

    private static DatasetDownloadException Unsafe(DatasetArchive archive, string entry, string target) =>
        new(archive.Name, $"{archive.Name} is unsafe: entry '{entry}' would be written outside {target} (zip-slip); nothing was extracted");
}
