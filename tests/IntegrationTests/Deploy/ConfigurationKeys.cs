using System.Collections;
using System.Reflection;
using ArtGrid.Hosting;
using ArtGrid.Imaging;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Deploy;

/// <summary>
/// Whether an environment variable a deployment sets names a configuration key that ArtGrid reads: <c>ArtGrid__…</c>
/// keys are walked through the options classes (every class with a <c>SectionName</c> constant, found by reflection,
/// the longest section first; arrays and lists take an index), and the few keys read outside an options class are
/// listed here.
/// </summary>
public static class ConfigurationKeys
{
    /// <summary>The default of <c>ArtGrid:Silo:ShutdownSeconds</c>.</summary>
    public static int ShutdownSecondsDefault => new SiloOptions().ShutdownSeconds;

    /// <summary>Read by the hosts themselves, not through an options class.</summary>
    private static readonly HashSet<string> HostKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "ConnectionStrings:Redis",
        "ConnectionStrings:RabbitMq",
        // ASP.NET Core and the .NET host.
        "Urls",
        "DOTNET_ENVIRONMENT",
        "ASPNETCORE_HTTP_PORTS",
        "DOTNET_ROOT",
        "TMPDIR",
        // The CUDA driver's kernel cache (the CUDA silo image).
        "CUDA_CACHE_PATH",
        // Orleans' Kubernetes hosting (KubernetesHostingOptions' environment variables).
        "POD_NAME",
        "POD_NAMESPACE",
        "POD_IP",
        "ORLEANS_SERVICE_ID",
        "ORLEANS_CLUSTER_ID",
    };

    private static readonly IReadOnlyList<(string Section, Type Type)> Sections = FindSections();

    /// <summary>Null when the variable names a key ArtGrid reads, else why not.</summary>
    public static string? Check(string environmentVariable)
    {
        string key = environmentVariable.Replace("__", ":", StringComparison.Ordinal);
        if (HostKeys.Contains(key) || HostKeys.Contains(environmentVariable))
        {
            return null;
        }

        if (!key.StartsWith("ArtGrid:", StringComparison.OrdinalIgnoreCase))
        {
            return $"{environmentVariable}: not an ArtGrid key nor one the hosts read";
        }

        foreach ((string section, Type type) in Sections)
        {
            if (!key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string[] path = key[(section.Length + 1)..].Split(':');
            return Walk(type, path) ? null : $"{environmentVariable}: {type.Name} has no setting {string.Join(':', path)}";
        }

        return $"{environmentVariable}: no options class binds a section of {key}";
    }

    /// <summary>Whether <c>path</c> leads through settable properties (and indexes into arrays and lists) of <paramref name="type"/>.</summary>
    private static bool Walk(Type type, IReadOnlyList<string> path)
    {
        Type current = type;
        for (int i = 0; i < path.Count; i++)
        {
            Type? element = ElementType(current);
            if (element is not null)
            {
                if (!int.TryParse(path[i], out _))
                {
                    return false;
                }

                current = element;
                continue;
            }

            PropertyInfo? property = current.GetProperty(path[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            // A value needs a setter; a nested section or a list is bound into what the getter returns.
            if (property is null || (IsLeaf(property.PropertyType) && property.SetMethod is not { IsPublic: true }))
            {
                return false;
            }

            current = property.PropertyType;
        }

        // A key ends on a value, or on a list of values (an empty one: "ArtGrid__Inference__Devices=").
        return IsLeaf(current) || (ElementType(current) is { } values && IsLeaf(values));
    }

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[^1]
        : null;

    private static bool IsLeaf(Type type)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(Uri);
    }

    private static List<(string, Type)> FindSections()
    {
        Assembly[] assemblies = [typeof(SiloOptions).Assembly, typeof(InferenceOptions).Assembly, typeof(PreprocessingOptions).Assembly];
        var sections = new List<(string, Type)>();
        foreach (Type type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string section && section.StartsWith("ArtGrid:", StringComparison.Ordinal))
            {
                sections.Add((section, type));
            }
        }

        return [.. sections.OrderByDescending(s => ((string)s.Item1).Length)];
    }
}
