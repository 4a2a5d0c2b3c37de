using System.Runtime.InteropServices;

namespace CtScan.Onnx;

/// <summary>
/// The small part of the ONNX model format this product writes and reads, as plain immutable values: tensors of a few
/// element types, nodes with int/ints/float attributes, one graph. <see cref="OnnxWriter"/> turns it into the protobuf
/// bytes ONNX Runtime reads, <see cref="OnnxReader"/> reads such bytes back; tests inspect it directly.
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

/// <summary>One operator application; inputs and outputs are value names ("" marks an omitted optional input).</summary>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    public IReadOnlyList<OnnxAttribute> Attributes { get; init; } = [];

    /// <summary>The operator set's domain; "" is the default ONNX domain.</summary>
    public string Domain { get; init; } = "";
}

/// <summary>A node attribute: exactly one of the value kinds ONNX allows; this product needs int, ints and float.</summary>
public abstract record OnnxAttribute(string Name);

public sealed record OnnxIntAttribute(string Name, long Value) : OnnxAttribute(Name);

public sealed record OnnxIntsAttribute(string Name, IReadOnlyList<long> Values) : OnnxAttribute(Name);

public sealed record OnnxFloatAttribute(string Name, float Value) : OnnxAttribute(Name);

/// <summary>Tensor element types (TensorProto.DataType); only those this product writes or reads.</summary>
public enum OnnxDataType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Float16 = 10,
    BFloat16 = 16,
}

/// <summary>A constant tensor (weights), stored C order as little-endian raw bytes.</summary>
public sealed record OnnxInitializer
{
    /// <summary>A float32 tensor.</summary>
    public OnnxInitializer(string name, IReadOnlyList<long> dims, float[] values)
        : this(name, dims, OnnxDataType.Float, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()) { }

    /// <summary>A tensor of any supported type from its raw little-endian bytes.</summary>
    public OnnxInitializer(string name, IReadOnlyList<long> dims, OnnxDataType dataType, byte[] rawData)
    {
        ArgumentNullException.ThrowIfNull(rawData);
        long count = dims.Aggregate(1L, (product, d) => product * d);
        if (count * ElementSize(dataType) != rawData.Length)
            throw new ArgumentException($"initializer {name}: dims [{string.Join(", ", dims)}] of {dataType} hold {count * ElementSize(dataType)} bytes; got {rawData.Length}", nameof(rawData));
        Name = name;
        Dims = dims;
        DataType = dataType;
        RawData = rawData;
    }

    public static OnnxInitializer Int8(string name, IReadOnlyList<long> dims, sbyte[] values) =>
        new(name, dims, OnnxDataType.Int8, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static OnnxInitializer UInt8(string name, IReadOnlyList<long> dims, byte[] values) =>
        new(name, dims, OnnxDataType.UInt8, values.ToArray());

    public static OnnxInitializer Int32(string name, IReadOnlyList<long> dims, int[] values) =>
        new(name, dims, OnnxDataType.Int32, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public string Name { get; }
    public IReadOnlyList<long> Dims { get; }
    public OnnxDataType DataType { get; }

    /// <summary>The values as little-endian bytes, C order.</summary>
    public byte[] RawData { get; }

    /// <summary>The values of a float32 tensor (a copy).</summary>
    public float[] Values => DataType == OnnxDataType.Float
        ? MemoryMarshal.Cast<byte, float>(RawData).ToArray()
        : throw new InvalidOperationException($"initializer {Name} is {DataType}, not Float");

    public static int ElementSize(OnnxDataType dataType) => dataType switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 => 4,
        OnnxDataType.UInt8 or OnnxDataType.Int8 => 1,
        OnnxDataType.Int64 => 8,
        OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        _ => throw new NotSupportedException($"tensor data type {(int)dataType} is not supported; expected one of Float, UInt8, Int8, Int32, Int64, Float16, BFloat16"),
    };
}

/// <summary>A graph input or output with its element type and shape; a dimension is a fixed size or a named symbol.</summary>
public sealed record OnnxValueInfo(string Name, IReadOnlyList<OnnxDimension> Shape)
{
    public OnnxDataType ElementType { get; init; } = OnnxDataType.Float;

    /// <summary>False: the shape is left out of the model (ONNX Runtime infers it), as for calibration outputs.</summary>
    public bool HasShape { get; init; } = true;
}

/// <summary>A tensor dimension: a fixed <see cref="Value"/>, or a symbolic <see cref="Parameter"/> such as "N" (dynamic).</summary>
public readonly record struct OnnxDimension(long? Value, string? Parameter)
{
    public static OnnxDimension Fixed(long value) => new(value, null);

    public static OnnxDimension Symbol(string name) => new(null, name);

    public static implicit operator OnnxDimension(long value) => Fixed(value);

    public override string ToString() => Value?.ToString() ?? Parameter ?? "?";
}
