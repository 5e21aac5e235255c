namespace ArtGrid.Imaging;

/// <summary>Turns untrusted image bytes into the model's input tensor, or a per-image error. Never throws for bad input.</summary>
public interface IImagePreparer
{
    /// <param name="keepOriented">Also return the image as scored, before resizing (<see cref="PreparedImage.Oriented"/>), from the same decode.</param>
    Task<PreparedImage> PrepareAsync(byte[] bytes, ModelInputSpec spec, bool keepOriented = false, CancellationToken cancellationToken = default);
}

/// <summary>
/// Decodes on this process's thread pool. For trusted batch jobs and tests only: a file that sends the decoder into an
/// endless loop pins a thread for good, and .NET cannot abort it.
/// </summary>
public sealed class InProcessImagePreparer(ImagePreprocessor preprocessor) : IImagePreparer
{
    public Task<PreparedImage> PrepareAsync(byte[] bytes, ModelInputSpec spec, bool keepOriented = false, CancellationToken cancellationToken = default) =>
        Task.Run(() => preprocessor.Prepare(bytes, spec, keepOriented), cancellationToken);
}
