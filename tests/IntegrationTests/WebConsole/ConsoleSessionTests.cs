using System.Net;
using System.Security.Cryptography;
using System.Text;
using ArtGrid.Tests.Cluster;
using PuppeteerSharp;

namespace ArtGrid.Tests.WebConsole;

/// <summary>
/// The console's sign-in in a real browser against a real gateway: a key opens a session (a cookie, never the key),
/// the pages a key's scopes allow, the guard on changes made with the cookie, and signing out.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ConsoleSessionTests(ServersFixture cluster, BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly BrowserFixture _browser = browser;
    private GatewayProcess? _gateway;

    private GatewayProcess Gateway => _gateway!;

    public async Task InitializeAsync() => _gateway = await GatewayProcess.StartAsync(cluster);

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnUnknownKey_StaysOnTheSignInPage_AndSaysSo()
    {
        IPage page = await _browser.NewPageAsync();
        await BrowserFixture.LoginAsync(page, Gateway.Address, "ag_not_a_key_of_this_gateway");

        Assert.StartsWith("/console/login", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        Assert.True(await page.EvaluateExpressionAsync<bool>("!document.getElementById('error').hidden"));
        Assert.DoesNotContain(await page.GetCookiesAsync(), c => c.Name == "artgrid_console");
        await BrowserFixture.ScreenshotAsync(page, "login.png");
    }

    [Fact]
    public async Task AReviewKey_OpensTheReviewPage_NotOperations_AndItsCookieIsHttpOnlyAndStrict()
    {
        IPage page = await _browser.NewPageAsync();
        await BrowserFixture.LoginAsync(page, Gateway.Address, Gateway.Keys["read+review"]);

        Assert.Equal("/console/review", new Uri(page.Url).AbsolutePath);
        await page.WaitForSelectorAsync("#nav .who");
        Assert.Equal("test-read-review", await page.EvaluateExpressionAsync<string>("document.querySelector('#nav .who').textContent"));
        string links = await page.EvaluateExpressionAsync<string>("[...document.querySelectorAll('#nav .links a')].map(a => a.textContent).join(',')");
        Assert.Equal("Review", links);

        CookieParam cookie = Assert.Single(await page.GetCookiesAsync(), c => c.Name == "artgrid_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSite.Strict, cookie.SameSite);
        Assert.DoesNotContain(Gateway.Keys["read+review"], cookie.Value, StringComparison.Ordinal);

        IResponse ops = await page.GoToAsync(new Uri(Gateway.Address, "/console/ops").ToString());
        Assert.Equal(HttpStatusCode.Forbidden, ops.Status);
    }

    [Fact]
    public async Task AChangeMadeWithTheCookie_NeedsTheConsoleHeader_AndSigningOutEndsTheSession()
    {
        IPage page = await _browser.NewPageAsync();
        await BrowserFixture.LoginAsync(page, Gateway.Address, Gateway.Keys["admin"], "/console/ops");
        Assert.Equal("/console/ops", new Uri(page.Url).AbsolutePath);

        // The session reads the API as its key does; a change without the console's header is refused before any route.
        int read = await page.EvaluateExpressionAsync<int>("fetch('/models').then(r => r.status)");
        Assert.Equal(200, read);
        string refused = await page.EvaluateExpressionAsync<string>(
            "fetch('/console/logout', { method: 'POST' }).then(async r => r.status + ' ' + (await r.json()).type)");
        Assert.Equal("403 urn:artgrid:problem:forbidden", refused);

        await page.WaitForSelectorAsync("#signout");
        await Task.WhenAll(page.WaitForNavigationAsync(), page.ClickAsync("#signout"));
        Assert.Equal("/console/login", new Uri(page.Url).AbsolutePath);
        IResponse again = await page.GoToAsync(new Uri(Gateway.Address, "/console/ops").ToString());
        Assert.StartsWith("/console/login", new Uri(again.Url).AbsolutePath, StringComparison.Ordinal);
        int anonymous = await page.EvaluateExpressionAsync<int>("fetch('/models').then(r => r.status)");
        Assert.Equal(401, anonymous);
    }

    [Fact]
    public async Task ASessionSignedByOneGateway_IsReadByAnother_ThroughTheKeyRingInRedis()
    {
        // A second gateway configured with the same read+review key (the fifth of GatewayProcess's keys).
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Gateway.Keys["read+review"])));
        await using GatewayProcess other = await GatewayProcess.StartAsync(cluster, new Dictionary<string, string> { ["ArtGrid__Gateway__ApiKeys__4__Hash"] = hash });
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var http = new HttpClient(handler) { BaseAddress = Gateway.Address };
        using HttpResponseMessage signIn = await http.PostAsync("/console/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = Gateway.Keys["read+review"],
            ["returnUrl"] = "/console/review",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        string cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("artgrid_console=", StringComparison.Ordinal)).Split(';')[0];

        // The other gateway signed nothing: it reads the cookie with the shared key ring, as a second gateway behind a
        // load balancer (or this one after a restart) must.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(other.Address, "/console/session"));
        request.Headers.Add("Cookie", cookie);
        using HttpResponseMessage session = await http.SendAsync(request);
        string body = await session.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, session.StatusCode);
        Assert.Contains("\"name\":\"test-read-review\"", body, StringComparison.Ordinal);
    }
}
