using System.Net;
using ArtGrid.Grains;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Caching;
using ArtGrid.Hosting.Images;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Operations;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Persistence;

namespace ArtGrid.Hosting;

public static class ClusterHostingExtensions
{
    /// <summary>
    /// The cluster mode: a silo that joins the others through Redis clustering, keeps job grains in Redis grain
    /// storage, caches scores in Redis and consumes <c>ScoreImages</c> from RabbitMQ. Needs "ConnectionStrings:Redis"
    /// and "ConnectionStrings:RabbitMq"; silo settings come from "ArtGrid:Silo", membership timing from
    /// "Orleans:Membership" (Orleans' <see cref="ClusterMembershipOptions"/>). The silo advertises and listens on
    /// <paramref name="addresses"/>; with "ArtGrid:Silo:Kubernetes" it also runs Orleans' Kubernetes hosting.
    /// </summary>
    public static IHostApplicationBuilder AddArtGridCluster(this IHostApplicationBuilder builder, SiloAddresses addresses)
    {
        IConfiguration configuration = builder.Configuration;
        SiloOptions silo = ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(configuration, SiloOptions.SectionName);
        Uri rabbitMq = configuration.RabbitMqAddress();
        BusOptions bus = ArtGridOptions.Read<BusOptions, BusOptionsValidator>(configuration, BusOptions.SectionName);
        AuthorOptions authors = ArtGridOptions.Read<AuthorOptions, AuthorOptionsValidator>(configuration, AuthorOptions.SectionName);
        RedisConnection redis = builder.Services.AddArtGridRedis(configuration);
        // Started before the snapshots, Orleans and the bus: a command queue that cannot be consumed (declared
        // without its priority) stops the silo before it joins the cluster.
        builder.Services.AddHostedService(sp => new ScoreQueueCheck(rabbitMq, sp.GetRequiredService<IOptions<BusOptions>>(), sp.GetRequiredService<ILogger<ScoreQueueCheck>>()));

        builder.Services.AddArtGridSection<ResultCacheOptions, ResultCacheOptionsValidator>(ResultCacheOptions.SectionName);
        builder.Services.AddSingleton<IResultCache, RedisResultCache>();
        builder.Services.AddSingleton<IJobCompletion, BusJobCompletion>();
        builder.Services.AddSingleton<Replies>();
        builder.Services.AddArtGridImageSources();
        builder.Services.AddSingleton<ImageResolver>();
        builder.Services.AddArtGridGrainServices();
        builder.Services.AddSingleton<JobInstruments>();
        // What the silo says of itself to the gateway's ops view: its meters, summed in-process, in Redis every 2 s.
        builder.Services.AddSingleton<SiloStats>();
        builder.Services.AddHostedService<SiloSnapshotPublisher>();

        void UseSharedConnection(RedisStorageOptions o)
        {
            o.ConfigurationOptions = redis.Options;
            o.CreateMultiplexer = async _ => (await redis.GetAsync(), true);
        }

        builder.UseOrleans(orleans =>
        {
            orleans.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = silo.ClusterId;
                o.ServiceId = silo.ServiceId;
            });
            orleans.Configure<Orleans.Configuration.SiloOptions>(o => o.SiloName = silo.Name ?? Environment.MachineName);
            int siloPort = silo.SiloPort == 0 ? HostingExtensions.FreeTcpPort() : silo.SiloPort;
            int gatewayPort = silo.GatewayPort == 0 ? HostingExtensions.FreeTcpPort() : silo.GatewayPort;
            orleans.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = addresses.Advertised;
                o.SiloPort = siloPort;
                o.GatewayPort = gatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(addresses.Listen, siloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(addresses.Listen, gatewayPort);
            });
            if (silo.Kubernetes)
            {
                // Silo name from the pod, and a watch on the namespace's pods: a silo whose pod is deleted is declared
                // dead at once rather than after the membership's probes time out. Addresses are the ones set above.
                orleans.UseKubernetesHosting();
            }

            orleans.AddArtGridDevices();
            // Trace context crosses grain calls (the gateway's client adds the same on its side).
            orleans.AddActivityPropagation();
            orleans.UseRedisClustering(o =>
            {
                o.ConfigurationOptions = redis.Options;
                o.CreateMultiplexer = async _ => (await redis.GetAsync(), true);
            });
            orleans.AddRedisGrainStorage(JobGrain.StorageName, o =>
            {
                UseSharedConnection(o);
                // A job's state lives as long as its record: that is the window in which a replay is recognised. A job
                // grain writes only while it scores and deactivates minutes later, so expiry never meets a live one.
                o.EntryExpiry = TimeSpan.FromHours(bus.JobRecordHours);
            });
            orleans.AddRedisGrainStorage(AuthorGrain.StorageName, o =>
            {
                UseSharedConnection(o);
                // Every author ever seen would otherwise stay for good. Each write sets the time to live again, so an
                // author is forgotten that long after their last job; the grain starts over with them from then.
                o.EntryExpiry = authors.StorageExpiry;
            });
            // The active version of each model: no expiry, it is the cluster's choice until switched again.
            orleans.AddRedisGrainStorage(ModelCatalogGrain.StorageName, UseSharedConnection);
            orleans.Services.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
            orleans.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(10));
            if (silo.Dashboard)
            {
                // The dashboard's silo side; its pages are on the gateway, behind the admin scope.
                orleans.AddDashboard();
            }
        });

        // After Orleans, so that the bus starts consuming once the silo runs, and stops (draining) before it stops.
        builder.Services.AddMassTransit(transit =>
        {
            transit.AddConsumer<ScoreImagesConsumer, ScoreImagesConsumerDefinition>();
            transit.AddArtGridReadiness();
            transit.AddReceiveEndpointObserver<ScoreQueueFaultObserver>();
            transit.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.UseArtGrid(rabbitMq, context.GetRequiredService<IMessageDataRepository>());
                rabbit.ConfigureEndpoints(context);
            });
        });
        builder.Services.AddHostedService<ReadyAnnouncer>();
        builder.Services.AddArtGridGracefulShutdown(silo);
        return builder;
    }
}
