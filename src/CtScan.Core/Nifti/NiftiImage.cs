namespace CtScan.Nifti;

/// <summary>
/// An open NIfTI-1/NIfTI-2 image: a checked header plus a forward-only data stream. Reads single files (.nii,
/// .nii.gz) and header/image pairs (.hdr + .img, either gzipped), in either byte order; gzip is recognised by its
/// magic bytes, whatever the name, and decompressed as a stream, never into memory whole.
/// </summary>
/// <remarks>
/// Data is read in one pass (<see cref="OpenVolume"/> or <see cref="ComputeStatistics"/>). An image opened from a
/// path reopens its file for each further pass; one read from a caller's stream allows a single pass.
/// </remarks>
public sealed class NiftiImage : IDisposable
{
    private static readonly string[] HeaderSuffixes = [".hdr", ".hdr.gz"];
    private static readonly string[] ImageSuffixes = [".img", ".img.gz"];

    private readonly Func<Stream>? _reopenData;
    private Stream? _data;
    private bool _dataUsed;
    private bool _disposed;

    private NiftiImage(NiftiHeader header, string fileName, IReadOnlyList<NiftiExtension> extensions, Stream data,
        Func<Stream>? reopenData, NiftiReadOptions options)
    {
        Options = options;
        Header = header;
        FileName = fileName;
        Extensions = extensions;
        Scaling = header.GetSlopeInter(fileName);
        _data = data;
        _reopenData = reopenData;
    }

    public NiftiHeader Header { get; }

    /// <summary>The limits this image is read under.</summary>
    public NiftiReadOptions Options { get; }

    /// <summary>The path or stream name used in messages (the .hdr of a pair).</summary>
    public string FileName { get; }

    public IReadOnlyList<NiftiExtension> Extensions { get; }

    /// <summary>The scaling applied to every value, or null when unscaled (see <see cref="NiftiHeader.GetSlopeInter"/>).</summary>
    public ScaleFactors? Scaling { get; }

    /// <summary>Number of 3-D volumes: the product of dim[4..dim[0]] (1 for 1-D to 3-D images).</summary>
    public long VolumeCount
    {
        get
        {
            long count = 1;
            for (var i = 4; i <= Header.Rank; i++) count *= Header.Dim[i];
            return count;
        }
    }

    /// <summary>The shape of one volume; 1-D and 2-D images count missing dims as 1 (a 2-D image is one slice).</summary>
    public VolumeShape VolumeShape
    {
        get
        {
            var shape = Header.DataShape;
            long Extent(int axis) => axis < shape.Count ? shape[axis] : 1;
            long width = Extent(0), height = Extent(1), depth = Extent(2);
            if (width * height > int.MaxValue || depth > int.MaxValue
                || width * height * Header.DataType.BytesPerVoxel() > Array.MaxLength)
                throw new NiftiFormatException(FileName, "dim",
                    $"a volume of {width}×{height}×{depth} has slices too large to read ({width * height} voxels)");
            return new VolumeShape((int)width, (int)height, (int)depth);
        }
    }

    /// <summary>Opens a NIfTI file by path: .nii, .nii.gz, or either file of a .hdr/.img pair (.hdr.gz/.img.gz too).</summary>
    /// <exception cref="NiftiFormatException">The file is not a readable NIfTI file.</exception>
    public static NiftiImage Open(string path, NiftiReadOptions? options = null)
    {
        options ??= NiftiReadOptions.Default;
        var headerPath = !HasSuffix(path, ImageSuffixes) ? path
            : FindPartner(path, ImageSuffixes, HeaderSuffixes)
              ?? throw new NiftiFormatException(path, "file",
                  $"{path} is the image of a .hdr/.img pair, but no header file ({string.Join(" or ", HeaderSuffixes)}) was found beside it");
        var header = ReadHeaderAndExtensions(OpenFile(headerPath), headerPath, options, leaveOpen: false,
            out var extensions, out var headerStream);
        if (!header.IsPairFormat)
        {
            if (headerPath != path)
                throw new NiftiFormatException(headerPath, "magic",
                    $"{path} is an image file, but its header {headerPath} has single-file magic '{header.Magic}'");
            return new NiftiImage(header, path, extensions, headerStream, () => OpenAtData(path, header.DataOffset, options), options);
        }
        headerStream.Dispose();
        var imagePath = FindPartner(headerPath, HeaderSuffixes, ImageSuffixes)
            ?? throw new NiftiFormatException(headerPath, "file",
                $"magic '{header.Magic}' marks a .hdr/.img pair, but no image file ({string.Join(" or ", ImageSuffixes)}) " +
                "was found beside it");
        return new NiftiImage(header, headerPath, extensions, OpenAtData(imagePath, header.DataOffset, options),
            () => OpenAtData(imagePath, header.DataOffset, options), options);
    }

