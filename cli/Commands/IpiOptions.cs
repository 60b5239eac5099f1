using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Commands;

/// <summary>The options that choose IPI bounds and exploration limits, shared by check, audit, explore and bench.</summary>
internal static class IpiOptions
{
    public static readonly string[] Valued = ["--senders", "--messages", "--ring", "--handlers", "--max-states", "--max-depth", "--time-limit", "--json", "--dot"];
    public static readonly string[] Flags = ["--no-unregister", "--no-destroy", "--safety-only"];

    public static IpiBounds Bounds(Args a, IpiBounds? fallback = null)
    {
        var d = fallback ?? IpiBounds.Default;
        var b = new IpiBounds
        {
            Senders = a.Int("--senders", d.Senders, 1, IpiBounds.MaxSenders),
            Messages = a.Int("--messages", d.Messages, 1, IpiBounds.MaxMessages),
            Ring = a.Int("--ring", d.Ring, 1, IpiBounds.MaxSlots),
            Handlers = a.Int("--handlers", d.Handlers, 1, IpiBounds.MaxHandlers),
            Unregister = d.Unregister && !a.Flag("--no-unregister"),
            Destroy = d.Destroy && !a.Flag("--no-destroy"),
        };
        if (b.Validate() is { } problem) throw new UsageException(problem);
        return b;
    }

    public static ExploreOptions Explore(Args a, bool stopWhenAllViolated) => new()
    {
        MaxStates = a.Long("--max-states", 100_000_000, 1, uint.MaxValue - 1),
        MaxDepth = a.Int("--max-depth", int.MaxValue, 0, int.MaxValue),
        TimeLimit = a.Value("--time-limit") is null ? null : TimeSpan.FromSeconds(a.Long("--time-limit", 0, 1, 86_400)),
        KeepGraph = a.Flag("--safety-only") ? false : null,
        StopWhenAllViolated = stopWhenAllViolated,
    };

    public static IpiDesign Design(string? name, string command)
    {
        if (string.IsNullOrEmpty(name)) throw new UsageException($"{command}: which design? one of: {Names()}");
        return IpiDesigns.Find(name) ?? throw new UsageException($"{command}: unknown design '{name}'; one of: {Names()}");
    }

    private static string Names() => string.Join(", ", IpiDesigns.All.Select(d => d.Name));
}
