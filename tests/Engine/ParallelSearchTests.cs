using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

/// <summary>
/// The level-synchronous search gives the same report at any thread count, and the cycle search
/// without a stored graph gives the same verdicts as the graph, with lassos that replay.
/// Every design and mutant of every mechanism, at its default (small) bounds.
/// </summary>
public class ParallelSearchTests
{
    /// <summary>Small bounds: a design bigger than this is cut there, and the cut must be the same at any thread count.</summary>
    private const long Cap = 60_000;

    public static TheoryData<string> Designs() => DesignsWhere(_ => true);

    public static TheoryData<string> DesignsWithLiveness() =>
        DesignsWhere(s => s.Properties.Any(p => p.Kind == PropertyKind.Eventually));

    private static TheoryData<string> DesignsWhere(Func<ISpecHandle, bool> keep) => ReportText.Designs(keep);

    private static ISpecHandle Spec(string qualified) => ReportText.Spec(qualified);

    private static string Summary(ExploreReport r) => ReportText.Summary(r);

    [Theory]
    [MemberData(nameof(Designs))]
    public void Every_design_gives_the_same_report_at_1_2_and_4_threads(string design)
    {
        var spec = Spec(design);
        foreach (var options in new ExploreOptions[]
                 {
                     new() { StopWhenAllViolated = false, MaxStates = Cap },
                     new() { StopWhenAllViolated = false, MaxStates = Cap, Liveness = Liveness.Graph },
                     new() { StopAtFirstViolation = true, MaxStates = Cap },
                     new() { StopWhenAllViolated = false, MaxStates = Cap, BitstateBytes = 1 << 16 },
                 })
        {
            string one = Summary(Explorer.Run(spec, options with { Threads = 1 }));
            Assert.Equal(one, Summary(Explorer.Run(spec, options with { Threads = 2 })));
            Assert.Equal(one, Summary(Explorer.Run(spec, options with { Threads = 4 })));
        }
    }

    [Theory]
    [MemberData(nameof(DesignsWithLiveness))]
    public void The_cycle_search_agrees_with_the_stored_graph_and_its_lassos_replay(string design) =>
        Agree(Spec(design), new() { StopWhenAllViolated = false, MaxStates = 4 * Cap, Threads = 2 });

    /// <summary>Both liveness modes on one spec: the same verdicts; every lasso or stuck state replays as a violation.</summary>
    private static (ExploreReport Search, ExploreReport Graph) Agree(ISpecHandle spec, ExploreOptions options)
    {
        var search = Explorer.Run(spec, options);
        var graph = Explorer.Run(spec, options with { Liveness = Liveness.Graph });
        Assert.True(search.CycleSearch);
        Assert.Equal(graph.States, search.States);
        for (int i = 0; i < graph.Outcomes.Count; i++)
        {
            var (g, s) = (graph.Outcomes[i], search.Outcomes[i]);
            Assert.True(g.Verdict == s.Verdict, $"{g.Property.Name}: graph {g.Verdict}, search {s.Verdict}");
            if (s.Property.Kind != PropertyKind.Eventually || s.Trace is not { } t) continue;
            int start = t.LoopIndex!.Value;
            var loop = start < t.Length ? t.Choices.Skip(start).ToList() : null;
            var (_, judgement) = Explorer.ReplayAndJudge(spec, s.Property.Name, t.InitialIndex, t.Choices.Take(start).ToList(), loop);
            Assert.True(judgement.Holds, $"{s.Property.Name}: the search's lasso does not replay: {judgement.Reason}");
        }
        return (search, graph);
    }

