using System.Text;
using ArtGrid.Contracts;

namespace ArtGrid.Tests.Contracts;

/// <summary>The receiver's side of webhook signing: a vector computed with openssl, and everything that must not verify.</summary>
public sealed class WebhookSignatureTests
{
    private const string Secret = "artgrid-test-secret-0123456789abcdef";
    private const long Timestamp = 1_700_000_000;

    // printf '1700000000.%s' '{"type":"job.completed","jobId":"job-1"}' | openssl dgst -sha256 -hmac "$Secret"
    private const string OpensslMac = "9499bbf4b4a419f2bf32ff07c00f6aaef21db45a294bfc68f7e95796d9332489";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"type":"job.completed","jobId":"job-1"}""");

    private static readonly DateTimeOffset SentAt = DateTimeOffset.FromUnixTimeSeconds(Timestamp);

    [Fact]
    public void SignMatchesAnHmacComputedWithOpenssl()
    {
        Assert.Equal($"t={Timestamp},v1={OpensslMac}", WebhookSignature.Sign(Secret, Timestamp, Body));
    }

    [Fact]
    public void TheOpensslSignatureVerifies()
    {
        Assert.True(WebhookSignature.Verify(Secret, $"t={Timestamp},v1={OpensslMac}", Body, SentAt.AddSeconds(30), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void ATamperedBodyIsRefused()
    {
        string header = WebhookSignature.Sign(Secret, Timestamp, Body);
        byte[] tampered = Encoding.UTF8.GetBytes("""{"type":"job.completed","jobId":"job-2"}""");

        Assert.False(WebhookSignature.Verify(Secret, header, tampered, SentAt, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void AChangedTimestampIsRefused()
    {
        // The signature of t, with t moved by one second: the timestamp is part of what is signed.
        string header = $"t={Timestamp + 1},v1={OpensslMac}";

        Assert.False(WebhookSignature.Verify(Secret, header, Body, SentAt, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void AnotherSecretIsRefused()
    {
        string header = WebhookSignature.Sign(Secret, Timestamp, Body);

        Assert.False(WebhookSignature.Verify(Secret + "x", header, Body, SentAt, TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void ATimestampOutsideTheToleranceIsRefused(int offsetSeconds)
    {
        string header = WebhookSignature.Sign(Secret, Timestamp, Body);

        Assert.False(WebhookSignature.Verify(Secret, header, Body, SentAt.AddSeconds(offsetSeconds), TimeSpan.FromMinutes(5)));
        Assert.True(WebhookSignature.Verify(Secret, header, Body, SentAt.AddSeconds(Math.Sign(offsetSeconds) * 300), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void AnyMatchingV1AmongSeveralIsEnough()
    {
        string rotating = WebhookSignature.Sign(["a-brand-new-secret-0123456789abcdefgh", Secret], Timestamp, Body);

        Assert.Equal(2, rotating.Split(",v1=").Length - 1);
        Assert.True(WebhookSignature.Verify(Secret, rotating, Body, SentAt, TimeSpan.FromMinutes(5)));
        Assert.True(WebhookSignature.Verify("a-brand-new-secret-0123456789abcdefgh", rotating, Body, SentAt, TimeSpan.FromMinutes(5)));
        Assert.True(WebhookSignature.Verify(Secret, $"t={Timestamp},v1={new string('0', 64)},v1={OpensslMac}", Body, SentAt, TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v1=" + OpensslMac)]
    [InlineData("t=1700000000")]
    [InlineData("t=1700000000,t=1700000000,v1=" + OpensslMac)]
    [InlineData("t=abc,v1=" + OpensslMac)]
    [InlineData("t=1700000000,v1=zz")]
    [InlineData("t=1700000000,v0=" + OpensslMac)]
    [InlineData("t=1700000000,v1=" + OpensslMac + "00")]
    public void AMalformedHeaderIsRefusedWithoutThrowing(string? header)
    {
        Assert.False(WebhookSignature.Verify(Secret, header, Body, SentAt, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void SpacesAroundEntriesAreTolerated()
    {
        Assert.True(WebhookSignature.Verify(Secret, $"t={Timestamp}, v1={OpensslMac}", Body, SentAt, TimeSpan.FromMinutes(5)));
    }
}
