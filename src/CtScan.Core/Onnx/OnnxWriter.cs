using static CtScan.Onnx.OnnxFields;

namespace CtScan.Onnx;

/// <summary>
/// Serializes an <see cref="OnnxModel"/> to the ONNX protobuf format (onnx/onnx.proto3). Only the messages and fields
/// this product uses are written (see <see cref="OnnxReader"/> for the way back); the field numbers are in <see cref="OnnxFields"/>.
/// </summary>
public static class OnnxWriter
{
    public static byte[] ToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var message = new ProtoMessageWriter();
        message.Int64(ModelIrVersion, model.IrVersion)
            .String(ModelProducerName, model.ProducerName)
            .String(ModelProducerVersion, model.ProducerVersion);
        using (var graph = Graph(model.Graph)) message.Message(ModelGraph, graph);
        using (var opset = new ProtoMessageWriter().String(OpsetDomain, "").Int64(OpsetVersion, model.Opset))
            message.Message(ModelOpsetImport, opset);
        foreach (var (key, value) in model.Metadata)
        {
            using var entry = new ProtoMessageWriter().String(EntryKey, key).String(EntryValue, value);
            message.Message(ModelMetadataProps, entry);
        }
        return message.ToArray();
    }

    public static void Write(OnnxModel model, string path) => File.WriteAllBytes(path, ToBytes(model));

    private static ProtoMessageWriter Graph(OnnxGraph graph)
    {
        var message = new ProtoMessageWriter();
        foreach (var node in graph.Nodes)
            using (var n = Node(node)) message.Message(GraphNode, n);
        message.String(GraphName, graph.Name);
        foreach (var initializer in graph.Initializers)
            using (var t = Tensor(initializer)) message.Message(GraphInitializer, t);
        foreach (var input in graph.Inputs)
            using (var v = ValueInfo(input)) message.Message(GraphInput, v);
        foreach (var output in graph.Outputs)
            using (var v = ValueInfo(output)) message.Message(GraphOutput, v);
        return message;
    }

    private static ProtoMessageWriter Node(OnnxNode node)
    {
        var message = new ProtoMessageWriter();
        foreach (var input in node.Inputs) message.String(NodeInput, input);
        foreach (var output in node.Outputs) message.String(NodeOutput, output);
        message.String(NodeName, node.Name).String(NodeOpType, node.OpType);
        if (node.Domain.Length > 0) message.String(NodeDomain, node.Domain);
        foreach (var attribute in node.Attributes)
            using (var a = Attribute(attribute)) message.Message(NodeAttribute, a);
        return message;
    }

    private static ProtoMessageWriter Attribute(OnnxAttribute attribute)
    {
        var message = new ProtoMessageWriter().String(AttributeName, attribute.Name);
        switch (attribute)
        {
            case OnnxIntAttribute i:
                message.Int64(AttributeI, i.Value).Int64(AttributeType, AttributeTypeInt);
                break;
            case OnnxIntsAttribute ints:
                foreach (long v in ints.Values) message.Int64(AttributeInts, v);
                message.Int64(AttributeType, AttributeTypeInts);
                break;
            case OnnxFloatAttribute f:
                message.Float(AttributeF, f.Value).Int64(AttributeType, AttributeTypeFloat);
                break;
            default:
                throw new NotSupportedException($"attribute {attribute.Name}: kind {attribute.GetType().Name} is not supported; expected int, ints or float");
        }
        return message;
    }

    private static ProtoMessageWriter Tensor(OnnxInitializer tensor)
    {
        var message = new ProtoMessageWriter();
        foreach (long d in tensor.Dims) message.Int64(TensorDims, d);
        message.Int64(TensorDataType, (long)tensor.DataType).String(TensorName, tensor.Name);
        // raw_data is little-endian; so is every platform .NET runs this on.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data needs a little-endian machine");
        message.Bytes(TensorRawData, tensor.RawData);
        return message;
    }

    private static ProtoMessageWriter ValueInfo(OnnxValueInfo value)
    {
        using var shape = new ProtoMessageWriter();
        foreach (var dim in value.Shape)
        {
            using var d = new ProtoMessageWriter();
            if (dim.Value is long fixedSize) d.Int64(DimValue, fixedSize);
            else d.String(DimParam, dim.Parameter ?? throw new ArgumentException($"{value.Name}: a dimension needs a size or a symbol"));
            shape.Message(ShapeDim, d);
        }
        using var tensorType = new ProtoMessageWriter().Int64(TensorTypeElemType, (long)value.ElementType);
        if (value.HasShape) tensorType.Message(TensorTypeShape, shape);
        using var type = new ProtoMessageWriter().Message(TypeTensorType, tensorType);
        return new ProtoMessageWriter().String(ValueInfoName, value.Name).Message(ValueInfoType, type);
    }
}
