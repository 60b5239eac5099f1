using System.Globalization;
using Multikernel.Model.Checking;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Properties.Explorer;
using Multikernel.Model.Ipi;

namespace Multikernel.Cli.Commands;

/// <summary>
/// bench: the explorer on every mechanism's reference design, side by side: one thread and N,
/// safety and liveness (cycle search, and the stored graph), and --first on a mutant; the IPI
/// model also at its large configuration. Then each implementation's own benchmark.
/// </summary>
internal sealed class BenchCommand : CliCommand
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public override string Name => "bench";
    public override string Summary => "explorer speed and memory on each reference (1 and N threads, liveness, --first on a mutant, the large configurations), then each implementation's own benchmark";
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--runs", "runs per row, the best shown (default 3)"),
        new("--large-runs", "runs of each large configuration (default 1)"),
        OptionSpec.Flag("--no-large", "leave out the large configurations"),
        OptionSpec.Flag("--explorer-only", "leave out the implementations' benchmarks"),
        new("--messages-per-run", "messages per run of the IPI implementation (default 2,000,000)"),
        new("--threads", "N, the thread count of the multi-threaded rows (default: all cores)"),
        OptionSpec.Flag("--spin", "only Spin's exhaustive search of the Promela twin (cli/Spin) against the explorer's safety search, ipi/reference at the large configuration, interleaved pairs (--large-runs)"),
        new("--spin-bounds", "the bounds of --spin (default: the large IPI configuration)"),
        new("--nodes", "also each large configuration's safety search on N local nodes of an Orleans cluster against one process (rate, bytes sent per state, peak RSS per node)"),
    ];

    public override int Run(Args a, TextWriter o)
    {
        int runs = a.Int("--runs", 3, 1, 20);
        int threads = a.Int("--threads", Environment.ProcessorCount, 1, 256);
        int largeRuns = a.Int("--large-runs", 1, 1, 20);
        var settings = new BenchSettings(runs, a.Int("--messages-per-run", 2_000_000, 1000, 100_000_000));
        if (a.Flag("--spin"))
        {
            string text = a.Value("--spin-bounds") ?? Mechanisms.Find("ipi")!.Bench.Large!;
            o.WriteLine($"bench --spin: machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            return Spin.SpinBench.Run(o, IpiBounds.Parse(text), largeRuns, threads) ? 0 : 1;
        }
        o.WriteLine($"bench: the explorer on each reference design; best of {runs} runs, interleaved (the large configuration: --large-runs, default 1)");
        o.WriteLine($"  machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; N = {threads} threads");
        o.WriteLine("  memory: the store (fingerprints, parent links, entries or edges) plus the peak of a level's frontier and buffers");
        o.WriteLine("  peak RSS: the whole process's peak resident memory in a run of the row (runtime included; the smallest of its runs), and that per state");
        foreach (var m in Mechanisms.All)
        {
            if (!Configuration(o, m, m.Bench.Bounds, runs, threads, sized: false)) return 1;
            if (m.Bench.Large is { } large && !a.Flag("--no-large") && !Configuration(o, m, large, largeRuns, threads, sized: true)) return 1;
            foreach (var variant in m.Bench.Variants)
                if (!Configuration(o, m, variant, runs, threads, sized: false)) return 1;
            if (m.Bench.Large is { } clustered && a.Value("--nodes") is not null) Cluster.ClusterBench.Configuration(o, m, clustered, a.Int("--nodes", 3, 1, Cluster.ClusterRun.MaxNodes));
        }
        if (!a.Flag("--explorer-only"))
            foreach (var m in Mechanisms.All) m.Bench.Implementation?.Invoke(o, settings);
        return 0;
    }

    /// <summary>
    /// The rows of one configuration. <paramref name="sized"/> adds a row with the visited set sized
    /// up front (what --max-states does) from the state count of the first row: a large space
    /// otherwise pays for every resize of its table in fresh memory.
    /// </summary>
    private static bool Configuration(TextWriter o, MechanismEntry m, string boundsText, int runs, int threads, bool sized)
    {
        var bounds = m.Model.ParseBounds(boundsText);
        var spec = m.Model.Specification(m.Model.Designs.Reference, bounds);
        bool liveness = spec.Properties.Any(p => p.Kind == PropertyKind.Eventually);
        o.WriteLine($"  {spec.Name} ({BoundsText.Show(bounds)}):");
        o.WriteLine("    mode                                    threads        states    transitions        s     states/s  bytes/state  memory MB  peak RSS MB  RSS B/state");
        var rows = new List<(string Mode, int Threads, ExploreOptions Options, ISpecHandle Spec)>
        {
            ("safety", 1, new() { Liveness = Liveness.None, Threads = 1 }, spec),
        };
        if (threads > 1) rows.Add(("safety", threads, new() { Liveness = Liveness.None, Threads = threads }, spec));
        if (sized) rows.Add(("safety, set sized up front", threads, new() { Liveness = Liveness.None, Threads = threads, ExpectedStates = 0 }, spec));
        if (liveness)
        {
            // With fairness declared, each liveness row beside its --unfair twin: the cost of the fair check.
            bool fair = spec.FairActors.Count > 0;
            string f = fair ? " (fair)" : "";
            rows.Add(($"liveness, cycle search{f}", threads, new() { Liveness = Liveness.Search, Threads = threads }, spec));
            if (fair) rows.Add(("liveness, cycle search (--unfair)", threads, new() { Liveness = Liveness.Search, Threads = threads, Unfair = true }, spec));
            if (sized) rows.Add(($"liveness, cycle search, set sized{f}", threads, new() { Liveness = Liveness.Search, Threads = threads, ExpectedStates = 0 }, spec));
            if (sized && fair) rows.Add(("liveness, search, sized (--unfair)", threads, new() { Liveness = Liveness.Search, Threads = threads, ExpectedStates = 0, Unfair = true }, spec));
            rows.Add(($"liveness, graph kept{f}", threads, new() { Liveness = Liveness.Graph, Threads = threads }, spec));
            if (fair) rows.Add(("liveness, graph kept (--unfair)", threads, new() { Liveness = Liveness.Graph, Threads = threads, Unfair = true }, spec));
        }
        if (m.Bench.Mutant is { } name && m.Model.Designs.Find(name) is { } mutant && m.Model.Specification(mutant, bounds) is var bad)
            rows.Add(($"--first on {name}", threads, new() { StopAtFirstViolation = true, Threads = threads }, bad));
        // Runs interleave the rows (1, 2, …, 1, 2, …), so that a machine that slows down for a while
        // does not skew one row against another; the best run of each row is shown.
        var best = new ExploreReport?[rows.Count];
        var rss = new long?[rows.Count];
        long firstStates = 0;
        for (int i = 0; i < runs; i++)
            for (int row = 0; row < rows.Count; row++)
            {
                var (_, _, rowOptions, s) = rows[row];
                var options = rowOptions.ExpectedStates is null ? rowOptions : rowOptions with { ExpectedStates = firstStates };
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                bool reset = PeakRss.Reset();
                var r = Explorer.Run(s, options with { StopWhenAllViolated = false });
                long? peak = reset ? PeakRss.Read() : null;
                bool first = options.StopAtFirstViolation;
                if (r.Verdict == Verdict.Violated != first)
                {
                    o.WriteLine(first ? $"    {s.Name}: no violation found: not a benchmark of --first" : $"    {s.Name} violates a property: not a benchmark");
                    return false;
                }
                if (firstStates == 0) firstStates = r.States;
                if (best[row] is not { } b || r.Seconds < b.Seconds) best[row] = r;
                // The process's whole peak, runtime included: what a run of this row alone needs.
                if (peak is { } p && (rss[row] is not { } q || p < q)) rss[row] = p;
            }
        double? oneThread = null;
        for (int row = 0; row < rows.Count; row++)
        {
            var (mode, n, options, _) = rows[row];
            var b = best[row]!;
            string note = b.Bound != Bound.None ? $"  BOUND HIT: {b.Bound}" : "";
            if (mode == "safety" && n == 1) oneThread = b.Seconds;
            else if (mode == "safety" && oneThread is { } t1) note += string.Format(C, "  {0:F2}x the one-thread rate", t1 / b.Seconds);
            if (options.Liveness != Liveness.None && !options.StopAtFirstViolation && b.CycleSeconds > 0)
                note += string.Format(C, "  cycles: {0:F2} s", b.CycleSeconds);
            if (options.StopAtFirstViolation)
            {
                var v = b.Outcomes.First(x => x.Verdict == Verdict.Violated);
                note += $"  {v.Property.Name}{(v.Trace is { } tr ? $" in {tr.Length} steps" : "")}";
            }
            if (b.Resizes > 0) note += string.Format(C, "  {0} resizes", b.Resizes);
            string peakRss = rss[row] is { } pk ? string.Format(C, "{0,12:N0} {1,12:F1}", pk / 1e6, b.States > 0 ? (double)pk / b.States : 0) : string.Format(C, "{0,12} {1,12}", "n/a", "n/a");
            o.WriteLine(string.Format(C, "    {0,-40} {1,7} {2,13:N0} {3,14:N0} {4,8:F2} {5,12:N0} {6,12:F1} {7,10:N0} {8}{9}",
                mode, n, b.States, b.Transitions, b.Seconds, b.StatesPerSecond, b.BytesPerState, (b.StoreBytes + b.PeakFrontierBytes) / 1e6, peakRss, note));
        }
        return true;
    }
}

/// <summary>
/// The process's peak resident set (Linux: VmHWM), which <see cref="Reset"/> sets back to what is
/// resident now (writing 5 to /proc/self/clear_refs), so that each bench row has its own peak.
/// </summary>
internal static class PeakRss
{
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException) { return false; }
    }

    public static long? Read()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }
}
