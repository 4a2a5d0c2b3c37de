using System.Security.Cryptography;

namespace CtScan.Contracts;

/// <summary>SHA-256 as the contracts write it: 64 lowercase hex digits.</summary>
public static class Sha256Hex
{
    public static string Of(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static bool IsValid(string? hex) => hex is { Length: 64 } && hex.All(char.IsAsciiHexDigitLower);
}
