using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using MassTransit.MessageData;
using MassTransit.MessageData.Values;
using MassTransit.Serialization;

namespace ArtGrid.Tests.Hosting;

/// <summary>Which images a command carries itself and which go through the claim check.</summary>
public sealed class ImageDataTests
{
    [Fact]
    public async Task SmallImagesGoInline_UntilTheJobsInlineBudgetIsSpent_ThenTheClaimCheck()
    {
        var repository = new InMemoryMessageDataRepository();
        var data = new ImageData(repository);
        byte[] image = [.. Enumerable.Range(0, ImageData.InlineLimitBytes).Select(i => (byte)i)];
        var taken = new List<MessageData<byte[]>>();
        for (int i = 0; i < (ImageData.InlineJobLimitBytes / ImageData.InlineLimitBytes) + 1; i++)
        {
            taken.Add(await data.OfAsync(image));
        }

        Assert.All(taken.SkipLast(1), d => Assert.True(ImageData.IsInline(d)));
        Assert.All(taken.SkipLast(1), d => Assert.Null(ImageData.AddressOf(d)));
        Assert.False(ImageData.IsInline(taken[^1]));
        Assert.Equal(image, await ReadAsync(repository, ImageData.AddressOf(taken[^1])!));
    }

    [Fact]
    public async Task AnImageOverTheLimit_IsClaimChecked_EvenAsTheFirst()
    {
        var repository = new InMemoryMessageDataRepository();
        byte[] image = new byte[ImageData.InlineLimitBytes + 1];
        MessageData<byte[]> data = await new ImageData(repository).OfAsync(image);
        Assert.False(ImageData.IsInline(data));
        Assert.Equal(image, await ReadAsync(repository, ImageData.AddressOf(data)!));
    }

    [Fact]
    public async Task AnInlineImage_IsInTheSerializedCommand_AndReadBackWithoutTheRepository()
    {
        byte[] image = [1, 2, 3, 255];
        var command = new ScoreImages
        {
            JobId = "job-1",
            Images = [new ImageReference { Name = "a.jpg", Data = await new ImageData(new InMemoryMessageDataRepository()).OfAsync(image) }],
        };

        // MassTransit's own serializer settings, as on the bus.
        string json = JsonSerializer.Serialize(command, SystemTextJsonMessageSerializer.Options);
        Assert.Contains(Convert.ToBase64String(image), json, StringComparison.Ordinal);
        ScoreImages read = JsonSerializer.Deserialize<ScoreImages>(json, SystemTextJsonMessageSerializer.Options)!;
        MessageData<byte[]> data = Assert.Single(read.Images).Data!;
        Assert.True(ImageData.IsInline(data));
        Assert.Equal(image, await data.Value);
    }

    [Fact]
    public void ImagesByUrlOrKey_HaveNoAddress()
    {
        Assert.Null(ImageData.AddressOf(null));
        Assert.Null(ImageData.AddressOf(EmptyMessageData<byte[]>.Instance));
        Assert.False(ImageData.IsInline(EmptyMessageData<byte[]>.Instance));
    }

    private static async Task<byte[]> ReadAsync(IMessageDataRepository repository, Uri address)
    {
        await using Stream stream = await repository.Get(address);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
