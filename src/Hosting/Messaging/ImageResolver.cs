using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Hosting.Images;
using MassTransit;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// Turns a command's image references into bytes: claim-checked message data, a guarded URL fetch, or a key in the
/// configured image store; an image named by its SHA-256 stays a hash (<see cref="ImageSourceKind.Hash"/>), for the
/// result cache to answer. Throws <see cref="ImageUnavailableException"/>; <c>Permanent</c> says whether a retry
/// could help (Redis away: no; data expired, URL refused: yes).
/// </summary>
public sealed class ImageResolver(UrlImageFetcher urls, FileImageStore store)
{
    public async Task<ImageRef[]> ResolveAsync(IReadOnlyList<ImageReference> references, CancellationToken cancellationToken)
    {
        var images = new ImageRef[references.Count];
        for (int i = 0; i < references.Count; i++)
        {
            if (references[i].Sha256 is { } sha256)
            {
                images[i] = ImageRef.FromHash(references[i].Name, sha256);
                continue;
            }

            try
            {
                images[i] = ImageRef.FromBytes(references[i].Name, await ReadAsync(references[i], cancellationToken));
            }
            catch (ImageUnavailableException ex)
            {
                throw new ImageUnavailableException(ex.Code, ex.Permanent, $"Image {i} ('{references[i].Name}'): {ex.Message}", ex) { ImageIndex = i };
            }
        }

        return images;
    }

    /// <summary>Null when the reference names exactly one source, else why not.</summary>
    private async Task<byte[]> ReadAsync(ImageReference reference, CancellationToken cancellationToken)
    {
        if (reference.Url is { } url)
        {
            return await urls.FetchAsync(url, cancellationToken);
        }

        if (reference.Key is { } key)
        {
            return await store.ReadAsync(key, cancellationToken);
        }

        MessageData<byte[]> data = reference.Data!; // ScoreImagesValidator made sure it has a value
        try
        {
            return await data.Value;
        }
        catch (MessageDataNotFoundException ex)
        {
            throw new ImageUnavailableException(ImageSourceErrors.NotFound, permanent: true, $"the message data at {data.Address} is missing (expired or never stored)", ex);
        }
    }
}
