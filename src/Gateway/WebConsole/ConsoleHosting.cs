using System.Security.Claims;
using ArtGrid.Gateway.Security;
using ArtGrid.Hosting.Gateway;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace ArtGrid.Gateway.WebConsole;

/// <summary>
/// The console's sign-in and pages. A person signs in with an API key once (<c>POST /console/login</c>); the gateway
/// answers with an HttpOnly, SameSite=Strict cookie that carries the key's name, scopes and hash (never the key), and
/// the console's scripts then call the same <c>/v1</c> routes as any client, authorized by the same scope policies.
/// The cookie is checked against the configured keys on every request, so removing a key signs its sessions out.
/// Requests that change something and are authorized by the cookie must carry <c>X-ArtGrid-Console: 1</c>: a header
/// that a page of another site cannot add without the gateway's consent (CORS), on top of SameSite.
/// The pages and their scripts are embedded in the gateway and served from <c>/console/</c> with a strict CSP.
/// </summary>
public static partial class ConsoleHosting
{
    public const string CookieScheme = "Console";

    /// <summary>The scheme that routes use: the API key when a request carries one, else the console's cookie.</summary>
    public const string DefaultScheme = "ApiKeyOrConsole";

    public const string CsrfHeader = "X-ArtGrid-Console";

    private const string KeyHashClaim = "artgrid:key-hash";

    /// <summary>Where the gateways keep the key ring that protects the session cookies (ASP.NET Core data protection).</summary>
    public const string KeyRingRedisKey = "artgrid:gateway:data-protection-keys";

