namespace CtScan.Viewer;

/// <summary>Checks on blob names that arrive in a URL before they reach a storage client.</summary>
public static class BlobNames
{
    /// <summary>
    /// Null when <paramref name="name"/> can address a blob of the container it is meant for; else why not. Dot segments
    /// are refused because the request URL would be normalised into another container (<c>../models/current.json</c>).
    /// </summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "no blob name";
        if (name.Length > 1024) return $"blob name of {name.Length} characters; at most 1024";
        if (name.Contains('\\')) return $"blob name '{name}' has a backslash";
        foreach (var segment in name.Split('/'))
            if (segment is "" or "." or "..") return $"blob name '{name}' has an empty, '.' or '..' segment";
        return null;
    }

    /// <summary>Whether the name is one the pipeline scores (<c>.nii</c> or <c>.nii.gz</c>), so an upload is worth making.</summary>
    public static bool IsNifti(string name) =>
        name.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>The content type the browser gets for a blob: JSON documents, PNG montages, NIfTI volumes.</summary>
    public static string ContentType(string name) =>
        name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "application/json; charset=utf-8"
        : name.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? "image/png"
        : name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? "application/gzip"
        : "application/octet-stream";
}
