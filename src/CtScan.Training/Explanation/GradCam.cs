using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training.Explanation;

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017) on the last convolution block of a <see cref="CtScanNet"/> trained here: one
/// forward and one backward pass. The block's Conv3d + ReLU output A (before its pool, so the map is as fine as the
/// block allows) is weighted per channel by the mean gradient of the logit, summed, clipped at 0, interpolated from
/// each activation's receptive-field centre to every input voxel and scaled to [0, 1].
/// </summary>
/// <remarks>
/// The gradient is taken of the logit (the output layer before its sigmoid): at a probability that rounds to exactly
/// 1 in float32 the sigmoid's gradient is 0 and the map would be empty. Needs the TorchSharp checkpoint
/// (<see cref="ModelCheckpoint"/>: weights.dat + model.json) in the model folder or its <c>checkpoint/</c> subfolder.
/// </remarks>
public sealed class GradCam : ISaliencyMethod
{
    private readonly CtScanNet _model;
    private readonly VolumeShape _grid;

    public GradCam(CtScanNet model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _grid = model.Options.Input;
        _model.eval();
    }

    /// <summary>Whether <paramref name="modelDirectory"/> (or its checkpoint/ subfolder) holds TorchSharp weights.</summary>
    public static bool HasWeights(string modelDirectory) => CheckpointFolder(modelDirectory) is not null;

    /// <summary>Loads the checkpoint beside the model.</summary>
    /// <exception cref="FileNotFoundException">There are no weights (check <see cref="HasWeights"/>).</exception>
    public static GradCam Open(string modelDirectory) =>
        new(ModelCheckpoint.Load(CheckpointFolder(modelDirectory)
            ?? throw new FileNotFoundException($"{modelDirectory} holds no {ModelCheckpoint.WeightsFileName} and {ModelCheckpoint.OptionsFileName} (nor checkpoint/ with them)")));

    private static string? CheckpointFolder(string modelDirectory)
    {
        foreach (var folder in new[] { modelDirectory, Path.Combine(modelDirectory, TrainingRunPaths.CheckpointFolderName) })
            if (File.Exists(Path.Combine(folder, ModelCheckpoint.WeightsFileName)) && File.Exists(Path.Combine(folder, ModelCheckpoint.OptionsFileName)))
                return folder;
        return null;
    }

    public SaliencyVolume Explain(ReadOnlySpan<float> scan, CancellationToken cancellationToken = default)
    {
        int voxels = checked((int)_grid.VoxelCount);
        if (scan.Length != voxels)
            throw new ArgumentException($"the scan holds {scan.Length} values; the network takes {_grid} = {voxels}", nameof(scan));
        cancellationToken.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = tensor(scan.ToArray(), [1, 1, _grid.Width, _grid.Height, _grid.Depth]);
        var blocks = _model.Blocks;
        var features = input;
        for (int b = 0; b < blocks.Count - 1; b++) features = blocks[b].call(features);
        var last = (TorchSharp.Modules.Sequential)blocks[^1];
        var children = last.children().Cast<nn.Module<Tensor, Tensor>>().ToArray();
        var activation = children[1].call(children[0].call(features)); // Conv3d → ReLU
        activation.retain_grad();
        var pooled = children[3].call(children[2].call(activation));   // MaxPool → BatchNorm
        var logit = Logit(pooled);
        logit.sum().backward();

        var gradients = activation.grad!;
        var weights = gradients.mean([2, 3, 4], keepdim: true);
        var cam = nn.functional.relu((weights * activation).sum(1)).squeeze(0).detach().cpu().contiguous();
        var camShape = cam.shape;
        var values = cam.data<float>().ToArray();
        double probability = OnnxScorer.Sigmoid(logit.item<float>());
        var map = Upsample(values, new VolumeShape((int)camShape[0], (int)camShape[1], (int)camShape[2]));
        Normalise(map);
        double ms = clock.Elapsed.TotalMilliseconds;
        return new SaliencyVolume(map, _grid, ExplanationMethods.GradCam, probability,
            $"gradcam: last block's Conv3d+ReLU output ({camShape[0]}×{camShape[1]}×{camShape[2]}×{activation.shape[1]} channels) weighted by the mean gradient of the logit; one forward and backward pass, {ms:F0} ms",
            new ExplanationCost(ms, ms, 1));
    }

    /// <summary>The head without its sigmoid: global average pooling, dense + ReLU (dropout is off in eval), output layer.</summary>
    private Tensor Logit(Tensor features)
    {
        var modules = _model.named_children().ToDictionary(c => c.name, c => c.module);
        var pooled = ((nn.Module<Tensor, Tensor>)modules["gap"]).call(features).flatten(1);
        var hidden = nn.functional.relu(((nn.Module<Tensor, Tensor>)modules["dense"]).call(pooled));
        return ((nn.Module<Tensor, Tensor>)modules["out"]).call(hidden);
    }

    /// <summary>
    /// The cam (C order on <paramref name="cam"/>) interpolated to every input voxel: activation p of the last conv
    /// is centred on input coordinate 8p + 18.5 (three valid 3×3×3 convs each shift by 1, three 2× pools double,
    /// plus the last conv's own shift), trilinearly between centres, held constant beyond the outermost ones.
    /// </summary>
    public float[] Upsample(ReadOnlySpan<float> cam, VolumeShape camShape)
    {
        var (x0, wx) = Axis(_grid.Width, camShape.Width);
        var (y0, wy) = Axis(_grid.Height, camShape.Height);
        var (z0, wz) = Axis(_grid.Depth, camShape.Depth);
        var output = new float[_grid.VoxelCount];
        int h = camShape.Height, d = camShape.Depth, o = 0;
        for (int i = 0; i < _grid.Width; i++)
            for (int j = 0; j < _grid.Height; j++)
                for (int k = 0; k < _grid.Depth; k++)
                {
                    double sum = 0;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                            for (int c = 0; c < 2; c++)
                            {
                                int xi = Math.Min(x0[i] + a, camShape.Width - 1), yi = Math.Min(y0[j] + b, h - 1), zi = Math.Min(z0[k] + c, d - 1);
                                double w = (a == 0 ? 1 - wx[i] : wx[i]) * (b == 0 ? 1 - wy[j] : wy[j]) * (c == 0 ? 1 - wz[k] : wz[k]);
                                sum += w * cam[(xi * h + yi) * d + zi];
                            }
                    output[o++] = (float)sum;
                }
        return output;
    }

    private static (int[] Lower, double[] Weight) Axis(int n, int cells)
    {
        var lower = new int[n];
        var weight = new double[n];
        for (int v = 0; v < n; v++)
        {
            double p = Math.Clamp((v - 18.5) / 8.0, 0, cells - 1);
            lower[v] = Math.Min((int)p, Math.Max(cells - 2, 0));
            weight[v] = cells > 1 ? p - lower[v] : 0;
        }
        return (lower, weight);
    }

    private static void Normalise(float[] map)
    {
        float max = map.Length == 0 ? 0 : map.Max();
        if (max <= 0) return;
        for (int n = 0; n < map.Length; n++) map[n] /= max;
    }

    public void Dispose() => _model.Dispose();
}
