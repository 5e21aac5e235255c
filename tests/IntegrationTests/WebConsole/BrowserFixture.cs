using PuppeteerSharp;

namespace ArtGrid.Tests.WebConsole;

/// <summary>
/// Debian's chromium, headless, driven over the DevTools protocol (PuppeteerSharp, which never downloads a browser
/// here: it is given the system's). One browser per test class; each test opens its own pages (and incognito contexts
/// where sessions must not mix). ARTGRID_CHROMIUM names another executable; without one the tests fail and say how to
/// install it (test.sh installs it for the integration layer).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    public static string ExecutablePath()
    {
        string? configured = Environment.GetEnvironmentVariable("ARTGRID_CHROMIUM");
        string[] candidates = configured is { Length: > 0 } ? [configured] : ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"No chromium at {string.Join(", ", candidates)}: install Debian's (apt-get install -y chromium) or set ARTGRID_CHROMIUM.");
    }

    public async Task InitializeAsync() => _browser = await Puppeteer.LaunchAsync(new LaunchOptions
    {
        Headless = true,
        ExecutablePath = ExecutablePath(),
        // --no-sandbox: the tests may run as root (CI does), where chromium's own sandbox refuses to start.
        Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"],
        Timeout = 60_000,
    });

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            await _browser.DisposeAsync();
        }
    }

    /// <summary>A page in a context of its own (no cookies shared with other pages), at <paramref name="width"/> x <paramref name="height"/>.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        IBrowserContext context = await Browser.CreateBrowserContextAsync();
        IPage page = await context.NewPageAsync();
        page.DefaultTimeout = 60_000;
        await page.SetViewportAsync(new ViewPortOptions { Width = width, Height = height });
        return page;
    }

    /// <summary>Signs in on the console's login page with <paramref name="key"/> and waits for the page it leads to.</summary>
    public static async Task LoginAsync(IPage page, Uri gateway, string key, string returnPath = "/console/review")
    {
        await page.GoToAsync(new Uri(gateway, "/console/login?returnUrl=" + Uri.EscapeDataString(returnPath)).ToString());
        await page.TypeAsync("#key", key);
        await Task.WhenAll(page.WaitForNavigationAsync(), page.ClickAsync("#login button[type=submit]"));
    }

    /// <summary>
    /// Saves a screenshot of <paramref name="page"/> as <paramref name="name"/> (a .png) when ARTGRID_SCREENSHOTS_DIR
    /// names a folder (docs/screenshots.sh sets it to refresh the README's pictures); otherwise does nothing, so that a
    /// test run never changes tracked files.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        string? folder = Environment.GetEnvironmentVariable("ARTGRID_SCREENSHOTS_DIR");
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(Path.Combine(folder, name), new ScreenshotOptions { Type = ScreenshotType.Png });
    }
}
