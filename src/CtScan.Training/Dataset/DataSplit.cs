namespace CtScan.Training;

/// <summary>
/// The seed's split: per class, a share for validation and the rest for training (seed: 70 / 30 of each class), so both
/// sets keep the class balance. Each class is shuffled with the seed first, so the split is reproducible and independent
/// of file naming.
/// </summary>
public sealed record DataSplit(IReadOnlyList<LabeledScan> Training, IReadOnlyList<LabeledScan> Validation)
{
    /// <exception cref="ArgumentException">A class has fewer than two scans (one for each side) or the sets would be empty.</exception>
    public static DataSplit Create(IReadOnlyList<LabeledScan> scans, double validationFraction, long seed)
    {
        var random = new Random(unchecked((int)seed));
        var training = new List<LabeledScan>();
        var validation = new List<LabeledScan>();
        foreach (int label in new[] { LabeledScan.Normal, LabeledScan.Abnormal })
        {
            LabeledScan[] members = [.. scans.Where(scan => scan.Label == label)];
            if (members.Length == 0) continue;
            if (members.Length < 2)
                throw new ArgumentException($"class {label} has {members.Length} scan; at least 2 are needed (one to train on, one to validate)");
            random.Shuffle(members);
            int held = Math.Clamp((int)Math.Round(members.Length * validationFraction, MidpointRounding.AwayFromZero), 1, members.Length - 1);
            validation.AddRange(members[..held]);
            training.AddRange(members[held..]);
        }
        if (training.Select(s => s.Label).Distinct().Count() < 2)
            throw new ArgumentException($"training needs both classes (label 0 normal and 1 abnormal); found only label {training.FirstOrDefault()?.Label}");
        return new DataSplit(training, validation);
    }
}
