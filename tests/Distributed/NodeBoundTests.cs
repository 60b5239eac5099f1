using System.Diagnostics;
using Multikernel.Cli.Cluster;
using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Multikernel.Distributed;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Distributed;

/// <summary>
/// --max-memory on every node of a cluster run, and --time-limit inside a level: each ends the run as a bound
/// (exit 3 on the command line), naming the node and the level, never a pass and never a crash. Bounded by work:
/// the runs are capped by --max-states, so a bound not enforced shows as the state bound, and the time limit is
/// one tick, passed before the level starts on any machine, however slow.
/// </summary>
[Collection("cluster")]
public sealed class NodeBoundTests(TestClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TestClusterFixture>
{
    /// <summary>ipi with three senders of two messages: 1.48 M states, levels of thousands of states after the tenth.</summary>
    private static (ISpecHandle Spec, string Name) Wide()
    {
        var (m, d) = Mechanisms.Resolve("ipi/reference", "test");
        var bounds = m.Model.ParseBounds("senders=3 messages=2");
        return (ExplorationText.Spec(m, d, bounds, "test"), ClusterRun.SpecName(m, d, bounds));
    }

    private static ExploreOptions Options => new() { StopWhenAllViolated = false, MaxStates = 300_000, Threads = 1, Liveness = Liveness.None };

    [Fact]
    public void A_tiny_max_memory_on_three_nodes_ends_the_run_as_a_memory_bound_naming_the_node_and_the_level()
    {
        var (spec, name) = Wide();
        var (report, stats) = DistributedExplorer.Run(spec, name, Options with { MaxMemory = 4 << 20 }, fixture.Nodes);
        var hit = stats.Hit;
        Assert.True(report.Bound == Bound.Memory, $"{report.Bound} after {report.States:N0} states: the nodes' bound was not enforced");
        Assert.NotNull(hit);
        Assert.True(report.States < Options.MaxStates);
        Assert.Matches(@"^node [0-2] \(.+\) hit its memory bound of 4 MiB while .+ in level [0-9]+", hit!.ToString());
        Assert.True(hit.Level >= 1, hit.ToString());
        if (hit.Held > 0) Assert.True(hit.Held <= hit.Limit, hit.ToString()); // charged before it was allocated: never past the bound
        // A bound, never a pass: no invariant or eventually-property holds (a sometimes-property reached is reached).
        Assert.DoesNotContain(report.Outcomes, o => o.Verdict == Verdict.Holds && o.Property.Kind != PropertyKind.Sometimes);
        output.WriteLine($"{hit}; {report.States:N0} states");
        Assert.Contains(report.Outcomes, o => o.Reason != null && o.Reason.Contains("memory bound", StringComparison.Ordinal));
    }

    [Fact]
    public void The_time_limit_stops_a_long_level_inside_it()
    {
        // A checkpoint at depth 16 (a frontier of some 10,000 states), resumed with a time limit of one tick: the
        // level after it is stopped within one batch of its frontier on each node, not after it is whole.
        var (spec, name) = Wide();
        string dir = Directory.CreateTempSubdirectory("mk-ckpt-time").FullName;
        try
        {
            var (first, _) = DistributedExplorer.Run(spec, name, Options with { MaxDepth = 16 }, fixture.Nodes,
                new CheckpointPlan(dir, (p, b) => File.WriteAllBytes(p, b), Resume: false));
            Assert.Equal(Bound.Depth, first.Bound);
            var image = DistributedExplorer.ReadCheckpoint(spec, name, Options, dir, 3, null);
            Assert.True(image.Count >= 5_000, $"a frontier of {image.Count} states");
            var (report, stats) = DistributedExplorer.Run(spec, name, Options with { TimeLimit = TimeSpan.FromTicks(1) }, fixture.Nodes,
                new CheckpointPlan(dir, (p, b) => File.WriteAllBytes(p, b), Resume: true));
            var hit = stats.Hit;
            Assert.Equal(Bound.Time, report.Bound);
            Assert.NotNull(hit);
            Assert.Equal(image.Last + 1, hit!.Level);
            Assert.Equal(image.Count, hit.Frontier);
            Assert.True(hit.Expanded <= 3 * 256 && hit.Expanded < hit.Frontier, hit.ToString());
            Assert.Equal(image.States, report.States); // the cut level is not added
            Assert.DoesNotContain(report.Outcomes, o => o.Verdict == Verdict.Holds && o.Property.Kind != PropertyKind.Sometimes);
            output.WriteLine($"{hit}");
            Assert.Matches(@"^the time limit stopped level [0-9]+ with [0-9,]+ of its [0-9,]+ frontier states expanded", hit.ToString());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_swarm_s_searches_take_the_time_limit_and_the_memory_bound_too()
    {
        var (spec, name) = Reports.Spec("ipi/ref-no-mask");
        var options = new ExploreOptions { BitstateBytes = 1 << 16, MaxStates = Reports.Cap, StopWhenAllViolated = false, Threads = 1 };
        var (timed, _, members) = DistributedExplorer.RunSwarm(spec, name, options with { TimeLimit = TimeSpan.FromTicks(1) }, fixture.Nodes);
        Assert.Equal(Bound.Time, timed.Bound);
        Assert.All(members, m => Assert.Equal((int)Bound.Time, m.Bound));
        var (full, _, _) = DistributedExplorer.RunSwarm(spec, name, options with { MaxMemory = (1 << 16) + 1 }, fixture.Nodes);
        Assert.Equal(Bound.Memory, full.Bound);
    }

    [Fact]
    public void Without_a_bound_hit_the_report_is_the_one_process_s_and_names_no_bound()
    {
        var (spec, name) = Reports.Spec("ipi/reference");
        var options = Reports.Options[0] with { MaxMemory = 64 << 20, TimeLimit = TimeSpan.FromHours(1) };
        var (report, stats) = DistributedExplorer.Run(spec, name, options, fixture.Nodes);
        Assert.Null(stats.Hit);
        Assert.Equal(Reports.Summary(Explorer.Run(spec, options)), Reports.Summary(report));
    }
}

/// <summary>A node's own checks, without a cluster: the merge of a long level stops at the time limit; a batch past the memory bound is refused.</summary>
public sealed class NodeSearchBoundTests
{
    [Fact]
    public void A_merge_stops_at_the_time_limit_and_runs_whole_without_one()
    {
        var spec = Reports.Spec("ipi/reference").Spec;
        InsertResult Run(long remaining) => spec.Accept(new Recorder(remaining)).Result;
        Assert.True(Run(0).TimeBound);
        var whole = Run(-1);
        Assert.False(whole.TimeBound);
        Assert.Single(whole.Keys); // one state, met 10,000 times
    }

    [Fact]
    public void A_batch_past_the_memory_bound_is_refused_and_the_insert_says_so()
    {
        var spec = Reports.Spec("ipi/reference").Spec;
        var (result, _) = spec.Accept(new Recorder(-1, maxMemory: 2 << 20));
        Assert.NotNull(result.MemoryHit);
        Assert.Contains("receiving", result.MemoryHit);
        Assert.True(result.Limit == 2 << 20);
    }

    /// <summary>Receives the 10,000 records, then inserts with <paramref name="remaining"/> ticks left.</summary>
    private sealed class Recorder(long remaining, long maxMemory = 1L << 30) : ISpecVisitor<(InsertResult Result, bool Received)>
    {
        public (InsertResult, bool) Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged
        {
            var node = new NodeSearch<TState, TAction>(spec, new NodePlan { Spec = "x", Node = 0, Nodes = ["a"], MaxDepth = int.MaxValue, MaxMemory = maxMemory });
            var initial = new List<TState>();
            spec.Initial(initial);
            var batch = new NodeSearch<TState, TAction>.Batch(1 << 16);
            for (int i = 0; i < 10_000; i++) batch.Add((ulong)i, Fingerprint.Of(initial[0]), 0, initial[0]);
            bool received = node.Receive(1, batch.Take());
            return (node.Insert(remaining), received);
        }
    }
}

/// <summary>--max-memory on the command line reaches every node process: exit 3, the bound's line naming the node.</summary>
public sealed class NodeBoundProcessTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    [Fact]
    public async Task Max_memory_holds_on_every_node_process()
    {
        var psi = new ProcessStartInfo(Dotnet, [Cli, "explore", "ipi", "--senders", "3", "--messages", "2", "--nodes", "3", "--safety-only", "--max-memory", "4", "--max-states", "300000"])
        { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        string o = await p.StandardOutput.ReadToEndAsync();
        string err = await errTask;
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 3, $"exit {p.ExitCode}\n{o}\n{err}");
        Assert.Matches(@"\n  bound: node [0-2] \(.+\) hit its memory bound of 4 MiB while .+ in level [0-9]+", o);
        Assert.DoesNotContain("state bound", o);
        Assert.DoesNotContain("   at ", err);
    }
}
