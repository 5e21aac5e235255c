using System.Diagnostics;

namespace ArtGrid.Tests.Cluster;

/// <summary>Waiting for a process's HTTP endpoint (health, readiness) to answer 200.</summary>
public static class HttpPolling
{
    /// <summary>
    /// Polls <paramref name="url"/> every 250 ms until it answers 200: null then, else why not (<paramref name="exited"/>
    /// names the process's end, or the time ran out, with the last answer). Waiting, not timing.
    /// </summary>
    public static async Task<string?> UntilOkAsync(HttpClient http, Uri url, TimeSpan timeout, Func<string?> exited)
    {
        var clock = Stopwatch.StartNew();
        string last = "no answer";
        while (clock.Elapsed < timeout)
        {
            if (exited() is { } end)
            {
                return end;
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    return null;
                }

                last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(250);
        }

        return $"{url} did not answer 200 within {timeout.TotalSeconds:0} s; last answer {last}";
    }
}
