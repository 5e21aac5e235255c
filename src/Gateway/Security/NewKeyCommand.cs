using ArtGrid.Hosting.Gateway;

namespace ArtGrid.Gateway.Security;

/// <summary>
/// <c>artgrid-gateway new-key [NAME] [SCOPE...]</c>: makes an API key, prints it once (stdout, first line) and the
/// settings that let the gateway accept it (its hash and scopes, as environment variables), which are all the gateway
/// keeps. Scopes default to "score read".
/// </summary>
public static class NewKeyCommand
{
    public static int Run(IReadOnlyList<string> args)
    {
        string name = args.Count > 0 && !Scopes.All.Contains(args[0]) ? args[0] : "default";
        string[] scopes = [.. args.Where(Scopes.All.Contains).Distinct()];
        if (args.Any(a => a != name && !Scopes.All.Contains(a)))
        {
            Console.Error.WriteLine($"usage: artgrid-gateway new-key [NAME] [{string.Join('|', Scopes.All)}]...");
            return 2;
        }

        scopes = scopes.Length > 0 ? scopes : [Scopes.Score, Scopes.Read];
        string key = ApiKeys.NewKey();
        Console.WriteLine(key);
        Console.WriteLine($"# for entry N of ArtGrid:Gateway:ApiKeys (keep the key above secret; the gateway needs only these):");
        Console.WriteLine($"ArtGrid__Gateway__ApiKeys__N__Name={name}");
        Console.WriteLine($"ArtGrid__Gateway__ApiKeys__N__Hash={ApiKeys.Hash(key)}");
        for (int i = 0; i < scopes.Length; i++)
        {
            Console.WriteLine($"ArtGrid__Gateway__ApiKeys__N__Scopes__{i}={scopes[i]}");
        }

        return 0;
    }
}
