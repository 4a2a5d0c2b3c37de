using System.Text;

namespace CtScan.Explanation;

/// <summary>
/// Exposes the logit of a model whose output is a final <c>Sigmoid</c>: returns the ONNX bytes with one more graph
/// output, the Sigmoid's input, typed like the probability output (a Sigmoid keeps shape and type). Occlusion needs
/// it because a confident model's float32 probability saturates at exactly 1: hiding one of several lesions then
/// changes nothing measurable, while the logit still drops.
/// </summary>
/// <remarks>
/// Edits the protobuf wire format directly (onnx.proto3 field numbers: ModelProto.graph = 7, GraphProto.node = 1,
/// GraphProto.output = 12, NodeProto.input = 1, output = 2, op_type = 4, ValueInfoProto.name = 1); every other byte
/// is kept as it is, so the model computes exactly what it did.
/// </remarks>
public static class OnnxLogitGraph
{
    private const int ModelGraphField = 7;
    private const int GraphNodeField = 1;
    private const int GraphOutputField = 12;
    private const int NodeInputField = 1;
    private const int NodeOutputField = 2;
    private const int NodeOpTypeField = 4;
    private const int ValueInfoNameField = 1;
    private const int LengthDelimited = 2;

    /// <summary>
    /// The model with the input of the Sigmoid that produces <paramref name="probabilityOutput"/> added as a graph
    /// output, and that input's name; null when no Sigmoid produces it (the caller then works on the probability).
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed protobuf message.</exception>
    public static (byte[] Model, string LogitOutput)? TryExposeLogit(ReadOnlySpan<byte> model, string probabilityOutput)
    {
        ArgumentNullException.ThrowIfNull(probabilityOutput);
        var modelFields = Fields(model);
        var graphField = modelFields.Where(f => f.Number == ModelGraphField && f.WireType == LengthDelimited).ToList();
        if (graphField.Count != 1) return null;
        var graph = model.Slice(graphField[0].ValueStart, graphField[0].ValueLength);

        string? logit = null;
        byte[]? outputInfo = null;
        foreach (var field in Fields(graph))
        {
            if (field.WireType != LengthDelimited) continue;
            var value = graph.Slice(field.ValueStart, field.ValueLength);
            if (field.Number == GraphNodeField && logit is null)
            {
                var node = Node(value);
                if (node.OpType == "Sigmoid" && node.Outputs.Count == 1 && node.Outputs[0] == probabilityOutput && node.Inputs.Count == 1)
                    logit = node.Inputs[0];
            }
            else if (field.Number == GraphOutputField && outputInfo is null && FirstString(value, ValueInfoNameField) == probabilityOutput)
            {
                outputInfo = value.ToArray();
            }
        }
        if (logit is null || outputInfo is null) return null;

        // The new output: the probability's ValueInfoProto with its name replaced (name first, then the other fields).
        var info = new MemoryStream();
        WriteString(info, ValueInfoNameField, logit);
        foreach (var field in Fields(outputInfo))
            if (field.Number != ValueInfoNameField) info.Write(outputInfo, field.Start, field.End - field.Start);

        var newGraph = new MemoryStream();
        newGraph.Write(graph);
        WriteBytes(newGraph, GraphOutputField, info.ToArray());

        var result = new MemoryStream(model.Length + (int)info.Length + 16);
        foreach (var field in modelFields)
        {
            if (field.Number == ModelGraphField && field.WireType == LengthDelimited) WriteBytes(result, ModelGraphField, newGraph.ToArray());
            else result.Write(model.Slice(field.Start, field.End - field.Start));
        }
        return (result.ToArray(), logit);
    }

    private readonly record struct Field(int Number, int WireType, int Start, int ValueStart, int ValueLength, int End);

    private sealed record NodeInfo(List<string> Inputs, List<string> Outputs, string? OpType);

    private static NodeInfo Node(ReadOnlySpan<byte> node)
    {
        var info = new NodeInfo([], [], null);
        string? opType = null;
        foreach (var field in Fields(node))
        {
            if (field.WireType != LengthDelimited) continue;
            string text = Encoding.UTF8.GetString(node.Slice(field.ValueStart, field.ValueLength));
            if (field.Number == NodeInputField) info.Inputs.Add(text);
            else if (field.Number == NodeOutputField) info.Outputs.Add(text);
            else if (field.Number == NodeOpTypeField) opType = text;
        }
        return info with { OpType = opType };
    }

    private static string? FirstString(ReadOnlySpan<byte> message, int number)
    {
        foreach (var field in Fields(message))
            if (field.Number == number && field.WireType == LengthDelimited)
                return Encoding.UTF8.GetString(message.Slice(field.ValueStart, field.ValueLength));
        return null;
    }

    /// <summary>The top-level fields of one message, in order.</summary>
    private static List<Field> Fields(ReadOnlySpan<byte> message)
    {
        var fields = new List<Field>();
        int position = 0;
        while (position < message.Length)
        {
            int start = position;
            ulong tag = ReadVarint(message, ref position);
            int number = (int)(tag >> 3), wireType = (int)(tag & 7);
            if (number <= 0) throw new InvalidDataException($"not an ONNX model: field number {number} at byte {start}");
            int valueStart = position, valueLength;
            switch (wireType)
            {
                case 0: ReadVarint(message, ref position); valueLength = position - valueStart; break;
                case 1: valueLength = 8; position += 8; break;
                case 5: valueLength = 4; position += 4; break;
                case LengthDelimited:
                    ulong length = ReadVarint(message, ref position);
                    if (length > (ulong)(message.Length - position))
                        throw new InvalidDataException($"not an ONNX model: field {number} at byte {start} claims {length} bytes; {message.Length - position} remain");
                    valueStart = position;
                    valueLength = (int)length;
                    position += valueLength;
                    break;
                default: throw new InvalidDataException($"not an ONNX model: unsupported protobuf wire type {wireType} at byte {start}");
            }
            if (position > message.Length) throw new InvalidDataException($"not an ONNX model: field {number} at byte {start} runs past the end");
            fields.Add(new Field(number, wireType, start, valueStart, valueLength, position));
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= bytes.Length) throw new InvalidDataException("not an ONNX model: truncated varint");
            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("not an ONNX model: varint longer than 10 bytes");
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    private static void WriteBytes(Stream stream, int number, ReadOnlySpan<byte> value)
    {
        WriteVarint(stream, (ulong)(number << 3 | LengthDelimited));
        WriteVarint(stream, (ulong)value.Length);
        stream.Write(value);
    }

    private static void WriteString(Stream stream, int number, string value) => WriteBytes(stream, number, Encoding.UTF8.GetBytes(value));
}
