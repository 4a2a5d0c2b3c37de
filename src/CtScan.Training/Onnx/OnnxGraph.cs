namespace CtScan.Training.Onnx;

/// <summary>
/// The small part of the ONNX model format the exporter needs, as plain immutable values: float tensors, nodes with
/// int/ints/float attributes, one graph. <see cref="OnnxWriter"/> turns it into the protobuf bytes ONNX Runtime reads;
/// tests inspect it directly.
/// </summary>
public sealed record OnnxModel(OnnxGraph Graph, int Opset, string ProducerName, string ProducerVersion)
{
    /// <summary>ONNX IR version 8 is the one that goes with opset 17 (the default); ONNX Runtime reads it since 1.11.</summary>
    public long IrVersion { get; init; } = 8;

    /// <summary>Free-form key/value pairs stored in the model (ModelProto.metadata_props).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

public sealed record OnnxGraph(
    string Name,
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyList<OnnxInitializer> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>One operator application; inputs and outputs are value names.</summary>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    public IReadOnlyList<OnnxAttribute> Attributes { get; init; } = [];
}

/// <summary>A node attribute: exactly one of the value kinds ONNX allows; the exporter needs int, ints and float.</summary>
public abstract record OnnxAttribute(string Name);

public sealed record OnnxIntAttribute(string Name, long Value) : OnnxAttribute(Name);

public sealed record OnnxIntsAttribute(string Name, IReadOnlyList<long> Values) : OnnxAttribute(Name);

public sealed record OnnxFloatAttribute(string Name, float Value) : OnnxAttribute(Name);

/// <summary>A constant float32 tensor (weights), stored C order.</summary>
public sealed record OnnxInitializer
{
    public OnnxInitializer(string name, IReadOnlyList<long> dims, float[] values)
    {
        long count = dims.Aggregate(1L, (product, d) => product * d);
        if (count != values.Length)
            throw new ArgumentException($"initializer {name}: dims [{string.Join(", ", dims)}] hold {count} values; got {values.Length}", nameof(values));
        Name = name;
        Dims = dims;
        Values = values;
    }

    public string Name { get; }
    public IReadOnlyList<long> Dims { get; }
    public float[] Values { get; }
}

/// <summary>A float32 graph input or output with its shape; a dimension is a fixed size or a named symbol.</summary>
public sealed record OnnxValueInfo(string Name, IReadOnlyList<OnnxDimension> Shape);

/// <summary>A tensor dimension: a fixed <see cref="Value"/>, or a symbolic <see cref="Parameter"/> such as "N" (dynamic).</summary>
public readonly record struct OnnxDimension(long? Value, string? Parameter)
{
    public static OnnxDimension Fixed(long value) => new(value, null);

    public static OnnxDimension Symbol(string name) => new(null, name);

    public static implicit operator OnnxDimension(long value) => Fixed(value);

    public override string ToString() => Value?.ToString() ?? Parameter ?? "?";
}
