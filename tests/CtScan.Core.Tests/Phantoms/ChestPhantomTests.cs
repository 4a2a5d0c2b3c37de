using CtScan.Phantoms;

namespace CtScan.Tests.Phantoms;

public class ChestPhantomTests
{
    private static readonly VolumeShape Small = new(64, 48, 16);

    [Fact]
    public void ReadNextSlice_SameSeed_SameVoxels()
    {
        var options = new ChestPhantomOptions { Shape = Small, Seed = 7, Label = PhantomLabel.Abnormal };
        Assert.Equal(new ChestPhantom(options).ToArray(), new ChestPhantom(options).ToArray());
    }

    [Fact]
    public void ReadNextSlice_OtherSeed_OtherVoxels()
    {
        var a = new ChestPhantom(new ChestPhantomOptions { Shape = Small, Seed = 1 }).ToArray();
        var b = new ChestPhantom(new ChestPhantomOptions { Shape = Small, Seed = 2 }).ToArray();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Opacities_OfConsecutiveSeeds_AreUnrelated()
    {
        // A training set is a run of consecutive seeds: their draws must not be shifted copies of one another.
        var shape = new VolumeShape(96, 96, 24);
        var centres = Enumerable.Range(100, 8)
            .SelectMany(seed => new ChestPhantom(new ChestPhantomOptions { Shape = shape, Seed = seed, Label = PhantomLabel.Abnormal }).Opacities)
            .Select(o => (o.CenterI, o.CenterJ, o.CenterK))
            .ToList();
        Assert.True(centres.Distinct().Count() == centres.Count, "two phantoms of consecutive seeds share an opacity centre");
    }

    [Fact]
    public void ReadNextSlice_NoNoise_ShowsAirTissueLungAndBone()
    {
        var shape = new VolumeShape(100, 100, 20);
        var hu = new ChestPhantom(new ChestPhantomOptions { Shape = shape, NoiseHu = 0 }).ToArray();
        double At(int i, int j, int k) => hu[i + shape.Width * (j + shape.Height * k)];

        Assert.Equal(ChestPhantom.AirHu, At(0, 0, 10));
        Assert.Equal(ChestPhantom.BoneHu, At(50, 72, 10));        // spine: u = 0, v ≈ 0.22
        Assert.Equal(ChestPhantom.LungHu, At(50 + 17, 47, 12));    // right lung centre
        Assert.Equal(ChestPhantom.LungHu, At(50 - 17, 47, 12));    // left lung centre
        Assert.Equal(ChestPhantom.TissueHu, At(50, 47, 12));       // mediastinum between the lungs
        var distinct = hu.Distinct().Order().ToArray();
        Assert.Equal([ChestPhantom.AirHu, ChestPhantom.LungHu, ChestPhantom.TissueHu, ChestPhantom.BoneHu], distinct);
    }

    [Fact]
    public void Abnormal_HasGroundGlassInsideLungs_NormalHasNone()
    {
        var shape = new VolumeShape(96, 96, 24);
        var normal = new ChestPhantom(new ChestPhantomOptions { Shape = shape, Seed = 3, NoiseHu = 0 });
        var abnormal = new ChestPhantom(new ChestPhantomOptions { Shape = shape, Seed = 3, NoiseHu = 0, Label = PhantomLabel.Abnormal });

        Assert.Empty(normal.Opacities);
        Assert.InRange(abnormal.Opacities.Count, 3, 6);
        var n = normal.ToArray();
        var a = abnormal.ToArray();
        // Ground glass lifts lung voxels from −850 HU toward −500 HU; nothing else changes.
        int lifted = 0;
        for (int v = 0; v < n.Length; v++)
        {
            if (a[v] == n[v]) continue;
            Assert.Equal(ChestPhantom.LungHu, n[v]);
            Assert.InRange(a[v], ChestPhantom.LungHu, ChestPhantom.GroundGlassHu + 1e-9);
            if (a[v] > -700) lifted++;
        }
        Assert.True(lifted > 50, $"only {lifted} voxels above −700 HU");
        foreach (var o in abnormal.Opacities)
            Assert.Equal(ChestPhantom.GroundGlassHu, a[o.CenterI + shape.Width * (o.CenterJ + shape.Height * o.CenterK)], 6);
    }

    [Fact]
    public void Noise_HasTheRequestedSpreadInTissue()
    {
        var shape = new VolumeShape(128, 128, 8);
        var hu = new ChestPhantom(new ChestPhantomOptions { Shape = shape, Seed = 5, NoiseHu = 20 }).ToArray();
        var clean = new ChestPhantom(new ChestPhantomOptions { Shape = shape, Seed = 5, NoiseHu = 0 }).ToArray();
        double sum = 0, sumSq = 0;
        int count = 0;
        for (int v = 0; v < hu.Length; v++)
        {
            if (clean[v] != ChestPhantom.TissueHu) continue;
            double d = hu[v] - clean[v];
            sum += d;
            sumSq += d * d;
            count++;
        }
        double mean = sum / count, sd = Math.Sqrt(sumSq / count - mean * mean);
        Assert.InRange(mean, -0.5, 0.5);
        Assert.InRange(sd, 20 * Math.Sqrt(1 + 0.09) * 0.97, 20 * Math.Sqrt(1 + 0.09) * 1.03);
    }

    [Fact]
    public void ReadNextSlice_PastTheLastSlice_Throws()
    {
        var phantom = new ChestPhantom(new ChestPhantomOptions { Shape = new VolumeShape(4, 4, 1) });
        var slice = new double[16];
        phantom.ReadNextSlice(slice);
        var error = Assert.Throws<InvalidOperationException>(() => phantom.ReadNextSlice(slice));
        Assert.Contains("1 slices", error.Message);
    }

    [Fact]
    public void Constructor_BadShape_NamesTheShape()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ChestPhantom(new ChestPhantomOptions { Shape = new VolumeShape(0, 4, 4) }));
        Assert.Contains("0×4×4", error.Message);
    }
}
