using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting.Messaging;

/// <summary>The bus ("ArtGrid:Bus"). Connection strings live apart: "ConnectionStrings:RabbitMq" and "ConnectionStrings:Redis".</summary>
public sealed class BusOptions
{
    public const string SectionName = "ArtGrid:Bus";

    /// <summary>The queue that takes <c>ScoreImages</c> commands; every silo consumes from it.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,200}$")]
    public string QueueName { get; set; } = "score-images";

    /// <summary>Unacknowledged messages RabbitMQ hands one silo at a time: the cluster's backpressure.</summary>
    [Range(1, 10_000)]
    public int PrefetchCount { get; set; } = 32;

    /// <summary>Jobs one silo scores at once.</summary>
    [Range(1, 10_000)]
    public int ConcurrentMessageLimit { get; set; } = 16;

    /// <summary>
    /// Attempts after the first for a job that failed for a reason that may pass (Redis or a silo away, a fetch
    /// timing out), with exponential back-off up to <see cref="RetryMaxSeconds"/>; then the message goes to the
    /// "_error" queue with its exception, and a <c>Fault&lt;ScoreImages&gt;</c> is published.
    /// </summary>
    [Range(0, 100)]
    public int RetryLimit { get; set; } = 12;

    [Range(0.01, 3600)]
    public double RetryMinSeconds { get; set; } = 0.5;

    [Range(0.01, 3600)]
    public double RetryMaxSeconds { get; set; } = 30;

    /// <summary>
    /// How long a silo waits for the broker to take a message it publishes (a verdict, a rejection, a reply) before it
    /// gives up and lets the message retry publish again (<see cref="BusDeadline"/>). A healthy broker confirms in
    /// milliseconds.
    /// </summary>
    [Range(0.1, 3600)]
    public double PublishTimeoutSeconds { get; set; } = 15;

    public TimeSpan PublishTimeout => TimeSpan.FromSeconds(PublishTimeoutSeconds);

    /// <summary>
    /// How long a reply the broker returned (no queue at the requester's reply address) is sent again, in the
    /// background (<see cref="Replies"/>). A requester's reply queue is missing while its bus reconnects after a
    /// broker restart, which MassTransit does up to about 40 s after the broker is back; after that, the requester is gone.
    /// </summary>
    [Range(0, 3600)]
    public double ReplyRetrySeconds { get; set; } = 90;

    /// <summary>
    /// Whether a job whose images all travel in the message is scored while this silo cannot reach Redis: without the
    /// result cache, the job record or the author's grain, and published with <c>ImagesScored.Unrecorded</c> set. Off,
    /// such a job fails and is retried by the bus until Redis is back, as every other job is.
    /// </summary>
    public bool ScoreWithoutRedis { get; set; } = true;

    /// <summary>How long claim-checked image bytes stay in Redis.</summary>
    [Range(0.01, 24 * 365)]
    public double MessageDataHours { get; set; } = 24;

    /// <summary>How long job records stay in Redis.</summary>
    [Range(0.01, 24 * 365)]
    public double JobRecordHours { get; set; } = 24 * 7;

    /// <summary>
    /// How many scored images each review queue keeps (all, ai, uncertain, conflict): the newest, by completion time.
    /// An entry whose job record expired is dropped when it is listed.
    /// </summary>
    [Range(1, 10_000_000)]
    public int ReviewQueueLength { get; set; } = RedisJobRecords.DefaultReviewQueueLength;
}
