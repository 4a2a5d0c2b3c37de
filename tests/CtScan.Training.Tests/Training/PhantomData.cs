using CtScan.Phantoms;

namespace CtScan.Training.Tests.Training;

/// <summary>Small synthetic training sets (normal vs ground-glass phantoms) in MosMedData layout, in a temporary folder.</summary>
internal sealed class PhantomData : IDisposable
{
    /// <summary>Phantom size: small enough to write and preprocess in milliseconds, above the 46-voxel model minimum.</summary>
    public static VolumeShape ScanShape { get; } = new(64, 64, 48);

    public PhantomData(int count, VolumeShape? shape = null, int firstSeed = 0)
    {
        Root = Directory.CreateTempSubdirectory("ctscan-train-test-").FullName;
        for (int index = 0; index < count; index++)
        {
            var options = new ChestPhantomOptions
            {
                Shape = shape ?? ScanShape,
                Seed = firstSeed + index,
                Label = index % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal,
            };
            string folder = Path.Combine(Data, options.Label == PhantomLabel.Normal ? ScanCatalog.NormalFolder : ScanCatalog.AbnormalFolder);
            Directory.CreateDirectory(folder);
            ChestPhantomFile.Write(Path.Combine(folder, $"phantom-{options.Seed:D5}.nii"), options);
        }
    }

    public string Root { get; }

    public string Data => Path.Combine(Root, "data");

    public string Output(string name) => Path.Combine(Root, name);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
