using System.Runtime.InteropServices;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// Finds a <i>fair</i> cycle on which an eventually-obligation stays pending, for a specification
/// that declares weak fairness per actor (<see cref="ISpecHandle.FairActors"/>): a cycle counts only
/// if every fair actor either takes a step in it or is disabled somewhere on it. A CPU, kernel thread
/// or timer that could run at every step of the loop and never does is a schedule the kernel never
/// produces; an actor the spec declares unfair (a hostile host, an injected fault) is owed nothing.
/// <para>
/// Tarjan's strongly connected components over the pending states, re-generating steps from the
/// specification as <see cref="PendingCycles"/> does, from the same entries. A component holds a
/// fair cycle exactly when it has an edge inside it and every fair actor that is enabled in all of
/// its states takes a step on some edge inside it: the walk through all of its states and edges is
/// then fair, and if some actor is enabled throughout and never taken inside, no cycle in it is fair
/// (weak fairness needs no search below the component). The lasso goes from the component's root
/// through, for each fair actor in turn, the nearest state where it is disabled or the nearest edge
/// it takes, and back.
/// </para>
/// </summary>
internal static class FairCycles
{
    public static PendingCycles.Lasso? Find<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited,
        PendingEntries<TState> entries, ulong bit, out long bytes) where TState : unmanaged where TAction : unmanaged
    {
        int actors = spec.FairActors.Count;
        if (actors is 0 or > 64) throw new ArgumentException($"{spec.Name}: between 1 and 64 fair actors");
        ulong all = actors == 64 ? ulong.MaxValue : (1UL << actors) - 1;
        var index = new int[visited.Capacity];
        var low = new int[visited.Capacity];
        var onStack = new ulong[(visited.Capacity + 63) >> 6];
        var tarjan = new List<(TState State, long Slot)>();
        var calls = new List<CycleFrame<TState>>();
        var actions = new TAction[SpecLimits.MaxEnabled * 4];
        int actionTop = 0, counter = 0, peak = 0;
        bytes = 8L * visited.Capacity + onStack.Length * 8L;

        bool OnStack(long slot) => (onStack[slot >> 6] & (1UL << (int)(slot & 63))) != 0;
        void Mark(long slot, bool on)
        {
            if (on) onStack[slot >> 6] |= 1UL << (int)(slot & 63);
            else onStack[slot >> 6] &= ~(1UL << (int)(slot & 63));
        }

        void Push(in TState s, long slot)
        {
            index[slot] = low[slot] = ++counter;
            tarjan.Add((s, slot));
            Mark(slot, true);
            calls.Add(CycleFrame<TState>.Enter(spec, s, slot, ref actions, ref actionTop));
            peak = Math.Max(peak, calls.Count + tarjan.Count);
        }

        for (long e = 0; e < entries.Count; e++)
        {
            if ((entries.Bits[e] & bit) == 0) continue;
            var root = entries.States[e];
            long rootSlot = visited.Find(Fingerprint.Of(root));
            if (rootSlot < 0 || index[rootSlot] != 0) continue;
            Push(root, rootSlot);
            while (calls.Count > 0)
            {
                ref var top = ref CollectionsMarshal.AsSpan(calls)[^1];
                if (top.Next < top.Count)
                {
                    TState t;
                    try { t = spec.Next(top.State, actions[top.Actions + top.Next++]); }
                    catch (Exception ex) when (ex is not OutOfMemoryException) { continue; }
                    if ((spec.Pending(t) & bit) == 0) continue;
                    long slot = visited.Find(Fingerprint.Of(t));
                    if (slot < 0) continue; // beyond a crash
                    if (index[slot] == 0) { Push(t, slot); continue; }
                    if (OnStack(slot)) low[top.Slot] = Math.Min(low[top.Slot], index[slot]);
                    continue;
                }
                // u is finished: pass its low-link up, and pop its component if it is the root of one.
                long u = top.Slot;
                var uState = top.State;
                actionTop = top.Actions;
                calls.RemoveAt(calls.Count - 1);
                if (calls.Count > 0) { long p = calls[^1].Slot; low[p] = Math.Min(low[p], low[u]); }
                if (low[u] != index[u]) continue;
                int from = tarjan.Count - 1;
                while (tarjan[from].Slot != u) from--;
                var members = new Dictionary<long, TState>(tarjan.Count - from);
                for (int i = from; i < tarjan.Count; i++) { members[tarjan[i].Slot] = tarjan[i].State; Mark(tarjan[i].Slot, false); }
                tarjan.RemoveRange(from, tarjan.Count - from);
                if (!Fair(spec, visited, members, bit, all)) continue;
                var stem = new List<int>(calls.Count);
                foreach (var f in calls) stem.Add(f.Next - 1);
                var loop = Loop(spec, visited, members, bit, all, uState, u);
                bytes += (long)peak * System.Runtime.CompilerServices.Unsafe.SizeOf<CycleFrame<TState>>() + (long)actions.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<TAction>();
                return new PendingCycles.Lasso(entries.Ids[e], stem, loop);
            }
        }
        bytes += (long)peak * System.Runtime.CompilerServices.Unsafe.SizeOf<CycleFrame<TState>>() + (long)actions.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<TAction>();
        return null;
    }

    /// <summary>One internal step of a component: its choice, the fair actor taking it (or -1), and the state it reaches.</summary>
    private readonly record struct Edge<TState>(int Choice, int Actor, long Slot, TState Target);

    /// <summary>The fair actors enabled in <paramref name="s"/>, and the steps that stay inside <paramref name="members"/>.</summary>
    private static ulong Steps<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited, Dictionary<long, TState> members,
        ulong bit, in TState s, List<Edge<TState>> inside) where TState : unmanaged where TAction : unmanaged
    {
        Span<TAction> acts = stackalloc TAction[SpecLimits.MaxEnabled];
        int n;
        try { n = spec.Enabled(s, acts); }
        catch (Exception e) when (e is not OutOfMemoryException) { return 0; }
        ulong enabled = 0;
        inside.Clear();
        for (int k = 0; k < n; k++)
        {
            int actor = spec.Actor(acts[k]);
            if (actor >= 0) enabled |= 1UL << actor;
            TState t;
            try { t = spec.Next(s, acts[k]); }
            catch (Exception e) when (e is not OutOfMemoryException) { continue; }
            if ((spec.Pending(t) & bit) == 0) continue;
            long slot = visited.Find(Fingerprint.Of(t));
            if (slot >= 0 && members.ContainsKey(slot)) inside.Add(new(k, actor, slot, t));
        }
        return enabled;
    }

    /// <summary>Whether the component has an edge inside, and every fair actor enabled in all its states takes one of them.</summary>
    private static bool Fair<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited, Dictionary<long, TState> members,
        ulong bit, ulong all) where TState : unmanaged where TAction : unmanaged
    {
        ulong everywhere = all, taken = 0;
        bool edge = false;
        var inside = new List<Edge<TState>>();
        foreach (var s in members.Values)
        {
            everywhere &= Steps(spec, visited, members, bit, s, inside);
            foreach (var x in inside) { edge = true; if (x.Actor >= 0) taken |= 1UL << x.Actor; }
        }
        return edge && (everywhere & ~taken & all) == 0;
    }

    /// <summary>
    /// A cycle from <paramref name="root"/> inside the fair component that is itself fair: for each fair
    /// actor not yet satisfied, the shortest way to a state where it is disabled or through a step of it;
    /// then the shortest way back (at least one step).
    /// </summary>
    private static List<int> Loop<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited, Dictionary<long, TState> members,
        ulong bit, ulong all, TState root, long rootSlot) where TState : unmanaged where TAction : unmanaged
    {
        var loop = new List<int>();
        var inside = new List<Edge<TState>>();
        ulong satisfied = ~Steps(spec, visited, members, bit, root, inside) & all;
        TState at = root;
        long atSlot = rootSlot;
        while (satisfied != all)
        {
            int need = System.Numerics.BitOperations.TrailingZeroCount(~satisfied & all);
            var path = Shortest(spec, visited, members, bit, at, atSlot, (x, disabledThere) => x.Actor == need || (disabledThere & (1UL << need)) != 0);
            foreach (var x in path)
            {
                loop.Add(x.Choice);
                if (x.Actor >= 0) satisfied |= 1UL << x.Actor;
                satisfied |= ~Steps(spec, visited, members, bit, x.Target, inside) & all;
                (at, atSlot) = (x.Target, x.Slot);
            }
        }
        foreach (var x in Shortest(spec, visited, members, bit, at, atSlot, (x, _) => x.Slot == rootSlot)) loop.Add(x.Choice);
        return loop;
    }

    /// <summary>Breadth-first inside the component from <paramref name="start"/> to the first step that <paramref name="goal"/> accepts (given the actors disabled where it lands).</summary>
    private static List<Edge<TState>> Shortest<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited, Dictionary<long, TState> members,
        ulong bit, TState start, long startSlot, Func<Edge<TState>, ulong, bool> goal) where TState : unmanaged where TAction : unmanaged
    {
        var via = new Dictionary<long, (long From, Edge<TState> Step)>();
        var queue = new Queue<(TState State, long Slot)>();
        var inside = new List<Edge<TState>>();
        var scratch = new List<Edge<TState>>();
        queue.Enqueue((start, startSlot));
        while (queue.Count > 0)
        {
            var (s, slot) = queue.Dequeue();
            Steps(spec, visited, members, bit, s, inside);
            foreach (var x in inside)
            {
                ulong disabled = ~Steps(spec, visited, members, bit, x.Target, scratch);
                if (goal(x, disabled))
                {
                    var path = new List<Edge<TState>> { x };
                    for (long cur = slot; cur != startSlot; cur = via[cur].From) path.Add(via[cur].Step);
                    path.Reverse();
                    return path;
                }
                if (x.Slot == startSlot || via.ContainsKey(x.Slot)) continue;
                via[x.Slot] = (slot, x);
                queue.Enqueue((x.Target, x.Slot));
            }
        }
        throw new InvalidOperationException("a fair component without the step its fairness promised");
    }
}
