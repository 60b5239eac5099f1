using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using QuikGraph;
using QuikGraph.Algorithms;
using QuikGraph.Algorithms.ConnectedComponents;
using QuikGraph.Algorithms.Observers;
using QuikGraph.Algorithms.Search;
using Xunit;
using Xunit.Abstractions;
using Property = Multikernel.Model.Checking.Property;

namespace Multikernel.Tests.Engine;

/// <summary>
/// QuikGraph as the independent oracle: on the whole state graph, built by <see cref="StateGraph"/>'s own
/// plain BFS, QuikGraph's BFS depths, cycle detection and strongly connected components must give what the
/// explorer reports — state and edge counts, depth, shortest trace lengths, and each eventually-verdict
/// (a pending terminal state, or a pending cycle: any cycle with --unfair, a fair one otherwise) under the
/// stored graph (Cycles.cs) and the cycle search (PendingCycles, FairCycles). On every design of every
/// mechanism small enough to hold whole, and on random graphs from FsCheck.
/// </summary>
public class GraphOracleTests(ITestOutputHelper output)
{
    private const int Cap = 30_000;

    public static TheoryData<string> Designs()
    {
        var data = new TheoryData<string>();
        foreach (var m in Mechanisms.All)
            foreach (var d in m.Model.Designs.All) data.Add(m.Model.Qualified(d));
        return data;
    }

    [Theory]
    [MemberData(nameof(Designs))]
    public void QuikGraph_agrees_with_the_explorer_on_every_small_design(string design)
    {
        var (m, d) = Mechanisms.Resolve(design, "test");
        var spec = m.Model.Specification(d, m.Model.ParseBounds(""))!;
        if (StateGraph.Build(spec, Cap) is not { } g)
        {
            output.WriteLine($"{design}: more than {Cap:N0} states at its default bounds: not held whole here");
            return;
        }
        if (g.Crashes > 0)
        {
            output.WriteLine($"{design}: a step throws; what follows a crash is not decided, so there is no verdict to compare");
            return;
        }
        Agree(spec, g, threads: 2);
    }

    [Fact]
    public void Every_mechanism_has_a_design_the_oracle_checks()
    {
        // The theory above returns early for large or crashing designs: it must not do so for all of a mechanism.
        foreach (var m in Mechanisms.All.Where(m => m.Name != "uffd"))
            Assert.Contains(m.Model.Designs.All, d => StateGraph.Build(m.Model.Specification(d, m.Model.ParseBounds(""))!, Cap) is { Crashes: 0 });
    }

    [Property(Arbitrary = [typeof(OracleShapes)], MaxTest = 300, Replay = OracleShapes.Replay)]
    public void QuikGraph_agrees_with_the_explorer_on_random_graphs(OracleShape s)
    {
        var spec = new OracleGraphSpec(s.Seed, s.N, s.Fair);
        Agree(spec, StateGraph.Build(spec)!, threads: 1 + s.Seed % 3);
    }

    /// <summary>The oracle can fail: with one edge gone from its graph, some random graph disagrees with the explorer.</summary>
    [Fact]
    public void The_oracle_notices_a_missing_edge()
    {
        int caught = 0;
        for (int seed = 0; seed < 100; seed++)
        {
            var spec = new OracleGraphSpec(seed, 12, fair: false);
            var g = StateGraph.Build(spec)!;
            var edge = g.Graph.Edges.FirstOrDefault();
            if (edge is null) continue;
            g.Graph.RemoveEdge(edge);
            try { Agree(spec, g, threads: 1); }
            catch (Xunit.Sdk.XunitException) { caught++; }
        }
        Assert.True(caught > 50, $"only {caught} of 100 graphs without an edge disagreed");
    }

