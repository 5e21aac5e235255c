namespace ArtGrid.Cli;

/// <summary>A command line that parsed but asks for something that cannot be: the command exits <see cref="ExitCodes.Usage"/>.</summary>
public sealed class UsageException(string message) : Exception(message);
