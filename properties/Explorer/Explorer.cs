using System.Diagnostics;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// Explicit-state, breadth-first model checker. Visited states are kept as 64-bit
/// fingerprints plus a parent link (4 bytes) and the position of the action that
/// reached them (1 byte); whole states live only in the BFS queue. Because states
/// are found in order of depth, the first violation of a property is a shortest
/// counterexample; it is rebuilt by re-executing the specification along the links.
/// Eventually-properties are judged on terminal states and, when the graph is kept,
/// on cycles (Tarjan's SCC over the states where the obligation is pending).
/// No fairness is assumed: any such cycle is a violation. Sometimes-properties are
/// judged "never reached" when a complete exploration meets no state satisfying them.
/// A step that throws is a violation of <see cref="NoCrash"/>, with its trace.
/// </summary>
public static class Explorer
{
    private const uint Root = uint.MaxValue;

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
        var props = spec.Properties.Append(NoCrash).ToArray();
        if (props.Length > 64) throw new ArgumentException($"{spec.Name}: at most 63 properties");
        int crash = props.Length - 1;
        ulong always = 0, eventually = 0, sometimes = 0;
        for (int i = 0; i < props.Length; i++)
            switch (props[i].Kind)
            {
                case PropertyKind.Always: always |= 1UL << i; break;
                case PropertyKind.Eventually: eventually |= 1UL << i; break;
                default: sometimes |= 1UL << i; break;
            }
        ulong all = always | eventually | sometimes;
        var bitstate = options.BitstateBytes > 0 ? new BitstateSet(options.BitstateBytes) : null;
        bool graph = bitstate is null && (options.KeepGraph ?? eventually != 0);

        var set = graph || bitstate is not null ? null : new FingerprintSet();
        var map = graph ? new FingerprintMap() : null;
        var parent = new ChunkedList<uint>();
        var choice = new ChunkedList<byte>();
        var edgeStart = graph ? new ChunkedList<uint>() : null;
        var edges = graph ? new ChunkedList<uint>() : null;
        var pendingOf = graph ? new ChunkedList<ulong>() : null;
        var queue = new StateQueue<TState>();
        var witness = new long[props.Length];
        Array.Fill(witness, -1L);
        ulong decided = 0, reached = 0;
        (uint State, int Choice, Exception Error)? crashed = null;
        Span<TAction> actions = stackalloc TAction[SpecLimits.MaxEnabled];
        int stateBytes = System.Runtime.CompilerServices.Unsafe.SizeOf<TState>();

        long StoreBytes() => (graph ? map!.Bytes : bitstate?.Bytes ?? set!.Bytes) + parent.Bytes + choice.Bytes
                             + (edgeStart?.Bytes ?? 0) + (edges?.Bytes ?? 0) + (pendingOf?.Bytes ?? 0);

