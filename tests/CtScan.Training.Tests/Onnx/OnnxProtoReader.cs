using Google.Protobuf;

namespace CtScan.Training.Tests.Onnx;

/// <summary>
/// Reads back a few fields of a serialized ONNX model straight from the protobuf wire format, independently of the
/// writer's in-memory types: opset version, IR version and the graph's op types in order.
/// </summary>
internal static class OnnxProtoReader
{
    public static (long IrVersion, long Opset, IReadOnlyList<string> OpTypes) Read(byte[] model)
    {
        long ir = 0, opset = 0;
        var opTypes = new List<string>();
        foreach (var (field, value) in Fields(model))
        {
            if (field == 1) ir = (long)value.Varint;
            if (field == 8) opset = (long)Fields(value.Bytes).Single(f => f.Field == 2).Value.Varint;
            if (field == 7)
                foreach (var node in Fields(value.Bytes).Where(f => f.Field == 1))
                    opTypes.Add(Fields(node.Value.Bytes).Single(f => f.Field == 4).Value.Bytes.ToStringUtf8());
        }
        return (ir, opset, opTypes);
    }

    private readonly record struct FieldValue(ulong Varint, ByteString Bytes);

    private static List<(int Field, FieldValue Value)> Fields(ByteString message) => Fields(message.ToByteArray());

    private static List<(int Field, FieldValue Value)> Fields(byte[] message)
    {
        var fields = new List<(int, FieldValue)>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint: fields.Add((field, new FieldValue(input.ReadUInt64(), ByteString.Empty))); break;
                case WireFormat.WireType.LengthDelimited: fields.Add((field, new FieldValue(0, input.ReadBytes()))); break;
                case WireFormat.WireType.Fixed32: input.ReadFixed32(); break;
                case WireFormat.WireType.Fixed64: input.ReadFixed64(); break;
                default: throw new InvalidDataException($"unexpected wire type in tag {tag}");
            }
        }
        return fields;
    }
}
