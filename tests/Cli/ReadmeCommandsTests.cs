using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Multikernel.Tests.Cli;

/// <summary>
/// The docs test: every command line of README.md's code blocks (each `dotnet run --project cli -c Release -- …`
/// line and each `$ multikernel …` line) is run, as built, from the repository's top directory, and must end
/// with the exit code its comment gives ("# exit 1: …"; no "exit" is 0). A comment "(docs test: ARGS, exit N)"
/// is the README saying how the docs test shortens a long example. The `--load MyDesigns/…` lines are
/// ReadmeExamplesTests' (it builds those designs first); `dotnet test` is this suite and `dotnet build` that build.
/// Its examples use the kernel's userfaultfd (differ uffd, check's kernel line): they run in the kernel tests'
/// collection, alone, since two users of userfaultfd and huge pages at once disturb each other.
/// </summary>
[Collection("kernel uffd")]
public sealed partial class ReadmeCommandsTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Multikernel.Verified.sln"))) return d.FullName;
        throw new InvalidOperationException($"no Multikernel.Verified.sln above {AppContext.BaseDirectory}");
    }

    private const string RunPrefix = "dotnet run --project cli -c Release -- ";

    /// <summary>(command line, expected exit) for every example, in the README's order.</summary>
    public static TheoryData<string, int> Examples()
    {
        var data = new TheoryData<string, int>();
        foreach (var (args, exit) in Commands(File.ReadAllText(Path.Combine(Root, "README.md")))) data.Add(args, exit);
        return data;
    }

    internal static IEnumerable<(string Args, int Exit)> Commands(string readme)
    {
        bool inBlock = false;
        foreach (var raw in readme.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal)) { inBlock = !inBlock; continue; }
            if (!inBlock) continue;
            string? command = line.StartsWith(RunPrefix, StringComparison.Ordinal) ? line[RunPrefix.Length..]
                : line.StartsWith("$ multikernel ", StringComparison.Ordinal) ? line["$ multikernel ".Length..] : null;
            if (command is null || command.Contains("MyDesigns/", StringComparison.Ordinal)) continue;
            int hash = command.IndexOf(" #", StringComparison.Ordinal);
            string comment = hash < 0 ? "" : command[(hash + 2)..];
            string args = (hash < 0 ? command : command[..hash]).Trim();
            var shortened = DocsTest().Match(comment);
            if (shortened.Success)
            {
                // "--max-states 200000" in place of the example's own value.
                var words = shortened.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                for (int i = 0; i + 1 < words.Length; i += 2)
                {
                    var given = Regex.Match(args, $@"{Regex.Escape(words[i])} \S+");
                    args = given.Success ? args.Replace(given.Value, $"{words[i]} {words[i + 1]}", StringComparison.Ordinal) : $"{args} {words[i]} {words[i + 1]}";
                }
            }
            var exit = Exit().Match(shortened.Success ? shortened.Value : comment);
            yield return (args, exit.Success ? int.Parse(exit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
        }
    }

    [GeneratedRegex(@"\(docs test: (?<args>[^,)]*)(, exit \d)?\)")]
    private static partial Regex DocsTest();

    [GeneratedRegex(@"\bexit (\d)\b")]
    private static partial Regex Exit();

    [Fact]
    public void The_readme_has_examples_and_every_one_is_read()
    {
        var commands = Commands(File.ReadAllText(Path.Combine(Root, "README.md"))).ToList();
        Assert.True(commands.Count >= 25, $"only {commands.Count} examples found");
        Assert.Contains(commands, c => c.Args == "check" && c.Exit == 0);
        Assert.Contains(commands, c => c.Args.StartsWith("audit ipi/ipi-v2", StringComparison.Ordinal) && c.Exit == 1);
        Assert.Contains(commands, c => c.Args.EndsWith("--max-states 200000", StringComparison.Ordinal) && c.Exit == 3);
        // No example writes into the repository: every file it names is outside it or one of its fixtures.
        Assert.DoesNotContain(commands, c => c.Args.Contains(" --out ", StringComparison.Ordinal) && !c.Args.Contains(" --out /", StringComparison.Ordinal));
    }

    [Fact]
    public void An_example_s_exit_code_and_shortened_bounds_are_read_from_its_comment()
    {
        const string readme = "text\n```sh\n" +
            "dotnet run --project cli -c Release -- audit ipi/ipi-v2       # exit 1: RFC v2\n" +
            "dotnet run --project cli -c Release -- audit ipi/reference    # holds everything\n" +
            "dotnet run --project cli -c Release -- explore ipi --max-states 33000000   # minutes (docs test: --max-states 200000, exit 3)\n" +
            "dotnet run --project cli -c Release -- designs --load MyDesigns/bin/x.dll\n" +
            "dotnet test -c Release\n```\n" +
            "dotnet run --project cli -c Release -- outside a block\n```\n$ multikernel litmus a.litmus\n```\n";
        Assert.Equal(
            [("audit ipi/ipi-v2", 1), ("audit ipi/reference", 0), ("explore ipi --max-states 200000", 3), ("litmus a.litmus", 0)],
            Commands(readme).ToList());
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task A_readme_example_runs_with_the_exit_code_it_gives(string args, int exit)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        var before = Untracked();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(exit == p.ExitCode, $"multikernel {args}: exit {p.ExitCode}, the README says {exit}\n{await err}\n{o[..Math.Min(o.Length, 2000)]}");
        Assert.Equal(before, Untracked()); // nothing written into the repository
    }

    /// <summary>The files git does not know, beside the build's outputs: what an example would have left in the checkout.</summary>
    private static string Untracked()
    {
        if (!Directory.Exists(Path.Combine(Root, ".git")) && !File.Exists(Path.Combine(Root, ".git"))) return "";
        var psi = new ProcessStartInfo("git", ["-C", Root, "status", "--porcelain", "--untracked-files=all"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var p = Process.Start(psi)!;
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return string.Join('\n', o.Split('\n').Where(l => l.StartsWith("??", StringComparison.Ordinal) && !l.Contains("/bin/", StringComparison.Ordinal) && !l.Contains("/obj/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        }
        catch (System.ComponentModel.Win32Exception) { return ""; } // no git here: nothing to compare
    }
}
