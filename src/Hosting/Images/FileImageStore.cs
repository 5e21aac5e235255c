using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Images;

/// <summary>
/// Reads images by key from a folder ("ArtGrid:ImageStore:Root"). A key is a relative path with '/' separators;
/// it can name any file below the root, and nothing else: keys that are absolute or contain "..", "." or empty
/// segments, backslashes or control characters are refused, and so is any key whose real path, with every
/// symbolic link resolved, lies outside the root.
/// </summary>
/// <remarks>
/// The file opened is the one at the resolved path, so a link must already be in place under the root when the
/// key is read to lead anywhere. Someone who can create links under the root while reads run can still race
/// the check; the root is meant to be written only by trusted processes.
/// </remarks>
public sealed class FileImageStore
{
    private const int MaxKeyLength = 1024;
    private const int MaxLinkHops = 40;

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string? _root;
    private readonly int _maxBytes;

    public FileImageStore(IOptions<ImageStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ImageStoreOptions value = options.Value;
        _root = string.IsNullOrWhiteSpace(value.Root) ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(value.Root));
        _maxBytes = value.MaxBytes;
    }

    /// <summary>The bytes of the file <paramref name="key"/> names below the root.</summary>
    /// <exception cref="ImageUnavailableException">The key is refused, names no file, names a file too large, or reading failed.</exception>
    public async Task<byte[]> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_root is null)
        {
            throw BadReference($"Image key references are not configured ({ImageStoreOptions.SectionName}:Root is not set).");
        }

        string relative = CheckKey(key);
        string lexical = Path.GetFullPath(Path.Join(_root, relative));
        if (!IsInside(lexical, _root))
        {
            throw BadReference("The image key leaves the image store.");
        }

        string path;
        try
        {
            (string realRoot, bool rootExists) = RealPath(_root);
            if (!rootExists || !Directory.Exists(realRoot))
            {
                throw new ImageUnavailableException(ImageSourceErrors.FetchFailed, permanent: false, "The image store's root folder is not available.");
            }

            (path, bool exists) = RealPath(lexical);
            if (!IsInside(path, realRoot))
            {
                throw BadReference("The image key leads out of the image store through a symbolic link.");
            }

            if (!exists || Directory.Exists(path))
            {
                throw new ImageUnavailableException(ImageSourceErrors.NotFound, permanent: true, $"No image is stored under key '{key}'.");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageUnavailableException(ImageSourceErrors.FetchFailed, permanent: false, $"Resolving image key '{key}' failed: {ex.Message}", ex);
        }

        return await ReadFileAsync(path, key, cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]> ReadFileAsync(string path, string key, CancellationToken cancellationToken)
    {
        try
        {
            var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
            await using (stream.ConfigureAwait(false))
            {
                long length = stream.CanSeek ? stream.Length : 0;
                if (length > _maxBytes)
                {
                    throw TooLarge(key);
                }

                // The length can change while the file is read; the count is what the limit applies to.
                return await BoundedRead.ReadAtMostAsync(stream, _maxBytes, length, cancellationToken).ConfigureAwait(false)
                    ?? throw TooLarge(key);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageUnavailableException(ImageSourceErrors.NotFound, permanent: true, $"No image is stored under key '{key}'.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageUnavailableException(ImageSourceErrors.FetchFailed, permanent: false, $"Reading image key '{key}' failed: {ex.Message}", ex);
        }
    }

    /// <summary>The key as a relative path with the platform's separator, or bad_reference.</summary>
    private static string CheckKey(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw BadReference("The image key is empty.");
        }

        if (key.Length > MaxKeyLength)
        {
            throw BadReference($"The image key is longer than {MaxKeyLength} characters.");
        }

        foreach (char c in key)
        {
            if (c == '\\' || char.IsControl(c))
            {
                throw BadReference("The image key contains a backslash or a control character.");
            }
        }

        if (key[0] == '/' || Path.IsPathRooted(key))
        {
            throw BadReference("The image key is an absolute path; keys are relative to the image store.");
        }

        string[] segments = key.Split('/');
        foreach (string segment in segments)
        {
            if (segment is "" or "." or "..")
            {
                throw BadReference("The image key has an empty, '.' or '..' segment.");
            }

            if (OperatingSystem.IsWindows() && segment.Contains(':', StringComparison.Ordinal))
            {
                throw BadReference("The image key contains ':'.");
            }
        }

        return string.Join(Path.DirectorySeparatorChar, segments);
    }

    /// <summary>
    /// The path with every symbolic link resolved, walking one component at a time from the file system root,
    /// so that a link's relative target and a later ".." are taken from the link's real folder, as the operating
    /// system does. Components after the first missing one are joined as written. Exists tells whether the whole
    /// path exists.
    /// </summary>
    private static (string Path, bool Exists) RealPath(string fullPath)
    {
        string current = Path.GetPathRoot(fullPath) ?? throw new IOException($"'{fullPath}' has no root.");
        var pending = new Stack<string>();
        PushComponents(pending, fullPath[current.Length..]);
        bool exists = true;
        int hops = 0;
        while (pending.TryPop(out string? part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            string next = Path.Join(current, part);
            if (!exists)
            {
                current = next;
                continue;
            }

            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                exists = File.Exists(next) || Directory.Exists(next);
                current = next;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                throw new IOException("Too many levels of symbolic links.");
            }

            if (Path.IsPathRooted(target))
            {
                // Not normalised with GetFullPath: a ".." in the target must apply to the real folder it follows.
                string absolute = Path.IsPathFullyQualified(target) ? target : Path.GetFullPath(target);
                current = Path.GetPathRoot(absolute) ?? current;
                PushComponents(pending, absolute[current.Length..]);
            }
            else
            {
                PushComponents(pending, target);
            }
        }

        return (current, exists);
    }

    private static void PushComponents(Stack<string> pending, string path)
    {
        string[] parts = path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }

    private static bool IsInside(string path, string root)
    {
        string prefix = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, PathComparison);
    }

    private static ImageUnavailableException BadReference(string message) =>
        new(ImageSourceErrors.BadReference, permanent: true, message);

    private ImageUnavailableException TooLarge(string key) =>
        new(ImageSourceErrors.TooLarge, permanent: true, $"The image under key '{key}' is larger than the {_maxBytes} bytes allowed.");
}
