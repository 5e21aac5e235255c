using System.Text;
using System.Text.Json;
using ArtGrid.Hosting;
using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Messaging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.GatewayApi;

/// <summary>The gateway's pure parts: reading a job from a request, waits, fingerprints, keys, problem types, map storage.</summary>
public sealed class GatewayRequestTests
{
    private static readonly GatewayOptions Limits = new() { MaxImageBytes = 1000, MaxRequestBytes = 100_000 };

    [Fact]
    public async Task AJsonJobIsReadWholeWithItsMetadataAndAFreshIdWhenItHasNone()
    {
        byte[] image = [1, 2, 3, 4, 5];
        ReadJob read = await new JobReader(Limits, acceptUrls: true).ReadJobAsync(Json(new
        {
            images = new object[] { new { name = "a.jpg", base64 = Convert.ToBase64String(image) }, new { url = "https://example.com/p/b.png" } },
            metadata = new { author = "alice", declaredAi = true, tags = new[] { "x" } },
            priority = 7,
        }), CancellationToken.None);

        IncomingJob job = Assert.IsType<IncomingJob>(read.Job);
        Assert.Null(read.Problem);
        Assert.Equal(32, job.JobId.Length);
        Assert.Equal(image, job.Images[0].Bytes);
        Assert.Equal(("b.png", new Uri("https://example.com/p/b.png")), (job.Images[1].Name, job.Images[1].Url));
        Assert.Equal(("alice", true), (job.Metadata.Author, job.Metadata.DeclaredAi));
        Assert.Equal(7, job.Priority);
    }

    [Theory]
    [InlineData("""{"images":[{"name":"a","base64":"%%%"}]}""", "invalid_image")]
    [InlineData("""{"images":[{"name":"a","base64":""}]}""", "invalid_image")]
    [InlineData("""{"images":[]}""", "invalid_request")]
    [InlineData("""{"images":[{"name":"a"}]}""", "invalid_request")]
    [InlineData("""{"images":[{"name":"a","url":"ftp://example.com/a"}]}""", "invalid_request")]
    [InlineData("""{"images":[{"name":"a","url":"https://example.com/a"}]}""", "urls_disabled")]
    [InlineData("""{"priority":10,"images":[{"name":"a","base64":"AAAA"}]}""", "invalid_request")]
    [InlineData("""{"jobId":"a\u0001b","images":[{"name":"a","base64":"AAAA"}]}""", "invalid_request")]
    [InlineData("""{"images":[{"name":"a","base64":"AAAA"}""", "invalid_request")]
    public async Task ABrokenJobIsRefusedWithItsProblem(string body, string code)
    {
        ReadJob read = await new JobReader(Limits, acceptUrls: false).ReadJobAsync(Request(body, "application/json"), CancellationToken.None);

        Assert.Null(read.Job);
        Assert.Equal(code, ProblemCode(read.Problem));
    }

    [Fact]
    public async Task SizesAreCheckedBeforeDecodingAndAgainstTheWholeBody()
    {
        var reader = new JobReader(Limits, acceptUrls: false);
        string big = Convert.ToBase64String(new byte[1001]);
        Assert.Equal("image_too_large", ProblemCode((await reader.ReadJobAsync(Json(new { images = new[] { new { name = "a", base64 = big } } }), CancellationToken.None)).Problem));

        HttpRequest huge = Request("{}", "application/json");
        huge.ContentLength = 100_001;
        Assert.Equal("request_too_large", ProblemCode((await reader.ReadJobAsync(huge, CancellationToken.None)).Problem));
    }

