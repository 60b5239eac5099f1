namespace Multikernel.Properties.Explorer;

/// <summary>
/// Finds a cycle of the explored graph on which an eventually-obligation stays
/// pending: Tarjan's strongly connected components over the sub-graph of pending
/// states, iterative so that deep graphs do not overflow the stack. Among the
/// cyclic components, the one reached first by the BFS (smallest state id) is
/// chosen, and a shortest cycle through that state is found inside it. Under weak fairness
/// (edge actors and enabled actors stored), a component counts only if every fair actor enabled
/// in all its states takes an edge inside it, and the cycle is built to be fair
/// (the same rule as <see cref="FairCycles"/>, here on the stored graph).
/// </summary>
internal static class Cycles
{
    public static (uint Entry, List<int> Loop)? FindPendingCycle(
        uint n, ChunkedList<uint> edgeStart, ChunkedList<uint> edges, ChunkedList<ulong> pendingOf, ulong bit,
        ChunkedList<byte>? edgeActor = null, ChunkedList<ulong>? enabledOf = null, ulong fairAll = 0)
    {
        long End(uint v) => v + 1 < n ? edgeStart[v + 1] : edges.Count;
        bool Pending(uint v) => (pendingOf[v] & bit) != 0;

        var index = new int[n];
        var low = new int[n];
        var comp = new int[n];
        var onStack = new bool[n];
        var stack = new Stack<uint>();
        var call = new Stack<(uint V, long Edge)>();
        int counter = 0, comps = 0, bestComp = -1;
        uint bestEntry = uint.MaxValue;

        for (uint root = 0; root < n; root++)
        {
            if (!Pending(root) || index[root] != 0) continue;
            index[root] = low[root] = ++counter;
            stack.Push(root); onStack[root] = true;
            call.Push((root, edgeStart[root]));
            while (call.Count > 0)
            {
                var (u, e) = call.Pop();
                if (e < End(u))
                {
                    call.Push((u, e + 1));
                    uint w = edges[e];
                    if (!Pending(w)) continue;
                    if (index[w] == 0)
                    {
                        index[w] = low[w] = ++counter;
                        stack.Push(w); onStack[w] = true;
                        call.Push((w, edgeStart[w]));
                    }
                    else if (onStack[w]) low[u] = Math.Min(low[u], index[w]);
                    continue;
                }
                if (call.Count > 0) { var p = call.Peek().V; low[p] = Math.Min(low[p], low[u]); }
                if (low[u] != index[u]) continue;
                int id = ++comps, size = 0;
                uint min = uint.MaxValue;
                uint x;
                var members = edgeActor is null ? null : new List<uint>();
                do
                {
                    x = stack.Pop(); onStack[x] = false; comp[x] = id; size++;
                    members?.Add(x);
                    if (x < min) min = x;
                } while (x != u);
                bool cyclic = size > 1 || SelfLoop(u, edgeStart[u], End(u), edges);
                if (cyclic && members is not null)
                {
                    ulong everywhere = fairAll, taken = 0;
                    foreach (uint v in members)
                    {
                        everywhere &= enabledOf![v];
                        for (long e2 = edgeStart[v]; e2 < End(v); e2++)
                            if (comp[edges[e2]] == id && edgeActor![e2] != 0) taken |= 1UL << (edgeActor[e2] - 1);
                    }
                    cyclic = (everywhere & ~taken & fairAll) == 0;
                }
                if (cyclic && min < bestEntry) { bestEntry = min; bestComp = id; }
            }
        }
        if (bestComp < 0) return null;
        if (edgeActor is null) return (bestEntry, ShortestLoop(bestEntry, bestComp, comp, edgeStart, edges, End));
        return (bestEntry, FairLoop(bestEntry, bestComp, comp, edgeStart, edges, End, edgeActor, enabledOf!, fairAll));
    }

    /// <summary>
    /// A fair cycle through <paramref name="entry"/> inside its component: for each fair actor not yet
    /// satisfied, the shortest way to a state where it is disabled or through an edge of it; then back.
    /// </summary>
    private static List<int> FairLoop(uint entry, int component, int[] comp, ChunkedList<uint> edgeStart, ChunkedList<uint> edges,
        Func<uint, long> end, ChunkedList<byte> edgeActor, ChunkedList<ulong> enabledOf, ulong all)
    {
        var loop = new List<int>();
        ulong satisfied = ~enabledOf[entry] & all;
        uint at = entry;
        while (satisfied != all)
        {
            int need = System.Numerics.BitOperations.TrailingZeroCount(~satisfied & all);
            foreach (var (edge, choice) in Path(at, e => edgeActor[e] == need + 1 || (enabledOf[edges[e]] & (1UL << need)) == 0))
            {
                loop.Add(choice);
                if (edgeActor[edge] != 0) satisfied |= 1UL << (edgeActor[edge] - 1);
                at = edges[edge];
                satisfied |= ~enabledOf[at] & all;
            }
        }
        foreach (var (_, choice) in Path(at, e => edges[e] == entry)) loop.Add(choice);
        return loop;

        // Breadth-first inside the component from `from` to the first edge `goal` accepts: (edge, choice) pairs.
        List<(long Edge, int Choice)> Path(uint from, Func<long, bool> goal)
        {
            var via = new Dictionary<uint, (uint From, long Edge)>();
            var queue = new Queue<uint>([from]);
            while (queue.Count > 0)
            {
                uint u = queue.Dequeue();
                for (long e = edgeStart[u]; e < end(u); e++)
                {
                    uint w = edges[e];
                    if (comp[w] != component) continue;
                    if (goal(e))
                    {
                        var path = new List<(long, int)> { (e, (int)(e - edgeStart[u])) };
                        for (uint cur = u; cur != from; cur = via[cur].From) path.Add((via[cur].Edge, (int)(via[cur].Edge - edgeStart[via[cur].From])));
                        path.Reverse();
                        return path;
                    }
                    if (w == from || via.ContainsKey(w)) continue;
                    via[w] = (u, e);
                    queue.Enqueue(w);
                }
            }
            throw new InvalidOperationException("a fair component without the edge its fairness promised");
        }
    }

    private static bool SelfLoop(uint u, long from, long to, ChunkedList<uint> edges)
    {
        for (long e = from; e < to; e++) if (edges[e] == u) return true;
        return false;
    }

    /// <summary>BFS inside the component from <paramref name="entry"/> back to itself; returns the choices.</summary>
    private static List<int> ShortestLoop(uint entry, int component, int[] comp, ChunkedList<uint> edgeStart,
        ChunkedList<uint> edges, Func<uint, long> end)
    {
        var via = new Dictionary<uint, (uint From, int Choice)>();
        var queue = new Queue<uint>();
        queue.Enqueue(entry);
        while (queue.Count > 0)
        {
            uint u = queue.Dequeue();
            long first = edgeStart[u];
            for (long e = first; e < end(u); e++)
            {
                uint w = edges[e];
                if (comp[w] != component) continue;
                int choice = (int)(e - first);
                if (w == entry)
                {
                    var loop = new List<int> { choice };
                    for (uint cur = u; cur != entry; cur = via[cur].From) loop.Add(via[cur].Choice);
                    loop.Reverse();
                    return loop;
                }
                if (via.ContainsKey(w)) continue;
                via[w] = (u, choice);
                queue.Enqueue(w);
            }
        }
        throw new InvalidOperationException("a cyclic component without a cycle through its entry");
    }
}
