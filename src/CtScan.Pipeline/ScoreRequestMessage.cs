using CtScan.Contracts;

namespace CtScan.Pipeline;

/// <summary>Reads a <c>score-requests</c> queue message: JSON <see cref="ScoreRequest"/> with a scan, a tensor and a scan hash.</summary>
public static class ScoreRequestMessage
{
    /// <summary>The request in <paramref name="message"/>.</summary>
    /// <exception cref="InvalidDataException">The message is not JSON of a score request, or lacks the scan, the tensor
    /// or a 64-hex-digit sha256; the message names the problem.</exception>
    public static ScoreRequest Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = ContractsJson.DeserializeScoreRequest(message);
        if (string.IsNullOrEmpty(request.Scan) || string.IsNullOrEmpty(request.Tensor) || !Sha256Hex.IsValid(request.Sha256))
            throw new InvalidDataException($"invalid score request: scan, tensor and a 64-hex-digit sha256 are required; got scan '{request.Scan}', tensor '{request.Tensor}', sha256 '{request.Sha256}'");
        return request;
    }
}
