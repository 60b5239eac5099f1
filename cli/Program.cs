using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;

namespace Multikernel.Cli;

/// <summary>
/// The command-line program, on System.CommandLine. Exit codes (docs/ARCHITECTURE.md): 0 every checked invariant
/// holds; 1 a violation was found; 2 usage or input error; 3 a bound or time limit was hit before
/// a verdict. An error is one line on stderr, "multikernel: …".
/// </summary>
public static class Program
{
    /// <summary>The program's own commands; each mechanism adds its own (restore, checkpoint). Adding one is a class and a line here.</summary>
    internal static IReadOnlyList<CliCommand> Commands =>
    [
        new CheckCommand(),
        new AuditCommand(),
        new ExploreCommand(),
        new ProveCommand(),
        new ReplayCommand(),
        new DesignsCommand(),
        new FlagsCommand(),
        new BenchCommand(),
        new SoakCommand(),
        new DifferCommand(),
        new FuzzCommand(),
        new LitmusCommand(),
        new Cluster.NodeCommand(),
        new Web.ServeCommand(),
        new HelpCommand(),
    ];

    /// <summary>Every command: the program's, then each mechanism's.</summary>
    internal static IReadOnlyList<CliCommand> AllCommands() => [.. Commands, .. Mechanisms.All.OfType<IOwnCommands>().SelectMany(m => m.Commands)];

