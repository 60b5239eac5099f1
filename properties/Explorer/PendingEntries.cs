namespace Multikernel.Properties.Explorer;

/// <summary>The states where an eventually-obligation became pending, kept whole so that a cycle search can start there.</summary>
internal sealed class PendingEntries<TState> where TState : unmanaged
{
    public ChunkedList<TState> States { get; } = new();
    public ChunkedList<uint> Ids { get; } = new();
    public ChunkedList<ulong> Bits { get; } = new();
    public long Count => Ids.Count;
    public long Bytes => States.Bytes + Ids.Bytes + Bits.Bytes;

    public void Add(in TState s, uint id, ulong bits)
    {
        States.Add(s);
        Ids.Add(id);
        Bits.Add(bits);
    }
}
