using Multikernel.Model.Checking;
using Multikernel.Cli.Registry;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Commands;

/// <summary>
/// bench: the explorer's speed and memory on every mechanism's reference design (the IPI one
/// at a larger configuration, safety-only and with the graph kept), then each implementation's
/// own benchmark.
/// </summary>
internal static class Bench
{
    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("bench", argv, ["--runs", "--messages-per-run"], []);
        a.NoMorePositionals(0);
        int runs = a.Int("--runs", 3, 1, 20);
        var settings = new BenchSettings(runs, a.Int("--messages-per-run", 2_000_000, 1000, 100_000_000));
        o.WriteLine($"bench: the explorer on each reference design, {runs} runs each, best run shown");
        o.WriteLine($"  machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, one exploring thread");
        foreach (var m in Mechanisms.All.Where(m => m.Model.Explorable))
        {
            var bounds = m.Model.ParseBounds(m.BenchBounds);
            if (m.Model.Specification(m.Model.Designs.Reference, bounds) is not { } spec) continue;
            bool liveness = spec.Properties.Any(p => p.Kind == Model.Checking.PropertyKind.Eventually);
            foreach (bool graph in liveness ? new[] { false, true } : [false])
            {
                ExploreReport? best = null;
                for (int i = 0; i < runs; i++)
                {
                    GC.Collect();
                    var r = Explorer.Run(spec, new ExploreOptions { KeepGraph = graph, StopWhenAllViolated = false });
                    if (r.Verdict == Verdict.Violated) { o.WriteLine($"  {spec.Name} violates a property: not a benchmark"); return 1; }
                    if (best is null || r.Seconds < best.Seconds) best = r;
                }
                o.WriteLine($"  {spec.Name} ({BoundsText.Show(bounds)}), {(graph ? "graph kept (eventually on cycles)" : "safety only (fingerprint set)")}:");
                o.WriteLine($"    {Report.Statistics(best!)}");
            }
        }
        foreach (var m in Mechanisms.All) m.ImplBench?.Invoke(o, settings);
        return 0;
    }
}
