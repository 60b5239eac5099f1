using System.Diagnostics;
using Multikernel.Cli.Cluster;
using Multikernel.Cli.Registry;
using Multikernel.Distributed;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Orleans.TestingHost;
using Xunit;

namespace Multikernel.Tests.Distributed;

/// <summary>Everything a report says that a cluster must reproduce: counts, bound, and per property the verdict, reason and trace.</summary>
internal static class Reports
{
    /// <summary>Small bounds: a design bigger than this is cut there, and the cut must be the same on a cluster.</summary>
    public const long Cap = 20_000;

    public static TheoryData<string> Designs() => Engine.ReportText.Designs();

    public static (ISpecHandle Spec, string Name) Spec(string qualified)
    {
        var (m, d) = Mechanisms.Resolve(qualified, "test");
        var bounds = m.Model.ParseBounds("");
        return (Engine.ReportText.Spec(qualified), ClusterRun.SpecName(m, d, bounds));
    }

    public static readonly ExploreOptions[] Options =
    [
        new() { StopWhenAllViolated = false, MaxStates = Cap, Threads = 1 },
        new() { StopAtFirstViolation = true, MaxStates = Cap, Threads = 1 },
    ];

    public static string Summary(ExploreReport r) => Engine.ReportText.Summary(r, shortest: true);

    /// <summary>Each option set: the cluster's report is the one process's.</summary>
    public static void SameOnCluster(string design, ClusterNodes nodes, int optionSets = 2)
    {
        var (spec, name) = Spec(design);
        foreach (var options in Options.Take(optionSets))
        {
            string one = Summary(Explorer.Run(spec, options));
            var (report, stats) = DistributedExplorer.Run(spec, name, options, nodes);
            Assert.Equal(one, Summary(report));
            Assert.Equal(nodes.Silos.Count, stats.Nodes);
        }
    }
}

