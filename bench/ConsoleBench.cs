using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using PuppeteerSharp;

namespace ArtGrid.Bench;

/// <summary>
/// <c>artgrid-bench console --verdicts 1000</c>: the review page's load budget. Starts its own silos and gateway,
/// stores that many verdicts as real jobs (the repository's sample images posted to <c>POST /v1/jobs</c> under new job
/// ids, a quarter declared human-made; the silos' result cache answers the repeats, and every job goes through the
/// bus, a job grain, its record and the review queues as any other), then loads <c>/console/review#all</c> in headless
/// chromium, cache off, and measures from navigation start to the first verdict row in the page
/// (<c>performance.now()</c> when a MutationObserver first sees a <c>.queue .row</c>): the median of <c>--loads</c> loads.
/// </summary>
internal static class ConsoleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        ConsoleBenchSettings settings;
        try
        {
            settings = ConsoleBenchSettings.Parse(args);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"artgrid-bench console: {ex.Message} (see artgrid-bench without arguments)");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();
        await using var run = new ConsoleLoadRun(settings);
        try
        {
            return await run.RunAsync(stop.Token);
        }
        catch (SetupException ex)
        {
            Console.Error.WriteLine($"artgrid-bench console: {ex.Message}");
            return 3;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("artgrid-bench console: stopped before the end; nothing measured");
            return 130;
        }
    }
}

/// <summary>The options of <c>artgrid-bench console</c>.</summary>
internal sealed record ConsoleBenchSettings(string Redis, Uri Amqp, int Silos, int Verdicts, int Loads, int Concurrency)
{
    public static ConsoleBenchSettings Parse(string[] args)
    {
        (string redis, Uri amqp) = CommandLine.Servers(args);
        return new ConsoleBenchSettings(
            redis,
            amqp,
            CommandLine.PositiveInt(args, "--silos", 1),
            CommandLine.PositiveInt(args, "--verdicts", 1000),
            CommandLine.PositiveInt(args, "--loads", 7),
            CommandLine.PositiveInt(args, "--concurrency", 16));
    }
}

internal sealed class ConsoleLoadRun(ConsoleBenchSettings settings) : IAsyncDisposable
{
    // Set before any of the page's scripts run: the time (ms from navigation start) the first verdict row is in the DOM.
    private const string FirstRowObserver = """
        (() => {
          const seen = () => {
            if (window.__artgridFirstRow === undefined && document.querySelector('.queue .row')) {
              window.__artgridFirstRow = performance.now();
            }
          };
          new MutationObserver(seen).observe(document, { childList: true, subtree: true });
        })();
        """;

    private readonly BenchCluster _cluster = new("c" + Guid.NewGuid().ToString("N")[..10], settings.Redis, settings.Amqp);
    private readonly string _key = $"ag_bench_{Guid.NewGuid():N}";
    private IBrowser? _browser;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        string root = PhotoMix.RepositoryRoot();
        (string siloDll, string gatewayDll) = BenchCluster.BuildOutputs();
        await BenchCluster.CheckServersAsync(settings.Redis, settings.Amqp);