    /// <summary>The explorer's report against QuikGraph's answers on <paramref name="g"/>, in both cycle modes, fair and --unfair.</summary>
    private static void Agree(ISpecHandle spec, StateGraph g, int threads)
    {
        var depth = Depths(g);
        foreach (var liveness in new[] { Liveness.Graph, Liveness.Search })
            foreach (bool unfair in spec.FairActors.Count > 0 ? new[] { false, true } : [true])
            {
                var r = Explorer.Run(spec, new ExploreOptions { StopWhenAllViolated = false, Liveness = liveness, Unfair = unfair, Threads = threads, MaxStates = Cap + 1 });
                string what = $"{spec.Name} ({liveness}{(unfair ? ", unfair" : "")}, {threads} threads)";
                Assert.True(r.Bound == Bound.None, $"{what}: bound {r.Bound}");
                Assert.True(depth.Count == r.States, $"{what}: QuikGraph's BFS reaches {depth.Count} states, the explorer {r.States}");
                Assert.True(g.Graph.EdgeCount == r.Transitions, $"{what}: QuikGraph has {g.Graph.EdgeCount} edges, the explorer {r.Transitions} transitions");
                int maxDepth = depth.Values.Max();
                Assert.True(maxDepth == r.Depth, $"{what}: QuikGraph's BFS is {maxDepth} deep, the explorer's {r.Depth}");
                for (int p = 0; p < g.Properties.Count; p++)
                {
                    var prop = g.Properties[p];
                    var o = r.Outcomes.Single(x => x.Property == prop);
                    ulong bit = 1UL << p;
                    switch (prop.Kind)
                    {
                        case PropertyKind.Always:
                            int? nearest = Nearest(g, depth, v => (g.Violated[v] & bit) != 0);
                            Assert.True((nearest is null) == (o.Verdict == Verdict.Holds), $"{what}: {prop.Name} is {o.Verdict}, QuikGraph's nearest violation {nearest?.ToString() ?? "none"}");
                            if (nearest is { } n) Assert.True(o.Trace!.Length == n, $"{what}: {prop.Name}'s trace has {o.Trace.Length} steps, QuikGraph's BFS {n}");
                            break;
                        case PropertyKind.Sometimes:
                            int? reached = Nearest(g, depth, v => (g.Reached[v] & bit) != 0);
                            Assert.True((reached is null) == (o.Verdict == Verdict.Violated), $"{what}: {prop.Name} is {o.Verdict}, QuikGraph reaches it at {reached?.ToString() ?? "none"}");
                            if (reached is { } k) Assert.True(o.Reason == $"reached in {Multikernel.Properties.Traces.TraceText.Steps(k)}", $"{what}: {prop.Name}: '{o.Reason}', QuikGraph's BFS {k}");
                            break;
                        default:
                            int? stuck = Nearest(g, depth, v => g.Terminal[v] && (g.Pending[v] & bit) != 0);
                            bool cycle = PendingCycle(g, bit, fair: !unfair && g.FairActors.Count > 0);
                            bool violated = stuck is not null || cycle;
                            Assert.True(violated == (o.Verdict == Verdict.Violated),
                                $"{what}: {prop.Name} is {o.Verdict}; QuikGraph: pending terminal at {stuck?.ToString() ?? "none"}, {(cycle ? "a" : "no")} pending {(unfair ? "" : "fair ")}cycle");
                            if (stuck is { } t) Assert.True(o.Trace!.Length == t, $"{what}: {prop.Name}'s terminal trace has {o.Trace.Length} steps, QuikGraph's BFS {t}");
                            else if (cycle) Lasso(g, o.Trace!, bit, what);
                            break;
                    }
                }
            }
    }

    /// <summary>QuikGraph's BFS from every initial state (a source joined to each): the depth of each state it reaches.</summary>
    private static Dictionary<int, int> Depths(StateGraph g)
    {
        var rooted = new AdjacencyGraph<int, TaggedEdge<int, int>>(allowParallelEdges: true);
        rooted.AddVertexRange(g.Graph.Vertices);
        rooted.AddEdgeRange(g.Graph.Edges);
        rooted.AddVertex(-1);
        for (int i = 0; i < g.Initial; i++) rooted.AddEdge(new TaggedEdge<int, int>(-1, i, -1));
        var bfs = new BreadthFirstSearchAlgorithm<int, TaggedEdge<int, int>>(rooted);
        var distances = new VertexDistanceRecorderObserver<int, TaggedEdge<int, int>>(_ => 1.0);
        using (distances.Attach(bfs)) bfs.Compute(-1);
        var depth = new Dictionary<int, int>();
        foreach (int v in g.Graph.Vertices) if (distances.Distances.TryGetValue(v, out double d)) depth[v] = (int)d - 1;
        return depth; // the states QuikGraph's BFS reaches
    }

    private static int? Nearest(StateGraph g, Dictionary<int, int> depth, Func<int, bool> where)
    {
        int? best = null;
        foreach (var (v, d) in depth) if (where(v) && (best is null || d < best)) best = d;
        return best;
    }

    /// <summary>
    /// A cycle through pending states only: QuikGraph's cycle detection on the pending sub-graph, cross-checked
    /// with its SCCs; under fairness, an SCC with an edge inside in which every fair actor enabled in all its
    /// states takes an edge inside (weak fairness).
    /// </summary>
    private static bool PendingCycle(StateGraph g, ulong bit, bool fair)
    {
        var sub = new AdjacencyGraph<int, TaggedEdge<int, int>>(allowParallelEdges: true);
        sub.AddVertexRange(g.Graph.Vertices.Where(v => (g.Pending[v] & bit) != 0));
        sub.AddEdgeRange(g.Graph.Edges.Where(e => sub.ContainsVertex(e.Source) && sub.ContainsVertex(e.Target)));
        var scc = new StronglyConnectedComponentsAlgorithm<int, TaggedEdge<int, int>>(sub);
        scc.Compute();
        var inside = sub.Edges.Where(e => scc.Components[e.Source] == scc.Components[e.Target]).ToList();
        bool anyCycle = !sub.IsDirectedAcyclicGraph();
        Assert.Equal(anyCycle, inside.Count > 0); // two QuikGraph algorithms, one answer
        if (!fair) return anyCycle;
        ulong all = (1UL << g.FairActors.Count) - 1;
        foreach (var component in inside.GroupBy(e => scc.Components[e.Source]))
        {
            ulong everywhere = all, taken = 0;
            foreach (var (v, c) in scc.Components) if (c == component.Key) everywhere &= g.EnabledFair[v];
            foreach (var e in component) if (g.Steps[e].Actor >= 0) taken |= 1UL << g.Steps[e].Actor;
            if ((everywhere & ~taken & all) == 0) return true;
        }
        return false;
    }

