using System.CommandLine;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid submit PATH...</c>: sends one <see cref="ScoreImages"/> per image (or per folder) to a running cluster
/// over RabbitMQ, the bytes claim-checked in Redis. With <c>--wait</c> it awaits each verdict (request/response) and
/// prints the same JSON lines as <c>score</c>, in input order; without it, one line per job sent.
/// </summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Image files and folders (walked recursively).", Arity = ArgumentArity.OneOrMore };
        var bus = new Option<string>("--bus")
        {
            Description = "RabbitMQ URI (default: $ARTGRID_BUS, else amqp://guest:guest@127.0.0.1:5672/).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ARTGRID_BUS") ?? "amqp://guest:guest@127.0.0.1:5672/",
        };
        var redis = new Option<string>("--redis")
        {
            Description = "Redis for the image bytes (default: $ARTGRID_REDIS, else 127.0.0.1:6379).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ARTGRID_REDIS") ?? "127.0.0.1:6379",
        };
        var queue = new Option<string>("--queue") { Description = "The cluster's command queue.", DefaultValueFactory = _ => new BusOptions().QueueName };
        var wait = new Option<bool>("--wait") { Description = "Wait for every verdict and print it as a JSON line per image." };
        var perFolder = new Option<bool>("--job-per-folder") { Description = "One job per folder (its images together) instead of one per image." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for one job's verdict with --wait.", DefaultValueFactory = _ => 600 };
        var inFlight = new Option<int>("--in-flight") { Description = "Jobs awaited at once with --wait.", DefaultValueFactory = _ => 256 };

        var command = new Command("submit", "Send images to a running ArtGrid cluster over RabbitMQ (see deploy/local-cluster.sh).")
        {
            paths, bus, redis, queue, wait, perFolder, timeout, inFlight,
        };
        command.SetAction((result, cancellationToken) => RunAsync(
            new SubmitSettings(
                result.GetValue(paths)!,
                result.GetValue(bus)!,
                result.GetValue(redis)!,
                result.GetValue(queue)!,
                result.GetValue(wait),
                result.GetValue(perFolder),
                TimeSpan.FromSeconds(result.GetValue(timeout)),
                Math.Max(1, result.GetValue(inFlight))),
            Console.Out,
            cancellationToken));
        return command;
    }

    public sealed record SubmitSettings(
        string[] Paths,
        string Bus,
        string Redis,
        string Queue,
        bool Wait,
        bool JobPerFolder,
        TimeSpan Timeout,
        int InFlight);

    public static async Task<int> RunAsync(SubmitSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> files;
        Uri busAddress;
        try
        {
            files = InputFiles.Expand(settings.Paths);
            busAddress = Uri.TryCreate(settings.Bus, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "amqp" or "amqps" or "rabbitmq"
                ? parsed
                : throw new UsageException($"--bus '{settings.Bus}' is not an amqp:// URI.");
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"artgrid submit: {ex.Message}");
            return ExitCodes.Usage;
        }

        List<string[]> jobs = settings.JobPerFolder
            ? files.GroupBy(f => Path.GetDirectoryName(f) ?? "", StringComparer.Ordinal).Select(g => g.ToArray()).ToList()
            : files.Select(f => new[] { f }).ToList();

        await using var redis = new RedisConnection(settings.Redis);
        var repository = new RedisMessageDataRepository(redis, TimeSpan.FromHours(new BusOptions().MessageDataHours));
        IBusControl busControl = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.UseArtGrid(busAddress, repository));
        try
        {
            using (var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                startTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                await busControl.StartAsync(startTimeout.Token);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"artgrid submit: cannot reach RabbitMQ at {Redact(busAddress)}: {ex.Message}");
            return ExitCodes.Setup;
        }

        try
        {
            var queueAddress = new Uri($"queue:{settings.Queue}");
            if (!settings.Wait)
            {
                ISendEndpoint endpoint = await busControl.GetSendEndpoint(queueAddress);
                foreach (string[] job in jobs)
                {
                    try
                    {
                        ScoreImages command = await BuildAsync(job, repository, cancellationToken);
                        await endpoint.Send(command, cancellationToken);
                        await output.WriteLineAsync(JsonSerializer.Serialize(new { jobId = command.JobId, paths = job, error = (ScoreLineError?)null }, ScoreLine.Json));
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        ImageError error = Describe(ex);
                        await output.WriteLineAsync(JsonSerializer.Serialize(new { jobId = (string?)null, paths = job, error = new ScoreLineError(error.Code, error.Message) }, ScoreLine.Json));
                    }
                }

                return ExitCodes.Ok;
            }

            IRequestClient<ScoreImages> client = busControl.CreateRequestClient<ScoreImages>(queueAddress, RequestTimeout.After(s: (int)Math.Ceiling(settings.Timeout.TotalSeconds)));
            using var inFlight = new SemaphoreSlim(settings.InFlight);
            using var uploads = new SemaphoreSlim(MaxConcurrentUploads);
            Task<ImageScore[]>[] pending = jobs.Select(job => AwaitJobAsync(job, client, repository, inFlight, uploads, cancellationToken)).ToArray();
            for (int j = 0; j < jobs.Count; j++)
            {
                ImageScore[] scores = await pending[j];
                for (int i = 0; i < jobs[j].Length; i++)
                {
                    await output.WriteLineAsync(ScoreLine.From(jobs[j][i], scores[i]).ToJson());
                }
            }

            await output.FlushAsync(cancellationToken);
            return ExitCodes.Ok;
        }
        finally
        {
            await busControl.StopAsync(CancellationToken.None);
        }
    }

    // Claim-check uploads are bounded apart from the jobs awaited: hundreds of concurrent SETs of image bytes only
    // queue up in the one Redis connection and time out.
    private const int MaxConcurrentUploads = 8;

    private static async Task<ImageScore[]> AwaitJobAsync(
        string[] paths,
        IRequestClient<ScoreImages> client,
        IMessageDataRepository repository,
        SemaphoreSlim inFlight,
        SemaphoreSlim uploads,
        CancellationToken cancellationToken)
    {
        await inFlight.WaitAsync(cancellationToken);
        try
        {
            ScoreImages command;
            await uploads.WaitAsync(cancellationToken);
            try
            {
                command = await BuildAsync(paths, repository, cancellationToken);
            }
            finally
            {
                uploads.Release();
            }

            Response<ImagesScored, ScoreImagesRejected> response = await client.GetResponse<ImagesScored, ScoreImagesRejected>(command, cancellationToken);
            if (response.Is(out Response<ImagesScored>? scored))
            {
                return [.. scored.Message.Verdict.Images.OrderBy(s => s.Index)];
            }

            ScoreImagesRejected rejected = response.Is(out Response<ScoreImagesRejected>? r) ? r.Message : throw new InvalidOperationException("Unexpected response.");
            return Failed(paths, rejected.Code, rejected.Reason);
        }
        catch (RequestTimeoutException)
        {
            return Failed(paths, "timeout", "No verdict arrived in time; the job may still complete (its id is in the cluster's logs and records).");
        }
        catch (RequestFaultException ex)
        {
            return Failed(paths, "faulted", ex.Fault?.Exceptions.FirstOrDefault()?.Message ?? ex.Message);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // One job's failure (an unreadable file, Redis too slow for one upload) is that job's error line, never the run's end.
            ImageError error = Describe(ex);
            return Failed(paths, error.Code, error.Message);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private static ImageError Describe(Exception ex) => ex switch
    {
        IOException or UnauthorizedAccessException => new ImageError(ErrorCodes.Unreadable, ex.Message),
        _ => new ImageError("submit_failed", $"{ex.GetType().Name}: {ex.Message}"),
    };

    private static async Task<ScoreImages> BuildAsync(string[] paths, IMessageDataRepository repository, CancellationToken cancellationToken)
    {
        var images = new ImageReference[paths.Length];
        for (int i = 0; i < paths.Length; i++)
        {
            byte[] bytes = await File.ReadAllBytesAsync(paths[i], cancellationToken);
            images[i] = new ImageReference { Name = Path.GetFileName(paths[i]), Data = await repository.PutBytes(bytes, cancellationToken) };
        }

        return new ScoreImages
        {
            JobId = NewId.NextGuid().ToString("N"),
            Images = images,
            Metadata = JobMetadata.None,
            SubmittedAt = DateTimeOffset.UtcNow,
        };
    }

    private static ImageScore[] Failed(string[] paths, string code, string message) =>
        // Scores without a model: the job never reached one.
        [.. paths.Select((p, i) => new ImageScore(i, Path.GetFileName(p), null, null, null, "", new ImageError(code, message), false, null))];

    private static string Redact(Uri address) =>
        address.UserInfo.Length == 0 ? address.ToString() : address.ToString().Replace(address.UserInfo + "@", "***@", StringComparison.Ordinal);
}