        string chromium = new[] { Environment.GetEnvironmentVariable("ARTGRID_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new SetupException("no chromium (apt-get install -y chromium, or set ARTGRID_CHROMIUM)");
        await _cluster.StartSilosAsync(siloDll, settings.Silos, cancellationToken);
        Uri gateway = await _cluster.StartGatewayAsync(
            gatewayDll, _key, "bench-reviewer", ["score", "read", "review"], new Dictionary<string, string>(), "/health/ready", TimeSpan.FromMinutes(2), cancellationToken);

        var clock = Stopwatch.StartNew();
        int stored = await StoreVerdictsAsync(root, cancellationToken);
        Progress.Say($"{stored} verdicts stored in {clock.Elapsed.TotalSeconds:0.0} s");
        using JsonDocument stats = JsonDocument.Parse(await _cluster.Http.GetStringAsync("/v1/review/stats", cancellationToken));
        long inQueue = stats.RootElement.GetProperty("queues").GetProperty("all").GetInt64();

        _browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = chromium,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"],
        });
        IPage page = await _browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 800 });
        await page.GoToAsync(new Uri(gateway, "/console/login?returnUrl=%2Fconsole%2Freview").ToString());
        await page.TypeAsync("#key", _key);
        await Task.WhenAll(page.WaitForNavigationAsync(), page.ClickAsync("#login button[type=submit]"));
        await page.EvaluateExpressionOnNewDocumentAsync(FirstRowObserver);
        await page.SetCacheEnabledAsync(false);

        var firstRow = new List<double>();
        var rows = new List<int>();
        for (int load = 0; load < settings.Loads; load++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await page.GoToAsync("about:blank");
            await page.GoToAsync(new Uri(gateway, "/console/review#all").ToString(), new NavigationOptions { WaitUntil = [WaitUntilNavigation.DOMContentLoaded] });
            await page.WaitForFunctionAsync("() => window.__artgridFirstRow !== undefined", new WaitForFunctionOptions { Timeout = 60_000 });
            firstRow.Add(await page.EvaluateExpressionAsync<double>("window.__artgridFirstRow"));
            rows.Add(await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.queue .row').length"));
            Progress.Say($"load {load + 1}: first verdict row at {firstRow[^1]:0.0} ms ({rows[^1]} rows)");
        }

        double[] sorted = [.. firstRow.Order()];
        double median = Stats.Median(sorted);
        Console.WriteLine($"Review page load: {stored} verdicts stored as jobs ({inQueue} in the 'all' queue), {settings.Loads} loads of /console/review#all at 1280x800, cache off, {settings.Silos} silo(s)");
        Console.WriteLine("| load | first verdict row (ms from navigation start) | rows |");
        Console.WriteLine("|---|---|---|");
        for (int i = 0; i < firstRow.Count; i++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {i + 1} | {firstRow[i]:0.0} | {rows[i]} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"console_first_row_ms_median={median:0.0} console_first_row_ms_min={sorted[0]:0.0} console_first_row_ms_max={sorted[^1]:0.0} verdicts={stored} queue_all={inQueue} loads={settings.Loads}"));
        return 0;
    }

    // One job an image, the samples in turn under new job ids, posted with --concurrency callers; then each job awaited.
    private async Task<int> StoreVerdictsAsync(string root, CancellationToken cancellationToken)
    {
        (string Name, string Base64)[] samples = [.. Directory.EnumerateFiles(Path.Combine(root, "samples"), "*.jpg", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), Convert.ToBase64String(File.ReadAllBytes(p))))];
        string JobId(int i) => $"{_cluster.RunId}-v{i}";
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Verdicts), new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = cancellationToken }, async (i, token) =>
        {
            (string name, string base64) = samples[i % samples.Length];
            var body = new { jobId = JobId(i), images = new[] { new { name, base64 } }, metadata = new { author = $"bench-author-{i % 20}", declaredAi = i % 4 == 0 ? false : (bool?)null } };
            using HttpResponseMessage answer = await _cluster.Http.PostAsJsonAsync("/v1/jobs", body, token);
            if (!answer.IsSuccessStatusCode)
            {
                throw new SetupException($"POST /v1/jobs answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync(token)}");
            }
        });
        int completed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Verdicts), new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                using JsonDocument job = JsonDocument.Parse(await _cluster.Http.GetStringAsync($"/v1/jobs/{JobId(i)}", token));
                if (job.RootElement.GetProperty("status").GetString() == "completed")
                {
                    Interlocked.Increment(ref completed);
                    return;
                }

                await Task.Delay(200, token);
            }

            throw new SetupException($"job {JobId(i)} did not complete within 5 minutes");
        });
        return completed;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            await _browser.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }
}
