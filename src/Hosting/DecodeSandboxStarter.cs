using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting;

/// <summary>Starts the decode workers with the host, so that a host that cannot decode fails at start-up, not on its first image.</summary>
internal sealed class DecodeSandboxStarter(IOptions<PreprocessingOptions> options, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.Isolation == DecodeIsolation.Sandbox
            ? services.GetRequiredService<DecodeSandbox>().StartAsync(cancellationToken)
            : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
