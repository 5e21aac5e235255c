using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using StackExchange.Redis;

namespace ArtGrid.Tests.Cluster;

/// <summary>A one-silo cluster of its own whose authors expire 10 s after their last job.</summary>
public sealed class AuthorExpiryFixture : IAsyncLifetime
{
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(10);

    public ServersFixture Servers { get; } = new()
    {
        SiloCount = 1,
        ExtraSettings = new Dictionary<string, string> { ["ArtGrid__Authors__Expiry"] = Expiry.ToString() },
    };

    public Task InitializeAsync() => Servers.InitializeAsync();

    public Task DisposeAsync() => Servers.DisposeAsync();
}

/// <summary>
/// Author state is bounded: the author's Redis key lives <c>ArtGrid:Authors:Expiry</c> after their last job, and after
/// it the author's counts start over, in the same activation of the author's grain (grains stay active 10 minutes).
/// One silo of its own, outside the servers collection, so that it does not start that collection's two silos too.
/// </summary>
public sealed class AuthorExpiryTests(AuthorExpiryFixture fixture) : IClassFixture<AuthorExpiryFixture>
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task AnAuthorsKeyExpiresAfterTheirLastJobAndTheirCountsStartOver()
    {
        ServersFixture cluster = fixture.Servers;
        string author = $"Expiring-Author-{cluster.RunId}";
        // Orleans names a state key {service id}/state/{grain id}/{state name}.
        RedisKey key = $"{cluster.RunId}/state/author/{AuthorKey.Of(author)}/author";
        IDatabase redis = await cluster.Redis.GetDatabaseAsync();
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(2, seed: 41);

        AuthorContext first = await ScoreAsync("first", images[0], author);
        TimeSpan? ttl = await redis.KeyTimeToLiveAsync(key);
        Assert.Equal(1, first.Jobs);
        IServer server = (await cluster.Redis.GetAsync()).GetServers()[0];
        Assert.True(
            ttl is { } left && left > TimeSpan.Zero && left <= AuthorExpiryFixture.Expiry,
            $"{key}: time to live {ttl?.ToString() ?? "none"}, exists: {await redis.KeyExistsAsync(key)}; author keys: {string.Join(", ", server.Keys(pattern: $"{cluster.RunId}/state/*"))}");

        await Wait.UntilAsync(() => !redis.KeyExists(key), LongWait, $"{key} is still there", poll: TimeSpan.FromMilliseconds(200));

        AuthorContext again = await ScoreAsync("again", images[1], author);
        Assert.Equal(1, again.Jobs);
        Assert.True(await redis.KeyExistsAsync(key), $"{key} was not written again");
        Assert.True((await redis.KeyTimeToLiveAsync(key)) is { } renewed && renewed <= AuthorExpiryFixture.Expiry);
    }

    private async Task<AuthorContext> ScoreAsync(string name, (string Name, byte[] Bytes) image, string author)
    {
        ServersFixture cluster = fixture.Servers;
        string jobId = $"{cluster.RunId}-{name}";
        ScoreImages command = await cluster.CommandAsync(jobId, image.Name, image.Bytes);
        await cluster.SendAllAsync([command with { Metadata = new JobMetadata(Author: author, Source: "integration-test") }]);
        Assert.True(await cluster.Events.WaitForScoredAsync([jobId], LongWait), cluster.LogTails());
        return Assert.Single(cluster.Events.Scored[jobId]).Verdict.Author ?? throw new InvalidOperationException($"{jobId}: the verdict names no author");
    }
}
