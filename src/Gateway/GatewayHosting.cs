using System.Threading.RateLimiting;
using ArtGrid.Gateway.WebConsole;
using ArtGrid.Gateway.Jobs;
using ArtGrid.Gateway.Review;
using ArtGrid.Gateway.Operations;
using ArtGrid.Gateway.Security;
using ArtGrid.Hosting;
using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Operations;
using ArtGrid.Hosting.Review;
using ArtGrid.Hosting.Webhooks;
using MassTransit;
using Orleans.Dashboard;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ArtGrid.Gateway;

/// <summary>
/// The gateway's wiring: an Orleans client of the cluster (Redis clustering) and a bus client (RabbitMQ, the Redis
/// claim check), API-key authentication (or the console's session) with one policy per scope, a token bucket per key,
/// problem details for every error, the OpenAPI document, the routes and the console. Needs "ConnectionStrings:Redis" and "ConnectionStrings:RabbitMq", and
/// the cluster's "ArtGrid:Silo:ServiceId"/"ClusterId".
/// </summary>
public static partial class GatewayHosting
{
    public const string RateLimitPolicy = "per-key";

    /// <summary>Where the Orleans Dashboard is served (scope admin).</summary>
    public const string DashboardPath = "/dashboard";

    public static WebApplicationBuilder AddArtGridGateway(this WebApplicationBuilder builder)
    {
        IConfiguration configuration = builder.Configuration;
        GatewayOptions gateway = configuration.ReadGatewayOptions();
        builder.Services.AddArtGridGatewayOptions();
        string serviceId = configuration.GetValue("ArtGrid:Silo:ServiceId", "artgrid")!;
        string clusterId = configuration.GetValue("ArtGrid:Silo:ClusterId", "artgrid")!;
        builder.AddArtGridConsoleLogging(LogLevel.Information);
        builder.AddArtGridObservability("artgrid-gateway");
        RedisConnection redis = builder.Services.AddArtGridRedis(configuration);
        // Ready: Redis answers, the bus is connected (MassTransit's check), and a silo of the cluster answers.
        builder.Services.AddHealthChecks()
            .AddArtGridRedisPing()
            .AddCheck<ClusterHealthCheck>("cluster", tags: [OperationsExtensions.ReadyTag]);
        builder.UseOrleansClient(client =>
        {
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ServiceId = serviceId;
                o.ClusterId = clusterId;
            });
            client.UseRedisClustering(o =>
            {
                o.ConfigurationOptions = redis.Options;
                o.CreateMultiplexer = async _ => (await redis.GetAsync(), true);
            });
            // A job's trace goes on from the HTTP request into the grains it calls.
            client.AddActivityPropagation();
            // The Orleans Dashboard's pages and API, served here (admin scope) from the silos' dashboard grains; no live
            // log streaming: the gateway's log is not for the browser.
            client.AddDashboard(o => o.HideTrace = true);
        });
        Uri rabbitMq = configuration.RabbitMqAddress();
        builder.Services.AddArtGridWebhooks(configuration);
        builder.Services.AddMassTransit(bus =>
        {
            // The gateways deliver the webhooks of the jobs they accept, as competing consumers of one queue.
            bus.AddArtGridWebhookConsumers();
            bus.AddArtGridReadiness();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.UseArtGrid(rabbitMq, context.GetRequiredService<IMessageDataRepository>());
                rabbit.ConfigureEndpoints(context);
            });
        });

        bool acceptUrls = configuration.GetValue<bool>("ArtGrid:UrlFetch:Enabled");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new JobReader(sp.GetRequiredService<IOptions<GatewayOptions>>().Value, acceptUrls));
        builder.Services.AddSingleton(sp => new ScoreQueueAddress(rabbitMq, sp.GetRequiredService<IOptions<BusOptions>>().Value.QueueName));
        builder.Services.AddSingleton<JobSubmitter>();
        builder.Services.AddSingleton<IntakeStatusCache>();
        builder.Services.AddSingleton<GatewayServices>();
        builder.Services.AddSingleton(sp => new ReviewStore(
            redis,
            sp.GetRequiredService<RedisJobRecords>(),
            sp.GetRequiredService<IMessageDataRepository>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.ReviewsKept));
        builder.Services.AddArtGridOps(rabbitMq);

        // Kestrel's own ceiling; each job route lowers it to MaxRequestBytes for its body.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = Math.Max(gateway.MaxRequestBytes, 1024 * 1024));
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = GatewayProblems.Customize);
        builder.Services.AddExceptionHandler<GatewayExceptionHandler>();
        // The API key on every request, or the console's session cookie (signed in with a key): the same claims. The
        // cookie is protected with a key ring kept in Redis, so that every gateway of a deployment (and one restarted)
        // reads the sessions the others signed.
        builder.Services.AddArtGridAuthentication();
        builder.Services.AddDataProtection()
            .SetApplicationName("artgrid-gateway")
            .PersistKeysToStackExchangeRedis(() => redis.GetDatabaseAsync().GetAwaiter().GetResult(), ConsoleHosting.KeyRingRedisKey);
        builder.Services.AddAuthorization(o =>
        {
            foreach (string scope in Scopes.All)
            {
                o.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                    context.User.HasClaim(Scopes.ClaimType, scope) || context.User.HasClaim(Scopes.ClaimType, Scopes.Admin)));
            }
        });
        builder.Services.AddRateLimiter(o =>
        {
            o.AddPolicy(RateLimitPolicy, context =>
            {
                RateLimitOptions limit = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RateLimit;
                string partition = context.User.Identity?.Name ?? "anonymous:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.Permits,
                    TokensPerPeriod = limit.Permits,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(limit.PeriodSeconds),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = (context, _) =>
            {
                TimeSpan wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter)
                    ? retryAfter
                    : TimeSpan.FromSeconds(context.HttpContext.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RateLimit.PeriodSeconds);
                return new ValueTask(GatewayProblems.WriteAsync(context.HttpContext, GatewayProblems.RateLimited, "This API key has used its requests for now.", wait));
            };
        });
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ArtGrid moderation API";
            document.Info.Description = "Errors are RFC 9457 problem details; their `type` is one of: "
                + string.Join(", ", GatewayProblems.All.Select(p => $"`{p.Type}` ({p.Status})")) + ".";
            return Task.CompletedTask;
        }));
        return builder;
    }

    public static WebApplication MapArtGridGateway(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseArtGridConsoleGuard();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapOpenApi();
        app.MapArtGridConsole();
        app.MapArtGridOperations(metricsPolicy: Scopes.Admin);
        app.MapArtGridJobs();
        app.MapArtGridModels();
        app.MapArtGridReview();
        app.MapArtGridOps();
        app.MapOrleansDashboard(DashboardPath).RequireAuthorization(Scopes.Admin).ExcludeFromDescription();
        if (app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.ApiKeys.Length == 0)
        {
            LogNoKeys(app.Logger);
        }

        return app;
    }

    [LoggerMessage(EventId = 7000, Level = LogLevel.Warning, Message = "No API key is configured (ArtGrid:Gateway:ApiKeys): every route that needs one answers 401. Make one with `artgrid-gateway new-key`.")]
    private static partial void LogNoKeys(ILogger logger);
}

