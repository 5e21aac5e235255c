using System.CommandLine;
using ArtGrid.Cli;

namespace ArtGrid.Tests.Cli;

/// <summary>
/// Parse errors exit 2 with the message on stderr and nothing on stdout, for every command of a tree at once. The tree
/// here has the shapes of artgrid's (a command with any number of paths and a typed option, a group of subcommands,
/// a required argument); the real tree is run as a process by the integration tests.
/// </summary>
public sealed class CommandLineRunnerTests
{
    [Theory]
    [InlineData(new[] { "score", "--bogus", "a.jpg" }, "artgrid score: Unrecognized option '--bogus'")]
    [InlineData(new[] { "score", "a.jpg", "--in-flight", "many" }, "artgrid score: Cannot parse argument 'many' for option '--in-flight'")]
    [InlineData(new[] { "score", "a.jpg", "--in-flight" }, "artgrid score: Required argument missing for option: '--in-flight'")]
    [InlineData(new[] { "score" }, "artgrid score: Required argument missing for command: 'score'")]
    [InlineData(new[] { "jobs" }, "artgrid jobs: Required command was not provided")]
    [InlineData(new[] { "jobs", "get" }, "artgrid jobs get: Required argument missing for command: 'get'")]
    [InlineData(new[] { "jobs", "get", "--nope" }, "artgrid jobs get: Unrecognized option '--nope'")]
    [InlineData(new[] { "jobs", "get", "a", "b" }, "artgrid jobs get: Unrecognized command or argument 'b'")]
    [InlineData(new[] { "nope" }, "artgrid: Unrecognized command or argument 'nope'")]
    public async Task AParseErrorExitsTwoWithItsMessageOnStderrAndNothingOnStdout(string[] args, string message)
    {
        (int exit, string stdout, string stderr, List<string> ran) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.EndsWith("--help'." + Environment.NewLine, stderr, StringComparison.Ordinal);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task AValidCommandLineRunsItsAction()
    {
        (int exit, string stdout, string stderr, List<string> ran) = await RunAsync(["score", "a.jpg", "-", "-1", "--in-flight", "3", "--", "--file-named-so"]);

        Assert.Equal((ExitCodes.Ok, ""), (exit, stderr));
        Assert.Equal("score a.jpg - -1 --file-named-so in-flight=3" + Environment.NewLine, stdout);
        Assert.Equal(["score"], ran);
    }

    [Fact]
    public async Task TheActionsExitCodeIsTheProgramsAndHelpGoesToStdout()
    {
        (int exit, _, _, List<string> ran) = await RunAsync(["jobs", "get", "missing"]);
        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Equal(["get missing"], ran);

        (exit, string stdout, string stderr, _) = await RunAsync(["score", "--help"]);
        Assert.Equal((ExitCodes.Ok, ""), (exit, stderr));
        Assert.Contains("--in-flight", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr, List<string> Ran)> RunAsync(string[] args)
    {
        var ran = new List<string>();
        var paths = new Argument<string[]>("paths") { Arity = ArgumentArity.OneOrMore };
        var inFlight = new Option<int>("--in-flight") { DefaultValueFactory = _ => 64 };
        var score = new Command("score") { paths, inFlight };
        score.SetAction(async (result, _) =>
        {
            ran.Add("score");
            await result.InvocationConfiguration.Output.WriteLineAsync($"score {string.Join(' ', result.GetValue(paths)!)} in-flight={result.GetValue(inFlight)}");
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("id");
        var get = new Command("get") { id };
        get.SetAction(result =>
        {
            ran.Add($"get {result.GetValue(id)}");
            return ExitCodes.Failed;
        });

        var root = new RootCommand("test tree") { score, new Command("jobs") { get } };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await CommandLineRunner.InvokeAsync(root, args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString(), ran);
    }
}