/// <summary>Orleans' in-process test cluster: three silos in this process.</summary>
public sealed class TestClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public ClusterNodes Nodes { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => NodeSilo.Configure(silo, ClusterRun.Specs));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
        var silos = Cluster.Silos.Select(s => s.SiloAddress).ToList();
        Nodes = new ClusterNodes(Cluster.Silos[0].ServiceProvider, silos);
    }

    public async Task DisposeAsync()
    {
        Nodes.Dispose();
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>A cluster of real processes: this one (the coordinator) and two node processes of the command line.</summary>
public sealed class ProcessClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await LocalCluster.Start(3, ClusterRun.Specs, join => ClusterRun.Child(join, []), null);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The search on three nodes gives the report of one process — counts, verdicts, shortest counterexamples and
/// lassos — on every design and mutant of every mechanism, at small bounds (cut there, the same way).
/// </summary>
[Collection("cluster")]
public sealed class TestClusterTests(TestClusterFixture fixture) : IClassFixture<TestClusterFixture>
{
    [Theory]
    [MemberData(nameof(Reports.Designs), MemberType = typeof(Reports))]
    public void Three_silos_give_the_report_of_one_process(string design) => Reports.SameOnCluster(design, fixture.Nodes);

    [Fact]
    public void The_comparison_can_fail_a_mutant_on_the_cluster_is_not_the_reference_in_one_process()
    {
        var (reference, _) = Reports.Spec("ipi/reference");
        var (_, mutant) = Reports.Spec("ipi/ref-no-mask");
        var (mutantSpec, _) = Reports.Spec("ipi/ref-no-mask");
        var (r, _) = DistributedExplorer.Run(mutantSpec, mutant, Reports.Options[0], fixture.Nodes);
        Assert.NotEqual(Reports.Summary(Explorer.Run(reference, Reports.Options[0])), Reports.Summary(r));
    }
}

/// <summary>--bitstate on a cluster: a swarm. Every node searches the whole space with its own hash functions and order.</summary>
[Collection("cluster")]
public sealed class SwarmTests(TestClusterFixture fixture) : IClassFixture<TestClusterFixture>
{
    [Theory]
    [InlineData("ipi/ref-no-mask")]
    [InlineData("balloon/balloon-ref-no-lock")]
    [InlineData("uffd/uffd-ref-no-wake")]
    public void A_swarm_finds_what_one_bitstate_search_finds_with_traces_that_replay(string design)
    {
        var (spec, name) = Reports.Spec(design);
        var options = new ExploreOptions { BitstateBytes = 1 << 16, MaxStates = Reports.Cap, StopWhenAllViolated = false, Threads = 1 };
        var one = Explorer.Run(spec, options);
        var (swarm, stats, members) = DistributedExplorer.RunSwarm(spec, name, options, fixture.Nodes);
        Assert.Equal(3, stats.Nodes);
        Assert.Contains(one.Outcomes, o => o.Verdict == Verdict.Violated);
        foreach (var o in one.Outcomes.Where(o => o.Verdict == Verdict.Violated))
        {
            var mine = swarm.Outcomes.Single(x => x.Property.Name == o.Property.Name);
            Assert.Equal(Verdict.Violated, mine.Verdict);
            Assert.True(mine.Trace!.Length <= o.Trace!.Length);
            if (o.Property.Kind == PropertyKind.Always)
                Assert.True(Explorer.ReplayAndJudge(spec, o.Property.Name, mine.Trace.InitialIndex, mine.Trace.Choices, null).Judgement.Holds);
        }
        // Node 0 is the one-process search; the others differ in hash functions and order; the estimate is their product.
        Assert.Equal(one.States, members[0].States);
        Assert.Equal(members.Aggregate(1.0, (m, r) => m * r.MissProbability), swarm.MissProbability!.Value, 12);
        Assert.True(swarm.MissProbability < members[0].MissProbability || members[0].MissProbability == 0);
        Assert.Equal(3, members.Select((_, k) => Swarm.SeedOf(k)).Distinct().Count());
    }
}

[Collection("cluster")]
public sealed class ProcessClusterTests(ProcessClusterFixture fixture) : IClassFixture<ProcessClusterFixture>
{
    [Theory]
    [MemberData(nameof(Reports.Designs), MemberType = typeof(Reports))]
    public void Three_processes_give_the_report_of_one_process(string design) => Reports.SameOnCluster(design, fixture.Cluster.Nodes, optionSets: 1);

    [Fact]
    public void The_node_processes_are_other_processes()
    {
        Assert.Equal(2, fixture.Cluster.Children.Count);
        Assert.All(fixture.Cluster.Children, p => Assert.NotEqual(Environment.ProcessId, p.Id));
    }
}

/// <summary>A node killed mid-run: exit 3 naming the node and the level, no verdict, no hang.</summary>
public sealed class NodeDeathTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    [Fact]
    public void Killing_a_node_process_ends_the_run_with_exit_3_naming_the_node_and_the_level()
    {
        // Large enough that the run is still going several levels after the kill: ~400k states.
        var psi = new ProcessStartInfo(Dotnet, [Cli, "explore", "ipi", "--senders", "3", "--messages", "2", "--nodes", "3", "--safety-only"])
        { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        int? victim = null;
        var err = new List<string>();
        while (p.StandardError.ReadLine() is { } line)
        {
            err.Add(line);
            if (line.Contains("node 1: pid ", StringComparison.Ordinal)) victim = int.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            // Killed once the search is under way (the third level numbered): a death mid-run, not at the start.
            if (line.Contains("level 3 done", StringComparison.Ordinal) && victim is { } pid)
            {
                using var node = Process.GetProcessById(pid);
                node.Kill();
            }
        }
        string o = p.StandardOutput.ReadToEnd(); // a few lines: it cannot fill the pipe while stderr is read
        p.WaitForExit();
        Assert.True(victim is not null, string.Join('\n', err));
        Assert.Equal(3, p.ExitCode);
        Assert.DoesNotContain("verdict:", o);
        var last = err[^1];
        Assert.StartsWith("multikernel: node 1 ", last);
        Assert.Matches("level [0-9]+", last);
        Assert.Contains("no verdict", last);
    }
}

/// <summary>--checkpoint and --resume: a run killed mid-way and resumed (on another node count) gives the uninterrupted report; a bad checkpoint is one line, exit 2.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mk-ckpt").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>The report without what differs between runs: the times and rates, the cluster's own line.</summary>
    private static string Report(string stdout) => string.Join('\n', stdout.Split('\n')
        .Where(l => !l.StartsWith("  cluster:", StringComparison.Ordinal))
        .Select(l => System.Text.RegularExpressions.Regex.Replace(l, @", [0-9.]+ s on .*$", "")));

    /// <summary>Runs the command line as a process; <paramref name="onLine"/> sees each stderr line (and may kill a node).</summary>
    private static (int Code, string Out, List<string> Err) Run(string[] args, Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(Dotnet, [Cli, .. args]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var err = new List<string>();
        while (p.StandardError.ReadLine() is { } line) { err.Add(line); onLine?.Invoke(line); }
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err);
    }

    [Fact]
    public void A_run_killed_mid_way_resumes_on_another_node_count_to_the_uninterrupted_report()
    {
        var (oneCode, one, _) = Multikernel.Tests.Cli.CliRun.Run("explore", "ipi");
        Assert.Equal(0, oneCode);
        int? victim = null;
        var (code, _, err) = Run(["explore", "ipi", "--nodes", "3", "--checkpoint", _dir], line =>
        {
            if (line.Contains("node 2: pid ", StringComparison.Ordinal)) victim = int.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            if (line.Contains("level 10 done", StringComparison.Ordinal)) { using var node = Process.GetProcessById(victim!.Value); node.Kill(); }
        });
        Assert.True(code == 3, string.Join('\n', err));
        Assert.StartsWith("multikernel: node 2 ", err[^1]);
        var (resumed, o, err2) = Run(["explore", "ipi", "--nodes", "2", "--resume", _dir]);
        Assert.True(resumed == 0, string.Join('\n', err2));
        Assert.DoesNotContain(err2, l => l.Contains("level 1 done", StringComparison.Ordinal)); // it did not start over
        Assert.Equal(Report(one), Report(o));
    }

    [Fact]
    public void A_node_started_by_hand_joins_a_listening_coordinator_and_the_report_is_one_process_s()
    {
        var (_, one, _) = Multikernel.Tests.Cli.CliRun.Run("explore", "ipi");
        int port = NodeSilo.FreePort();
        Process? node = null;
        try
        {
            var (code, o, err) = Run(["explore", "ipi", "--nodes", "2", "--local-nodes", "0", "--listen", $"127.0.0.1:{port}"], line =>
            {
                if (!line.Contains("waiting for 1 node", StringComparison.Ordinal)) return;
                node = Process.Start(new ProcessStartInfo(Dotnet, [Cli, "node", "--join", $"127.0.0.1:{port}"]) { RedirectStandardInput = true });
            });
            Assert.True(code == 0, string.Join('\n', err));
            Assert.NotNull(node);
            Assert.Equal(Report(one), Report(o));
        }
        finally
        {
            // The node serves until its input closes.
            node?.StandardInput.Close();
            if (node is not null && !node.WaitForExit(30_000)) node.Kill();
            node?.Dispose();
        }
    }

    [Theory]
    [InlineData("--listen", "127.0.0.1:9")]
    [InlineData("--local-nodes", "1")]
    [InlineData("--checkpoint", "x")]
    public void A_cluster_option_without_nodes_is_refused(string option, string value)
    {
        var (code, o, e) = Multikernel.Tests.Cli.CliRun.Run("explore", "ipi", option, value);
        Multikernel.Tests.Cli.CliRun.OneLineError(code, o, e, $"{option} is for a cluster run");
    }

    [Fact]
    public void A_bad_checkpoint_is_one_line_and_exit_2()
    {
        var (code, _, err) = Run(["explore", "ipi", "--nodes", "1", "--checkpoint", _dir, "--max-depth", "3"]);
        Assert.True(code == 3, string.Join('\n', err)); // the depth bound
        string file = Path.Combine(_dir, "level-2.node-0");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^5]);
        var (bad, o, err2) = Run(["explore", "ipi", "--nodes", "1", "--resume", _dir]);
        Assert.Equal(2, bad);
        Assert.Empty(o);
        var last = err2.Where(l => l.StartsWith("multikernel:", StringComparison.Ordinal)).ToList();
        Assert.Single(last);
        Assert.Contains("level-2.node-0", last[0]);
        var (other, _, err3) = Run(["explore", "ipi", "--senders", "3", "--nodes", "1", "--resume", _dir]);
        Assert.Equal(2, other);
        Assert.Contains("not ipi/reference senders=3", err3[^1]);
    }
}
