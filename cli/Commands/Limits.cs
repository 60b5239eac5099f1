using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Commands;

/// <summary>The exploration limits every exploring command takes, and the mechanisms' bound options.</summary>
internal static class Limits
{
    public static readonly IReadOnlyList<OptionSpec> Options =
    [
        new("--max-states", "stop after N distinct states (a bound: exit 3); also sizes the visited set up front"),
        new("--max-depth", "stop at depth N (a bound: exit 3)"),
        new("--time-limit", "stop after N seconds (a bound: exit 3)", ValueName: "SECONDS"),
        new("--max-memory", "stop (exit 3) before what the search holds (store, frontier, buffers, the next resize, the bitstate array) passes N MiB (default: half of the container's memory limit)", ValueName: "MIB"),
        new("--bitstate", "a lossy visited set of N MiB, safety only: \"probably holds\", never \"holds\"", ValueName: "MIB"),
        new("--threads", "worker threads (default: all cores; the result is the same at any count)"),
        OptionSpec.Flag("--first", "stop at the first violation: shortest for its property, the others undecided"),
        OptionSpec.Flag("--safety-only", "judge eventually-properties on terminal states only (no cycle search)"),
        OptionSpec.Flag("--graph", "keep every edge and find cycles with Tarjan's SCC (default: a search over the pending states)"),
        OptionSpec.Flag("--unfair", "an eventually-property fails on any cycle, not only one fair under the spec's weak fairness"),
    ];

    /// <summary>
    /// Every mechanism's bound options, one per name (audit and explore take them all; a bound of
    /// another mechanism than the design's is refused after the design is known). Help names the
    /// mechanisms and says what each bound means, from <see cref="BoundOption.Help"/>.
    /// </summary>
    public static IReadOnlyList<OptionSpec> BoundOptions()
    {
        var specs = new List<OptionSpec>();
        foreach (var group in Mechanisms.All.SelectMany(m => m.Model.BoundOptions.Select(b => (m, b))).GroupBy(x => x.b.Cli))
        {
            var kinds = group.Select(x => x.b.Flag is null).Distinct().Count();
            if (kinds > 1) throw new InvalidOperationException($"{group.Key} is a flag of one mechanism and takes a value in another");
            string help = string.Join("; ", group.Select(x => $"{x.m.Name}: {x.b.Help}"));
            specs.Add(group.First().b.Flag is null ? new(group.Key, help) : OptionSpec.Flag(group.Key, help));
        }
        return specs;
    }

    /// <summary>
    /// The bounds the options give, over <paramref name="baseText"/> (the mechanism's defaults when empty).
    /// A value is one token of one bound: text that would read as more ("1 senders=3") is refused, so a
    /// value can never set another bound. A bound option of another mechanism is refused.
    /// </summary>
    public static IBounds Bounds(Args a, Mechanism m, string baseText = "")
    {
        var own = m.BoundOptions.Select(o => o.Cli).ToHashSet(StringComparer.Ordinal);
        foreach (var o in BoundOptions())
            if (!own.Contains(o.Name) && a.Given(o.Name))
                throw new UsageException($"{a.Command}: {o.Name} is not a bound of {m.Name} (its bounds: {(own.Count == 0 ? "none" : string.Join(", ", own))})");
        try
        {
            var merged = new List<(string Key, string Value)>(BoundsText.Pairs(baseText));
            foreach (var o in m.BoundOptions)
            {
                string? value = o.Flag is null ? a.Value(o.Cli) : a.Flag(o.Cli) ? o.Flag : null;
                if (value is null) continue;
                if (value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || c == '=' || char.IsControl(c)))
                    throw new UsageException($"{a.Command}: {o.Cli} '{BoundsText.Clip(value)}' is not one value");
                merged.RemoveAll(p => p.Key == o.Key); // an option overrides the base
                merged.Add((o.Key, value));
            }
            return m.ParseBounds(string.Join(' ', merged.Select(p => $"{p.Key}={p.Value}")));
        }
        catch (BoundsException e) { throw new UsageException($"{a.Command}: {e.Message}"); }
    }

    public static ExploreOptions Explore(Args a, bool stopWhenAllDecided, string? what = null)
    {
        if (a.Flag("--safety-only") && a.Flag("--graph"))
            throw new UsageException($"{a.Command}: --safety-only and --graph contradict each other");
        if (a.Flag("--safety-only") && a.Flag("--unfair"))
            throw new UsageException($"{a.Command}: --unfair is about cycles, which --safety-only does not search");
        // An explicit --max-states also sizes the visited set for that many states up front.
        long? maxStates = a.Value("--max-states") is null ? null : a.Long("--max-states", 0, 1, uint.MaxValue - 1);
        long maxMemory = a.Value("--max-memory") is null ? ExploreOptions.DefaultMaxMemory : a.Long("--max-memory", 0, 1, 1L << 20) << 20;
        long bitstate = a.Value("--bitstate") is null ? 0 : a.Long("--bitstate", 0, 1, 1L << 20) << 20;
        // Refused before the array is allocated: the largest array, and the memory bound it is part of.
        if (bitstate > BitstateSet.MaxBytes)
            throw new UsageException($"{a.Command}: --bitstate {bitstate >> 20} MiB is larger than the largest array ({BitstateSet.MaxBytes >> 20} MiB)");
        if (bitstate >= maxMemory)
            throw new UsageException($"{a.Command}: --bitstate {bitstate >> 20} MiB does not fit in the memory bound of {maxMemory >> 20} MiB (--max-memory{(a.Value("--max-memory") is null ? ", by default half of the memory allowed" : "")})");
        return new()
        {
            StopAtFirstViolation = a.Flag("--first"),
            BitstateBytes = bitstate,
            Progress = ProgressLine.Reporter(what ?? a.Command),
            MaxStates = maxStates ?? 100_000_000,
            ExpectedStates = maxStates,
            MaxDepth = a.Int("--max-depth", int.MaxValue, 0, int.MaxValue),
            TimeLimit = a.Value("--time-limit") is null ? null : TimeSpan.FromSeconds(a.Long("--time-limit", 0, 1, 86_400)),
            MaxMemory = maxMemory,
            Liveness = a.Flag("--safety-only") ? Liveness.None : a.Flag("--graph") ? Liveness.Graph : Liveness.Search,
            Threads = a.Int("--threads", Environment.ProcessorCount, 1, 256),
            StopWhenAllViolated = stopWhenAllDecided,
            Unfair = a.Flag("--unfair"),
        };
    }
}
