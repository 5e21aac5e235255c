using System.IO.Compression;
using System.Net.Http.Json;
using System.Text.Json;
using ArtGrid.Tests.Cluster;
using ArtGrid.Training;
using PuppeteerSharp;

namespace ArtGrid.Tests.WebConsole;

/// <summary>
/// The review page in headless chromium against a real gateway and cluster: a reviewer signs in with a key, finds a
/// real job's verdict in the conflict queue, sees its image with the activation map over it (and toggles it), overturns
/// it, and finds the decision in the export; at 1280x800 and at phone width, with hostile names shown as text.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ReviewConsoleTests(ServersFixture cluster, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task AReviewerSeesTheVerdictWithItsOverlay_OverturnsIt_AndTheExportHoldsTheDecision()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        HttpClient submitter = gateway.Client(gateway.Keys["score+read"]);
        string jobId = $"{cluster.RunId}-console-dog";
        string hostile = "<img src=x id=pwned>\"dog\".jpg";
        string dogPath = Path.Combine(TestAssets.SamplesDir, "ai", "photo-surfing-dog-sdxl.jpg");
        byte[] dog = File.ReadAllBytes(dogPath);

        // The other samples first, so that the "all" queue has neighbours above which this job's verdict is the newest.
        foreach (string sample in TestAssets.SampleImages.Where(p => p != dogPath))
        {
            await ReviewTests.SubmitAsync(gateway, submitter, $"{cluster.RunId}-console-{Path.GetFileNameWithoutExtension(sample)}", Path.GetFileName(sample), File.ReadAllBytes(sample), $"console-other-{cluster.RunId}", declaredAi: null);
        }

        JsonElement job = await ReviewTests.SubmitAsync(gateway, submitter, jobId, hostile, dog, $"console-{cluster.RunId}", declaredAi: false);
        double probability = job.GetProperty("verdict").GetProperty("images")[0].GetProperty("aiProbability").GetDouble();
        string row = $".queue .row[data-id=\"{jobId}/0\"]";

        IPage page = await browser.NewPageAsync(1280, 800);
        await BrowserFixture.LoginAsync(page, gateway.Address, gateway.Keys["read+review"]);
        await page.GoToAsync(new Uri(gateway.Address, "/console/review#conflict").ToString());
        await page.WaitForSelectorAsync(row);
        await page.ClickAsync(row);

        // The image and its map layer both load, the map stacked over the image; the name is text, never markup.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#viewer img')].length === 2 && [...document.querySelectorAll('#viewer img')].every(i => i.complete && i.naturalWidth > 0)");
        Assert.Equal(448, await page.EvaluateExpressionAsync<int>("document.querySelector('#viewer .map').naturalWidth"));
        Assert.Equal("absolute", await page.EvaluateExpressionAsync<string>("getComputedStyle(document.querySelector('#viewer .map')).position"));
        Assert.Equal(hostile, await page.EvaluateExpressionAsync<string>($"document.querySelector('{row.Replace("'", "\\'")} .name').textContent"));
        Assert.Equal(hostile, await page.EvaluateExpressionAsync<string>("document.querySelector('#detail h2').textContent"));
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#pwned').length"));
        string detail = await page.EvaluateExpressionAsync<string>("document.getElementById('detail').innerText");
        Assert.Contains(probability.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), detail);
        Assert.Contains("declared human, judged AI", detail);
        Assert.Contains($"console-{cluster.RunId}", detail);
        Assert.Contains(job.GetProperty("verdict").GetProperty("model").GetString()!, detail);
        await page.WaitForFunctionAsync("() => document.getElementById('author-now')?.textContent.startsWith('Today: 1 jobs')");

        // m hides the map and shows it again.
        await page.Keyboard.PressAsync("m");
        Assert.Equal("none", await page.EvaluateExpressionAsync<string>("getComputedStyle(document.querySelector('#viewer .map')).display"));
        await page.Keyboard.PressAsync("m");
        Assert.Equal("block", await page.EvaluateExpressionAsync<string>("getComputedStyle(document.querySelector('#viewer .map')).display"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"));

        // The "all" queue (key 4) holds it too, among the other samples' verdicts.
        await page.Keyboard.PressAsync("4");
        await page.WaitForFunctionAsync("() => location.hash === '#all' && document.querySelectorAll('.queue .row').length >= 8");
        await page.ClickAsync(row);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#viewer img')].length === 2 && [...document.querySelectorAll('#viewer img')].every(i => i.complete && i.naturalWidth > 0)");
        await BrowserFixture.ScreenshotAsync(page, "review.png");

        // Overturn with the key o: the page shows the decision, and the API has it with who and when.
        await page.Keyboard.PressAsync("o");
        await page.WaitForFunctionAsync("() => document.getElementById('decision').textContent.includes('overturned')");
        Assert.Contains("test-read-review", await page.EvaluateExpressionAsync<string>($"document.querySelector('{row.Replace("'", "\\'")} .reviewed').textContent"));
        JsonElement item = Assert.Single(await ReviewTests.QueueAsync(gateway.Client(gateway.Keys["read"]), "conflict", [jobId]));
        Assert.Equal("human", item.GetProperty("review").GetProperty("label").GetString());
        Assert.Equal("test-read-review", item.GetProperty("review").GetProperty("reviewer").GetString());

        // The export, fetched by the page with its session, holds the decision and the image.
        string zip = await page.EvaluateFunctionAsync<string>(
            "async () => { const r = await fetch('/v1/review/export'); const b = new Uint8Array(await r.arrayBuffer()); let s = ''; for (const x of b) s += String.fromCharCode(x); return btoa(s); }");
        using var archive = new ZipArchive(new MemoryStream(Convert.FromBase64String(zip)));
        using var reader = new StreamReader(archive.GetEntry("labels.csv")!.Open());
        string[] header = LabelsCsv.ParseLine(reader.ReadLine()!);
        string[] exported = [.. LabelsCsv.ParseLine((await reader.ReadToEndAsync()).Split('\n').Single(l => l.Contains(jobId, StringComparison.Ordinal)))];
        Assert.Equal("human", exported[Array.IndexOf(header, "label")]);
        Assert.Equal("ai", exported[Array.IndexOf(header, "model_label")]);
        Assert.NotNull(archive.GetEntry("images/" + exported[Array.IndexOf(header, "file")]));

        // Phone width: one column, nothing wider than the screen, the same verdict and overlay.
        IPage phone = await browser.NewPageAsync(390, 844);
        await BrowserFixture.LoginAsync(phone, gateway.Address, gateway.Keys["read+review"]);
        await phone.GoToAsync(new Uri(gateway.Address, "/console/review#conflict").ToString());
        await phone.WaitForSelectorAsync(row);
        await phone.ClickAsync(row);
        await phone.WaitForFunctionAsync("() => [...document.querySelectorAll('#viewer img')].length === 2 && [...document.querySelectorAll('#viewer img')].every(i => i.complete && i.naturalWidth > 0)");
        Assert.True(await phone.EvaluateExpressionAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"));
        Assert.True(await phone.EvaluateExpressionAsync<bool>("document.querySelector('.queue').getBoundingClientRect().bottom <= document.getElementById('detail').getBoundingClientRect().top"));
        Assert.Contains("overturned", await phone.EvaluateExpressionAsync<string>("document.getElementById('decision').textContent"));
        await BrowserFixture.ScreenshotAsync(phone, "review-phone.png");
    }

    [Fact]
    public async Task KeysMoveThroughTheQueue_AndAReadOnlyKeyCannotDecide()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        HttpClient submitter = gateway.Client(gateway.Keys["score+read"]);
        foreach ((string Name, byte[] Bytes) image in cluster.DistinctImages(2, seed: 401))
        {
            await ReviewTests.SubmitAsync(gateway, submitter, $"{cluster.RunId}-keys-{image.Name}", image.Name, image.Bytes, $"keys-{cluster.RunId}", declaredAi: null);
        }

        IPage page = await browser.NewPageAsync();
        await BrowserFixture.LoginAsync(page, gateway.Address, gateway.Keys["read"]);
        await page.GoToAsync(new Uri(gateway.Address, "/console/review").ToString());
        await page.Keyboard.PressAsync("4"); // the "all" queue
        await page.WaitForFunctionAsync("() => document.querySelector('.tabs button[data-filter=all]').getAttribute('aria-selected') === 'true' && document.querySelectorAll('.queue .row').length >= 2");
        await page.WaitForSelectorAsync(".queue .row[data-index=\"0\"][aria-selected=\"true\"]");
        await page.Keyboard.PressAsync("j");
        await page.WaitForSelectorAsync(".queue .row[data-index=\"1\"][aria-selected=\"true\"]");
        await page.Keyboard.PressAsync("k");
        await page.WaitForSelectorAsync(".queue .row[data-index=\"0\"][aria-selected=\"true\"]");

        // The read scope sees verdicts but gets no buttons, no export link, and c records nothing.
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#confirm, #overturn').length"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('export').hidden"));
        string id = await page.EvaluateExpressionAsync<string>("document.querySelector('.queue .row[aria-selected=\"true\"]').dataset.id");
        await page.Keyboard.PressAsync("c");
        Assert.True(ArtGrid.Hosting.Review.ReviewKeys.TryParseItem(id, out string jobId, out _));
        Assert.Contains(":keys-", jobId.Replace($"{cluster.RunId}-keys-", ":keys-", StringComparison.Ordinal), StringComparison.Ordinal);
        string refused = await page.EvaluateFunctionAsync<string>(
            "async (jobId) => { const r = await fetch('/v1/reviews', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-ArtGrid-Console': '1' }, body: JSON.stringify({ jobId, image: 0, label: 'ai' }) }); return r.status + ' ' + (await r.json()).code; }",
            jobId);
        Assert.Equal("403 forbidden", refused);
        JsonElement item = Assert.Single(await ReviewTests.QueueAsync(gateway.Client(gateway.Keys["read"]), "all", [jobId]));
        Assert.Equal(JsonValueKind.Null, item.GetProperty("review").ValueKind);
    }
}
