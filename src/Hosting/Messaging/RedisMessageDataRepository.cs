using MassTransit;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// MassTransit's claim check in Redis: <c>Put</c> stores the bytes under "artgrid:data:{id}" with a time to live and
/// returns "urn:artgrid:data:{id}"; the consumer's <c>Get</c> reads them back. Images are a few MB at most (the
/// ingestion limit is 64 MiB), so one string value per image is fine.
/// </summary>
public sealed class RedisMessageDataRepository(RedisConnection redis, TimeSpan defaultTimeToLive) : IMessageDataRepository
{
    private const string AddressPrefix = "urn:artgrid:data:";

    public async Task<Stream> Get(Uri address, CancellationToken cancellationToken = default)
    {
        string key = KeyOf(address);
        IDatabase db = await redis.GetDatabaseAsync();
        RedisValue value = await db.StringGetAsync(key);
        if (value.IsNull)
        {
            throw new MessageDataNotFoundException(address);
        }

        return new MemoryStream((byte[])value!, writable: false);
    }

    public async Task<Uri> Put(Stream stream, TimeSpan? timeToLive = default, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        (Uri address, RedisKey key) = NewAddress();
        IDatabase db = await redis.GetDatabaseAsync();
        await db.StringSetAsync(key, buffer.ToArray(), timeToLive ?? defaultTimeToLive);
        return address;
    }

    /// <summary>A new claim-check address and the key its bytes go under (for a write that another one carries).</summary>
    public static (Uri Address, RedisKey Key) NewAddress()
    {
        string id = NewId.NextGuid().ToString("N");
        return (new Uri(AddressPrefix + id), "artgrid:data:" + id);
    }

    private static string KeyOf(Uri address)
    {
        string text = address.ToString();
        if (!text.StartsWith(AddressPrefix, StringComparison.Ordinal) || text.Length == AddressPrefix.Length)
        {
            throw new MessageDataException($"'{address}' is not an ArtGrid message data address.");
        }

        return "artgrid:data:" + text[AddressPrefix.Length..];
    }
}
