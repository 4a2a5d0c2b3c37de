using System.Text;
using CtScan.Pipeline;
using CtScan.Tensors;

namespace CtScan.Fuzz;

/// <summary>
/// The score-request queue message as <see cref="ScoreRequestHandler"/> reads it (<see cref="ScoreRequestMessage.Parse"/>),
/// then the naming steps it takes before touching storage: the scan-name check, the result blob name, the scan version
/// and the tensor name.
/// Property: a usable request, or an <see cref="InvalidDataException"/> naming the problem.
/// </summary>
internal static class ScoreRequestTarget
{
    public const string Name = "score-request";

    public static void Run(byte[] input)
    {
        Contracts.ScoreRequest request;
        try
        {
            request = ScoreRequestMessage.Parse(Encoding.UTF8.GetString(input));
        }
        catch (InvalidDataException error) when (Refusal.Names(error.Message, ""))
        {
            return;
        }
        _ = ScanNames.UnsafeReason(request.Scan);
        _ = ScanNames.ResultBlobName(request.Scan);
        _ = ScanVersion.Of(request);
        _ = TensorNames.For(request.Sha256, ScanNames.SeedPreprocessing);
    }
}
