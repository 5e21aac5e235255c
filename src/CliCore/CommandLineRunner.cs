using System.CommandLine;
using System.CommandLine.Parsing;

namespace ArtGrid.Cli;

/// <summary>
/// Parses and runs a command tree with the README's conventions for every command at once: a parse error (an unknown
/// option or command, a missing argument, a value that does not convert) exits <see cref="ExitCodes.Usage"/> with its
/// message on stderr and nothing on stdout, where System.CommandLine would exit 1 and print help on stdout. An unknown
/// option where a command takes any number of arguments (<c>score --bogus x</c>) is an error too, where
/// System.CommandLine would take it as an argument: an argument that starts with '-' must come after <c>--</c>.
/// </summary>
public static class CommandLineRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ParseResult result = root.Parse(args);
        IReadOnlyList<string> unknown = UnknownOptions(result);
        if (result.Errors.Count > 0 || unknown.Count > 0)
        {
            await ReportAsync(result, unknown, error);
            return ExitCodes.Usage;
        }

        return await result.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    /// <summary>
    /// The command arguments (not option values) that look like options: a token that starts with '-' (and is not "-"
    /// nor a number) before any <c>--</c>.
    /// </summary>
    public static IReadOnlyList<string> UnknownOptions(ParseResult result)
    {
        int doubleDash = result.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        var afterDoubleDash = doubleDash < 0 ? [] : new HashSet<Token>(result.Tokens.Skip(doubleDash + 1), ReferenceEqualityComparer.Instance);
        var unknown = new List<string>();
        for (SymbolResult? s = result.CommandResult; s is not null; s = s.Parent)
        {
            if (s is not CommandResult command)
            {
                continue;
            }

            foreach (ArgumentResult argument in command.Children.OfType<ArgumentResult>())
            {
                unknown.AddRange(argument.Tokens
                    .Where(t => !afterDoubleDash.Contains(t) && t.Value.Length > 1 && t.Value[0] == '-'
                                && !double.TryParse(t.Value, System.Globalization.CultureInfo.InvariantCulture, out _))
                    .Select(t => t.Value));
            }
        }

        return unknown;
    }

    /// <summary>Writes the parse errors of <paramref name="result"/> as "artgrid COMMAND: message" lines and a hint.</summary>
    public static async Task ReportAsync(ParseResult result, IReadOnlyList<string> unknownOptions, TextWriter error)
    {
        string command = CommandPath(result.CommandResult);
        foreach (string option in unknownOptions)
        {
            await error.WriteLineAsync($"{command}: Unrecognized option '{option}' (an argument that starts with '-' goes after '--').");
        }

        foreach (ParseError parseError in result.Errors)
        {
            await error.WriteLineAsync($"{command}: {parseError.Message}");
        }

        await error.WriteLineAsync($"Try '{command} --help'.");
    }

    // "artgrid models activate": the names from the root down to the command that was parsed.
    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? s = command; s is not null; s = s.Parent)
        {
            if (s is CommandResult c)
            {
                names.Add(c.Parent is null ? "artgrid" : c.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
