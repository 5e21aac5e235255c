using System.CommandLine;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid submit PATH|URL...</c>: sends one <see cref="ScoreImages"/> per image (or per folder) to a running
/// cluster over RabbitMQ, a file's bytes claim-checked in Redis, a URL for the silos to fetch, with the job metadata of
/// <c>--author</c>, <c>--source</c>, <c>--licence</c>, <c>--declared-ai</c>, <c>--tag</c>, at the priority of
/// <c>--priority</c>, to the queue declared as the silos declare it (<see cref="ScoreQueue"/>). Every job is checked against
/// <see cref="ScoreImagesValidator"/> before anything is uploaded. With <c>--wait</c> it awaits each verdict (request/response) and
/// prints the same JSON lines as <c>score</c>, in input order; without it, one line per job sent. With <c>--by-hash</c>
/// (and <c>--wait</c>) a file is first sent as its SHA-256 alone (<see cref="ImageReference.Sha256"/>), and a job the
/// result cache cannot answer (<see cref="RejectionCodes.NotCached"/>) is sent again, under the same id, with the bytes.
/// </summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Image files, folders (walked recursively) and http(s) URLs.", Arity = ArgumentArity.ZeroOrMore };
        var urls = new Option<string[]>("--url") { Description = "An http(s) URL of an image, fetched by the silos (only where ArtGrid:UrlFetch:Enabled is set); repeatable." };
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
        var perFolder = new Option<bool>("--job-per-folder") { Description = "One job per folder (its images together; URLs by their path up to the last '/') instead of one per image." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for one job's verdict with --wait.", DefaultValueFactory = _ => 600 };
        var inFlight = new Option<int>("--in-flight") { Description = "Jobs awaited at once with --wait.", DefaultValueFactory = _ => 256 };
        var author = new Option<string?>("--author") { Description = "Who uploaded the images: the verdict tells what the cluster has seen of this author." };
        var source = new Option<string?>("--source") { Description = "Where the images come from (a platform, a feed)." };
        var licence = new Option<string?>("--licence") { Description = "The licence the uploader gives." };
        var declaredAi = new Option<string?>("--declared-ai") { Description = "What the uploader declares: true (AI-made) or false (human-made); a verdict that disagrees is flagged as a conflict." };
        declaredAi.AcceptOnlyFromAmong("true", "false");
        var tags = new Option<string[]>("--tag") { Description = "A tag of the job; repeatable." };
        var priority = new Option<int>("--priority") { Description = "The jobs' priority, 0 (the default) to 9: higher jobs are taken from the queue first.", DefaultValueFactory = _ => 0 };
        var byHash = new Option<bool>("--by-hash") { Description = "With --wait: send each file as its SHA-256 first, its bytes only when the cluster has not scored it (re-uploads cost no upload)." };

        var command = new Command("submit", "Send images to a running ArtGrid cluster over RabbitMQ (see deploy/local-cluster.sh).")
        {
            paths, urls, bus, redis, queue, wait, perFolder, timeout, inFlight, author, source, licence, declaredAi, tags, priority, byHash,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            SubmitSettings settings;
            try
            {
                int jobPriority = result.GetValue(priority);
                if (jobPriority is < 0 or > ScoreQueue.MaxPriority)
                {
                    throw new UsageException($"--priority {jobPriority}: a priority is 0 to {ScoreQueue.MaxPriority}.");
                }

                if (result.GetValue(byHash) && !result.GetValue(wait))
                {
                    throw new UsageException("--by-hash needs --wait: a job the cluster has not scored comes back rejected, and is sent again with its bytes.");
                }

                settings = new SubmitSettings(
                    SubmitInputs.Classify(result.GetValue(paths) ?? [], result.GetValue(urls) ?? []),
                    result.GetValue(bus)!,
                    result.GetValue(redis)!,
                    result.GetValue(queue)!,
                    result.GetValue(wait),
                    result.GetValue(perFolder),
                    TimeSpan.FromSeconds(result.GetValue(timeout)),
                    Math.Max(1, result.GetValue(inFlight)),
                    JobMetadataOptions.Build(
                        result.GetValue(author),
                        result.GetValue(source),
                        result.GetValue(licence),
                        result.GetValue(declaredAi) is { } declared ? declared == "true" : null,
                        result.GetValue(tags)),
                    (byte)jobPriority,
                    result.GetValue(byHash));
            }
            catch (UsageException ex)
            {
                await Console.Error.WriteLineAsync($"artgrid submit: {ex.Message}");
                return ExitCodes.Usage;
            }

            return await RunAsync(settings, Console.Out, cancellationToken);
        });
        return command;
    }

    /// <summary>What <c>artgrid submit</c> was asked for.</summary>
    /// <param name="Inputs">Paths (files and folders, not yet walked) and URLs, in command-line order.</param>
    /// <param name="Bus">The RabbitMQ URI.</param>
    /// <param name="Redis">Redis for the claim-checked bytes.</param>
    /// <param name="Queue">The cluster's command queue.</param>
    /// <param name="Wait">Whether to await every verdict.</param>
    /// <param name="JobPerFolder">One job per folder instead of one per image.</param>
    /// <param name="Timeout">How long one job's verdict is awaited.</param>
    /// <param name="InFlight">Jobs awaited at once.</param>
    /// <param name="Metadata">What the uploader says about every job.</param>
    /// <param name="Priority">Every job's priority, 0 to 9 (<see cref="ScoreImages.Priority"/>, and the message's).</param>
    /// <param name="ByHash">With <paramref name="Wait"/>: files sent as their SHA-256 first, as bytes only when the cache misses.</param>
    public sealed record SubmitSettings(
        IReadOnlyList<SubmitInput> Inputs,
        string Bus,
        string Redis,
        string Queue,
        bool Wait,
        bool JobPerFolder,
        TimeSpan Timeout,
        int InFlight,
        JobMetadata Metadata,
        byte Priority = 0,
        bool ByHash = false);

    // One job as planned: its id and its images, checked against the job rules before any byte is read.
    private sealed record PlannedJob(string JobId, SubmitInput[] Images)
    {
        public string[] Displays => [.. Images.Select(i => i.Display)];
    }

    public static async Task<int> RunAsync(SubmitSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var images = new List<SubmitInput>();
        Uri busAddress;
        try
        {
            if (settings.Inputs.Count == 0)
            {
                throw new UsageException("nothing to submit: name image files, folders or URLs.");
            }

            foreach (SubmitInput input in settings.Inputs)
            {
                images.AddRange(input.Path is { } path ? InputFiles.Expand([path]).Select(SubmitInput.File) : [input]);
            }

            busAddress = Uri.TryCreate(settings.Bus, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "amqp" or "amqps" or "rabbitmq"
                ? parsed
                : throw new UsageException($"--bus '{settings.Bus}' is not an amqp:// URI.");
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"artgrid submit: {ex.Message}");
            return ExitCodes.Usage;
        }

        // Every job is checked against the rules the cluster enforces before anything is uploaded or sent.
        List<PlannedJob> jobs = [.. SubmitInputs.Jobs(images, settings.JobPerFolder).Select(job => new PlannedJob(NewId.NextGuid().ToString("N"), job))];
        foreach (PlannedJob job in jobs)
        {
            if (SubmitInputs.Validate(job.JobId, job.Images) is { } problem)
            {
                await Console.Error.WriteLineAsync($"artgrid submit: the job of {job.Images[0].Display}{(job.Images.Length > 1 ? $" and {job.Images.Length - 1} more" : "")}: {problem}; nothing was sent.");
                return ExitCodes.Usage;
            }
        }

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
            Uri queueAddress;
            try
            {
                queueAddress = await ScoreQueue.DeclareAsync(busAddress, settings.Queue, cancellationToken);
            }
            catch (ScoreQueueMismatchException ex)
            {
                await Console.Error.WriteLineAsync($"artgrid submit: {ex.Message}");
                return ExitCodes.Setup;
            }

            if (!settings.Wait)
            {
                ISendEndpoint endpoint = await busControl.GetSendEndpoint(queueAddress);
                foreach (PlannedJob job in jobs)
                {
                    try
                    {
                        ScoreImages command = await BuildAsync(job, settings.Metadata, settings.Priority, repository, byHash: false, cancellationToken);
                        await endpoint.Send(command, context => context.SetPriority(command.Priority), cancellationToken);
                        await output.WriteLineAsync(JsonSerializer.Serialize(new { jobId = command.JobId, paths = job.Displays, error = (ScoreLineError?)null }, ScoreLine.Json));
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        ImageError error = Describe(ex);
                        await output.WriteLineAsync(JsonSerializer.Serialize(new { jobId = (string?)null, paths = job.Displays, error = new ScoreLineError(error.Code, error.Message) }, ScoreLine.Json));
                    }
                }

                await output.FlushAsync(cancellationToken);
                return ExitCodes.Ok;
            }

            IRequestClient<ScoreImages> client = busControl.CreateRequestClient<ScoreImages>(queueAddress, RequestTimeout.After(s: (int)Math.Ceiling(settings.Timeout.TotalSeconds)));
            using var inFlight = new SemaphoreSlim(settings.InFlight);
            using var uploads = new SemaphoreSlim(MaxConcurrentUploads);
            Task<ImageScore[]>[] pending = [.. jobs.Select(job => AwaitJobAsync(job, settings, client, repository, inFlight, uploads, cancellationToken))];
            for (int j = 0; j < jobs.Count; j++)
            {
                ImageScore[] scores = await pending[j];
                for (int i = 0; i < jobs[j].Images.Length; i++)
                {
                    await output.WriteLineAsync(ScoreLine.From(jobs[j].Images[i].Display, scores[i]).ToJson());
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
        PlannedJob job,
        SubmitSettings settings,
        IRequestClient<ScoreImages> client,
        IMessageDataRepository repository,
        SemaphoreSlim inFlight,
        SemaphoreSlim uploads,
        CancellationToken cancellationToken)
    {
        await inFlight.WaitAsync(cancellationToken);
        try
        {
            // By hash, a job the cache cannot answer comes back not_cached (invalid_command from a silo older than
            // hashes): the same job again, with its bytes.
            bool byHash = settings.ByHash && job.Images.Any(input => input.Path is not null);
            while (true)
            {
                ScoreImages command;
                await uploads.WaitAsync(cancellationToken);
                try
                {
                    command = await BuildAsync(job, settings.Metadata, settings.Priority, repository, byHash, cancellationToken);
                }
                finally
                {
                    uploads.Release();
                }

                Response<ImagesScored, ScoreImagesRejected> response = await client.GetResponse<ImagesScored, ScoreImagesRejected>(
                    command, request => request.UseExecute(context => context.SetPriority(settings.Priority)), cancellationToken);
                if (response.Is(out Response<ImagesScored>? scored))
                {
                    return [.. scored.Message.Verdict.Images.OrderBy(s => s.Index)];
                }

                ScoreImagesRejected rejected = response.Is(out Response<ScoreImagesRejected>? r) ? r.Message : throw new InvalidOperationException("Unexpected response.");
                if (byHash && rejected.Code is RejectionCodes.NotCached or RejectionCodes.InvalidCommand)
                {
                    // invalid_command too: the job met the rules here, so only a silo from before hashes refuses it. That
                    // silo recorded the rejection against the job id, which would answer it again: a new id for the bytes.
                    byHash = false;
                    if (rejected.Code == RejectionCodes.InvalidCommand)
                    {
                        job = job with { JobId = NewId.NextGuid().ToString("N") };
                    }

                    continue;
                }

                return Failed(job, rejected.Code, rejected.Reason);
            }
        }
        catch (RequestTimeoutException)
        {
            return Failed(job, "timeout", "No verdict arrived in time; the job may still complete (its id is in the cluster's logs and records).");
        }
        catch (RequestFaultException ex)
        {
            return Failed(job, "faulted", ex.Fault?.Exceptions.FirstOrDefault()?.Message ?? ex.Message);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // One job's failure (an unreadable file, Redis too slow for one upload) is that job's error line, never the run's end.
            ImageError error = Describe(ex);
            return Failed(job, error.Code, error.Message);
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

    private static async Task<ScoreImages> BuildAsync(PlannedJob job, JobMetadata metadata, byte priority, IMessageDataRepository repository, bool byHash, CancellationToken cancellationToken)
    {
        var images = new ImageReference[job.Images.Length];
        var data = new ImageData(repository);
        for (int i = 0; i < images.Length; i++)
        {
            SubmitInput input = job.Images[i];
            if (input.Path is not { } path)
            {
                images[i] = new ImageReference { Name = SubmitInputs.Name(input), Url = input.Url };
                continue;
            }

            byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            images[i] = byHash
                ? new ImageReference { Name = SubmitInputs.Name(input), Sha256 = ContentHash.Of(bytes) }
                : new ImageReference { Name = SubmitInputs.Name(input), Data = await data.OfAsync(bytes, cancellationToken) };
        }

        var command = new ScoreImages
        {
            JobId = job.JobId,
            Images = images,
            Metadata = metadata,
            Priority = priority,
            SubmittedAt = DateTimeOffset.UtcNow,
        };
        return ScoreImagesValidator.Validate(command) is { } problem ? throw new InvalidOperationException($"The job breaks the rules: {problem}") : command;
    }

    private static ImageScore[] Failed(PlannedJob job, string code, string message) =>
        // Scores without a model: the job never reached one.
        [.. job.Images.Select((input, i) => new ImageScore(i, SubmitInputs.Name(input), null, null, null, "", new ImageError(code, message), false, null))];

    private static string Redact(Uri address) =>
        address.UserInfo.Length == 0 ? address.ToString() : address.ToString().Replace(address.UserInfo + "@", "***@", StringComparison.Ordinal);
}
