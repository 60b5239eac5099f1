using System.Diagnostics;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// Explicit-state, breadth-first model checker. Visited states are kept as 64-bit
/// fingerprints plus a parent link (4 bytes) and the position of the step that
/// reached them (1 byte); whole states live only in the BFS queue. Because states
/// are found in order of depth, the first violation of a property is a shortest
/// counterexample; it is rebuilt by re-executing the specification along the links.
/// Eventually-properties are judged on terminal states and, when the graph is kept,
/// on cycles (Tarjan's SCC over the states where the obligation is pending).
/// No fairness is assumed: any such cycle is a violation.
/// </summary>
public static class Explorer
{
    private const uint Root = uint.MaxValue;

    public static ExploreReport Run<TState>(ISpec<TState> spec, ExploreOptions? options = null) where TState : unmanaged
    {
        options ??= new ExploreOptions();
        var props = spec.Properties;
        if (props.Count > 64) throw new ArgumentException($"{spec.Name}: at most 64 properties");
        ulong always = 0, eventually = 0;
        for (int i = 0; i < props.Count; i++)
            if (props[i].Kind == PropertyKind.Always) always |= 1UL << i; else eventually |= 1UL << i;
        ulong all = always | eventually;
        bool graph = options.KeepGraph ?? eventually != 0;

        var set = graph ? null : new FingerprintSet();
        var map = graph ? new FingerprintMap() : null;
        var parent = new ChunkedList<uint>();
        var choice = new ChunkedList<byte>();
        var edgeStart = graph ? new ChunkedList<uint>() : null;
        var edges = graph ? new ChunkedList<uint>() : null;
        var pendingOf = graph ? new ChunkedList<ulong>() : null;
        var queue = new StateQueue<TState>();
        var witness = new long[props.Count];
        Array.Fill(witness, -1L);
        ulong decided = 0;
        Span<Step> steps = stackalloc Step[SpecLimits.MaxEnabled];

        var clock = Stopwatch.StartNew();
        long deadline = options.TimeLimit is { } tl ? (long)(tl.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var bound = Bound.None;
        long transitions = 0;
        uint next = 0;

        void Found(in TState s, uint id)
        {
            ulong bad = spec.Violated(s) & always & ~decided;
            for (; bad != 0; bad &= bad - 1)
            {
                int p = System.Numerics.BitOperations.TrailingZeroCount(bad);
                witness[p] = id;
                decided |= 1UL << p;
            }
        }

        var initial = new List<TState>();
        spec.Initial(initial);
        if (initial.Count > 256) throw new ArgumentException($"{spec.Name}: at most 256 initial states");
        for (int i = 0; i < initial.Count; i++)
        {
            var s = initial[i];
            ulong fp = Fingerprint.Of(s);
            if (graph ? map!.TryGet(fp, out _) : set!.Contains(fp)) continue;
            if (graph) map!.Add(fp, next); else set!.Add(fp);
            parent.Add(Root); choice.Add((byte)i);
            pendingOf?.Add(spec.Pending(s) & eventually);
            Found(s, next);
            queue.Enqueue(s);
            next++;
        }

        long levelEnd = next - 1;
        int depth = 0;
        bool stoppedEarly = false;
        for (uint id = 0; queue.Count > 0; id++)
        {
            if (id > levelEnd) { depth++; levelEnd = next - 1; }
            var s = queue.Dequeue();
            int n = spec.Enabled(s, steps);
            edgeStart?.Add((uint)edges!.Count);
            if (n == 0)
            {
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
                var t = spec.Next(s, steps[k]);
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
                    if (set!.Contains(fp)) continue;
                    bound = Bound.States; break;
                }
                else if (!set!.Add(fp)) continue;
                parent.Add(id); choice.Add((byte)k);
                pendingOf?.Add(spec.Pending(t) & eventually);
                Found(t, next);
                queue.Enqueue(t);
                next++;
            }
            if (bound == Bound.States) break;
            if ((id & 4095) == 0 && clock.ElapsedTicks > deadline) { bound = Bound.Time; break; }
            if (options.StopWhenAllViolated && decided == all) { stoppedEarly = queue.Count > 0; break; }
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

        var outcomes = new List<PropertyOutcome>(props.Count);
        for (int p = 0; p < props.Count; p++)
        {
            var prop = props[p];
            if (cycles.TryGetValue(p, out var lasso))
                outcomes.Add(new(prop, Verdict.Violated, Rebuild(spec, prop, parent, choice, lasso.Entry, lasso.Loop)));
            else if (witness[p] >= 0)
                outcomes.Add(new(prop, Verdict.Violated, Rebuild(spec, prop, parent, choice, (uint)witness[p], null)));
            else if (!complete)
                outcomes.Add(new(prop, Verdict.Unknown, null, bound switch
                {
                    Bound.States => $"state bound {options.MaxStates:N0} hit",
                    Bound.Depth => $"depth bound {options.MaxDepth} hit",
                    Bound.Time => $"time limit {options.TimeLimit} hit",
                    _ => "stopped once every other property was violated",
                }));
            else if (prop.Kind == PropertyKind.Eventually && !graph)
                outcomes.Add(new(prop, Verdict.Unknown, null, "holds on every terminal state; cycles not checked (graph not kept)"));
            else
                outcomes.Add(new(prop, Verdict.Holds, null));
        }

        long storeBytes = (graph ? map!.Bytes : set!.Bytes) + parent.Bytes + choice.Bytes
                          + (edgeStart?.Bytes ?? 0) + (edges?.Bytes ?? 0) + (pendingOf?.Bytes ?? 0);
        long frontierBytes = queue.PeakCount * System.Runtime.CompilerServices.Unsafe.SizeOf<TState>();
        return new ExploreReport(spec.Name, outcomes, next, transitions, depth, clock.Elapsed.TotalSeconds,
            storeBytes, frontierBytes, graph, bound, stoppedEarly);
    }

    /// <summary>Re-executes the specification from the initial state along the parent links (then the loop).</summary>
    private static Trace Rebuild<TState>(ISpec<TState> spec, Property prop, ChunkedList<uint> parent,
        ChunkedList<byte> choice, uint id, List<int>? loop) where TState : unmanaged
    {
        var path = new List<int>();
        for (uint cur = id; ; cur = parent[cur])
        {
            if (parent[cur] == Root) { path.Reverse(); return Replay(spec, prop, choice[cur], path, loop); }
            path.Add(choice[cur]);
        }
    }

    /// <summary>
    /// Replays <paramref name="choices"/> (positions in the enabled lists) from initial
    /// state <paramref name="initialIndex"/>, then <paramref name="loop"/> if given, and
    /// renders every state. Throws <see cref="TraceMismatchException"/> when a choice
    /// is not enabled: the trace was made by a different specification.
    /// </summary>
    public static Trace Replay<TState>(ISpec<TState> spec, Property prop, int initialIndex,
        IReadOnlyList<int> choices, IReadOnlyList<int>? loop = null) where TState : unmanaged
    {
        var initial = new List<TState>();
        spec.Initial(initial);
        if ((uint)initialIndex >= (uint)initial.Count)
            throw new TraceMismatchException($"initial state {initialIndex} does not exist ({initial.Count} initial states)");
        var s = initial[initialIndex];
        var states = new List<TraceState> { new(null, RenderOf(spec, s)) };
        var all = new List<int>(choices);
        if (loop is not null) all.AddRange(loop);
        Span<Step> steps = stackalloc Step[SpecLimits.MaxEnabled];
        for (int i = 0; i < all.Count; i++)
        {
            int n = spec.Enabled(s, steps);
            if ((uint)all[i] >= (uint)n)
                throw new TraceMismatchException($"step {i + 1}: choice {all[i]} is not enabled ({n} steps enabled)");
            var step = steps[all[i]];
            string what = spec.Describe(s, step);
            s = spec.Next(s, step);
            states.Add(new(what, RenderOf(spec, s)));
        }
        int? loopIndex = loop is not null ? choices.Count : null;
        if (loop is null && prop.Kind == PropertyKind.Eventually) loopIndex = all.Count;
        return new Trace(spec.Name, prop, initialIndex, all, states, loopIndex);
    }

    /// <summary>What re-executing a trace file showed: whether the property is still false at its end.</summary>
    public readonly record struct Judgement(bool Holds, string Reason);

    /// <summary>
    /// Replays a trace and judges its last state: an always-property must be false
    /// there; an eventually-property must be pending there and either no step is
    /// enabled, or the loop returns to the loop-start state with it pending all along.
    /// Returns a null trace when the choices do not replay.
    /// </summary>
    public static (Trace? Trace, Judgement Judgement) ReplayAndJudge<TState>(ISpec<TState> spec, Property prop,
        int initialIndex, IReadOnlyList<int> choices, IReadOnlyList<int>? loop) where TState : unmanaged
    {
        Trace trace;
        try { trace = Replay(spec, prop, initialIndex, choices, loop); }
        catch (TraceMismatchException e) { return (null, new(false, e.Message)); }

        int bit = -1;
        for (int i = 0; i < spec.Properties.Count; i++) if (ReferenceEquals(spec.Properties[i], prop)) bit = i;
        if (bit < 0) throw new ArgumentException("property not of this specification", nameof(prop));
        ulong mask = 1UL << bit;

        var initial = new List<TState>();
        spec.Initial(initial);
        var states = new List<TState> { initial[initialIndex] };
        Span<Step> steps = stackalloc Step[SpecLimits.MaxEnabled];
        foreach (int c in trace.Choices)
        {
            var cur = states[^1];
            spec.Enabled(cur, steps);
            states.Add(spec.Next(cur, steps[c]));
        }
        var last = states[^1];
        if (prop.Kind == PropertyKind.Always)
            return (trace, (spec.Violated(last) & mask) != 0 ? new(true, "violated in the last state") : new(false, "it holds in the last state"));
        if (loop is null)
        {
            if ((spec.Pending(last) & mask) == 0) return (trace, new(false, "the obligation is discharged in the last state"));
            return spec.Enabled(last, steps) == 0
                ? (trace, new(true, "pending in a terminal state"))
                : (trace, new(false, "the last state is not terminal"));
        }
        int start = choices.Count;
        if (Fingerprint.Of(last) != Fingerprint.Of(states[start])) return (trace, new(false, "the loop does not return to its start"));
        for (int i = start; i < states.Count; i++)
            if ((spec.Pending(states[i]) & mask) == 0) return (trace, new(false, $"the obligation is discharged in state {i}"));
        return (trace, new(true, "pending all along a cycle"));
    }

    private static List<TraceVar> RenderOf<TState>(ISpec<TState> spec, in TState s) where TState : unmanaged
    {
        var vars = new List<TraceVar>();
        spec.Render(s, vars);
        return vars;
    }
}

public sealed class TraceMismatchException(string message) : Exception(message);
