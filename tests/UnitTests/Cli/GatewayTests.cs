using System.Net;
using ArtGrid.Cli;

namespace ArtGrid.Tests.Cli;

/// <summary>How the commands that call the gateway read its address, its answers and the API key.</summary>
public sealed class GatewayTests
{
    [Theory]
    [InlineData(200, ExitCodes.Failed, ExitCodes.Ok)]
    [InlineData(202, ExitCodes.Failed, ExitCodes.Ok)]
    [InlineData(400, ExitCodes.Failed, ExitCodes.Usage)]
    [InlineData(401, ExitCodes.Failed, ExitCodes.Refused)]
    [InlineData(403, ExitCodes.Setup, ExitCodes.Refused)]
    [InlineData(404, ExitCodes.Failed, ExitCodes.Failed)]
    [InlineData(404, ExitCodes.Setup, ExitCodes.Setup)]
    [InlineData(422, ExitCodes.Failed, ExitCodes.Setup)]
    [InlineData(429, ExitCodes.Failed, ExitCodes.Setup)]
    [InlineData(500, ExitCodes.Failed, ExitCodes.Setup)]
    [InlineData(503, ExitCodes.Failed, ExitCodes.Setup)]
    public void EachAnswerHasItsExitCode(int status, int notFound, int exit)
    {
        Assert.Equal(exit, Gateway.ExitCode((HttpStatusCode)status, notFound));
    }

    [Theory]
    [InlineData("""{"type":"urn:artgrid:problem:job_not_found","title":"Not found","status":404,"detail":"No job 'x'.","code":"job_not_found"}""", "No job 'x'.")]
    [InlineData("""{"type":"urn:artgrid:problem:unauthorized","title":"An API key is needed","status":401,"code":"unauthorized"}""", "An API key is needed")]
    [InlineData("""{"code":"not_found","error":"No version 99 of model m."}""", "No version 99 of model m.")]
    [InlineData("""{"detail":"","title":"Forbidden"}""", "Forbidden")]
    [InlineData("Bad gateway\n", "Bad gateway")]
    [InlineData("[1,2]", "[1,2]")]
    [InlineData("", "")]
    public void TheReasonIsTheProblemsDetailElseItsTitleElseTheBody(string body, string reason)
    {
        Assert.Equal(reason, Gateway.Reason(body));
    }

    [Fact]
    public void RefusalsSayWhatToDoAboutTheKey()
    {
        const string problem = """{"type":"urn:artgrid:problem:forbidden","title":"Forbidden","status":403,"detail":"The key 'ci' has no 'read' scope.","code":"forbidden"}""";

        Assert.Equal(
            "artgrid jobs get: 403 Forbidden: The key 'ci' has no 'read' scope. (the API key lacks the 'read' scope)",
            Gateway.Describe("jobs get", HttpStatusCode.Forbidden, "Forbidden", problem, "read"));
        string unauthorized = Gateway.Describe("models list", HttpStatusCode.Unauthorized, "Unauthorized", "", "admin");
        Assert.StartsWith("artgrid models list: 401 Unauthorized (", unauthorized, StringComparison.Ordinal);
        Assert.Contains("--api-key", unauthorized, StringComparison.Ordinal);
        Assert.Contains("$ARTGRID_API_KEY", unauthorized, StringComparison.Ordinal);
        Assert.Equal("artgrid jobs get: 404 Not Found: No job 'x'.", Gateway.Describe("jobs get", HttpStatusCode.NotFound, "Not Found", """{"detail":"No job 'x'."}""", "read"));
    }

    [Fact]
    public void TheApiKeyIsTheOptionsElseTheEnvironmentsAndSentAsABearerToken()
    {
        Assert.Equal("opt", Gateway.ApiKey("opt", "env"));
        Assert.Equal("env", Gateway.ApiKey(null, " env "));
        Assert.Null(Gateway.ApiKey(null, null));
        Assert.Null(Gateway.ApiKey(null, " "));
        Assert.Null(Gateway.ApiKey("", "env"));

        using HttpClient withKey = Gateway.CreateClient(new Uri("http://127.0.0.1:8080/"), "k-123", TimeSpan.FromSeconds(5));
        Assert.Equal(("Bearer", "k-123"), (withKey.DefaultRequestHeaders.Authorization!.Scheme, withKey.DefaultRequestHeaders.Authorization.Parameter));
        using HttpClient without = Gateway.CreateClient(new Uri("http://127.0.0.1:8080/"), null, TimeSpan.FromSeconds(5));
        Assert.Null(without.DefaultRequestHeaders.Authorization);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/jobs/j")]
    [InlineData("https://gw.example/artgrid/", "https://gw.example/artgrid/v1/jobs/j")]
    [InlineData("https://gw.example/artgrid", "https://gw.example/artgrid/v1/jobs/j")]
    [InlineData("ftp://gw.example", null)]
    [InlineData("127.0.0.1:8080", null)]
    public void TheAddressIsAnHttpUrlThatRelativePathsAppendTo(string gateway, string? jobUrl)
    {
        Uri? address = Gateway.Address(gateway);
        Assert.Equal(jobUrl, address is null ? null : new Uri(address, "v1/jobs/j").ToString());
    }

    [Fact]
    public void TheJobIsPrintedAsOneLineAsTheGatewayWroteIt()
    {
        const string body = """
            {
              "jobId": "j-1",
              "status": "completed",
              "verdict": { "label": "ai", "reasons": ["C2PA: “trainedAlgorithmicMedia”", "line\nbreak"] },
              "rejection": null
            }
            """;

        Assert.Equal(
            """{"jobId":"j-1","status":"completed","verdict":{"label":"ai","reasons":["C2PA: “trainedAlgorithmicMedia”","line\nbreak"]},"rejection":null}""",
            Gateway.OneLine(body));
    }
}
