using System.Diagnostics;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// Explicit-state, breadth-first model checker (<see cref="LevelSearch{TState, TAction}"/>:
/// level by level, on any number of threads, with the same result at every count). Visited
/// states are kept as 64-bit fingerprints plus a parent link (4 bytes) and the position of
/// the action that reached them (1 byte); whole states live only in the frontier. Because
/// states are found in order of depth, the first violation of a property is a shortest
/// counterexample; it is rebuilt by re-executing the specification along the links.
/// Eventually-properties are judged on terminal states and on cycles: by a depth-first
/// search over the pending states that re-generates their steps (<see cref="PendingCycles"/>),
/// or, with the graph kept, by Tarjan's SCC over the stored edges (<see cref="Cycles"/>).
/// A cycle counts under the weak fairness the spec declares (<see cref="ISpecHandle.FairActors"/>,
/// <see cref="FairCycles"/>): each fair actor runs in it or is disabled on it; a spec that declares
/// none is judged on any cycle. Sometimes-properties are
/// judged "never reached" when a complete exploration meets no state satisfying them.
/// A step that throws is a violation of <see cref="NoCrash"/>, with its trace.
/// </summary>
public static class Explorer
{
    private const uint Root = LevelSearch<byte, byte>.Root;

    /// <summary>The property every exploration checks besides the spec's own: no step throws.</summary>
    public static readonly Property NoCrash = new("no-crash", PropertyKind.Always,
        "no step of the design throws (in the kernel that is a crash: an out-of-bounds access, a NULL dereference, a BUG())",
        "the explorer: an exception thrown by a step of the design");

    /// <summary>Explores a specification whose state and action types the caller does not know.</summary>
    public static ExploreReport Run(ISpecHandle spec, ExploreOptions? options = null) => spec.Accept(new RunVisitor(options));

    private sealed class RunVisitor(ExploreOptions? options) : ISpecVisitor<ExploreReport>
    {
        public ExploreReport Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
            Run(spec, options);
    }

