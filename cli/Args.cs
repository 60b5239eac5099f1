using System.Globalization;

namespace Multikernel.Cli;

/// <summary>A usage or input error: one line on stderr, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The arguments of one command: positionals, valued options (--name V or --name=V)
/// and flags. Every option a command does not take is an error, so a typo never
/// silently changes what is checked.
/// </summary>
public sealed class Args
{
    private readonly string _command;
    private readonly Dictionary<string, string> _values = new();
    private readonly HashSet<string> _flags = new();
    private readonly Dictionary<string, List<string>> _repeated = new();
    public List<string> Positionals { get; } = new();

    public Args(string command, IEnumerable<string> args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> flags,
        IReadOnlyCollection<string>? repeatable = null)
    {
        repeatable ??= [];
        _command = command;
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string a = e.Current;
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--") { Positionals.Add(a); continue; }
            string name = a, value = "";
            bool inline = false;
            int eq = a.IndexOf('=');
            if (eq > 0) { name = a[..eq]; value = a[(eq + 1)..]; inline = true; }
            if (repeatable.Contains(name))
            {
                if (!inline)
                {
                    if (!e.MoveNext()) throw new UsageException($"{command}: {name} needs a value");
                    value = e.Current;
                }
                if (!_repeated.TryGetValue(name, out var list)) _repeated[name] = list = new();
                list.Add(value);
            }
            else if (valued.Contains(name))
            {
                if (!inline)
                {
                    if (!e.MoveNext()) throw new UsageException($"{command}: {name} needs a value");
                    value = e.Current;
                }
                if (!_values.TryAdd(name, value)) throw new UsageException($"{command}: {name} given twice");
            }
            else if (flags.Contains(name) && !inline) _flags.Add(name);
            else throw new UsageException($"{command}: unknown option '{a}' (see 'multikernel help')");
        }
    }

    public string Command => _command;
    public bool Flag(string name) => _flags.Contains(name);
    public string? Value(string name) => _values.GetValueOrDefault(name);
    /// <summary>Every value of an option that may be given more than once, in order.</summary>
    public IReadOnlyList<string> Values(string name) => _repeated.GetValueOrDefault(name) ?? [];

    public long Long(string name, long fallback, long min, long max)
    {
        if (Value(name) is not { } raw) return fallback;
        string digits = raw.Replace("_", "", StringComparison.Ordinal);
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
            throw new UsageException($"{_command}: {name} must be a whole number from {min} to {max} (got '{raw}')");
        return v;
    }

    public int Int(string name, int fallback, int min, int max) => (int)Long(name, fallback, min, max);

    public void NoMorePositionals(int expected)
    {
        if (Positionals.Count > expected)
            throw new UsageException($"{_command}: unexpected argument '{Positionals[expected]}'");
    }
}