    [Fact]
    public async Task AMultipartJobTakesFilePartsAsImagesAndFieldsAsMetadata()
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent([9, 8, 7]), "image", "one.jpg" },
            { new ByteArrayContent([6, 5]), "image", "two.jpg" },
            { new StringContent("bob"), "author" },
            { new StringContent("false"), "declaredAi" },
            { new StringContent("t1"), "tag" },
            { new StringContent("t2"), "tag" },
            { new StringContent("job-7"), "jobId" },
        };
        HttpRequest request = Request(await form.ReadAsByteArrayAsync(), form.Headers.ContentType!.ToString());

        IncomingJob job = Assert.IsType<IncomingJob>((await new JobReader(Limits, acceptUrls: false).ReadJobAsync(request, CancellationToken.None)).Job);

        Assert.Equal("job-7", job.JobId);
        Assert.Equal(["one.jpg", "two.jpg"], job.Images.Select(i => i.Name));
        Assert.Equal(new byte[] { 6, 5 }, job.Images[1].Bytes);
        Assert.Equal(("bob", false), (job.Metadata.Author, job.Metadata.DeclaredAi));
        Assert.Equal(["t1", "t2"], job.Metadata.Tags!);
    }

    [Fact]
    public async Task AMultipartPartOverTheImageLimitIsRefusedAsItStreams()
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[1001]), "image", "big.jpg" } };
        HttpRequest request = Request(await form.ReadAsByteArrayAsync(), form.Headers.ContentType!.ToString());

        Assert.Equal("image_too_large", ProblemCode((await new JobReader(Limits, acceptUrls: false).ReadJobAsync(request, CancellationToken.None)).Problem));
    }

    [Fact]
    public async Task TheScoreRouteTakesExactlyOneImageAndTheIdempotencyKeyNamesTheJob()
    {
        var reader = new JobReader(Limits, acceptUrls: false);
        HttpRequest request = Json(new { name = "a.jpg", base64 = "AAAA" });
        request.Headers["Idempotency-Key"] = "order-1";
        Assert.Equal("order-1", (await reader.ReadScoreAsync(request, CancellationToken.None)).Job?.JobId);

        HttpRequest differing = Json(new { jobId = "order-2", name = "a.jpg", base64 = "AAAA" });
        differing.Headers["Idempotency-Key"] = "order-1";
        Assert.Equal("invalid_request", ProblemCode((await reader.ReadScoreAsync(differing, CancellationToken.None)).Problem));
        Assert.Equal("invalid_request", ProblemCode((await reader.ReadScoreAsync(Json(new { name = "a.jpg" }), CancellationToken.None)).Problem));
        Assert.Equal("unsupported_media_type", ProblemCode((await reader.ReadScoreAsync(Request("x", "text/plain"), CancellationToken.None)).Problem));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("false", 0)]
    [InlineData("true", 30)]
    [InlineData("2.5", 2.5)]
    [InlineData("600", 30)]
    public void AWaitIsCappedAtTheLongestAllowed(string? wait, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), JobReader.ParseWait(wait, TimeSpan.FromSeconds(30)));

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("NaN")]
    public void AMalformedWaitIsRefused(string wait) => Assert.Null(JobReader.ParseWait(wait, TimeSpan.FromSeconds(30)));

    [Fact]
    public void TheFingerprintIsTheImagesNamesAndContentInOrder()
    {
        IncomingJob job = Job(("a", [1, 2]), ("b", [3]));
        Assert.Equal(JobFingerprint.Of(job), JobFingerprint.Of(Job(("a", [1, 2]), ("b", [3])) with { JobId = "other", Metadata = new JobMetadata(Author: "x") }));
        Assert.NotEqual(JobFingerprint.Of(job), JobFingerprint.Of(Job(("a", [1, 2]), ("b", [4]))));
        Assert.NotEqual(JobFingerprint.Of(job), JobFingerprint.Of(Job(("b", [3]), ("a", [1, 2]))));
        Assert.NotEqual(JobFingerprint.Of(job), JobFingerprint.Of(Job(("a", [1, 2]), ("c", [3]))));
    }

    [Fact]
    public void AKeyIsStoredAsItsSha256AndKeysDoNotRepeat()
    {
        string key = ApiKeys.NewKey();
        Assert.StartsWith(ApiKeys.Prefix, key, StringComparison.Ordinal);
        Assert.Equal(46, key.Length);
        Assert.NotEqual(key, ApiKeys.NewKey());
        // sha256("abc"), the FIPS 180-2 test vector.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeys.Hash("abc"));
    }

    [Fact]
    public void AKeyConfiguredWithoutAValidHashOrScopesIsRefusedAtStart()
    {
        IConfiguration bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ArtGrid:Gateway:ApiKeys:0:Name"] = "platform",
            ["ArtGrid:Gateway:ApiKeys:0:Hash"] = "not-a-hash",
            ["ArtGrid:Gateway:RateLimit:Permits"] = "0",
        }).Build();

        var ex = Assert.Throws<OptionsValidationException>(bad.ReadGatewayOptions);
        Assert.Contains(ex.Failures, f => f.Contains("Hash", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Scopes", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Permits", StringComparison.Ordinal));
    }

    [Fact]
    public void ProblemTypesAreDistinctAndStable()
    {
        Assert.Equal(GatewayProblems.All.Count, GatewayProblems.All.Select(p => p.Code).Distinct().Count());
        Assert.All(GatewayProblems.All, p => Assert.Equal("urn:artgrid:problem:" + p.Code, p.Type));
        Assert.All(GatewayProblems.All, p => Assert.InRange(p.Status, 400, 599));
        Assert.Equal("1", GatewayProblems.RetryAfterSeconds(TimeSpan.FromMilliseconds(10)));
        Assert.Equal("3", GatewayProblems.RetryAfterSeconds(TimeSpan.FromSeconds(2.1)));
    }

    [Fact]
    public void AMapSurvivesItsStorageAndABrokenOneIsNotRead()
    {
        var map = new ActivationMap(2, 3, [0.5f, -1f, 2f, 3.25f, -0.125f, 0f]);
        ActivationMap back = RedisJobRecords.DecodeMap(RedisJobRecords.EncodeMap(map))!;
        Assert.Equal((2, 3), (back.Height, back.Width));
        Assert.Equal(map.Logits, back.Logits);
        Assert.Null(RedisJobRecords.DecodeMap(RedisJobRecords.EncodeMap(map)[..^1]));
        Assert.Null(RedisJobRecords.DecodeMap([1, 0, 0, 0]));
    }

    private static IncomingJob Job(params (string Name, byte[] Bytes)[] images) =>
        new("job", [.. images.Select(i => new IncomingImage(i.Name, i.Bytes, null))], JobMetadata.None, null, 0);

    private static HttpRequest Json(object body) => Request(JsonSerializer.Serialize(body), "application/json");

    private static HttpRequest Request(string body, string contentType) => Request(Encoding.UTF8.GetBytes(body), contentType);

    private static HttpRequest Request(byte[] body, string contentType)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        return context.Request;
    }

    private static string? ProblemCode(IResult? result) =>
        result is ProblemHttpResult problem ? problem.ProblemDetails.Extensions["code"] as string : null;
}
