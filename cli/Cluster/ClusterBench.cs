using System.Diagnostics;
using System.Globalization;
using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Multikernel.Distributed;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Cluster;

/// <summary>bench --nodes N: a large configuration's safety search in one process (one thread, as a node runs) and on N local nodes.</summary>
internal static class ClusterBench
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Configuration(TextWriter o, MechanismEntry m, string boundsText, int nodes)
    {
        var bounds = m.Model.ParseBounds(boundsText);
        var design = m.Model.Designs.Reference;
        var spec = ExplorationText.Spec(m, design, bounds, "bench");
        var options = new ExploreOptions { Liveness = Liveness.None, Threads = 1, StopWhenAllViolated = false };
        o.WriteLine($"  {spec.Name} ({BoundsText.Show(bounds)}): one process against {nodes} local nodes (Orleans), safety");
        o.WriteLine("    run                 states        s     states/s  bytes sent/state  peak memory");
        var one = Explorer.Run(spec, options);
        o.WriteLine(string.Format(C, "    {0,-16} {1,13:N0} {2,8:F2} {3,12:N0} {4,17:F1}  {5:N0} MB held (its own count)",
            "1 process", one.States, one.Seconds, one.StatesPerSecond, 0.0, one.PeakHeldBytes / 1e6));
        var clock = Stopwatch.StartNew();
        var (r, stats) = Task.Run(async () =>
        {
            await using var cluster = await LocalCluster.Start(nodes, ClusterRun.Specs, join => ClusterRun.Child(join, []), null).ConfigureAwait(false);
            return DistributedExplorer.Run(spec, ClusterRun.SpecName(m, design, bounds), options, cluster.Nodes);
        }).GetAwaiter().GetResult();
        clock.Stop();
        if (r.States != one.States || r.Transitions != one.Transitions)
            throw new InvalidOperationException($"bench: {nodes} nodes found {r.States:N0} states and {r.Transitions:N0} transitions, one process {one.States:N0} and {one.Transitions:N0}");
        o.WriteLine(string.Format(C, "    {0,-16} {1,13:N0} {2,8:F2} {3,12:N0} {4,17:F1}  peak RSS per node {5} (node 0 is the coordinator: this process)",
            $"{nodes} nodes", r.States, r.Seconds, r.StatesPerSecond, stats.BytesPerState(r.States), string.Join(", ", stats.PeakRss.Select(x => $"{x / 1e6:F0} MB"))));
        o.WriteLine(string.Format(C, "    ({0:F1} s with the node processes' start and stop)", clock.Elapsed.TotalSeconds));
    }
}
