using ArtGrid.Imaging;
using ArtGrid.Inference;

namespace ArtGrid.Training;

/// <summary>Backbone features of image files, through the same preprocessing and session code that serving uses.</summary>
public sealed class FeatureExtractor(ImagePreprocessor preprocessor, OnnxModelSession session, int batchSize = 16)
{
    /// <summary>One feature vector per file, or an error for files that could not be prepared.</summary>
    /// <param name="transform">Applied to each file's bytes before preparation (robustness measurements); none by default.</param>
    public IReadOnlyList<(float[]? Features, ImageError? Error)> Extract(IReadOnlyList<string> files, Action<int>? progress = null, CancellationToken cancellationToken = default, Func<byte[], byte[]>? transform = null)
    {
        var results = new (float[]? Features, ImageError? Error)[files.Count];
        for (int start = 0; start < files.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batchSize, files.Count - start);
            var prepared = new PreparedImage[count];
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                string file = files[start + i];
                try
                {
                    byte[] bytes = DatasetFiles.ReadAllBytes(file);
                    prepared[i] = preprocessor.Prepare(transform is null ? bytes : transform(bytes), session.Input);
                }
                catch (SixLabors.ImageSharp.ImageFormatException ex) when (transform is not null)
                {
                    prepared[i] = PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The transform before scoring failed: {ex.Message}");
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    prepared[i] = PreparedImage.Fail(ErrorCodes.Unreadable, ex.Message);
                }
            });

            int[] ok = Enumerable.Range(0, count).Where(i => prepared[i].Tensor is not null).ToArray();
            float[][] features = ok.Length == 0 ? [] : session.Run(ok.Select(i => prepared[i].Tensor!).ToArray());
            for (int i = 0; i < count; i++)
            {
                results[start + i] = (null, prepared[i].Error);
            }

            for (int k = 0; k < ok.Length; k++)
            {
                results[start + ok[k]] = (features[k], null);
            }

            progress?.Invoke(count);
        }

        return results;
    }
}
