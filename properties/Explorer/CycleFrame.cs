using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>A state on a cycle search's DFS stack (PendingCycles, FairCycles): its slot, where its steps lie on the action stack, how many, and the next to take.</summary>
internal struct CycleFrame<TState> where TState : unmanaged
{
    public TState State;
    public long Slot;
    public int Actions, Count, Next;

    /// <summary>
    /// The frame of <paramref name="s"/>, its enabled steps pushed on the action stack (grown when full).
    /// A step generator that throws gives no steps here: the BFS reports the crash.
    /// </summary>
    public static CycleFrame<TState> Enter<TAction>(ISpec<TState, TAction> spec, in TState s, long slot, ref TAction[] actions, ref int actionTop)
        where TAction : unmanaged
    {
        if (actionTop + SpecLimits.MaxEnabled > actions.Length) Array.Resize(ref actions, actions.Length * 2);
        int n;
        try { n = spec.Enabled(s, actions.AsSpan(actionTop, SpecLimits.MaxEnabled)); }
        catch (Exception e) when (e is not OutOfMemoryException) { n = 0; }
        var frame = new CycleFrame<TState> { State = s, Slot = slot, Actions = actionTop, Count = n };
        actionTop += n;
        return frame;
    }
}
