using MassTransit;
using MassTransit.MessageData.Values;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The image bytes of one <c>ScoreImages</c> command, as the command carries them: in the message itself while an image
/// is at most <see cref="InlineLimitBytes"/> and the job's inline images together at most
/// <see cref="InlineJobLimitBytes"/> (MassTransit's inline message data: base64 in the body, read by any MassTransit 8
/// consumer without the repository), claim-checked in <paramref name="claimCheck"/> otherwise. Every producer (the
/// gateway, <c>artgrid submit</c>) builds its references here, one instance per command, on a bus configured by
/// <see cref="MessagingServiceCollectionExtensions.UseArtGrid"/> (<see cref="ConfigureMassTransit"/>).
/// </summary>
public sealed class ImageData(IMessageDataRepository claimCheck)
{
    /// <summary>
    /// The largest image sent inline. Inline saves a job the claim check's two Redis round trips and key (the consumer
    /// keeps one copy for reviewers instead). Measured with <c>artgrid-bench cached-jobs</c> (docs/BENCHMARKS.md):
    /// raw round trips carrying 16 KiB are faster inline (1.2-2.2x), 64 KiB about even, 256 KiB slower (0.7-0.9x);
    /// whole cached jobs over the samples (17-181 KB) ran at the same rate either way. Web images ride inline,
    /// full-size photos keep the claim check.
    /// </summary>
    public const int InlineLimitBytes = 256 * 1024;

    /// <summary>The most image bytes one command carries inline (about 1.4 MB of base64), so that broker messages stay small.</summary>
    public const int InlineJobLimitBytes = 1024 * 1024;

    private long _inline;

    /// <summary>The message data of the command's next image: inline when it fits, else stored in the claim check.</summary>
    public async Task<MessageData<byte[]>> OfAsync(byte[] bytes, CancellationToken cancellationToken = default)
    {
        if (bytes.Length <= InlineLimitBytes && _inline + bytes.Length <= InlineJobLimitBytes)
        {
            _inline += bytes.Length;
            return new BytesInlineMessageData(bytes);
        }

        return await ClaimCheckAsync(claimCheck, bytes, cancellationToken);
    }

    /// <summary>
    /// The bytes stored in <paramref name="claimCheck"/>, whatever their size: the message carries the address alone.
    /// (MassTransit's own <c>PutBytes</c> keeps bytes under its threshold inline, which <see cref="ConfigureMassTransit"/>
    /// sets to <see cref="InlineLimitBytes"/>.)
    /// </summary>
    public static async Task<MessageData<byte[]>> ClaimCheckAsync(IMessageDataRepository claimCheck, byte[] bytes, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        Uri address = await claimCheck.Put(stream, null, cancellationToken);
        return new StoredMessageData<byte[]>(address, bytes);
    }

    /// <summary>
    /// Lets inline image data travel inline. MassTransit 8 stores every inline value over its threshold (4 KiB by
    /// default) in the repository when the message is sent, and by default writes even the smaller ones there
    /// (<c>MessageDataDefaults</c>, process-wide settings): without this, an image "inline" here reached the consumer
    /// as a claim check, read back from Redis. Called by every ArtGrid bus before it is built.
    /// </summary>
    public static void ConfigureMassTransit()
    {
        MessageDataDefaults.AlwaysWriteToRepository = false;
        MessageDataDefaults.Threshold = InlineLimitBytes + 1;
    }

    /// <summary>
    /// The claim-check address of message data, or null when it has none: sent inline, or empty (an image sent by URL
    /// or key deserializes with an empty MessageData whose Address throws).
    /// </summary>
    public static Uri? AddressOf(MessageData<byte[]>? data)
    {
        if (data is not { HasValue: true })
        {
            return null;
        }

        try
        {
            return data.Address;
        }
        catch (MessageDataException)
        {
            return null;
        }
    }

    /// <summary>Whether the message itself carries the bytes (nothing to fetch).</summary>
    public static bool IsInline(MessageData<byte[]>? data) => data is { HasValue: true } && AddressOf(data) is null;
}
