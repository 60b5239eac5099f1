namespace Multikernel.Properties.Explorer;

/// <summary>
/// The visited set of a level-synchronous search, keyed by 64-bit fingerprints (TLC's FPSet):
/// the exact <see cref="FingerprintSet"/> and the lossy <see cref="BitstateSet"/> today, a set
/// partitioned across machines tomorrow. The search uses it in phases:
/// <list type="bullet">
/// <item>expand: <see cref="Contains"/> and <see cref="Prefetch"/> from any thread, nobody adding;</item>
/// <item>between phases, one thread: <see cref="Reserve"/> room for a level's candidates;</item>
/// <item>insert: <see cref="TryAddShared"/> from one thread per partition (<see cref="PartitionOf"/>;
/// <see cref="Partitions"/> says how many the set allows at once), then <see cref="Added"/>.</item>
/// </list>
/// A fingerprint's partition is where it is inserted; a distributed set would own it there.
/// State ids are not kept here: <see cref="StateIds"/> maps the exact set's slots to them.
/// </summary>
public interface IVisitedSet
{
    /// <summary>Fingerprints added.</summary>
    long Count { get; }
    /// <summary>Bytes the set holds now.</summary>
    long Bytes { get; }
    /// <summary>
    /// Bytes it must allocate, beside what it holds, to take <paramref name="more"/> adds (the next
    /// resize: while it runs, the old table and the new are both held); 0 when they fit.
    /// </summary>
    long GrowBytes(long more);
    /// <summary>The chance, at the end, that a new state was wrongly taken as visited; 0 for an exact set.</summary>
    double MissProbability { get; }

    bool Contains(ulong fp);
    /// <summary>Loads the memory <paramref name="fp"/>'s probe will touch, ahead of it.</summary>
    void Prefetch(ulong fp);

    /// <summary>How many partitions may insert at once, given <paramref name="threads"/> (1 when insertion order matters).</summary>
    int Partitions(int threads);
    /// <summary>The partition of <paramref name="fp"/> among <paramref name="parts"/>: where it is inserted.</summary>
    int PartitionOf(ulong fp, int parts);
    /// <summary>Makes room for <paramref name="more"/> shared adds. One thread, between phases.</summary>
    void Reserve(long more);
    /// <summary>
    /// Adds <paramref name="fp"/>, one thread per partition, after <see cref="Reserve"/>: a slot
    /// (≥ 0; an exact set's position, for <see cref="StateIds"/>) when it is new, -1 when it was present.
    /// </summary>
    long TryAddShared(ulong fp);
    /// <summary>Counts a phase's adds once every thread is done (and may grow). One thread.</summary>
    void Added(long added);
}

/// <summary>
/// The state id of each fingerprint of an exact set (graph mode: the edges are resolved to ids
/// through it), kept by slot beside the set and moved with it when it grows.
/// </summary>
public sealed class StateIds
{
    private readonly FingerprintSet _set;
    internal uint[] Ids;

    public StateIds(FingerprintSet set)
    {
        _set = set;
        Ids = new uint[set.Capacity];
        set.Attach(this);
    }

    public long Bytes => (long)Ids.Length * sizeof(uint);

    /// <summary>The id of the state in <paramref name="slot"/> (a slot <see cref="IVisitedSet.TryAddShared"/> returned).</summary>
    public ref uint At(long slot) => ref Ids[slot];

    /// <summary>The id of the state whose fingerprint is <paramref name="fp"/>; it must be in the set.</summary>
    public uint Of(ulong fp) => Ids[_set.Find(fp)];
}
