using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
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
        string redis = CommandLine.Option(args, "--redis") ?? $"127.0.0.1:{Port("ARTGRID_REDIS_PORT", 6390)}";
        string amqp = CommandLine.Option(args, "--amqp") ?? $"amqp://guest:guest@127.0.0.1:{Port("ARTGRID_AMQP_PORT", 5690)}/";
        if (!Uri.TryCreate(amqp, UriKind.Absolute, out Uri? amqpUri) || amqpUri.Scheme is not ("amqp" or "amqps"))
        {
            throw new FormatException($"--amqp must be an amqp:// URI, not '{amqp}'");
        }

        return new ConsoleBenchSettings(redis, amqpUri, Int(args, "--silos", 1), Int(args, "--verdicts", 1000), Int(args, "--loads", 7), Int(args, "--concurrency", 16));
    }

    private static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ? port : fallback;

    private static int Int(string[] args, string name, int fallback)
    {
        string? text = CommandLine.Option(args, name);
        return text is null
            ? fallback
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1
                ? value
                : throw new FormatException($"{name} must be a whole number of at least 1, not '{text}'");
    }
}

internal sealed class ConsoleLoadRun(ConsoleBenchSettings settings) : IAsyncDisposable
{
    private const string ReadyLine = "ArtGrid silo ready";

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

    private readonly string _runId = "c" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _key = $"ag_bench_{Guid.NewGuid():N}";
    private readonly List<ChildProcess> _silos = [];
    private ChildProcess? _gateway;
    private HttpClient? _http;
    private IBrowser? _browser;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        string root = PhotoMix.RepositoryRoot();
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string siloDll = Path.Combine(root, "src", "Silo", "bin", configuration, "net10.0", "artgrid-silo.dll");
        string gatewayDll = Path.Combine(root, "src", "Gateway", "bin", configuration, "net10.0", "artgrid-gateway.dll");
        foreach (string dll in new[] { siloDll, gatewayDll })
        {
            if (!File.Exists(dll))
            {
                throw new SetupException($"{dll} is missing: build first (dotnet build ArtGrid.sln -c {configuration}).");
            }
        }

        string chromium = new[] { Environment.GetEnvironmentVariable("ARTGRID_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new SetupException("no chromium (apt-get install -y chromium, or set ARTGRID_CHROMIUM)");
        Uri gateway = await StartClusterAsync(siloDll, gatewayDll, cancellationToken);

        var clock = Stopwatch.StartNew();
        int stored = await StoreVerdictsAsync(root, cancellationToken);
        Progress.Say($"{stored} verdicts stored in {clock.Elapsed.TotalSeconds:0.0} s");
        using JsonDocument stats = JsonDocument.Parse(await _http!.GetStringAsync("/v1/review/stats", cancellationToken));
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
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
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
        string JobId(int i) => $"{_runId}-v{i}";
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Verdicts), new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = cancellationToken }, async (i, token) =>
        {
            (string name, string base64) = samples[i % samples.Length];
            var body = new { jobId = JobId(i), images = new[] { new { name, base64 } }, metadata = new { author = $"bench-author-{i % 20}", declaredAi = i % 4 == 0 ? false : (bool?)null } };
            using HttpResponseMessage answer = await _http!.PostAsJsonAsync("/v1/jobs", body, token);
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
                using JsonDocument job = JsonDocument.Parse(await _http!.GetStringAsync($"/v1/jobs/{JobId(i)}", token));
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

    private async Task<Uri> StartClusterAsync(string siloDll, string gatewayDll, CancellationToken cancellationToken)
    {
        var cluster = new Dictionary<string, string>
        {
            ["ConnectionStrings__Redis"] = settings.Redis,
            ["ConnectionStrings__RabbitMq"] = settings.Amqp.ToString(),
            ["ArtGrid__Silo__ClusterId"] = _runId,
            ["ArtGrid__Silo__ServiceId"] = _runId,
            ["ArtGrid__Bus__QueueName"] = $"score-images-{_runId}",
            ["ArtGrid__Bus__JobRecordHours"] = "1",
            ["ArtGrid__Bus__MessageDataHours"] = "1",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        for (int i = 1; i <= settings.Silos; i++)
        {
            string name = $"silo-{i}";
            Progress.Say($"starting {name}");
            ChildProcess silo = ChildProcess.Start(name, siloDll, [], new Dictionary<string, string>(cluster)
            {
                ["ArtGrid__Silo__Name"] = name,
                ["ArtGrid__Silo__SiloPort"] = ChildProcess.Text(ChildProcess.FreePort()),
                ["ArtGrid__Silo__GatewayPort"] = ChildProcess.Text(ChildProcess.FreePort()),
                ["ArtGrid__Silo__HttpPort"] = ChildProcess.Text(ChildProcess.FreePort()),
                ["ArtGrid__Inference__IntraOpThreads"] = "1",
                ["ArtGrid__Cache__TimeToLiveHours"] = "1",
            }, ReadyLine);
            _silos.Add(silo);
            await silo.WaitForMarkerAsync(TimeSpan.FromMinutes(3), cancellationToken);
        }

        int port = ChildProcess.FreePort();
        Progress.Say("starting the gateway");
        _gateway = ChildProcess.Start("gateway", gatewayDll, ["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string>(cluster)
        {
            ["ArtGrid__Gateway__ApiKeys__0__Name"] = "bench-reviewer",
            ["ArtGrid__Gateway__ApiKeys__0__Hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_key))),
            ["ArtGrid__Gateway__ApiKeys__0__Scopes__0"] = "score",
            ["ArtGrid__Gateway__ApiKeys__0__Scopes__1"] = "read",
            ["ArtGrid__Gateway__ApiKeys__0__Scopes__2"] = "review",
            ["ArtGrid__Gateway__RateLimit__Permits"] = "1000000",
        });
        var address = new Uri($"http://127.0.0.1:{port}");
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_gateway.HasExited || clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new SetupException($"the gateway did not become ready. The end of its log:\n{_gateway.Tail(60)}");
            }

            try
            {
                using HttpResponseMessage ready = await _http.GetAsync("/health/ready", cancellationToken);
                if (ready.IsSuccessStatusCode)
                {
                    return address;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            await _browser.DisposeAsync();
        }

        _http?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        foreach (ChildProcess silo in _silos)
        {
            await silo.DisposeAsync();
        }
    }
}
