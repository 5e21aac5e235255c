namespace ArtGrid.Cli;

/// <summary>
/// The exit codes of every <c>artgrid</c> command (README, "Commands"): 0 done (per-image errors included, unless
/// <c>--fail-on-error</c>), 1 failed (the one thing asked for could not be produced: an image of <c>explain</c>, a job
/// <c>jobs get</c> does not find, any image of <c>score --fail-on-error</c>), 2 usage (a parse error, a bad value), 3
/// set-up (model, configuration, a server that cannot be reached), 4 refused by the gateway (401: no or unknown API
/// key; 403: the key lacks the scope).
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Setup = 3;
    public const int Refused = 4;
}
