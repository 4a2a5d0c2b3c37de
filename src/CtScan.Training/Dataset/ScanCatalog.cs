using System.Globalization;

namespace CtScan.Training;

/// <summary>
/// Finds the labelled scans of a training-data folder: MosMedData's <c>CT-0/</c> (normal) and <c>CT-23/</c> (abnormal)
/// subfolders of *.nii / *.nii.gz files, or a <c>labels.csv</c> of <c>scan,label</c> rows with paths relative to the csv.
/// Results are sorted by path so that the split depends only on the files and the seed, not on directory order.
/// </summary>
public static class ScanCatalog
{
    public const string NormalFolder = "CT-0";
    public const string AbnormalFolder = "CT-23";
    public const string LabelsFileName = "labels.csv";

    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">No scans, or a malformed labels.csv (the message names the line).</exception>
    public static IReadOnlyList<LabeledScan> Discover(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"data folder not found: {folder}");
        string csv = Path.Combine(folder, LabelsFileName);
        List<LabeledScan> scans = File.Exists(csv) ? ReadLabels(csv) : ReadFolders(folder);
        if (scans.Count == 0)
            throw new ArgumentException($"no scans found in {folder}: expected {NormalFolder}/ and {AbnormalFolder}/ subfolders of *.nii or *.nii.gz files, or {LabelsFileName}");
        scans.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return scans;
    }

    public static bool IsNifti(string path) =>
        (path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase))
        && !CtScan.Phantoms.ChestPhantomFile.IsMaskPath(path); // `ctscan phantoms --masks` writes lesion masks beside the scans

    private static List<LabeledScan> ReadFolders(string folder)
    {
        var scans = new List<LabeledScan>();
        foreach (var (name, label) in new[] { (NormalFolder, LabeledScan.Normal), (AbnormalFolder, LabeledScan.Abnormal) })
        {
            string sub = Path.Combine(folder, name);
            if (!Directory.Exists(sub)) continue;
            scans.AddRange(Directory.EnumerateFiles(sub).Where(IsNifti).Select(path => new LabeledScan(Path.GetFullPath(path), label)));
        }
        return scans;
    }

    private static List<LabeledScan> ReadLabels(string csv)
    {
        string root = Path.GetDirectoryName(Path.GetFullPath(csv))!;
        var scans = new List<LabeledScan>();
        string[] lines = File.ReadAllLines(csv);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            string[] fields = line.Split(',');
            if (fields.Length != 2)
                throw new ArgumentException($"{csv} line {n + 1}: expected 'scan,label'; got '{line}'");
            string scan = fields[0].Trim(), labelText = fields[1].Trim();
            if (n == 0 && scan.Equals("scan", StringComparison.OrdinalIgnoreCase)) continue; // header
            if (!int.TryParse(labelText, NumberStyles.None, CultureInfo.InvariantCulture, out int label) || label is not (0 or 1))
                throw new ArgumentException($"{csv} line {n + 1}: label must be 0 (normal) or 1 (abnormal); got '{labelText}'");
            string path = Path.GetFullPath(Path.Combine(root, scan));
            if (!File.Exists(path))
                throw new FileNotFoundException($"{csv} line {n + 1}: scan not found: {path}", path);
            scans.Add(new LabeledScan(path, label));
        }
        return scans;
    }
}