    /// <summary>Reads a single-file NIfTI (.nii or .nii.gz content) from a stream.</summary>
    /// <param name="name">Used in error messages.</param>
    /// <param name="leaveOpen">Leave <paramref name="stream"/> open when the image is disposed.</param>
    /// <exception cref="NiftiFormatException">The content is not a readable single-file NIfTI.</exception>
    public static NiftiImage Read(Stream stream, string name, NiftiReadOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= NiftiReadOptions.Default;
        var header = ReadHeaderAndExtensions(stream, name, options, leaveOpen, out var extensions, out var data);
        if (header.IsPairFormat)
        {
            data.Dispose();
            throw new NiftiFormatException(name, "magic",
                $"magic '{header.Magic}' marks a .hdr/.img pair, which cannot be read from one stream; open the .hdr by path");
        }
        return new NiftiImage(header, name, extensions, data, reopenData: null, options);
    }

    /// <summary>
    /// Streams one 3-D volume slice by slice. 3-D images (and 4-D+ whose extra dims are all 1) need no index;
    /// images with several volumes need <paramref name="volumeIndex"/> (the flat index over dims 4..7, first fastest).
    /// The returned reader borrows this image's stream: use it before disposing the image.
    /// </summary>
    /// <exception cref="NiftiFormatException">Several volumes and no index, or the data ends too early.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="volumeIndex"/> is not in 0..VolumeCount−1.</exception>
    public IVolumeSlices OpenVolume(int? volumeIndex = null)
    {
        var volumes = VolumeCount;
        var shape = VolumeShape;
        if (volumeIndex is null && volumes > 1)
            throw new NiftiFormatException(FileName, "dim",
                $"{FileName} is {Header.Rank}-D with {volumes} volumes (shape {string.Join("×", Header.DataShape)}); " +
                $"pass a volume index 0..{volumes - 1}");
        var index = volumeIndex ?? 0;
        if (index < 0 || index >= volumes)
            throw new ArgumentOutOfRangeException(nameof(volumeIndex), index,
                $"{FileName} has {volumes} volume(s); the volume index must be in 0..{volumes - 1}");
        var data = TakeDataStream();
        var volumeBytes = shape.VoxelCount * Header.DataType.BytesPerVoxel();
        var before = index * volumeBytes;
        var skipped = NiftiStreams.Skip(data, before);
        if (skipped < before) throw NiftiStreams.TruncatedData(FileName, Header, skipped);
        return new NiftiVolumeReader(data, Header, shape, Decoder, FileName, before, endsFile: index == volumes - 1,
            Options.MaxTrailingDataBytes);
    }

    /// <summary>Reads every voxel of every volume, scaled, in file order, and returns their statistics.</summary>
    /// <exception cref="NiftiFormatException">The data ends too early or the gzip stream is damaged.</exception>
    public VoxelStatistics ComputeStatistics(CancellationToken cancellationToken = default)
    {
        const int chunkVoxels = 1 << 17;
        var data = TakeDataStream();
        var decoder = Decoder;
        var total = Header.VoxelCount;
        var chunk = (int)Math.Min(total, chunkVoxels);
        var raw = new byte[chunk * decoder.BytesPerVoxel];
        var values = new double[chunk];
        var statistics = new VoxelStatisticsAccumulator();
        for (long done = 0; done < total;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = (int)Math.Min(chunk, total - done);
            var bytes = raw.AsSpan(0, count * decoder.BytesPerVoxel);
            var n = data.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (n < bytes.Length)
                throw NiftiStreams.TruncatedData(FileName, Header, done * decoder.BytesPerVoxel + n);
            decoder.Decode(bytes, values);
            statistics.Add(values.AsSpan(0, count));
            done += count;
        }
        if (data is GzipVerifyingStream gzip) gzip.ReadToEndAndVerify(Options.MaxTrailingDataBytes, cancellationToken);
        return statistics.ToStatistics();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _data?.Dispose();
        _data = null;
    }

