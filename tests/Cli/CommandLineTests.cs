using System.Diagnostics;
using Multikernel.Cli.Registry;
using Xunit;
using Xunit.Abstractions;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Cli;

/// <summary>
/// The command line on System.CommandLine: per-command --help, suggestions for a mistyped option,
/// completions, @response files, one token per value, and output that cannot be written. Help and
/// totals come from what the commands and mechanisms declare, never from a pinned list.
/// </summary>
public sealed class CommandLineTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mk-cmdline").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Audit_help_prints_the_options_of_audit_only()
    {
        var (code, o, e) = Run("audit", "--help");
        Assert.Equal(0, code);
        Assert.Empty(e);
        output.WriteLine(o);
        Assert.Contains("multikernel audit [<DESIGN>] [options]", o);
        foreach (var m in Mechanisms.All)
            foreach (var b in m.Model.BoundOptions)
            {
                Assert.Contains(b.Cli, o);
                Assert.Contains($"{m.Name}: {b.Help.Split(' ')[0]}", o); // its help, named for its mechanism (wrapped: the first word)
            }
        foreach (var option in new[] { "--junit", "--json", "--dot", "--load", "--max-states", "--first", "--image" }) Assert.Contains(option, o);
        Assert.DoesNotContain("--vmas", o);      // checkpoint's
        Assert.DoesNotContain("--timeout", o);   // prove's
        Assert.Equal(o, Run("help", "audit").Out);
        Assert.Equal(o, Run("audit", "-h").Out);
    }

    [Fact]
    public void Help_is_generated_from_the_commands_and_what_each_mechanism_declares()
    {
        var (code, o, e) = Run("help");
        Assert.Equal(0, code);
        Assert.Empty(e);
        foreach (var c in Multikernel.Cli.Program.AllCommands()) Assert.Contains($"  {c.Name}", o);
        foreach (var m in Mechanisms.All)
        {
            Assert.Contains($"  {m.Name}:", o);
            foreach (var b in m.Model.BoundOptions) Assert.Contains(b.Help, o); // BoundOption.Help is what help prints
        }
        Assert.Contains("exit: 0 holds, 1 violated, 2 usage or input error, 3 no verdict", o);
        Assert.Equal(o, Run("--help").Out);
        // Every command's own --help works and says what it takes.
        foreach (var c in Multikernel.Cli.Program.AllCommands())
        {
            var (rc, text, err) = Run(c.Name, "--help");
            Assert.True(rc == 0, $"{c.Name} --help: exit {rc}: {err}");
            Assert.Contains(c.Name, text);
            foreach (var opt in c.Options) Assert.Contains(opt.Name, text);
        }
    }

    [Theory]
    [InlineData("--sender", "--senders", "audit", "ipi/ipi-v2")]
    [InlineData("--max-state", "--max-states", "explore", "ipi")]
    [InlineData("--jsno", "--json", "audit", "ipi/ipi-v2")]
    [InlineData("--tiemout", "--timeout", "prove")]
    [InlineData("--confg", "--config", "flags", "x.h")]
    public void A_mistyped_option_gets_the_nearest_one_and_exit_2(string typo, string meant, params string[] before)
    {
        var (code, o, e) = Run([.. before, typo, "2"]);
        OneLineError(code, o, e, $"unknown option '{typo}' (did you mean {meant}?)");
    }

    [Fact]
    public void A_mistyped_command_gets_the_nearest_one_and_an_unknown_option_far_from_any_names_help()
    {
        var (code, o, e) = Run("aduit", "ipi/ipi-v2");
        OneLineError(code, o, e, "unknown command 'aduit' (did you mean audit?)");
        var (far, o2, e2) = Run("audit", "ipi/ipi-v2", "--frobnicate-everything");
        OneLineError(far, o2, e2, "see 'multikernel audit --help'");
        var (extra, o3, e3) = Run("designs", "extra");
        OneLineError(extra, o3, e3, "designs: unexpected argument 'extra'");
    }

    [Theory]
    [InlineData("--handlers", "1 senders=3")]
    [InlineData("--handlers", "1\nsenders=3")]
    [InlineData("--messages", "senders=1")]
    [InlineData("--contexts", "")]
    public void A_value_is_one_token_and_cannot_set_another_bound(string option, string value)
    {
        string design = option == "--contexts" ? "uffd/reference" : "ipi/reference";
        var (code, o, e) = Run("audit", design, "--senders", "1", option, value);
        if (option == "--contexts") (code, o, e) = Run("audit", design, option, value);
        OneLineError(code, o, e, "is not one value");
    }

    [Fact]
    public void An_option_given_twice_or_without_its_value_is_refused()
    {
        var (twice, o, e) = Run("audit", "ipi/ipi-v2", "--senders", "1", "--senders", "2");
        OneLineError(twice, o, e, "audit: --senders is given twice");
        var (none, o2, e2) = Run("explore", "ipi", "--max-states");
        OneLineError(none, o2, e2, "explore: --max-states needs a value");
    }

    [Fact]
    public void A_response_file_stands_for_its_words_and_one_that_names_itself_is_one_line()
    {
        string rsp = Path.Combine(_dir, "audit.rsp");
        File.WriteAllText(rsp, "# the v2 seed, small\nipi/ipi-v2\n--max-states 2000 --threads 1\n");
        var direct = Run("audit", "ipi/ipi-v2", "--max-states", "2000", "--threads", "1");
        var viaFile = Run("audit", "@" + rsp);
        Assert.Equal(direct.Code, viaFile.Code);
        Assert.Contains("multikernel audit ipi/ipi-v2", viaFile.Out);
        static string NoTimes(string s) => string.Join('\n', s.Split('\n').Where(l => !l.Contains(" s on ", StringComparison.Ordinal)));
        Assert.Equal(NoTimes(direct.Out), NoTimes(viaFile.Out));
        string self = Path.Combine(_dir, "self.rsp");
        File.WriteAllText(self, "@" + self + "\n");
        var (code, o, e) = Run("@" + self);
        OneLineError(code, o, e, "response files nested deeper than");
        var (missing, o2, e2) = Run("audit", "@" + Path.Combine(_dir, "none.rsp"));
        OneLineError(missing, o2, e2, "no such file");
    }

    [Fact]
    public void Completions_offer_options_and_design_names()
    {
        var (code, o, _) = Run("[suggest:11]", "audit --sen");
        Assert.Equal(0, code);
        Assert.Contains("--senders", o.Split('\n'));
        var (_, designs, _) = Run("[suggest:12]", "audit uffd/u");
        Assert.Contains("uffd/uffd-v5", designs.Split('\n'));
        var (_, mechanisms, _) = Run("[suggest:10]", "explore b");
        Assert.Contains("balloon", mechanisms.Split('\n'));
    }

    /// <summary>The built program in a child process, its stdout and stderr as the shell sets them.</summary>
    private static (int Code, string Out, string Err) Child(string redirections, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"exec \"$0\" \"$@\" {redirections}");
        psi.ArgumentList.Add(dotnet);
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

    [Fact]
    public void A_full_or_closed_stdout_ends_in_one_line_and_exit_2_never_a_stack_trace()
    {
        if (!File.Exists("/dev/full") || !File.Exists("/bin/sh"))
        {
            output.WriteLine("skipped: this machine has no /dev/full or /bin/sh");
            return;
        }
        foreach (var (redirect, says) in new[] { (">/dev/full", "cannot write to stdout: No space left on device"), (">&-", "cannot write to stdout: Bad file descriptor") })
        {
            foreach (var args in new[] { new[] { "designs" }, new[] { "help" }, new[] { "audit", "ipi/ipi-v2", "--max-states", "500" } })
            {
                var (code, o, e) = Child(redirect, args);
                output.WriteLine($"{redirect} {string.Join(' ', args)}: exit {code}: {e}");
                Assert.Equal(2, code);
                Assert.Empty(o);
                Assert.Equal($"multikernel: {says}", e.TrimEnd('\n'));
            }
        }
        // stderr full too: nothing can be said, still exit 2 and no crash.
        var (both, _, _) = Child(">/dev/full 2>/dev/full", "designs");
        Assert.Equal(2, both);
        // A usage error with stderr full: exit 2, not an abort.
        var (usage, uo, _) = Child("2>/dev/full", "audit", "--bogus");
        Assert.Equal(2, usage);
        Assert.Empty(uo);
        // The same program with a working stdout: exit 0, its output whole.
        var (ok, text, err) = Child("", "designs");
        Assert.Equal(0, ok);
        Assert.Empty(err);
        Assert.Contains("ipi/reference", text);
    }
}
