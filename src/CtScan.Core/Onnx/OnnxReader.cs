using System.Runtime.InteropServices;
using Google.Protobuf;
using static CtScan.Onnx.OnnxFields;

namespace CtScan.Onnx;

/// <summary>
/// Reads an ONNX model (onnx/onnx.proto3) into <see cref="OnnxModel"/>: the subset <see cref="OnnxWriter"/> writes
/// (tensors as raw_data or float_data/int32_data/int64_data, int/ints/float attributes, the default domain). Anything
/// else (subgraphs, tensor or string attributes, external data, other operator domains) is refused with a
/// <see cref="NotSupportedException"/> naming it, so a model is never silently changed by a read/write round trip.
/// </summary>
public static class OnnxReader
{
    /// <summary>Reads <paramref name="path"/>; errors name the file.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX model, or uses what this reader does not support.</exception>
    public static OnnxModel Read(string path)
    {
        try
        {
            return Read(File.ReadAllBytes(path));
        }
        catch (Exception error) when (error is InvalidDataException or NotSupportedException or InvalidProtocolBufferException)
        {
            throw new InvalidDataException($"{path}: {error.Message}", error);
        }
    }

    /// <exception cref="InvalidDataException">Not a well-formed ONNX model.</exception>
    /// <exception cref="NotSupportedException">A construct this reader does not support (named in the message).</exception>
    public static OnnxModel Read(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long ir = 0;
        long? opset = null;
        string producer = "", producerVersion = "";
        OnnxGraph? graph = null;
        var metadata = new Dictionary<string, string>();
        try
        {
            foreach (var field in Fields(model))
            {
                switch (field.Number)
                {
                    case ModelIrVersion: ir = field.Int; break;
                    case ModelProducerName: producer = field.Text; break;
                    case ModelProducerVersion: producerVersion = field.Text; break;
                    case ModelGraph: graph = Graph(field.Bytes); break;
                    case ModelOpsetImport:
                        var opsetFields = Fields(field.Bytes);
                        string domain = opsetFields.FirstOrDefault(f => f.Number == OpsetDomain)?.Text ?? "";
                        if (domain is "" or "ai.onnx") opset = opsetFields.First(f => f.Number == OpsetVersion).Int;
                        break;
                    case ModelMetadataProps:
                        var entry = Fields(field.Bytes);
                        metadata[entry.FirstOrDefault(f => f.Number == EntryKey)?.Text ?? ""] = entry.FirstOrDefault(f => f.Number == EntryValue)?.Text ?? "";
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new InvalidDataException($"not an ONNX model: {error.Message}", error);
        }
        if (graph is null) throw new InvalidDataException("not an ONNX model: no graph (ModelProto field 7)");
        if (opset is null) throw new InvalidDataException("ONNX model has no opset import for the default domain");
        return new OnnxModel(graph, checked((int)opset.Value), producer, producerVersion) { IrVersion = ir, Metadata = metadata };
    }

    private static OnnxGraph Graph(byte[] bytes)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxInitializer>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case GraphNode: nodes.Add(Node(field.Bytes)); break;
                case GraphName: name = field.Text; break;
                case GraphInitializer: initializers.Add(Tensor(field.Bytes)); break;
                case GraphInput: inputs.Add(ValueInfo(field.Bytes)); break;
                case GraphOutput: outputs.Add(ValueInfo(field.Bytes)); break;
                case 3 or 15 or 16: throw new NotSupportedException($"graph {name}: sparse initializers, quantization annotations or other unsupported graph field {field.Number}");
            }
        }
        // ONNX before IR 4 listed initializers among the inputs too; they are constants here.
        var constant = initializers.Select(i => i.Name).ToHashSet();
        return new OnnxGraph(name, nodes, initializers, inputs.Where(i => !constant.Contains(i.Name)).ToList(), outputs);
    }

    private static OnnxNode Node(byte[] bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = "", opType = "", domain = "";
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case NodeInput: inputs.Add(field.Text); break;
                case NodeOutput: outputs.Add(field.Text); break;
                case NodeName: name = field.Text; break;
                case NodeOpType: opType = field.Text; break;
                case NodeAttribute: attributes.Add(Attribute(field.Bytes)); break;
                case NodeDomain: domain = field.Text; break;
            }
        }
        if (domain is not ("" or "ai.onnx"))
            throw new NotSupportedException($"node {name} ({opType}) is in operator domain '{domain}'; only the default ONNX domain is supported");
        return new OnnxNode(opType, name, inputs, outputs) { Attributes = attributes };
    }

    private static OnnxAttribute Attribute(byte[] bytes)
    {
        string name = "";
        long type = 0, i = 0;
        float f = 0;
        var ints = new List<long>();
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case AttributeName: name = field.Text; break;
                case AttributeF: f = BitConverter.Int32BitsToSingle((int)field.Fixed32); break;
                case AttributeI: i = field.Int; break;
                case AttributeInts:
                    if (field.IsLengthDelimited) ints.AddRange(PackedVarints(field.Bytes));
                    else ints.Add(field.Int);
                    break;
                case AttributeType: type = field.Int; break;
            }
        }
        return type switch
        {
            AttributeTypeInt => new OnnxIntAttribute(name, i),
            AttributeTypeInts => new OnnxIntsAttribute(name, ints),
            AttributeTypeFloat => new OnnxFloatAttribute(name, f),
            _ => throw new NotSupportedException($"attribute {name}: type {type} is not supported; expected int, ints or float"),
        };
    }

    private static OnnxInitializer Tensor(byte[] bytes)
    {
        var dims = new List<long>();
        long dataType = 0;
        string name = "";
        byte[]? raw = null;
        var floats = new List<float>();
        var longs = new List<long>();
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case TensorDims:
                    if (field.IsLengthDelimited) dims.AddRange(PackedVarints(field.Bytes));
                    else dims.Add(field.Int);
                    break;
                case TensorDataType: dataType = field.Int; break;
                case TensorName: name = field.Text; break;
                case TensorRawData: raw = field.Bytes; break;
                case TensorFloatData:
                    if (field.IsLengthDelimited) floats.AddRange(MemoryMarshal.Cast<byte, float>(field.Bytes).ToArray());
                    else floats.Add(BitConverter.Int32BitsToSingle((int)field.Fixed32));
                    break;
                case TensorInt32Data or TensorInt64Data:
                    if (field.IsLengthDelimited) longs.AddRange(PackedVarints(field.Bytes));
                    else longs.Add(field.Int);
                    break;
                case TensorDataLocation when field.Int != 0:
                    throw new NotSupportedException($"initializer {name}: external data is not supported; save the model with its weights inside");
            }
        }
        var type = (OnnxDataType)dataType;
        if (!Enum.IsDefined(type)) throw new NotSupportedException($"initializer {name}: tensor data type {dataType} is not supported; expected one of Float, UInt8, Int8, Int32, Int64, Float16, BFloat16");
        raw ??= type switch
        {
            OnnxDataType.Float => MemoryMarshal.AsBytes(floats.ToArray().AsSpan()).ToArray(),
            OnnxDataType.Int64 => MemoryMarshal.AsBytes(longs.ToArray().AsSpan()).ToArray(),
            OnnxDataType.Int32 => MemoryMarshal.AsBytes(longs.Select(v => (int)v).ToArray().AsSpan()).ToArray(),
            // int32_data also carries (u)int8 values, one per element.
            _ => longs.Select(v => (byte)v).ToArray(),
        };
        try
        {
            return new OnnxInitializer(name, dims, type, raw);
        }
        catch (ArgumentException error)
        {
            throw new InvalidDataException(error.Message, error);
        }
    }

    private static OnnxValueInfo ValueInfo(byte[] bytes)
    {
        string name = "";
        long elementType = (long)OnnxDataType.Float;
        var shape = new List<OnnxDimension>();
        bool hasShape = false;
        foreach (var field in Fields(bytes))
        {
            if (field.Number == ValueInfoName) name = field.Text;
            if (field.Number != ValueInfoType) continue;
            var tensor = Fields(field.Bytes).FirstOrDefault(f => f.Number == TypeTensorType)
                         ?? throw new NotSupportedException($"graph value {name}: only tensor types are supported");
            foreach (var t in Fields(tensor.Bytes))
            {
                if (t.Number == TensorTypeElemType) elementType = t.Int;
                if (t.Number != TensorTypeShape) continue;
                hasShape = true;
                foreach (var dim in Fields(t.Bytes).Where(d => d.Number == ShapeDim))
                {
                    var parts = Fields(dim.Bytes);
                    var value = parts.FirstOrDefault(p => p.Number == DimValue);
                    var symbol = parts.FirstOrDefault(p => p.Number == DimParam);
                    shape.Add(value is not null ? OnnxDimension.Fixed(value.Int) : OnnxDimension.Symbol(symbol?.Text ?? "?"));
                }
            }
        }
        var type = (OnnxDataType)elementType;
        if (!Enum.IsDefined(type)) throw new NotSupportedException($"graph value {name}: element type {elementType} is not supported; expected one of Float, UInt8, Int8, Int32, Int64, Float16, BFloat16");
        return new OnnxValueInfo(name, shape) { ElementType = type, HasShape = hasShape };
    }

    private sealed record Field(int Number, bool IsLengthDelimited, ulong Varint, uint Fixed32, byte[] Bytes)
    {
        public long Int => (long)Varint;
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes);
    }

    private static List<Field> Fields(byte[] message)
    {
        var fields = new List<Field>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint: fields.Add(new Field(number, false, input.ReadUInt64(), 0, [])); break;
                case WireFormat.WireType.LengthDelimited: fields.Add(new Field(number, true, 0, 0, input.ReadBytes().ToByteArray())); break;
                case WireFormat.WireType.Fixed32: fields.Add(new Field(number, false, 0, input.ReadFixed32(), [])); break;
                case WireFormat.WireType.Fixed64: input.ReadFixed64(); break;
                default: throw new InvalidDataException($"not an ONNX model: unsupported protobuf wire type in tag {tag}");
            }
        }
        return fields;
    }

    private static List<long> PackedVarints(byte[] bytes)
    {
        var values = new List<long>();
        var input = new CodedInputStream(bytes);
        while (!input.IsAtEnd) values.Add(input.ReadInt64());
        return values;
    }
}
