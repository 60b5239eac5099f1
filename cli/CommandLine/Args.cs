using System.CommandLine;
using System.Globalization;

namespace Multikernel.Cli;

/// <summary>A usage or input error: one line on stderr, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// What System.CommandLine parsed for one command, read by option name: positionals, valued
/// options, flags and repeated options. Every option a command does not declare was refused by
/// the parser, so a typo never silently changes what is checked. A value is one token: it is
/// never split again.
/// </summary>
public sealed class Args
{
    private readonly ParseResult _parse;
    private readonly IReadOnlyDictionary<string, Option> _options;

    internal Args(string command, ParseResult parse, IReadOnlyDictionary<string, Option> options, IReadOnlyList<Argument> arguments)
    {
        Command = command;
        _parse = parse;
        _options = options;
        foreach (var arg in arguments)
            if (parse.GetResult(arg) is { } r) foreach (var t in r.Tokens) Positionals.Add(t.Value);
    }

    public string Command { get; }
    public List<string> Positionals { get; } = new();

    private Option Known(string name) =>
        _options.TryGetValue(name, out var o) ? o : throw new InvalidOperationException($"{Command} does not declare {name}");

    /// <summary>Whether the option was given at all (a flag, or a valued option with its value).</summary>
    public bool Given(string name) => _parse.GetResult(Known(name)) is { Implicit: false };

    public bool Flag(string name) => Given(name);

    public string? Value(string name) => _parse.GetResult(Known(name)) is { Implicit: false } r && r.Tokens.Count > 0 ? r.Tokens[^1].Value : null;

    /// <summary>Every value of an option that may be given more than once, in order.</summary>
    public IReadOnlyList<string> Values(string name) =>
        _parse.GetResult(Known(name)) is { Implicit: false } r ? r.Tokens.Select(t => t.Value).ToList() : [];

    public long Long(string name, long fallback, long min, long max)
    {
        if (Value(name) is not { } raw) return fallback;
        string digits = raw.Replace("_", "", StringComparison.Ordinal);
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
            throw new UsageException($"{Command}: {name} must be a whole number from {min} to {max} (got '{Model.Checking.BoundsText.Clip(raw)}')");
        return v;
    }

    public int Int(string name, int fallback, int min, int max) => (int)Long(name, fallback, min, max);
}