    public static ExploreReport Run<TState, TAction>(ISpec<TState, TAction> spec, ExploreOptions? options = null)
        where TState : unmanaged where TAction : unmanaged
    {
        options ??= new ExploreOptions();
        if (options.TimeLimit is not { } limit) return RunWithin(spec, options);
        // A design's step is user code and may never return: the time limit holds all the same. The search
        // runs on a background thread; if it has not come back a grace period after the limit (its own
        // checks stop it at the limit when its steps return), the run ends with the time bound, and the
        // thread that is stuck in the design is left behind (the process exits without it).
        ExploreReport? report = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { report = RunWithin(spec, options); }
            catch (Exception e) { error = e; }
        }, 64 << 20) { IsBackground = true, Name = "explorer" };
        thread.Start();
        var grace = TimeSpan.FromSeconds(Math.Max(2, limit.TotalSeconds / 10));
        if (!thread.Join(limit + grace)) return StuckInStep(spec, options, limit + grace);
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        return report!;
    }

    /// <summary>The report of a run whose search did not come back after its time limit: every property undecided, the time bound hit.</summary>
    private static ExploreReport StuckInStep(ISpecHandle spec, ExploreOptions options, TimeSpan waited)
    {
        var outcomes = spec.Properties.Append(NoCrash)
            .Select(p => new PropertyOutcome(p, Verdict.Unknown, null,
                $"time limit {options.TimeLimit} hit: a step of the design had not returned {waited.TotalSeconds:F0} s after the start"))
            .ToList();
        return new ExploreReport(spec.Name, outcomes, 0, 0, 0, waited.TotalSeconds, 0, 0, false, Bound.Time, false)
        {
            Threads = Math.Max(1, options.Threads),
        };
    }

    private static ExploreReport RunWithin<TState, TAction>(ISpec<TState, TAction> spec, ExploreOptions options)
        where TState : unmanaged where TAction : unmanaged
    {
        var props = spec.Properties.Append(NoCrash).ToArray();
        if (props.Length > 64) throw new ArgumentException($"{spec.Name}: at most 63 properties");
        ulong eventually = 0;
        for (int i = 0; i < props.Length; i++)
            if (props[i].Kind == PropertyKind.Eventually) eventually |= 1UL << i;
        bool bitstate = options.BitstateBytes > 0;
        bool graph = !bitstate && options.Liveness == Liveness.Graph;
        bool search = !bitstate && options.Liveness == Liveness.Search && eventually != 0;
        // Fairness is judged on re-generated steps, from the entries, in either mode.
        bool fair = spec.FairActors.Count > 0 && !options.Unfair;
        if (spec.FairActors.Count > 64) throw new ArgumentException($"{spec.Name}: at most 64 fair actors");

        var bfs = new LevelSearch<TState, TAction>(spec, options, props, graph, search);
        bfs.Run();
        bool complete = bfs.Bound == Bound.None && !bfs.StoppedEarly;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cycles = new Dictionary<int, PendingCycles.Lasso>();
        long cycleBytes = 0;
        if (graph && complete)
        {
            for (ulong open = eventually & ~bfs.Decided; open != 0; open &= open - 1)
            {
                int p = System.Numerics.BitOperations.TrailingZeroCount(open);
                if (Cycles.FindPendingCycle(bfs.States, bfs.EdgeStart!, bfs.Edges!, bfs.PendingOf!, 1UL << p,
                        bfs.EdgeActor, bfs.EnabledOf, fair ? FairMask(spec.FairActors.Count) : 0) is { } l)
                    cycles[p] = new PendingCycles.Lasso(l.Entry, [], l.Loop);
            }
        }
        else if (search && complete) cycles = SearchCycles(spec, eventually & ~bfs.Decided, fair, bfs.Exact!, bfs.Entries!, out cycleBytes);
        clock.Stop();

        var result = new SearchResult(bfs.Parent, bfs.Choice, bfs.Witness, bfs.Crashed, bfs.Bound, bfs.StoppedEarly, bfs.StoppedAtFirst,
            bfs.States, bfs.Transitions, bfs.Depth, bfs.Elapsed.TotalSeconds, bfs.StoreBytes, bfs.PeakLevelBytes, bfs.PeakHeldBytes,
            bitstate ? bfs.Visited.MissProbability : null) { Resizes = bfs.Exact?.Resizes ?? 0 };
        return Verdicts(spec, options, props, result, cycles, graph, search, clock.Elapsed.TotalSeconds, cycleBytes);
    }

    /// <summary>
    /// The cycle search over the pending states after a complete BFS (<see cref="PendingCycles"/>, or
    /// <see cref="FairCycles"/> under the spec's fairness), for each eventually-property in <paramref name="open"/>.
    /// <paramref name="visited"/> need hold only the pending states: both searches look up a successor
    /// only once they know it pending. Shared with the distributed search, which gathers them.
    /// </summary>
    internal static Dictionary<int, PendingCycles.Lasso> SearchCycles<TState, TAction>(ISpec<TState, TAction> spec, ulong open, bool fair,
        FingerprintSet visited, PendingEntries<TState> entries, out long cycleBytes) where TState : unmanaged where TAction : unmanaged
    {
        var cycles = new Dictionary<int, PendingCycles.Lasso>();
        cycleBytes = 0;
        for (; open != 0; open &= open - 1)
        {
            int p = System.Numerics.BitOperations.TrailingZeroCount(open);
            long bytes;
            var lasso = fair ? FairCycles.Find(spec, visited, entries, 1UL << p, out bytes) : PendingCycles.Find(spec, visited, entries, 1UL << p, out bytes);
            cycleBytes = Math.Max(cycleBytes, bytes);
            if (lasso is { } found) cycles[p] = found;
        }
        return cycles;
    }

    /// <summary>The verdict of each property, with its counterexample rebuilt, from what a search found (one process or a cluster).</summary>
    internal static ExploreReport Verdicts<TState, TAction>(ISpec<TState, TAction> spec, ExploreOptions options, Property[] props,
        SearchResult bfs, Dictionary<int, PendingCycles.Lasso> cycles, bool graph, bool search, double cycleSeconds, long cycleBytes)
        where TState : unmanaged where TAction : unmanaged
    {
        int crash = props.Length - 1;
        bool bitstate = bfs.MissProbability is not null;
        bool complete = bfs.Bound == Bound.None && !bfs.StoppedEarly;
        bool fair = spec.FairActors.Count > 0 && !options.Unfair;
        var parent = bfs.Parent;
        var choice = bfs.Choice;
        var witness = bfs.Witness;
        var outcomes = new List<PropertyOutcome>(props.Length);
        for (int p = 0; p < props.Length; p++)
        {
            var prop = props[p];
            if (p == crash && bfs.Crashed is { } c)
            {
                var path = PathTo(parent, choice, c.State, out int init);
                if (c.Choice >= 0) path.Add(c.Choice);
                // A broken step contract is the design's, not a crash of the kernel it describes: named as such.
                var shown = c.Error is StepContractException ? StepContractException.Property : prop;
                outcomes.Add(new(shown, Verdict.Violated, Replay(spec, shown, init, path, null, props.Length - 1) with { Shortest = true }));
            }
            else if (bfs.Crashed is not null && prop.Kind != PropertyKind.Always && witness[p] < 0 && !cycles.ContainsKey(p))
                outcomes.Add(new(prop, Verdict.Unknown, null, "not decided: a step threw, and what follows a crash is not explored"));
            else if (prop.Kind == PropertyKind.Sometimes)
            {
                if (witness[p] < 0 && complete && bitstate)
                    outcomes.Add(new(prop, Verdict.Unknown, null, "not reached, but bitstate is lossy: the state may have been missed"));
                else if (witness[p] >= 0)
                    outcomes.Add(new(prop, Verdict.Holds, null, $"reached in {Traces.TraceText.Steps(Depth(parent, (uint)witness[p]))}"));
                else if (complete)
                    outcomes.Add(new(prop, Verdict.Violated, null, "never reached: no reachable state satisfies it, so the invariants may hold vacuously"));
                else
                    outcomes.Add(new(prop, Verdict.Unknown, null, NotDecided(bfs.Bound, options, bfs.StoppedAtFirst)));
            }
            else if (cycles.TryGetValue(p, out var lasso))
            {
                var path = PathTo(parent, choice, lasso.Entry, out int init);
                path.AddRange(lasso.Stem);
                outcomes.Add(new(prop, Verdict.Violated, Replay(spec, prop, init, path, lasso.Loop, p) with { FairTo = fair ? spec.FairActors : null }));
            }
            else if (witness[p] >= 0)
                outcomes.Add(new(prop, Verdict.Violated, Rebuild(spec, prop, p, parent, choice, (uint)witness[p])));
            else if (!complete)
                outcomes.Add(new(prop, Verdict.Unknown, null, NotDecided(bfs.Bound, options, bfs.StoppedAtFirst)));
            else if (bitstate)
                outcomes.Add(new(prop, Verdict.Unknown, null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"probably holds (bitstate, lossy: a state may have been missed with probability up to {bfs.MissProbability:G3}{(prop.Kind == PropertyKind.Eventually ? "; cycles not checked" : "")})")));
            else if (prop.Kind == PropertyKind.Eventually && !graph && !search)
                outcomes.Add(new(prop, Verdict.Unknown, null, "holds on every terminal state; cycles not checked (--safety-only)"));
            else
                outcomes.Add(new(prop, Verdict.Holds, null));
        }

        return new ExploreReport(spec.Name, outcomes, bfs.States, bfs.Transitions, bfs.Depth, bfs.Seconds + cycleSeconds,
            bfs.StoreBytes + cycleBytes, bfs.PeakLevelBytes, graph, bfs.Bound, bfs.StoppedEarly)
        {
            StoppedAtFirst = bfs.StoppedAtFirst,
            PeakHeldBytes = bfs.PeakHeldBytes,
            Resizes = bfs.Resizes,
            MissProbability = bfs.MissProbability,
            Threads = Math.Max(1, options.Threads),
            CycleSearch = search,
            CycleSeconds = cycleSeconds,
        };
    }

    private static ulong FairMask(int actors) => actors == 64 ? ulong.MaxValue : (1UL << actors) - 1;

    private static string NotDecided(Bound bound, ExploreOptions o, bool first = false) => first ? "not decided: stopped at the first violation (--first)" : bound switch
    {
        Bound.States => $"state bound {o.MaxStates:N0} hit",
        Bound.Depth => $"depth bound {o.MaxDepth} hit",
        Bound.Time => $"time limit {o.TimeLimit} hit",
        Bound.Memory => $"memory bound {o.MaxMemory / (1 << 20):N0} MiB hit",
        _ => "stopped once every other property was decided",
    };

    private static int Depth(ChunkedList<uint> parent, uint id)
    {
        int d = 0;
        for (uint cur = id; parent[cur] != Root; cur = parent[cur]) d++;
        return d;
    }

    /// <summary>The choices from the initial state to <paramref name="id"/>.</summary>
    private static List<int> PathTo(ChunkedList<uint> parent, ChunkedList<byte> choice, uint id, out int initial)
    {
        var path = new List<int>();
        uint cur = id;
        for (; parent[cur] != Root; cur = parent[cur]) path.Add(choice[cur]);
        path.Reverse();
        initial = choice[cur];
        return path;
    }

    /// <summary>Re-executes the specification from the initial state along the parent links (then the loop).</summary>
    private static Trace Rebuild<TState, TAction>(ISpec<TState, TAction> spec, Property prop, int bit, ChunkedList<uint> parent,
        ChunkedList<byte> choice, uint id) where TState : unmanaged where TAction : unmanaged
    {
        var path = PathTo(parent, choice, id, out int initial);
        return Replay(spec, prop, initial, path, null, bit) with { Shortest = true };
    }

    /// <summary>
    /// Replays <paramref name="choices"/> (positions in the enabled lists) from initial
    /// state <paramref name="initialIndex"/>, then <paramref name="loop"/> if given, and
    /// renders every state. Throws <see cref="TraceMismatchException"/> when a choice
    /// is not enabled: the trace was made by a different specification. A step that throws
    /// ends the trace there, with the exception as its last step.
    /// </summary>
    public static Trace Replay<TState, TAction>(ISpec<TState, TAction> spec, Property prop, int initialIndex,
        IReadOnlyList<int> choices, IReadOnlyList<int>? loop = null, int bit = -1) where TState : unmanaged where TAction : unmanaged
    {
        var initial = new List<TState>();
        spec.Initial(initial);
        if ((uint)initialIndex >= (uint)initial.Count)
            throw new TraceMismatchException($"initial state {initialIndex} does not exist ({initial.Count} initial states)");
        var s = initial[initialIndex];
        var states = new List<TraceState> { new(null, RenderOf(spec, s)) };
        var all = new List<int>(choices);
        if (loop is not null) all.AddRange(loop);
        Span<TAction> actions = stackalloc TAction[SpecLimits.MaxEnabled];
        TState before = s;
        TAction? last = null;
        string? threw = null;
        bool contract = false;
        for (int i = 0; i < all.Count; i++)
        {
            int n;
            try { n = spec.Enabled(s, actions); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                threw = $"step {i + 1}: listing the enabled steps threw {UserCode.Describe(e)}";
                states.Add(new(threw, states[^1].Vars));
                break;
            }
            if ((uint)all[i] >= (uint)n)
                throw new TraceMismatchException($"step {i + 1}: choice {all[i]} is not enabled ({n} steps enabled)");
            var action = actions[all[i]];
            string what;
            try { what = spec.Describe(s, action); }
            catch (Exception e) when (e is not OutOfMemoryException) { what = action.ToString() ?? "?"; }
            try
            {
                before = s;
                s = spec.Next(s, action);
                last = action;
            }
            catch (StepContractException e)
            {
                threw = $"step {i + 1} broke the step contract: {Printable.Line(e.Message, 200)}";
                contract = true;
                states.Add(new($"{what} — broke the step contract", states[^1].Vars));
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                threw = $"step {i + 1} threw {UserCode.Describe(e)}";
                states.Add(new($"{what} — threw {UserCode.Describe(e)}", states[^1].Vars));
                break;
            }
            states.Add(new(what, RenderOf(spec, s)));
        }
        int? loopIndex = loop is not null ? choices.Count : null;
        if (loop is null && prop.Kind == PropertyKind.Eventually) loopIndex = states.Count - 1;
        if (bit < 0) bit = IndexOf(spec, prop);
        string? why = threw;
        if (why is null && bit >= 0)
        {
            try { why = spec.Explain(before, last, s, bit); }
            catch (Exception e) when (e is not OutOfMemoryException) { } // an explanation is a courtesy: the trace stands without it
        }
        return new Trace(spec.Name, prop, initialIndex, all.Take(states.Count - 1).ToList(), states, loopIndex) { Why = why, Crashed = threw is not null, ContractBroken = contract };
    }

    private static int IndexOf<TState, TAction>(ISpec<TState, TAction> spec, Property prop) where TState : unmanaged where TAction : unmanaged
    {
        for (int i = 0; i < spec.Properties.Count; i++) if (ReferenceEquals(spec.Properties[i], prop)) return i;
        return -1;
    }

    /// <summary>What re-executing a trace file showed: whether the property is still false at its end.</summary>
    public readonly record struct Judgement(bool Holds, string Reason);

    /// <summary>Replays a trace on a specification of any type and judges it (see the typed overload).</summary>
    public static (Trace? Trace, Judgement Judgement) ReplayAndJudge(ISpecHandle spec, string property,
        int initialIndex, IReadOnlyList<int> choices, IReadOnlyList<int>? loop) =>
        spec.Accept(new JudgeVisitor(property, initialIndex, choices, loop));

    private sealed class JudgeVisitor(string property, int initial, IReadOnlyList<int> choices, IReadOnlyList<int>? loop)
        : ISpecVisitor<(Trace?, Judgement)>
    {
        public (Trace?, Judgement) Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged
        {
            var prop = property == NoCrash.Name ? NoCrash : property == StepContractException.Property.Name ? StepContractException.Property
                : spec.Properties.FirstOrDefault(p => p.Name == property)
                ?? throw new TraceMismatchException($"unknown property '{property}' of {spec.Name}");
            return ReplayAndJudge(spec, prop, initial, choices, loop);
        }
    }

    /// <summary>
    /// Replays a trace and judges its last state: an always-property must be false
    /// there; an eventually-property must be pending there and either no step is
    /// enabled, or the loop returns to the loop-start state with it pending all along;
    /// no-crash must end in a step that throws. Returns a null trace when the choices do not replay.
    /// </summary>
    public static (Trace? Trace, Judgement Judgement) ReplayAndJudge<TState, TAction>(ISpec<TState, TAction> spec, Property prop,
        int initialIndex, IReadOnlyList<int> choices, IReadOnlyList<int>? loop) where TState : unmanaged where TAction : unmanaged
    {
        Trace trace;
        try { trace = Replay(spec, prop, initialIndex, choices, loop); }
        catch (TraceMismatchException e) { return (null, new(false, e.Message)); }
        bool threw = trace.Crashed;
        if (ReferenceEquals(prop, NoCrash))
            return (trace, threw && !trace.ContractBroken ? new(true, "the last step throws") : new(false, "no step throws"));
        if (ReferenceEquals(prop, StepContractException.Property))
            return (trace, trace.ContractBroken ? new(true, "the last step breaks the step contract") : new(false, "no step breaks the step contract"));
        if (threw) return (trace, new(false, $"the trace now crashes before its end: {trace.Why}"));
        if (prop.Kind == PropertyKind.Sometimes) return (trace, new(false, "a sometimes-property has no counterexample trace"));

        int bit = IndexOf(spec, prop);
        if (bit < 0) throw new ArgumentException("property not of this specification", nameof(prop));
        ulong mask = 1UL << bit;

        var initial = new List<TState>();
        spec.Initial(initial);
        var states = new List<TState> { initial[initialIndex] };
        Span<TAction> actions = stackalloc TAction[SpecLimits.MaxEnabled];
        foreach (int c in trace.Choices)
        {
            var cur = states[^1];
            spec.Enabled(cur, actions);
            states.Add(spec.Next(cur, actions[c]));
        }
        var last = states[^1];
        if (prop.Kind == PropertyKind.Always)
            return (trace, (spec.Violated(last) & mask) != 0 ? new(true, "violated in the last state") : new(false, "it holds in the last state"));
        if (loop is null)
        {
            if ((spec.Pending(last) & mask) == 0) return (trace, new(false, "the obligation is discharged in the last state"));
            return spec.Enabled(last, actions) == 0
                ? (trace, new(true, "pending in a terminal state"))
                : (trace, new(false, "the last state is not terminal"));
        }
        int start = choices.Count;
        if (Fingerprint.Of(last) != Fingerprint.Of(states[start])) return (trace, new(false, "the loop does not return to its start"));
        for (int i = start; i < states.Count; i++)
            if ((spec.Pending(states[i]) & mask) == 0) return (trace, new(false, $"the obligation is discharged in state {i}"));
        return (trace, new(true, "pending all along a cycle"));
    }

    private static List<TraceVar> RenderOf<TState, TAction>(ISpec<TState, TAction> spec, in TState s) where TState : unmanaged where TAction : unmanaged
    {
        var vars = new List<TraceVar>();
        spec.Render(s, vars);
        return vars;
    }
}

/// <summary>
/// What a breadth-first search leaves for the verdicts: the parent links and steps by state id, the first
/// state (in id order) that decides each property, the first crash, and how the search ended.
/// </summary>
internal sealed record SearchResult(
    ChunkedList<uint> Parent, ChunkedList<byte> Choice, long[] Witness, (uint State, int Choice, Exception Error)? Crashed,
    Bound Bound, bool StoppedEarly, bool StoppedAtFirst, long States, long Transitions, int Depth, double Seconds,
    long StoreBytes, long PeakLevelBytes, long PeakHeldBytes, double? MissProbability)
{
    /// <summary>How many times the exact visited table was rehashed (0 for bitstate and for the cluster).</summary>
    public int Resizes { get; init; }
}

/// <summary>A trace that does not fit the specification it is replayed on.</summary>
public sealed class TraceMismatchException(string message) : Exception(message);

/// <summary>A specification that cannot even start (its initial states throw): an input error, not a counterexample.</summary>
public sealed class SpecException(string message, Exception inner) : Exception(message, inner);
