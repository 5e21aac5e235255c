using System.Diagnostics;
using System.Globalization;
using ArtGrid.Contracts;
using ArtGrid.Tests.Cluster;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace ArtGrid.Tests.WebConsole;

/// <summary>
/// The operations page in Debian's chromium against a real gateway and the real two-silo cluster: it shows a non-zero
/// throughput while real jobs run, the silos and their devices, and fits a phone's width.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class OpsPageTests(ServersFixture cluster, BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(3);

    private GatewayProcess? _gateway;

    private GatewayProcess Gateway => _gateway!;

    public async Task InitializeAsync()
    {
        await cluster.EnsureSilosAsync(2);
        _gateway = await GatewayProcess.StartAsync(cluster);
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task WhileJobsRun_TheOperationsViewShowsANonZeroThroughput_AndBothSilosWithTheirDevices()
    {
        IPage page = await browser.NewPageAsync(1280, 800);
        await BrowserFixture.LoginAsync(page, Gateway.Address, Gateway.Keys["admin"], "/console/ops");
        Assert.Equal("/console/ops", new Uri(page.Url).AbsolutePath);
        await page.WaitForSelectorAsync("body[data-loaded=true]");

        // Real jobs, sent while the page watches.
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(16, seed: 701);
        var commands = new List<ScoreImages>();
        for (int i = 0; i < images.Count; i++)
        {
            commands.Add(await cluster.CommandAsync($"{cluster.RunId}-opspage-{i}", images[i].Name, images[i].Bytes));
        }

        // And one JPEG cut in half: a decode failure the page lists by its code.
        (string cutName, byte[] whole) = cluster.DistinctImages(1, seed: 702)[0];
        commands.Add(await cluster.CommandAsync($"{cluster.RunId}-opspage-cut", "cut-" + cutName, whole[..(whole.Length / 2)]));

        await cluster.SendAllAsync(commands);
        double shown = 0;
        string text = "";
        var clock = Stopwatch.StartNew();
        while (shown <= 0)
        {
            Assert.True(clock.Elapsed < LongWait, $"the page never showed a throughput above 0; last '{text}'\n{cluster.LogTails()}");
            await Task.Delay(500);
            text = await page.EvaluateExpressionAsync<string>("document.getElementById('throughput-images').textContent");
            shown = double.Parse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        output.WriteLine($"throughput shown: {text}, {clock.Elapsed.TotalSeconds:0.0} s after the jobs were sent");
        Assert.True(await cluster.Events.WaitForScoredAsync([.. commands.Select(c => c.JobId)], LongWait), cluster.LogTails());

        // The page catches up with every image of the run (each silo reports every 2 s, the page reads every 2 s).
        await page.WaitForFunctionAsync($"() => Number(document.getElementById('images-scored').textContent.replace(/,/g, '')) >= {commands.Count}");

        // Both silos, Active, and each one's devices in the devices table.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#silos tbody tr:not(.stale)').length >= 2");
        string silos = await page.EvaluateExpressionAsync<string>("[...document.querySelectorAll('#silos tbody tr')].map(r => r.cells[0].textContent + ':' + r.cells[1].textContent).join(',')");
        Assert.Contains("silo-1:Active", silos, StringComparison.Ordinal);
        Assert.Contains("silo-2:Active", silos, StringComparison.Ordinal);
        string[] devices = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#devices tbody tr')].map(r => r.cells[0].textContent)");
        Assert.Contains(devices, d => d.StartsWith("silo-1/", StringComparison.Ordinal));
        Assert.Contains(devices, d => d.StartsWith("silo-2/", StringComparison.Ordinal));
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#failures tbody tr')].some(r => r.cells[0].textContent === 'decode_failed' && Number(r.cells[1].textContent) >= 1)");
        Assert.Equal("/dashboard/", await page.EvaluateExpressionAsync<string>("document.getElementById('dashboard-link').getAttribute('href')"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('ops-error').hidden"));

        await BrowserFixture.ScreenshotAsync(page, "ops.png");

        // The link opens the Orleans Dashboard on the same session (its scripts call its API with the cookie).
        await Task.WhenAll(page.WaitForNavigationAsync(), page.ClickAsync("#dashboard-link"));
        Assert.Equal("/dashboard/", new Uri(page.Url).AbsolutePath);
        Assert.Equal(200, await page.EvaluateExpressionAsync<int>("fetch('/dashboard/DashboardCounters').then(r => r.status)"));
    }

    [Fact]
    public async Task AtPhoneWidth_ThePageFitsAndTheTablesScrollInsideIt()
    {
        IPage page = await browser.NewPageAsync(390, 844);
        await BrowserFixture.LoginAsync(page, Gateway.Address, Gateway.Keys["admin"], "/console/ops");
        await page.WaitForSelectorAsync("body[data-loaded=true]");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#silos tbody tr').length >= 2");

        int pageWidth = await page.EvaluateExpressionAsync<int>("document.documentElement.scrollWidth");
        int viewport = await page.EvaluateExpressionAsync<int>("window.innerWidth");
        Assert.True(pageWidth <= viewport, $"the page is {pageWidth} px wide in a {viewport} px viewport");
        // The tiles stack in columns that fit: none reaches past the viewport.
        double widest = await page.EvaluateExpressionAsync<double>("Math.max(...[...document.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().right))");
        Assert.True(widest <= viewport, $"a tile ends at {widest} px");
        await BrowserFixture.ScreenshotAsync(page, "ops-phone.png");
    }
}