        var clock = Stopwatch.StartNew();
        long deadline = options.TimeLimit is { } tl ? (long)(tl.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var bound = Bound.None;
        long transitions = 0;
        uint next = 0;

        void Crash(uint state, int k, Exception e)
        {
            // The first crash BFS meets is a shortest one.
            if (crashed is not null) return;
            crashed = (state, k, e);
            decided |= 1UL << crash;
        }

        void Found(in TState s, uint id)
        {
            ulong bad = spec.Violated(s) & always & ~decided;
            for (; bad != 0; bad &= bad - 1)
            {
                int p = System.Numerics.BitOperations.TrailingZeroCount(bad);
                witness[p] = id;
                decided |= 1UL << p;
            }
            ulong hit = spec.Reached(s) & sometimes & ~reached;
            for (; hit != 0; hit &= hit - 1)
            {
                int p = System.Numerics.BitOperations.TrailingZeroCount(hit);
                witness[p] = id;
                reached |= 1UL << p;
            }
        }

        var initial = new List<TState>();
        try { spec.Initial(initial); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw new SpecException($"{spec.Name}: the initial states threw {e.GetType().Name}: {e.Message}", e); }
        if (initial.Count > 256) throw new ArgumentException($"{spec.Name}: at most 256 initial states");
        for (int i = 0; i < initial.Count; i++)
        {
            var s = initial[i];
            ulong fp = Fingerprint.Of(s);
            if (graph ? map!.TryGet(fp, out _) : bitstate?.Contains(fp) ?? set!.Contains(fp)) continue;
            if (graph) map!.Add(fp, next); else if (bitstate is not null) bitstate.Add(fp); else set!.Add(fp);
            parent.Add(Root); choice.Add((byte)i);
            pendingOf?.Add(spec.Pending(s) & eventually);
            Found(s, next);
            queue.Enqueue(s);
            next++;
        }

        long levelEnd = next - 1;
        int depth = 0;
        bool stoppedEarly = false, stoppedAtFirst = false;
        long lastProgress = 0;
        for (uint id = 0; queue.Count > 0; id++)
        {
            if (id > levelEnd) { depth++; levelEnd = next - 1; }
            var s = queue.Dequeue();
            int n;
            try { n = spec.Enabled(s, actions); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Crash(id, -1, e);
                n = 0;
            }
            edgeStart?.Add((uint)edges!.Count);
            if (n == 0)
            {
                if (crashed is { } cr && cr.State == id) continue; // a crashed state is not a terminal one
                ulong owed = spec.Pending(s) & eventually & ~decided;
                for (; owed != 0; owed &= owed - 1)
                {
                    int p = System.Numerics.BitOperations.TrailingZeroCount(owed);
                    witness[p] = id;
                    decided |= 1UL << p;
                }
                continue;
            }
            if (depth >= options.MaxDepth) { bound = Bound.Depth; continue; }
            for (int k = 0; k < n; k++)
            {
                TState t;
                try { t = spec.Next(s, actions[k]); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Crash(id, k, e); // a crash has no successor: the kernel is gone
                    continue;
                }
                transitions++;
                ulong fp = Fingerprint.Of(t);
                if (graph)
                {
                    if (map!.TryGet(fp, out uint known)) { edges!.Add(known); continue; }
                    if (next == options.MaxStates) { bound = Bound.States; break; }
                    map.Add(fp, next);
                    edges!.Add(next);
                }
                else if (next == options.MaxStates)
                {
                    if (bitstate?.Contains(fp) ?? set!.Contains(fp)) continue;
                    bound = Bound.States; break;
                }
                else if (!(bitstate?.Add(fp) ?? set!.Add(fp))) continue;
                parent.Add(id); choice.Add((byte)k);
                pendingOf?.Add(spec.Pending(t) & eventually);
                Found(t, next);
                queue.Enqueue(t);
                next++;
            }
            if (bound == Bound.States) break;
            if ((id & 4095) == 0)
            {
                long ticks = clock.ElapsedTicks;
                if (ticks > deadline) { bound = Bound.Time; break; }
                long bytes = StoreBytes() + queue.Count * (long)stateBytes;
                if (bytes > options.MaxMemory) { bound = Bound.Memory; break; }
                if (options.Progress is { } progress && ticks - lastProgress >= Stopwatch.Frequency)
                {
                    lastProgress = ticks;
                    progress(new ExploreProgress(next, transitions, depth, queue.Count, bytes, clock.Elapsed));
                }
            }
            if (options.StopWhenAllViolated && (decided | reached) == all) { stoppedEarly = queue.Count > 0; break; }
            // --first: the first violation BFS meets is a shortest one for its property; stop there.
            if (options.StopAtFirstViolation && (decided & (always | eventually)) != 0) { stoppedEarly = stoppedAtFirst = queue.Count > 0; break; }
        }

        bool complete = bound == Bound.None && !stoppedEarly;
        var cycles = new Dictionary<int, (uint Entry, List<int> Loop)>();
        if (graph && complete)
        {
            for (ulong open = eventually & ~decided; open != 0; open &= open - 1)
            {
                int p = System.Numerics.BitOperations.TrailingZeroCount(open);
                if (Cycles.FindPendingCycle(next, edgeStart!, edges!, pendingOf!, 1UL << p) is { } lasso)
                {
                    cycles[p] = lasso;
                    decided |= 1UL << p;
                }
            }
        }
        clock.Stop();

        var outcomes = new List<PropertyOutcome>(props.Length);
        for (int p = 0; p < props.Length; p++)
        {
            var prop = props[p];
            if (p == crash && crashed is { } c)
            {
                var path = PathTo(parent, choice, c.State, out int init);
                if (c.Choice >= 0) path.Add(c.Choice);
                outcomes.Add(new(prop, Verdict.Violated, Replay(spec, prop, init, path, null, props.Length - 1) with { Shortest = true }));
            }
            else if (crashed is not null && prop.Kind != PropertyKind.Always && witness[p] < 0 && !cycles.ContainsKey(p))
                outcomes.Add(new(prop, Verdict.Unknown, null, "not decided: a step threw, and what follows a crash is not explored"));
            else if (prop.Kind == PropertyKind.Sometimes)
            {
                if (witness[p] < 0 && complete && bitstate is not null)
                    outcomes.Add(new(prop, Verdict.Unknown, null, "not reached, but bitstate is lossy: the state may have been missed"));
                else if (witness[p] >= 0)
                    outcomes.Add(new(prop, Verdict.Holds, null, $"reached in {Depth(parent, (uint)witness[p])} steps"));
                else if (complete)
                    outcomes.Add(new(prop, Verdict.Violated, null, "never reached: no reachable state satisfies it, so the invariants may hold vacuously"));
                else
                    outcomes.Add(new(prop, Verdict.Unknown, null, NotDecided(bound, options, stoppedAtFirst)));
            }
            else if (cycles.TryGetValue(p, out var lasso))
                outcomes.Add(new(prop, Verdict.Violated, Rebuild(spec, prop, p, parent, choice, lasso.Entry, lasso.Loop)));
            else if (witness[p] >= 0)
                outcomes.Add(new(prop, Verdict.Violated, Rebuild(spec, prop, p, parent, choice, (uint)witness[p], null)));
            else if (!complete)
                outcomes.Add(new(prop, Verdict.Unknown, null, NotDecided(bound, options, stoppedAtFirst)));
            else if (bitstate is not null)
                outcomes.Add(new(prop, Verdict.Unknown, null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"probably holds (bitstate, lossy: a state may have been missed with probability up to {bitstate.MissProbability:G3}{(prop.Kind == PropertyKind.Eventually ? "; cycles not checked" : "")})")));
            else if (prop.Kind == PropertyKind.Eventually && !graph)
                outcomes.Add(new(prop, Verdict.Unknown, null, "holds on every terminal state; cycles not checked (graph not kept)"));
            else
                outcomes.Add(new(prop, Verdict.Holds, null));
        }