    public static int Main(string[] args)
    {
        // Plain text (no escape codes) unless a terminal takes it; NO_COLOR (any value) and --plain turn colour off.
        bool noColor = Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };
        var stdout = new TerminalWriter(Console.Out, "stdout") { Width = Columns(Console.IsOutputRedirected), Color = !Console.IsOutputRedirected && !noColor };
        var stderr = new TerminalWriter(Console.Error, "stderr") { Color = false };
        // The progress display goes to the raw stderr (its escape codes are its own); whatever is printed erases it first.
        ProgressLine.Enable(Console.Error, live: !Console.IsErrorRedirected, color: !noColor, () => Columns(Console.IsErrorRedirected));
        stdout.BeforeWrite = stderr.BeforeWrite = ProgressLine.Done;
        Console.CancelKeyPress += (_, _) => ProgressLine.Done(); // Ctrl-C: the display erased and the cursor shown again
        try
        {
            int code = Run(args, stdout, stderr);
            stdout.Flush();
            return code;
        }
        catch (OutputBrokenException e)
        {
            // The verdict cannot be delivered: say so on stderr where it still works, and exit 2.
            if (e.Stream != "stderr")
                try { stderr.WriteLine($"multikernel: {e.Message}"); stderr.Flush(); }
                catch (OutputBrokenException) { }
            return (int)ExitCode.Usage;
        }
        finally { ProgressLine.Done(); }
    }

    /// <summary>The width output is laid out to: the terminal's, else COLUMNS when set, else 0 (a pipe: lines as they are).</summary>
    private static int Columns(bool redirected)
    {
        if (!redirected)
            try { if (Console.WindowWidth is > 0 and var w) return w; }
            catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException) { }
        return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int c) && c is > 0 and < 10_000 ? c : 0;
    }

    /// <summary>--plain, every command's: plain text, no colour and no live progress, even at a terminal.</summary>
    internal static readonly Option<bool> PlainOption = new("--plain")
    {
        Arity = ArgumentArity.Zero,
        Recursive = true,
        Description = "plain text: no colour, no live progress (as in a pipe or with NO_COLOR set)",
    };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // A caller's writer (a test's) gets what a pipe gets: plain text, Paint's marks dropped.
        if (stdout is not TerminalWriter) stdout = new TerminalWriter(stdout, "stdout");
        if (stderr is not TerminalWriter) stderr = new TerminalWriter(stderr, "stderr");
        Mechanisms.NotesTo(stderr); // --load names the classes it skips there
        try
        {
            if (args.Length == 0) throw new UsageException("which command? (see 'multikernel help')");
            var commands = AllCommands();
            var (root, built) = Build(commands);
            var parse = root.Parse(args, Parsing);
            if (root.Directives.OfType<SuggestDirective>().Any(d => parse.GetResult(d) is not null))
            {
                parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
                return 0;
            }
            var which = built.FirstOrDefault(b => b.Symbol == parse.CommandResult.Command);
            if (parse.GetValue(PlainOption))
            {
                if (stdout is TerminalWriter t) t.Color = false;
                ProgressLine.Plain();
            }
            if (parse.Action is HelpAction)
            {
                if (which is null) stdout.Write(Help(commands));
                else WriteHelp(parse, stdout);
                return 0;
            }
            if (parse.Errors.Count > 0) throw new UsageException(ErrorLine(parse, which));
            if (which is null) throw new UsageException("which command? (see 'multikernel help')");
            return which.Command.Run(new Args(which.Command.Name, parse, which.Options, which.Arguments), stdout);
        }
        catch (Multikernel.Properties.Explorer.SpecException e)
        {
            // A design whose initial states throw: its author's error, reported as input, in one line.
            stderr.WriteLine($"multikernel: {OneLine(e.Message)}");
            return (int)ExitCode.Usage;
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"multikernel: {OneLine(e.Message)}");
            return (int)ExitCode.Usage;
        }
        catch (Multikernel.Distributed.NodeLostException e)
        {
            // A node of a cluster run died or left: no verdict, as for a bound (exit 3).
            stderr.WriteLine($"multikernel: {OneLine(e.Message)}");
            return (int)ExitCode.NoVerdict;
        }
    }

    /// <summary>How the command line is read: @FILE by <see cref="ResponseFiles"/>, which bounds nesting.</summary>
    internal static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = ResponseFiles.TryReplace };

    /// <summary>A command as System.CommandLine holds it, with its options by name.</summary>
    internal sealed record Built(CliCommand Command, Command Symbol, IReadOnlyDictionary<string, Option> Options, IReadOnlyList<Argument> Arguments);

    internal static (RootCommand Root, IReadOnlyList<Built> Commands) Build(IReadOnlyList<CliCommand> commands)
    {
        var root = new RootCommand("multikernel: specifications, implementations and proofs of kernel mechanisms") { HelpName = "multikernel" };
        root.Add(PlainOption);
        var built = new List<Built>();
        foreach (var c in commands)
        {
            if (built.Any(b => b.Command.Name == c.Name)) throw new InvalidOperationException($"two commands are named {c.Name}");
            var symbol = new Command(c.Name, c.Summary);
            var options = new Dictionary<string, Option>(StringComparer.Ordinal);
            foreach (var spec in c.Options)
            {
                Option option = spec.Kind switch
                {
                    OptionKind.Flag => new Option<bool>(spec.Name) { Arity = ArgumentArity.Zero },
                    OptionKind.Repeated => new Option<string[]>(spec.Name) { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false, HelpName = spec.ValueName },
                    _ => new Option<string>(spec.Name) { Arity = ArgumentArity.ExactlyOne, HelpName = spec.ValueName },
                };
                option.Description = spec.Kind == OptionKind.Repeated ? spec.Help + " (repeatable)" : spec.Help;
                if (!options.TryAdd(spec.Name, option)) throw new InvalidOperationException($"{c.Name} declares {spec.Name} twice");
                symbol.Add(option);
            }
            var arguments = new List<Argument>();
            foreach (var a in c.Arguments)
            {
                var argument = new Argument<string>(a.Name) { Arity = ArgumentArity.ZeroOrOne, Description = a.Help, HelpName = a.Name };
                if (a.Candidates is { } candidates) argument.CompletionSources.Add(_ => candidates().Select(w => new CompletionItem(w)));
                arguments.Add(argument);
                symbol.Add(argument);
            }
            root.Add(symbol);
            built.Add(new Built(c, symbol, options, arguments));
        }
        return (root, built);
    }

    /// <summary>The first parse error as one line: an unknown option with the nearest one the command takes.</summary>
    private static string ErrorLine(ParseResult parse, Built? which)
    {
        // A response file that cannot be read has no symbol: say so first.
        foreach (var e in parse.Errors)
            if (e.SymbolResult is null) return e.Message.TrimEnd('.');
        string where = which is null ? "" : which.Command.Name + ": ";
        foreach (var e in parse.Errors)
            if (e.SymbolResult is OptionResult r)
                return r.Tokens.Count == 0 ? $"{where}{r.Option.Name} needs a value" : $"{where}{r.Option.Name} is given twice";
        if (parse.UnmatchedTokens is [var token, ..])
        {
            string shown = BoundsText.Clip(token);
            if (which is null)
                return $"unknown command '{shown}'{Suggest(token, parse.RootCommandResult.Command.Subcommands.Select(c => c.Name), " (did you mean {0}?)", " (see 'multikernel help')")}";
            if (token.StartsWith('-') && token.Length > 1)
                return $"{where}unknown option '{shown}'{Suggest(token.Split('=')[0], which.Options.Keys, " (did you mean {0}?)", $" (see 'multikernel {which.Command.Name} --help')")}";
            return $"{where}unexpected argument '{shown}'";
        }
        if (which is null) return "which command? (see 'multikernel help')";
        return where + parse.Errors[0].Message.TrimEnd('.');
    }

    /// <summary>The nearest name (edit distance at most a third of its length, at least 2), or the fallback text.</summary>
    internal static string Suggest(string typed, IEnumerable<string> names, string format, string fallback)
    {
        var best = names.Select(n => (Name: n, Distance: Distance(typed, n)))
            .Where(x => x.Distance <= Math.Max(2, x.Name.Length / 3)).OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).ToList();
        return best.Count == 0 ? fallback : string.Format(System.Globalization.CultureInfo.InvariantCulture, format, best[0].Name);
    }

    private static int Distance(string a, string b)
    {
        if (a.Length > 64) return int.MaxValue;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>An error stays one line: control characters (newlines too) are shown escaped, never sent to the terminal.</summary>
    internal static string OneLine(string s) => Printable.Line(s, 400);

    /// <summary>A command's --help, from what it declares (System.CommandLine's help of the parsed command).</summary>
    internal static void WriteHelp(ParseResult parse, TextWriter o)
    {
        // System.CommandLine lays its columns out itself: to the terminal's width, so that the writer need not wrap them again.
        if (parse.Action is HelpAction help) help.MaxWidth = o is TerminalWriter { Width: > 40 and var w } ? Math.Min(w, 110) : 110;
        parse.Invoke(new InvocationConfiguration { Output = o, Error = o });
    }

    /// <summary>'help': every command, each mechanism's bounds, the limits and the exit codes, all from what they declare.</summary>
    internal static string Help(IReadOnlyList<CliCommand> commands)
    {
        var sb = new StringBuilder();
        sb.AppendLine("usage: multikernel <command> [options]     multikernel <command> --help: that command's options");
        sb.AppendLine("       arguments may come from a file: multikernel @FILE (one or more per line)");
        sb.AppendLine("       --plain (any command): plain text, no colour, no live progress; so are a pipe and NO_COLOR");
        sb.AppendLine();
        sb.AppendLine("commands:");
        foreach (var c in commands)
        {
            string synopsis = string.Join(' ', new[] { c.Name }.Concat(c.Arguments.Select(a => a.Name)));
            Row(sb, "  ", synopsis, c.Summary, 24);
        }
        sb.AppendLine();
        sb.AppendLine("bounds (audit, explore), per mechanism:");
        foreach (var m in Mechanisms.All)
        {
            sb.AppendLine($"  {m.Name}:");
            foreach (var b in m.Model.BoundOptions) Row(sb, "    ", b.Flag is null ? $"{b.Cli} N" : b.Cli, b.Help, 20);
        }
        sb.AppendLine();
        sb.AppendLine("a counterexample or the design as a mechanism's own files (audit DESIGN OPTION FILE):");
        foreach (var m in Mechanisms.All)
            foreach (var x in (m as ITraceArtifacts)?.Artifacts ?? []) Row(sb, "  ", $"{x.Option} FILE", $"{m.Name}: {x.Help}", 20);
        foreach (var m in Mechanisms.All)
            foreach (var x in (m as IDesignExports)?.Exports ?? []) Row(sb, "  ", $"{x.Option} FILE", $"{m.Name}: {x.Help}", 20);
        sb.AppendLine();
        sb.AppendLine("limits (check, audit, explore):");
        foreach (var l in Limits.Options) Row(sb, "  ", l.Kind == OptionKind.Flag ? l.Name : $"{l.Name} {l.ValueName}", l.Help, 20);
        sb.AppendLine();
        sb.AppendLine("exit: 0 holds, 1 violated, 2 usage or input error, 3 no verdict (bound hit, proof undecided, header line not evaluable)");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string indent, string left, string right, int width) =>
        sb.AppendLine(left.Length < width ? $"{indent}{left.PadRight(width)} {right}" : $"{indent}{left}\n{indent}{new string(' ', width)} {right}");
}

/// <summary>help [COMMAND]: every command and bound, or one command's options (as COMMAND --help).</summary>
internal sealed class HelpCommand : CliCommand
{
    public override string Name => "help";
    public override string Summary => "this text; help COMMAND: that command's options (as COMMAND --help)";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("[COMMAND]", "the command to describe", () => Program.AllCommands().Select(c => c.Name))];
    public override IEnumerable<OptionSpec> Options => [];

    public override int Run(Args a, TextWriter o)
    {
        var commands = Program.AllCommands();
        if (a.Positionals.FirstOrDefault() is not { } name) { o.Write(Program.Help(commands)); return 0; }
        if (commands.All(c => c.Name != name))
            throw new UsageException($"help: unknown command '{BoundsText.Clip(name)}'{Program.Suggest(name, commands.Select(c => c.Name), " (did you mean {0}?)", "")}");
        var (root, _) = Program.Build(commands);
        Program.WriteHelp(root.Parse([name, "--help"], Program.Parsing), o);
        return 0;
    }
}
