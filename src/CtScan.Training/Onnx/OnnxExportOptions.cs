using CtScan.Contracts;

namespace CtScan.Training.Onnx;

/// <summary>Settings of <see cref="CtScanOnnxExporter"/>; the defaults make the serving model.</summary>
public sealed record OnnxExportOptions
{
    public const int DefaultOpset = 17;
    public const int MinimumOpset = 13;
    /// <summary>The newest opset whose Conv, MaxPool, BatchNormalization, Gemm, … this exporter's nodes match.</summary>
    public const int MaximumOpset = 21;
    public const string DefaultInputName = "scan";
    public const string DefaultOutputName = "probability";

    /// <summary>Fold each BatchNorm into the next linear layer (true, serving); false keeps BatchNormalization nodes (tests).</summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>Axis order of the graph input: NCDHW [N,1,W,H,D], or NDHWC [N,W,H,D,1] (a Transpose is added in front).</summary>
    public TensorLayout Layout { get; init; } = TensorLayout.Ncdhw;

    /// <summary>Sigmoid (the seed's output) or the logit before it.</summary>
    public OutputKind Output { get; init; } = OutputKind.Sigmoid;

    public string InputName { get; init; } = DefaultInputName;

    public string OutputName { get; init; } = DefaultOutputName;

    /// <summary>The ONNX operator set version; 13 to 21.</summary>
    public int Opset { get; init; } = DefaultOpset;

    public OnnxExportOptions Validated()
    {
        if (Opset is < MinimumOpset or > MaximumOpset)
            throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"opset must be {MinimumOpset} to {MaximumOpset}; got {Opset}");
        if (string.IsNullOrWhiteSpace(InputName)) throw new ArgumentException($"the input name must not be empty; got '{InputName}'", nameof(InputName));
        if (string.IsNullOrWhiteSpace(OutputName)) throw new ArgumentException($"the output name must not be empty; got '{OutputName}'", nameof(OutputName));
        if (InputName == OutputName) throw new ArgumentException($"input and output need different names; both are '{InputName}'", nameof(OutputName));
        return this;
    }
}
