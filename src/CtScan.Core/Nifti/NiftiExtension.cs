namespace CtScan.Nifti;

/// <summary>One header extension: its <c>ecode</c> and <c>esize</c> (bytes, including the 8-byte esize/ecode pair).
/// The content is skipped, not kept.</summary>
public readonly record struct NiftiExtension(int Code, int Size);