    private VoxelDecoder Decoder => new(Header.DataType, Header.IsLittleEndian, Scaling);

    private Stream TakeDataStream()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_dataUsed)
        {
            if (_reopenData is null)
                throw new InvalidOperationException(
                    $"the data of {FileName} was already read; a stream can be read once (open by path to read again)");
            _data?.Dispose();
            _data = _reopenData();
        }
        _dataUsed = true;
        return _data!;
    }

    private static NiftiHeader ReadHeaderAndExtensions(Stream raw, string name, NiftiReadOptions options,
        bool leaveOpen, out IReadOnlyList<NiftiExtension> extensions, out Stream positionedAtData)
    {
        var stream = NiftiStreams.Decompressed(raw, name, leaveOpen, options.InflateAhead);
        try
        {
            var header = NiftiStreams.ReadHeader(stream, name);
            NiftiHeaderChecks.ThrowIfInvalid(header, name, options);
            // Skipping to vox_offset in a gzipped file inflates everything before it: bound the gap first. A .hdr's
            // extensions run to the end of the file, and its vox_offset is a gap at the start of the .img.
            var gap = header.IsPairFormat ? header.DataOffset : header.DataOffset - header.SizeOfHeader;
            if (gap > options.MaxDataOffsetGapBytes)
                throw new NiftiLimitException(name, "vox_offset", nameof(NiftiReadOptions.MaxDataOffsetGapBytes),
                    $"vox_offset {header.DataOffset} leaves a gap of {gap} bytes before the voxel data; at most " +
                    $"{options.MaxDataOffsetGapBytes} bytes are read there (limit NiftiReadOptions.MaxDataOffsetGapBytes), " +
                    "since skipping them in a gzipped file inflates them");
            // A single file's extensions end at vox_offset; a .hdr's run to the end of the file (within the same bound).
            var limit = header.IsPairFormat ? options.MaxDataOffsetGapBytes : header.DataOffset - header.SizeOfHeader;
            (extensions, var consumed) = NiftiStreams.ReadExtensions(stream, header, limit);
            if (!header.IsPairFormat)
            {
                var rest = header.DataOffset - header.SizeOfHeader - consumed;
                if (NiftiStreams.Skip(stream, rest) < rest) throw NiftiStreams.TruncatedData(name, header, 0);
            }
            positionedAtData = stream;
            return header;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static Stream OpenFile(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"NIfTI file not found: {path}", path, e);
        }
    }

    private static Stream OpenAtData(string path, long offset, NiftiReadOptions options)
    {
        var stream = NiftiStreams.Decompressed(OpenFile(path), path, leaveOpen: false, options.InflateAhead);
        try
        {
            if (NiftiStreams.Skip(stream, offset) < offset)
                throw new NiftiFormatException(path, "vox_offset",
                    $"the file ends before vox_offset {offset}, where the voxel data should start");
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static bool HasSuffix(string path, string[] suffixes) =>
        suffixes.Any(suffix => path.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));

    /// <summary>For a path ending in one of <paramref name="from"/>, the existing file with the matching suffix of
    /// <paramref name="to"/> (same compression first); null when there is none.</summary>
    private static string? FindPartner(string path, string[] from, string[] to)
    {
        for (var i = from.Length - 1; i >= 0; i--) // longest suffix (".hdr.gz") first
        {
            if (!path.EndsWith(from[i], StringComparison.OrdinalIgnoreCase)) continue;
            var stem = path[..^from[i].Length];
            var sameCase = char.IsUpper(path[^1]);
            string[] candidates = [to[i], to[1 - i]];
            foreach (var suffix in candidates)
            {
                var candidate = stem + (sameCase ? suffix.ToUpperInvariant() : suffix);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
        return null;
    }
}
