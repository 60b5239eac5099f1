namespace Multikernel.Cli.CommandLine;

/// <summary>How an option takes its value: one token, none (a flag), or one token per occurrence, repeatable.</summary>
internal enum OptionKind { Valued, Flag, Repeated }

/// <summary>An option a command takes: its name as typed, what it means (for --help), how it takes a value, the value's name.</summary>
internal sealed record OptionSpec(string Name, string Help, OptionKind Kind = OptionKind.Valued, string ValueName = "N")
{
    public static OptionSpec Flag(string name, string help) => new(name, help, OptionKind.Flag);
}

/// <summary>A positional argument: its name in help, what it means, and (for completion) the words it may be.</summary>
internal sealed record ArgumentSpec(string Name, string Help, Func<IEnumerable<string>>? Candidates = null);

/// <summary>
/// One command of the program. A command is this class and one line in <see cref="Program.Commands"/>
/// (or in a mechanism's <c>Commands</c>): it declares its arguments and options, which
/// System.CommandLine parses (per-command --help, suggestions, completions, @response files),
/// and runs on what was parsed. Every positional is optional to the parser, so a missing one is
/// said by the command, in its own words.
/// </summary>
internal abstract class CliCommand
{
    /// <summary>The word that names the command: audit, explore, restore.</summary>
    public abstract string Name { get; }
    /// <summary>One line, for 'help' and the first line of --help.</summary>
    public abstract string Summary { get; }
    public virtual IReadOnlyList<ArgumentSpec> Arguments => [];
    public abstract IEnumerable<OptionSpec> Options { get; }
    /// <summary>Runs on the parsed arguments; returns the exit code (0 holds, 1 violated, 2 usage, 3 no verdict).</summary>
    public abstract int Run(Args a, TextWriter o);
}