    /// <summary>The explorer's lasso walked on QuikGraph's graph: every step an edge, the loop closed, pending all along it.</summary>
    private static void Lasso(StateGraph g, Trace t, ulong bit, string what)
    {
        Assert.True(t.LoopIndex is not null, $"{what}: a cycle verdict without a loop");
        int v = t.InitialIndex;
        var path = new List<int> { v };
        foreach (int c in t.Choices)
        {
            var edge = g.Graph.OutEdges(v).FirstOrDefault(e => e.Tag == c);
            Assert.True(edge is not null, $"{what}: the trace takes step {c} from state {v}, which QuikGraph's graph does not have");
            path.Add(v = edge!.Target);
        }
        int start = t.LoopIndex!.Value;
        Assert.True(path[start] == path[^1], $"{what}: the loop ends in state {path[^1]}, not where it started ({path[start]})");
        for (int i = start; i < path.Count; i++) Assert.True((g.Pending[path[i]] & bit) != 0, $"{what}: state {path[i]} on the loop is not pending");
    }
}

/// <summary>
/// A random graph from a seed: <paramref name="n"/> vertices, up to three steps each (some with none),
/// one to three initial states, and per vertex whether it violates "bad", owes "discharged", reaches
/// "seen". With <paramref name="fair"/>, each step belongs to fair actor a0 or a1 or to nobody.
/// </summary>
internal sealed class OracleGraphSpec : ISpec<ushort, ushort>
{
    private readonly int[][] _next;
    private readonly int[][] _actor;
    private readonly bool[] _bad, _pending, _goal;
    private readonly int _initial;

    public OracleGraphSpec(int seed, int n, bool fair)
    {
        var rng = new Random(seed);
        _next = new int[n][];
        _actor = new int[n][];
        _bad = new bool[n];
        _pending = new bool[n];
        _goal = new bool[n];
        _initial = Math.Min(n, rng.Next(1, 4));
        double pendingShare = rng.NextDouble();
        for (int v = 0; v < n; v++)
        {
            int k = rng.NextDouble() < 0.1 ? 0 : rng.Next(1, 4);
            _next[v] = new int[k];
            _actor[v] = new int[k];
            for (int i = 0; i < k; i++)
            {
                _next[v][i] = rng.Next(n);
                _actor[v][i] = fair ? rng.Next(-1, 2) : -1;
            }
            _bad[v] = rng.NextDouble() < 0.05;
            _goal[v] = rng.NextDouble() < 0.1;
            _pending[v] = rng.NextDouble() < pendingShare;
        }
        FairActors = fair ? ["a0", "a1"] : [];
    }

    public string Name => "test/oracle-graph";
    public IReadOnlyList<string> FairActors { get; }
    public IReadOnlyList<Property> Properties { get; } =
    [
        new("bad", PropertyKind.Always, "no bad vertex", "test"),
        new("discharged", PropertyKind.Eventually, "leaves the pending vertices", "test"),
        new("seen", PropertyKind.Sometimes, "a goal vertex is reached", "test"),
    ];

    public void Initial(List<ushort> into) { for (int i = 0; i < _initial; i++) into.Add((ushort)i); }

    // An action is the step's position, and its actor plus one above it: Actor() sees only the action.
    public int Enabled(in ushort s, Span<ushort> into)
    {
        for (int k = 0; k < _next[s].Length; k++) into[k] = (ushort)(k | (_actor[s][k] + 1) << 8);
        return _next[s].Length;
    }

    public ushort Next(in ushort s, in ushort a) => (ushort)_next[s][a & 0xff];
    public int Actor(in ushort a) => (a >> 8) - 1;
    public ulong Violated(in ushort s) => _bad[s] ? 1UL : 0;
    public ulong Pending(in ushort s) => _pending[s] ? 2UL : 0;
    public ulong Reached(in ushort s) => _goal[s] ? 4UL : 0;
}

/// <summary>A random graph's shape: the seed of its edges and marks, its vertex count, and whether its steps have fair actors.</summary>
public readonly record struct OracleShape(int Seed, int N, bool Fair);

internal static class OracleShapes
{
    public const string Replay = "(20261202," + Replays.Gamma + ")";

    public static Arbitrary<OracleShape> Shapes() =>
        Arb.From(from seed in Gen.Choose(0, int.MaxValue) from n in Gen.Choose(1, 40) from fair in Gen.Elements(false, true) select new OracleShape(seed, n, fair));
}
