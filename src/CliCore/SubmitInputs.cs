using System.Diagnostics.CodeAnalysis;
using ArtGrid.Contracts;

namespace ArtGrid.Cli;

/// <summary>
/// One input of <c>artgrid submit</c>, before files are read: a local path (a file or a folder to walk) or an http(s)
/// URL that the silos fetch themselves.
/// </summary>
/// <param name="Path">The path as given; null for a URL.</param>
/// <param name="Url">The URL; null for a path.</param>
public sealed record SubmitInput(string? Path, Uri? Url)
{
    /// <summary>What the output lines call this input: the path, or the URL as given.</summary>
    public string Display => Path ?? Url!.OriginalString;

    public static SubmitInput File(string path) => new(path, null);

    public static SubmitInput Web(Uri url) => new(null, url);
}

/// <summary>
/// Which inputs of <c>artgrid submit</c> are URLs, how they group into jobs, and the job rules checked before any byte is
/// uploaded (<see cref="ScoreImagesValidator"/>, the same rules the consumer enforces).
/// </summary>
public static class SubmitInputs
{
    /// <summary>
    /// The inputs in command-line order: each argument that is an absolute http:// or https:// URL is a URL, any other
    /// argument a path; then the <c>--url</c> values, each of which must be an http(s) URL.
    /// </summary>
    /// <exception cref="UsageException">A <c>--url</c> value that is not an absolute http(s) URL.</exception>
    public static IReadOnlyList<SubmitInput> Classify(IEnumerable<string> arguments, IEnumerable<string> urls)
    {
        var inputs = new List<SubmitInput>();
        foreach (string argument in arguments)
        {
            inputs.Add(IsHttpUrl(argument, out Uri? url) ? SubmitInput.Web(url) : SubmitInput.File(argument));
        }

        foreach (string value in urls)
        {
            inputs.Add(IsHttpUrl(value, out Uri? url) ? SubmitInput.Web(url) : throw new UsageException($"--url '{value}' is not an http:// or https:// URL."));
        }

        return inputs;
    }

    /// <summary>Whether <paramref name="text"/> is an absolute http or https URL with a host (a path never is, even one with a colon).</summary>
    public static bool IsHttpUrl(string text, [NotNullWhen(true)] out Uri? url)
    {
        url = Uri.TryCreate(text, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https" && parsed.Host.Length > 0
            && (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            ? parsed
            : null;
        return url is not null;
    }

    /// <summary>
    /// The jobs, in input order: one per image; with <paramref name="jobPerFolder"/>, one per folder (the files of one
    /// folder together) and one per URL "folder" (the URLs that share everything up to their last '/').
    /// </summary>
    public static IReadOnlyList<SubmitInput[]> Jobs(IReadOnlyList<SubmitInput> images, bool jobPerFolder) => jobPerFolder
        ? [.. images.GroupBy(Folder, StringComparer.Ordinal).Select(g => g.ToArray())]
        : [.. images.Select(i => new[] { i })];

    /// <summary>
    /// Why a job breaks the rules of <see cref="ScoreImagesValidator"/> before its bytes are read (the number of
    /// images; a URL reference names one source by construction), or null.
    /// </summary>
    public static string? Validate(string jobId, IReadOnlyList<SubmitInput> job)
    {
        if (ScoreImagesValidator.ValidateShape(jobId, job.Count) is { } shape)
        {
            return shape;
        }

        return job.Where(i => i.Url is not null)
            .Select(i => ScoreImagesValidator.ValidateReference(new ImageReference { Name = Name(i), Url = i.Url }))
            .FirstOrDefault(problem => problem is not null);
    }

    /// <summary>The name a job's results and logs give the image: the file name, or the URL's last segment (else its host).</summary>
    public static string Name(SubmitInput input)
    {
        if (input.Path is { } path)
        {
            return System.IO.Path.GetFileName(path);
        }

        string last = input.Url!.Segments[^1].Trim('/');
        return last.Length > 0 ? Uri.UnescapeDataString(last) : input.Url.Host;
    }

    private static string Folder(SubmitInput input) => input.Path is { } path
        ? "file:" + (System.IO.Path.GetDirectoryName(path) ?? "")
        : "url:" + new Uri(input.Url!, "./").GetLeftPart(UriPartial.Path);
}