    /// <summary>The console's pages, by route under /console/, each with the scopes that may open it (any of them).</summary>
    private static readonly Dictionary<string, (string File, string[] Scopes)> Pages = new(StringComparer.Ordinal)
    {
        ["review"] = ("review.html", [Scopes.Read, Scopes.Review]),
        ["ops"] = ("ops.html", [Scopes.Admin]),
    };

    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static AuthenticationBuilder AddArtGridAuthentication(this IServiceCollection services) =>
        services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "API key or console session", o => o.ForwardDefaultSelector = context =>
                HasApiKey(context.Request) || !context.Request.Cookies.ContainsKey(CookieName)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.Cookie.Path = "/";
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.LoginPath = "/console/login";
                o.Events.OnValidatePrincipal = ValidateSessionAsync;
                // Routes answer problems, as for a missing or weak API key (the console's scripts then go to the sign-in
                // page); the pages check the session themselves and redirect.
                o.Events.OnRedirectToLogin = context =>
                    GatewayProblems.WriteAsync(context.HttpContext, GatewayProblems.Unauthorized, "This route needs an API key or a console session.");
                o.Events.OnRedirectToAccessDenied = context =>
                    GatewayProblems.WriteAsync(context.HttpContext, GatewayProblems.Forbidden, "The console session's key does not hold the scope this route needs.");
            });

    /// <summary>The cookie's name: the console's session, nothing else.</summary>
    public const string CookieName = "artgrid_console";

    public static WebApplication UseArtGridConsoleGuard(this WebApplication app)
    {
        // After authentication: a change authorized by the console's cookie must come from the console's own scripts.
        app.Use(async (context, next) =>
        {
            bool unsafeMethod = !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method));
            if (unsafeMethod
                && context.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieScheme }
                && context.Request.Headers[CsrfHeader] != "1")
            {
                await GatewayProblems.WriteAsync(context, GatewayProblems.Forbidden, $"A change made with the console's session must carry the header {CsrfHeader}: 1.");
                return;
            }

            await next(context);
        });
        return app;
    }

    public static WebApplication MapArtGridConsole(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(ConsoleHosting).Assembly, "ArtGrid.Gateway.WebConsole.wwwroot");
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = "/console",
            OnPrepareResponse = file => SecureHeaders(file.Context.Response),
        });

        app.MapGet("/console", () => Results.Redirect("/console/review")).ExcludeFromDescription();
        app.MapGet("/console/login", (HttpContext context) => PageAsync(context, files, "login.html")).ExcludeFromDescription();
        app.MapPost("/console/login", SignInAsync).DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/console/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieScheme);
            return Results.NoContent();
        }).ExcludeFromDescription();
        app.MapGet("/console/session", (ClaimsPrincipal user) => Results.Ok(new ConsoleSession(
                user.Identity?.Name ?? "",
                [.. user.FindAll(Scopes.ClaimType).Select(c => c.Value)])))
            .RequireAuthorization(new Microsoft.AspNetCore.Authorization.AuthorizeAttribute { AuthenticationSchemes = CookieScheme })
            .ExcludeFromDescription();
        foreach ((string route, (string file, string[] scopes)) in Pages)
        {
            app.MapGet("/console/" + route, async context =>
            {
                AuthenticateResult session = await context.AuthenticateAsync(CookieScheme);
                if (!session.Succeeded)
                {
                    context.Response.Redirect("/console/login?returnUrl=" + Uri.EscapeDataString(context.Request.Path));
                    return;
                }

                if (!scopes.Any(scope => Holds(session.Principal!, scope)))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    await PageAsync(context, files, "forbidden.html");
                    return;
                }

                await PageAsync(context, files, file);
            }).ExcludeFromDescription();
        }

        return app;
    }

    /// <summary>Whether <paramref name="user"/> holds <paramref name="scope"/> (admin holds every scope).</summary>
    public static bool Holds(ClaimsPrincipal user, string scope) =>
        user.HasClaim(Scopes.ClaimType, scope) || user.HasClaim(Scopes.ClaimType, Scopes.Admin);

    private static async Task<IResult> SignInAsync(HttpContext context, IOptionsMonitor<GatewayOptions> gateway)
    {
        IFormCollection form = await context.Request.ReadFormAsync();
        string key = form["key"].ToString().Trim();
        string returnUrl = LocalOrDefault(form["returnUrl"].ToString());
        ApiKeyOptions? match = string.IsNullOrEmpty(key) ? null : ApiKeys.Find(gateway.CurrentValue.ApiKeys, ApiKeys.HashBytes(key));
        if (match is null)
        {
            LogRefused(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ArtGrid.Gateway.WebConsole"), context.Connection.RemoteIpAddress?.ToString() ?? "");
            return Results.Redirect("/console/login?error=unknown-key&returnUrl=" + Uri.EscapeDataString(returnUrl));
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, match.Name), new(KeyHashClaim, match.Hash.ToLowerInvariant()) };
        claims.AddRange(match.Scopes.Select(scope => new Claim(Scopes.ClaimType, scope)));
        await context.SignInAsync(CookieScheme, new ClaimsPrincipal(new ClaimsIdentity(claims, CookieScheme)));
        return Results.Redirect(returnUrl);
    }

    // A session lives only as long as its key is configured, with the scopes it has now.
    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext context)
    {
        GatewayOptions gateway = context.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<GatewayOptions>>().CurrentValue;
        string? hash = context.Principal?.FindFirst(KeyHashClaim)?.Value;
        ApiKeyOptions? key = hash is null ? null : ApiKeys.Find(gateway.ApiKeys, Convert.FromHexString(hash));
        HashSet<string> held = [.. context.Principal!.FindAll(Scopes.ClaimType).Select(c => c.Value)];
        if (key is null || !held.SetEquals(key.Scopes))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
        }
    }

    private static bool HasApiKey(HttpRequest request) =>
        request.Headers.Authorization.Count > 0 || request.Headers.ContainsKey("X-Api-Key");

    // Only a path of this gateway: never "//host" or a scheme, so that signing in cannot send anyone elsewhere.
    private static string LocalOrDefault(string returnUrl) =>
        returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl
            : "/console/review";

    private static async Task PageAsync(HttpContext context, IFileProvider files, string name)
    {
        IFileInfo file = files.GetFileInfo(name);
        SecureHeaders(context.Response);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using Stream stream = file.CreateReadStream();
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static void SecureHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
    }

    [LoggerMessage(EventId = 7010, Level = LogLevel.Warning, Message = "Console sign-in refused: unknown key (from {Remote})")]
    private static partial void LogRefused(ILogger logger, string remote);
}

/// <summary>Who the console is signed in as: the key's name and scopes.</summary>
public sealed record ConsoleSession(string Name, IReadOnlyList<string> Scopes);
