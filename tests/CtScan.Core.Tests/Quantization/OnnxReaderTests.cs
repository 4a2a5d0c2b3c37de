using CtScan.Onnx;

namespace CtScan.Tests.Quantization;

/// <summary><see cref="OnnxReader"/> reads back what <see cref="OnnxWriter"/> writes, and refuses what it cannot.</summary>
public sealed class OnnxReaderTests
{
    [Fact]
    public void Read_WrittenModel_SameGraphTensorsAndMetadata()
    {
        var graph = new OnnxGraph("g",
            [new OnnxNode("DequantizeLinear", "dq", ["w", "s", "z"], ["y"]) { Attributes = [new OnnxIntAttribute("axis", 0), new OnnxIntsAttribute("k", [3, -1]), new OnnxFloatAttribute("f", 0.25f)] }],
            [OnnxInitializer.Int8("w", [2, 2], [-127, 0, 5, 127]), new OnnxInitializer("s", [2], [0.5f, 0.25f]), OnnxInitializer.Int8("z", [2], [0, 0]),
             OnnxInitializer.Int32("b", [1], [-70000]), OnnxInitializer.UInt8("u", [], [200])],
            [new OnnxValueInfo("x", [OnnxDimension.Symbol("N"), 4])],
            [new OnnxValueInfo("y", [2, 2]), new OnnxValueInfo("h", []) { HasShape = false }]);
        var model = new OnnxModel(graph, 17, "p", "v") { Metadata = new Dictionary<string, string> { ["a"] = "b" } };

        var read = OnnxReader.Read(OnnxWriter.ToBytes(model));

        Assert.Equal((17, "p", "v", 8L), (read.Opset, read.ProducerName, read.ProducerVersion, read.IrVersion));
        Assert.Equal("b", read.Metadata["a"]);
        var node = Assert.Single(read.Graph.Nodes);
        Assert.Equal(("DequantizeLinear", "dq"), (node.OpType, node.Name));
        Assert.Equal(["w", "s", "z"], node.Inputs);
        Assert.Equal(0, Assert.IsType<OnnxIntAttribute>(node.Attributes[0]).Value);
        Assert.Equal([3L, -1L], Assert.IsType<OnnxIntsAttribute>(node.Attributes[1]).Values);
        Assert.Equal(0.25f, Assert.IsType<OnnxFloatAttribute>(node.Attributes[2]).Value);
        foreach (var (written, back) in graph.Initializers.Zip(read.Graph.Initializers))
        {
            Assert.Equal((written.Name, written.DataType), (back.Name, back.DataType));
            Assert.Equal(written.Dims, back.Dims);
            Assert.Equal(written.RawData, back.RawData);
        }
        Assert.Equal("N", read.Graph.Inputs[0].Shape[0].Parameter);
        Assert.Equal(4, read.Graph.Inputs[0].Shape[1].Value);
        Assert.True(read.Graph.Outputs[0].HasShape);
        Assert.False(read.Graph.Outputs[1].HasShape);
        // Written again, the bytes are the same.
        Assert.Equal(OnnxWriter.ToBytes(model), OnnxWriter.ToBytes(read));
    }

    [Fact]
    public void Read_DemoModel_TheExportersGraph()
    {
        var model = OnnxReader.Read(Fixtures.Path("..", "..", "models", "demo", "model.onnx"));
        Assert.Equal(["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool",
            "GlobalAveragePool", "Flatten", "Gemm", "Relu", "Gemm", "Sigmoid"], model.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal("scan", Assert.Single(model.Graph.Inputs).Name);
        Assert.All(model.Graph.Initializers, i => Assert.Equal(OnnxDataType.Float, i.DataType));
    }

    [Fact]
    public void Read_NotProtobuf_InvalidDataNamingTheFile()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF]);
            var error = Assert.Throws<InvalidDataException>(() => OnnxReader.Read(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