/// <summary>
/// Unhandled exceptions as problems: a body over the limit is 413, a malformed one 400, a cluster, broker or Redis
/// that cannot be reached 503, a Redis that is full (its maxmemory, with no eviction) 503, the gateway's own disk full
/// (the review export's temporary file) 503, a saturated device 503 with its retry hint; anything else 500, its details
/// logged and never answered.
/// </summary>
internal sealed partial class GatewayExceptionHandler(ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        (ProblemType problem, string detail, TimeSpan? retryAfter) = exception switch
        {
            BadHttpRequestException { StatusCode: 413 } => (GatewayProblems.RequestTooLarge, "The request body is over the gateway's limit.", (TimeSpan?)null),
            BadHttpRequestException bad => (GatewayProblems.InvalidRequest, bad.Message, null),
            OverloadedException overloaded => (GatewayProblems.Overloaded, overloaded.Message, overloaded.RetryAfter),
            StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException => (GatewayProblems.Unavailable, "Redis cannot be reached.", TimeSpan.FromSeconds(5)),
            StackExchange.Redis.RedisServerException full when full.Message.StartsWith("OOM", StringComparison.Ordinal)
                => (GatewayProblems.Unavailable, "Redis, which keeps job records and claim-checked images, is full (its maxmemory); nothing was taken.", TimeSpan.FromSeconds(30)),
            Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException or TimeoutException
                => (GatewayProblems.Unavailable, "The cluster or the broker did not answer in time.", TimeSpan.FromSeconds(5)),
            BrokerUnavailableException or RabbitMQ.Client.Exceptions.BrokerUnreachableException or MassTransit.RabbitMqConnectionException
                => (GatewayProblems.Unavailable, "The message broker cannot be reached; nothing was taken.", TimeSpan.FromSeconds(5)),
            ScoreQueueMismatchException
                => (GatewayProblems.Unavailable, "The job queue awaits a one-time migration (see the gateway's log); nothing was taken.", TimeSpan.FromSeconds(60)),
            IOException full when DiskFull.Is(full)
                => (GatewayProblems.Unavailable, $"The gateway's disk is full: no space left for a temporary file in {Path.GetTempPath()} (TMPDIR).", TimeSpan.FromSeconds(60)),
            _ => (GatewayProblems.InternalError, "The gateway failed; the error is in its log under this trace id.", null),
        };
        if (problem == GatewayProblems.InternalError || problem == GatewayProblems.Unavailable)
        {
            LogFailed(context.Request.Method, context.Request.Path, exception);
        }

        await GatewayProblems.WriteAsync(context, problem, detail, retryAfter);
        return true;
    }

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private partial void LogFailed(string method, string path, Exception exception);
}
