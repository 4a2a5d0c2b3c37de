namespace CtScan.Onnx;

/// <summary>
/// Serializes an <see cref="OnnxModel"/> to the ONNX protobuf format (onnx/onnx.proto3). Only the messages and fields
/// this product uses are written (see <see cref="OnnxReader"/> for the way back); the field numbers below are the ones in onnx.proto3.
/// </summary>
public static class OnnxWriter
{
    // ModelProto
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelGraph = 7, ModelOpsetImport = 8, ModelMetadataProps = 14;
    // OperatorSetIdProto, StringStringEntryProto
    private const int OpsetDomain = 1, OpsetVersion = 2, EntryKey = 1, EntryValue = 2;
    // GraphProto
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    // NodeProto
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    // AttributeProto and its AttributeType enum
    private const int AttributeName = 1, AttributeF = 2, AttributeI = 3, AttributeInts = 8, AttributeType = 20;
    private const int AttributeTypeFloat = 1, AttributeTypeInt = 2, AttributeTypeInts = 7;
    // TensorProto and its DataType enum
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensorType = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;

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
