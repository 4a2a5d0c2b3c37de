using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training.Explanation;

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017) on the last convolution block of a <see cref="CtScanNet"/> trained here, plain or
/// guided. The block's Conv3d + ReLU output A (before its pool, so the map is as fine as the block allows) is weighted
/// per channel by the mean gradient of the logit, summed, clipped at 0, interpolated from each activation's
/// receptive-field centre to every input voxel and scaled to [0, 1]. Guided (<see cref="ExplanationMethods.GuidedGradCam"/>)
/// multiplies that coarse map voxel by voxel with guided backpropagation times the input, clipped at 0: detail at the
/// input's own resolution, where the plain map has only the last block's few cells.
/// </summary>
/// <remarks>
/// The gradient is taken of the logit (the output layer before its sigmoid): at a probability that rounds to exactly
/// 1 in float32 the sigmoid's gradient is 0 and the map would be empty. One forward pass; the backward pass is walked
/// stage by stage (each layer's input is a leaf), so the same forward serves both the plain gradient at A (through the
/// head only) and the guided one at the input, where every ReLU passes back only positive gradients at positive
/// inputs (Springenberg et al. 2015). Needs the TorchSharp checkpoint (<see cref="ModelCheckpoint"/>: weights.dat +
/// model.json) in the model folder or its <c>checkpoint/</c> subfolder.
/// </remarks>
public sealed class GradCam : ISaliencyMethod
{
    private readonly CtScanNet _model;
    private readonly VolumeShape _grid;
    private readonly bool _guided;

    /// <param name="model">The network; it is put into eval mode and disposed with this.</param>
    /// <param name="guided">Guided Grad-CAM (voxel resolution) instead of the plain last-block map.</param>
    public GradCam(CtScanNet model, bool guided = false)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _grid = model.Options.Input;
        _guided = guided;
        _model.eval();
    }

    /// <summary><see cref="ExplanationMethods.GuidedGradCam"/> or <see cref="ExplanationMethods.GradCam"/>.</summary>
    public string Method => _guided ? ExplanationMethods.GuidedGradCam : ExplanationMethods.GradCam;

    /// <summary>Whether <paramref name="modelDirectory"/> (or its checkpoint/ subfolder) holds TorchSharp weights.</summary>
    public static bool HasWeights(string modelDirectory) => ModelFolder.FindCheckpoint(modelDirectory) is not null;

    /// <summary>Loads the checkpoint beside the model.</summary>
    /// <exception cref="FileNotFoundException">There are no weights (check <see cref="HasWeights"/>).</exception>
    public static GradCam Open(string modelDirectory, bool guided = false) =>
        new(ModelCheckpoint.Load(ModelFolder.FindCheckpoint(modelDirectory)
            ?? throw new FileNotFoundException($"{modelDirectory} holds no {ModelCheckpoint.WeightsFileName} and {ModelCheckpoint.OptionsFileName} (nor checkpoint/ with them)")), guided);


    public SaliencyVolume Explain(ReadOnlySpan<float> scan, CancellationToken cancellationToken = default)
    {
        int voxels = checked((int)_grid.VoxelCount);
        if (scan.Length != voxels)
            throw new ArgumentException($"the scan holds {scan.Length} values; the network takes {_grid} = {voxels}", nameof(scan));
        cancellationToken.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var stages = Stages(out int camStage);
        var input = tensor(scan.ToArray(), [1, 1, _grid.Width, _grid.Height, _grid.Depth]);
        var (inputs, outputs) = Forward(stages, input);
        var logit = outputs[^1];

        var activation = inputs[camStage]; // the last block's Conv3d + ReLU output
        var weights = Backward(stages, inputs, outputs, camStage, guided: false).mean([2, 3, 4], keepdim: true);
        var cam = nn.functional.relu((weights * activation).sum(1)).squeeze(0).detach().cpu().contiguous();
        var camShape = new VolumeShape((int)cam.shape[0], (int)cam.shape[1], (int)cam.shape[2]);
        var map = Upsample(cam.data<float>().ToArray(), camShape);
        string detail = "", passes = "one forward and backward pass";
        if (_guided)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var guidedInput = nn.functional.relu(Backward(stages, inputs, outputs, 0, guided: true) * input).detach().cpu().contiguous();
            var detailMap = guidedInput.data<float>();
            for (int n = 0; n < map.Length; n++) map[n] *= detailMap[n];
            detail = " × guided backpropagation × input (per voxel, clipped at 0)";
            passes = "one forward pass, one backward pass through the head for the weights and one guided backward pass to the input";
        }
        double probability = OnnxScorer.Sigmoid(logit.item<float>());
        Normalise(map);
        double ms = clock.Elapsed.TotalMilliseconds;
        return new SaliencyVolume(map, _grid, Method, probability,
            $"{Method}: last block's Conv3d+ReLU output ({camShape.Width}×{camShape.Height}×{camShape.Depth}×{activation.shape[1]} channels) weighted by the mean gradient of the logit{detail}; {passes}, {ms:F0} ms",
            new ExplanationCost(ms, ms, 1));
    }

    /// <summary>One layer of the network as run for the logit, and whether it is a ReLU (guided backpropagation's gate).</summary>
    private readonly record struct Stage(Func<Tensor, Tensor> Apply, bool IsRelu);

    /// <summary>
    /// The network as a chain of stages ending in the logit (the output layer before its sigmoid; dropout is off in
    /// eval, so it is left out). <paramref name="camStage"/>: the stage whose input is the last block's Conv3d + ReLU output.
    /// </summary>
    private List<Stage> Stages(out int camStage)
    {
        var stages = new List<Stage>();
        camStage = -1;
        foreach (var block in _model.Blocks)
            foreach (var child in block.children().Cast<nn.Module<Tensor, Tensor>>())
            {
                stages.Add(new Stage(child.call, child is TorchSharp.Modules.ReLU));
                if (child is TorchSharp.Modules.ReLU) camStage = stages.Count; // the last block's ReLU wins
            }
        var modules = _model.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        stages.Add(new Stage(t => modules["gap"].call(t).flatten(1), false));
        stages.Add(new Stage(modules["dense"].call, false));
        stages.Add(new Stage(t => nn.functional.relu(t), true));
        stages.Add(new Stage(modules["out"].call, false));
        return stages;
    }

    /// <summary>Runs the stages, each on a leaf copy of its input, so the backward pass can be walked (and gated) stage by stage.</summary>
    private static (Tensor[] Inputs, Tensor[] Outputs) Forward(List<Stage> stages, Tensor input)
    {
        var inputs = new Tensor[stages.Count];
        var outputs = new Tensor[stages.Count];
        var current = input;
        for (int n = 0; n < stages.Count; n++)
        {
            inputs[n] = current.detach().requires_grad_(true);
            outputs[n] = stages[n].Apply(inputs[n]);
            current = outputs[n];
        }
        return (inputs, outputs);
    }

    /// <summary>
    /// The logit's gradient with respect to the input of stage <paramref name="stop"/>. Guided: at every ReLU only
    /// positive gradients pass, and only where the ReLU's input was positive.
    /// </summary>
    private static Tensor Backward(List<Stage> stages, Tensor[] inputs, Tensor[] outputs, int stop, bool guided)
    {
        var gradient = ones_like(outputs[^1]);
        for (int n = stages.Count - 1; n >= stop; n--)
            gradient = guided && stages[n].IsRelu
                ? gradient.clamp_min(0) * inputs[n].gt(0).to_type(gradient.dtype)
                : autograd.grad([outputs[n]], [inputs[n]], [gradient], retain_graph: true)[0];
        return gradient;
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
