using System.Text.Json.Serialization;

namespace CtScan.Contracts;

/// <summary>How a model's input tensor orders its axes. Every layout here has one channel.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TensorLayout>))]
public enum TensorLayout
{
    /// <summary>Channels first, PyTorch's order: [N, 1, W, H, D].</summary>
    [JsonStringEnumMemberName("NCDHW")] Ncdhw,

    /// <summary>Channels last, Keras's order: [N, W, H, D, 1].</summary>
    [JsonStringEnumMemberName("NDHWC")] Ndhwc,
}

/// <summary>What a model's single output holds.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OutputKind>))]
public enum OutputKind
{
    /// <summary>A probability in [0, 1] (the seed's Dense 1 + sigmoid).</summary>
    [JsonStringEnumMemberName("sigmoid")] Sigmoid,

    /// <summary>A logit; the scorer applies the sigmoid.</summary>
    [JsonStringEnumMemberName("logit")] Logit,
}

/// <summary>Names and parsing of the enums as users type them on a command line or in JSON.</summary>
public static class ContractNames
{
    public static string Of(TensorLayout layout) => layout switch
    {
        TensorLayout.Ncdhw => "NCDHW",
        TensorLayout.Ndhwc => "NDHWC",
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "expected NCDHW or NDHWC"),
    };

    public static string Of(OutputKind kind) => kind switch
    {
        OutputKind.Sigmoid => "sigmoid",
        OutputKind.Logit => "logit",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "expected sigmoid or logit"),
    };

    public static TensorLayout ParseLayout(string text) => text.ToUpperInvariant() switch
    {
        "NCDHW" => TensorLayout.Ncdhw,
        "NDHWC" => TensorLayout.Ndhwc,
        _ => throw new ArgumentException($"unknown layout '{text}'; expected one of {{NCDHW, NDHWC}}", nameof(text)),
    };

    public static OutputKind ParseOutputKind(string text) => text.ToLowerInvariant() switch
    {
        "sigmoid" => OutputKind.Sigmoid,
        "logit" => OutputKind.Logit,
        _ => throw new ArgumentException($"unknown output kind '{text}'; expected one of {{sigmoid, logit}}", nameof(text)),
    };
}
