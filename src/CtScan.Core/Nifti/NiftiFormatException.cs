namespace CtScan.Nifti;

/// <summary>
/// A NIfTI file that cannot be read: a broken header, unsupported data, truncated or corrupt content. The message
/// names the file, the field and the bad value, and what was allowed.
/// </summary>
public sealed class NiftiFormatException : Exception
{
    public NiftiFormatException(string fileName, string field, string message, Exception? innerException = null)
        : base($"{fileName}: {message}", innerException)
    {
        FileName = fileName;
        Field = field;
    }

    /// <summary>The file (or stream name) that was being read.</summary>
    public string FileName { get; }

    /// <summary>The header field or part of the file at fault ("datatype", "dim", "gzip", "data", …).</summary>
    public string Field { get; }
}