    /// <summary>
    /// No design of the registry has a pending cycle at its default bounds (their counters are
    /// bounded), so the cycle search is held to the graph on random graphs as well: 400 of them,
    /// with random pending states, where both verdicts occur many times.
    /// </summary>
    [Fact]
    public void The_cycle_search_agrees_with_the_stored_graph_on_random_graphs()
    {
        int lassos = 0, stuck = 0, holds = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var spec = new RandomGraphSpec(seed);
            var (search, _) = Agree(spec, new() { StopWhenAllViolated = false, Threads = 1 + seed % 3 });
            var o = search.Outcomes[0];
            if (o.Verdict == Verdict.Holds) holds++;
            else if (o.Trace!.LoopIndex < o.Trace.Length) lassos++;
            else stuck++;
        }
        Assert.True(lassos > 60 && stuck > 60 && holds > 60, $"lassos {lassos}, stuck {stuck}, holds {holds}: not a varied sample");
    }

    /// <summary>
    /// The agreement test can fail: a cycle search that starts only from the first entry (not
    /// from every state where the obligation became pending) misses pending cycles the graph
    /// finds, on some of the same random graphs.
    /// </summary>
    [Fact]
    public void A_cycle_search_from_the_first_entry_only_disagrees_with_the_graph()
    {
        var props = new RandomGraphSpec(0).Properties.Append(Explorer.NoCrash).ToArray();
        int missed = 0;
        for (int seed = 0; seed < 400 && missed == 0; seed++)
        {
            var spec = new RandomGraphSpec(seed);
            var graph = Explorer.Run(spec, new() { StopWhenAllViolated = false, Liveness = Liveness.Graph });
            if (graph.Outcomes[0].Trace is not { LoopIndex: { } li } t || li == t.Length) continue; // a pending cycle only
            var bfs = new LevelSearch<ushort, byte>(spec, new ExploreOptions { Threads = 1 }, props, graph: false, entries: true);
            bfs.Run();
            var first = new PendingEntries<ushort>();
            first.Add(bfs.Entries!.States[0], bfs.Entries.Ids[0], bfs.Entries.Bits[0]);
            Assert.NotNull(PendingCycles.Find(spec, bfs.Exact!, bfs.Entries, 1, out _));
            if (PendingCycles.Find(spec, bfs.Exact!, first, 1, out _) is null) missed++;
        }
        Assert.True(missed > 0, "starting from one entry never missed a cycle: the agreement test could not tell");
    }

    [Fact]
    public void A_resize_split_across_threads_keeps_every_fingerprint_and_its_id()
    {
        using var crew = new Crew(3);
        var set = new FingerprintSet(1 << 16) { GrowCrew = crew };
        var setIds = new StateIds(set);
        var rng = new Random(11);
        var ids = new Dictionary<ulong, uint>();
        for (uint i = 0; i < 400_000; i++)
        {
            // Clusters across the cuts and the wrap at the end are what the deferred inserts are for.
            ulong fp = rng.Next(8) == 0 ? ulong.MaxValue - (ulong)rng.Next(64) : ((ulong)rng.NextInt64() << 1) ^ (ulong)rng.NextInt64() | 1;
            if (!set.Add(fp)) continue;
            setIds.At(set.Find(fp)) = i;
            ids[fp] = i;
        }
        Assert.True(set.Capacity > 1 << 18, "the set never grew past the size where a resize is split");
        Assert.Equal(ids.Count, set.Count);
        foreach (var (fp, id) in ids) Assert.Equal(id, setIds.Of(fp));
    }

    [Fact]
    public void Shared_adds_from_several_threads_keep_each_fingerprint_once()
    {
        var set = new FingerprintSet(1 << 16);
        var fps = new ulong[40_000];
        var rng = new Random(7);
        for (int i = 0; i < fps.Length; i++) fps[i] = ((ulong)rng.NextInt64() << 1) | 1 | (i % 2 == 0 ? 1UL << 63 : 0);
        set.Reserve(fps.Length * 2);
        long added = 0;
        Parallel.For(0, 4, t =>
        {
            long mine = 0;
            // Every thread adds every fingerprint: each must be added exactly once in all.
            for (int i = 0; i < fps.Length; i++) if (set.TryAddShared(fps[(i + t * 997) % fps.Length]) >= 0) mine++;
            Interlocked.Add(ref added, mine);
        });
        set.Added(added);
        Assert.Equal(fps.Distinct().LongCount(), added);
        Assert.All(fps, fp => Assert.True(set.Contains(fp)));
    }
}

/// <summary>A random directed graph on up to 60 nodes, some of them pending: for the liveness agreement test.</summary>
internal sealed class RandomGraphSpec : ISpec<ushort, byte>
{
    private readonly int[][] _next;
    private readonly bool[] _pending;

    public RandomGraphSpec(int seed)
    {
        var rng = new Random(seed);
        int n = rng.Next(2, 60);
        _next = new int[n][];
        _pending = new bool[n];
        double pendingShare = rng.NextDouble();
        for (int v = 0; v < n; v++)
        {
            _next[v] = Enumerable.Range(0, rng.NextDouble() < 0.05 ? 0 : rng.Next(1, 4)).Select(_ => rng.Next(n)).ToArray();
            _pending[v] = rng.NextDouble() < pendingShare;
        }
    }

    public string Name => "test/random-graph";
    public IReadOnlyList<Property> Properties { get; } = [new("discharged", PropertyKind.Eventually, "leaves the pending states", "test")];
    public void Initial(List<ushort> into) => into.Add(0);

    public int Enabled(in ushort s, Span<byte> into)
    {
        var next = _next[s];
        for (int k = 0; k < next.Length; k++) into[k] = (byte)k;
        return next.Length;
    }

    public ushort Next(in ushort s, in byte a) => (ushort)_next[s][a];
    public ulong Violated(in ushort s) => 0;
    public ulong Pending(in ushort s) => _pending[s] ? 1UL : 0;
}
