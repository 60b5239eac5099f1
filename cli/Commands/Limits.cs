using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Commands;

/// <summary>The exploration limits every exploring command takes, and a mechanism's bound options.</summary>
internal static class Limits
{
    public static readonly string[] Valued = ["--max-states", "--max-depth", "--time-limit", "--max-memory", "--bitstate", "--threads"];
    public static readonly string[] Flags = ["--safety-only", "--graph", "--first", "--unfair"];

    /// <summary>The options of a mechanism's bounds: --senders N, … (valued) and --no-destroy, … (flags).</summary>
    public static (string[] Valued, string[] Flags) BoundOptions(Mechanism m) =>
        (m.BoundOptions.Where(o => o.Flag is null).Select(o => o.Cli).ToArray(),
         m.BoundOptions.Where(o => o.Flag is not null).Select(o => o.Cli).ToArray());

    /// <summary>The bounds the options give, over <paramref name="baseText"/> (the mechanism's defaults when empty).</summary>
    public static IBounds Bounds(Args a, Mechanism m, string baseText = "")
    {
        var parts = new List<string>();
        if (baseText.Length > 0) parts.Add(baseText);
        foreach (var o in m.BoundOptions)
        {
            if (o.Flag is null) { if (a.Value(o.Cli) is { } v) parts.Add($"{o.Key}={v}"); }
            else if (a.Flag(o.Cli)) parts.Add($"{o.Key}={o.Flag}");
        }
        // Options override the base: keep the last value of each key.
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var part in string.Join(' ', parts).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq > 0 ? part[..eq] : part;
            if (!merged.ContainsKey(key)) order.Add(key);
            merged[key] = eq > 0 ? part[(eq + 1)..] : "";
        }
        try { return m.ParseBounds(string.Join(' ', order.Select(k => $"{k}={merged[k]}"))); }
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
