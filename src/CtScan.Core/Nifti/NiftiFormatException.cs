namespace CtScan.Nifti;

/// <summary>
/// A NIfTI file that cannot be read: a broken header, unsupported data, truncated or corrupt content. The message
/// names the file, the field and the bad value, and what was allowed.
/// </summary>
public class NiftiFormatException : Exception
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

/// <summary>
/// A NIfTI file refused because reading it would cost more than the limits allow (<see cref="NiftiReadOptions"/>:
/// data after the voxels, or a gap before vox_offset, beyond a few MiB). A <see cref="NiftiFormatException"/>, so
/// callers that know nothing of limits still reject the file; those that do report it as too large.
/// </summary>
public sealed class NiftiLimitException : NiftiFormatException
{
    public NiftiLimitException(string fileName, string field, string limit, string message)
        : base(fileName, field, message)
    {
        Limit = limit;
        Detail = message;
    }

    /// <summary>The message without the file name (for results that name the scan themselves).</summary>
    public string Detail { get; }

    /// <summary>The limit exceeded, as its option is named (e.g. <c>MaxTrailingDataBytes</c>).</summary>
    public string Limit { get; }
}
