using System.Security.Claims;
using System.Text.Encodings.Web;
using ArtGrid.Hosting.Gateway;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ArtGrid.Gateway.Security;

/// <summary>
/// Authenticates a request by its API key, from <c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>: the
/// key's hash is looked up among <see cref="GatewayOptions.ApiKeys"/>, and the key's scopes become claims. A request
/// without a key is anonymous (and refused by every route that needs a scope); one with an unknown key fails.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptionsMonitor<GatewayOptions> gateway) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        if (Request.Headers.Authorization.ToString() is { Length: > 7 } authorization && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization[7..].Trim();
        }
        else if (Request.Headers["X-Api-Key"].ToString() is { Length: > 0 } header)
        {
            key = header.Trim();
        }

        if (string.IsNullOrEmpty(key))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (ApiKeys.Find(gateway.CurrentValue.ApiKeys, ApiKeys.HashBytes(key)) is { } match)
        {
            var claims = new List<Claim> { new(ClaimTypes.Name, match.Name) };
            claims.AddRange(match.Scopes.Select(scope => new Claim(Scopes.ClaimType, scope)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }

        LogUnknownKey(Logger, Request.Method, Request.Path);
        return Task.FromResult(AuthenticateResult.Fail("The API key is not known."));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return GatewayProblems.WriteAsync(Context, GatewayProblems.Unauthorized, "This route needs an API key: send it as 'Authorization: Bearer KEY'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        GatewayProblems.WriteAsync(Context, GatewayProblems.Forbidden, "The API key does not hold the scope this route needs.");

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Unknown API key on {Method} {Path}")]
    private static partial void LogUnknownKey(ILogger logger, string method, string path);
}
