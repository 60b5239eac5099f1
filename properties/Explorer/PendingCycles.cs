using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// Finds a cycle on which an eventually-obligation stays pending, without a stored graph:
/// a depth-first search over the pending states only, re-generating each state's steps from
/// the specification. Colours (on the DFS stack, finished) are two bits per slot of the
/// visited set, so the search costs 0.25 bytes per slot and its stack.
/// <para>
/// Where it starts: every pending state P is reachable from an <i>entry</i> — a pending state
/// whose BFS parent is not pending, or an initial one — along the BFS tree, through pending
/// states only (walk back from P to the last ancestor that was not pending). So a DFS from
/// every entry, colours kept across them, meets every pending state; a back edge to a state
/// on the stack is a pending cycle, and a finished state lies on none (the usual argument of
/// cycle detection by DFS). The entries are taken in id order, so the lasso does not depend on
/// the thread count of the search before it. It need not be the shortest one.
/// </para>
/// </summary>
internal static class PendingCycles
{
    /// <summary>A lasso: the entry state's id, the steps from it to the loop start, and the loop's steps.</summary>
    public readonly record struct Lasso(uint Entry, List<int> Stem, List<int> Loop);

    /// <summary>The colours' cost for a visited set of <paramref name="capacity"/> slots.</summary>
    public static long ColourBytes(long capacity) => 2 * ((capacity + 63) >> 6) * sizeof(ulong);

    /// <param name="bytes">The colours plus the peak of the DFS stack (its states and their steps).</param>
    public static Lasso? Find<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited,
        PendingEntries<TState> entries, ulong bit, out long bytes) where TState : unmanaged where TAction : unmanaged
    {
        var (lasso, frames, steps) = Search(spec, visited, entries, bit);
        bytes = ColourBytes(visited.Capacity) + (long)frames * Unsafe.SizeOf<CycleFrame<TState>>() + (long)steps * Unsafe.SizeOf<TAction>();
        return lasso;
    }

    /// <summary>The lasso if any, and the peak of the stack: frames, and steps held for them.</summary>
    private static (Lasso? Lasso, int Frames, int Steps) Search<TState, TAction>(ISpec<TState, TAction> spec, FingerprintSet visited,
        PendingEntries<TState> entries, ulong bit) where TState : unmanaged where TAction : unmanaged
    {
        var grey = new ulong[(visited.Capacity + 63) >> 6];
        var black = new ulong[grey.Length];
        var stack = new List<CycleFrame<TState>>();
        var actions = new TAction[SpecLimits.MaxEnabled * 4];
        int actionTop = 0, peak = 0;

        bool Has(ulong[] bits, long slot) => (bits[slot >> 6] & (1UL << (int)(slot & 63))) != 0;
        void Set(ulong[] bits, long slot) => bits[slot >> 6] |= 1UL << (int)(slot & 63);
        void Clear(ulong[] bits, long slot) => bits[slot >> 6] &= ~(1UL << (int)(slot & 63));

        // Enters a pending state: grey, and its steps on the action stack.
        void Push(in TState s, long slot)
        {
            Set(grey, slot);
            stack.Add(CycleFrame<TState>.Enter(spec, s, slot, ref actions, ref actionTop));
            peak = Math.Max(peak, stack.Count);
        }

        for (long e = 0; e < entries.Count; e++)
        {
            if ((entries.Bits[e] & bit) == 0) continue;
            var root = entries.States[e];
            long rootSlot = visited.Find(Fingerprint.Of(root));
            if (rootSlot < 0 || Has(grey, rootSlot) || Has(black, rootSlot)) continue;
            Push(root, rootSlot);
            while (stack.Count > 0)
            {
                // In place: a frame holds a whole state, so it is not copied out and back per step.
                ref var top = ref CollectionsMarshal.AsSpan(stack)[^1];
                if (top.Next == top.Count)
                {
                    actionTop = top.Actions;
                    Clear(grey, top.Slot);
                    Set(black, top.Slot);
                    stack.RemoveAt(stack.Count - 1);
                    continue;
                }
                TState t;
                try { t = spec.Next(top.State, actions[top.Actions + top.Next++]); }
                catch (Exception ex) when (ex is not OutOfMemoryException) { continue; } // a crash has no successor
                if ((spec.Pending(t) & bit) == 0) continue;
                long slot = visited.Find(Fingerprint.Of(t));
                if (slot < 0 || Has(black, slot)) continue; // not found: beyond a crash; black: on no pending cycle
                if (!Has(grey, slot)) { Push(t, slot); continue; }
                // A back edge: the stack from t's frame to the top, and this step, is the loop.
                int from = stack.Count - 1;
                while (stack[from].Slot != slot) from--;
                var stem = new List<int>(from);
                for (int i = 0; i < from; i++) stem.Add(stack[i].Next - 1);
                var loop = new List<int>(stack.Count - from);
                for (int i = from; i < stack.Count; i++) loop.Add(stack[i].Next - 1);
                return (new Lasso(entries.Ids[e], stem, loop), peak, actions.Length);
            }
        }
        return (null, peak, actions.Length);
    }
}