        long frontierBytes = queue.PeakCount * stateBytes;
        return new ExploreReport(spec.Name, outcomes, next, transitions, depth, clock.Elapsed.TotalSeconds,
            StoreBytes(), frontierBytes, graph, bound, stoppedEarly) { StoppedAtFirst = stoppedAtFirst, MissProbability = bitstate?.MissProbability };
    }

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
        ChunkedList<byte> choice, uint id, List<int>? loop) where TState : unmanaged where TAction : unmanaged
    {
        var path = PathTo(parent, choice, id, out int initial);
        return Replay(spec, prop, initial, path, loop, bit) with { Shortest = loop is null };
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
        for (int i = 0; i < all.Count; i++)
        {
            int n;
            try { n = spec.Enabled(s, actions); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                threw = $"step {i + 1}: listing the enabled steps threw {e.GetType().Name}: {e.Message}";
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
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                threw = $"step {i + 1} threw {e.GetType().Name}: {e.Message}";
                states.Add(new($"{what} — threw {e.GetType().Name}: {e.Message}", states[^1].Vars));
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
        return new Trace(spec.Name, prop, initialIndex, all.Take(states.Count - 1).ToList(), states, loopIndex) { Why = why, Crashed = threw is not null };
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
            var prop = property == NoCrash.Name ? NoCrash : spec.Properties.FirstOrDefault(p => p.Name == property)
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
            return (trace, threw ? new(true, "the last step throws") : new(false, "no step throws"));
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

/// <summary>A trace that does not fit the specification it is replayed on.</summary>
public sealed class TraceMismatchException(string message) : Exception(message);

/// <summary>A specification that cannot even start (its initial states throw): an input error, not a counterexample.</summary>
public sealed class SpecException(string message, Exception inner) : Exception(message, inner);
