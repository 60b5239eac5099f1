using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// The exact visited set: 8 bytes per slot (and 4 more in a <see cref="StateIds"/> attached
/// when the state graph is kept). Open addressing with linear probing; the home slot is the
/// fingerprint scaled to the capacity (Lemire's fastrange), so a probe starts in the
/// cache line of its home and runs on through the next ones, and a resize is one
/// sequential pass. It grows by 5/4 at 3/4 load, which keeps the load between 0.6 and
/// 0.75 and the cost near 12 bytes per state: a lookup of a state not in the set runs to the
/// end of its cluster, about (1 + 1/(1-a)^2)/2 slots at load a, 32 at 7/8 and 8.5 at 3/4 (at 7/8
/// those probes took a tenth of a search's time). Keys must be uniform over all 64 bits (the
/// home slot comes from the high bits), as <see cref="Fingerprint.Of"/> makes them.
/// <para>
/// Concurrency, as the level-synchronous search uses it: any number of threads may
/// <see cref="Contains"/> while nobody adds; any number may <see cref="TryAddShared"/>
/// (compare-and-swap on the empty slot, no lock) after <see cref="Reserve"/> made room for
/// all of them; growing and <see cref="Add"/> are for one thread alone.
/// </para>
/// </summary>
public sealed unsafe class FingerprintSet : IVisitedSet
{
    internal const double MaxLoad = 0.75;
    internal const double Growth = 1.25;
    /// <summary>The load shared adds may reach before the set grows (linear probing must never fill the table).</summary>
    private const double HardLoad = 0.95;

    private HugeTable _slots;
    private StateIds? _ids;
    private long _limit;

    public FingerprintSet(long capacity = 1 << 16)
    {
        _slots = Allocate(capacity);
        _limit = (long)(capacity * MaxLoad);
    }

    /// <summary>Keeps <paramref name="ids"/> by slot: a resize moves each id with its fingerprint.</summary>
    internal void Attach(StateIds ids) => _ids = ids;

    public long Count { get; private set; }

    /// <summary>The capacity that holds <paramref name="states"/> below the grow threshold, within <paramref name="maxBytes"/>; the default when null.</summary>
    public static long CapacityFor(long? states, long maxBytes) =>
        states is { } n ? Math.Clamp((long)(n / MaxLoad) + 1, 1 << 16, Math.Min(Array.MaxLength, Math.Max(1 << 16, maxBytes / sizeof(ulong)))) : 1 << 16;
    public long Capacity => _slots.Length;
    public long Bytes => (long)_slots.Length * sizeof(ulong);

    /// <summary>Reserve at the hard load or the count past 3/4 grows the table: the new one, and the ids beside it.</summary>
    public long GrowBytes(long more) =>
        Count + more <= _limit ? 0 : NewCapacity(Count + more) * (sizeof(ulong) + (_ids is null ? 0 : sizeof(uint)));

    public double MissProbability => 0;

    public int Partitions(int threads) => threads;

    /// <summary>By the high bits, as the home slots are: a partition's fingerprints are one stretch of the table.</summary>
    public int PartitionOf(ulong fp, int parts) => (int)(((fp >> 32) * (ulong)parts) >> 32);

    /// <summary>
    /// States to make room for beyond the need when the set grows anyway: the search's forecast of
    /// the levels to come (<see cref="LevelSearch{TState, TAction}"/>), so that a set that grows as
    /// it goes resizes less often. It never makes the set grow by itself; at most what the memory allows.
    /// </summary>
    public long Ahead { get; set; }

    /// <summary>How many times the set has grown (each writes the whole table anew).</summary>
    public int Resizes { get; private set; }

    private long NewCapacity(long toHold) =>
        Math.Max((long)(_slots.Length * Growth) + 1, Math.Min((long)((toHold + Ahead) / MaxLoad) + 1, Array.MaxLength));

    // Outside the GC heap, on huge pages where the kernel allows, and unmapped as soon as a resize is done with it.
    private static HugeTable Allocate(long n) => new(n);

    private static long Home(ulong fp, long n) => (long)Math.BigMul(fp, (ulong)n, out _);

    /// <summary>Adds <paramref name="fp"/> (never 0), growing as needed; false when it was already present. One thread only.</summary>
    public bool Add(ulong fp)
    {
        if (Insert(_slots, fp) < 0) return false;
        if (++Count > _limit) Grow(Count);
        return true;
    }

    public bool Contains(ulong fp) => Find(fp) >= 0;

    /// <summary>The slot holding <paramref name="fp"/>, or -1.</summary>
    public long Find(ulong fp)
    {
        var slots = _slots.Slots;
        long n = _slots.Length;
        for (long i = Home(fp, n); ; )
        {
            ulong cur = slots[i];
            if (cur == fp) return i;
            if (cur == 0) return -1;
            if (++i == n) i = 0;
        }
    }

    /// <summary>
    /// Loads the cache line of <paramref name="fp"/>'s home slot ahead of its probe, and the line after it:
    /// a probe for a state not in the set runs 3.6 to 8.5 slots at the loads the set keeps (0.6 to 0.75),
    /// so from a home in the middle of its line it runs on into the next one about every other time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(ulong fp)
    {
        if (!Sse.IsSupported) return;
        var slots = _slots;
        ulong* home = slots.Slots + Home(fp, slots.Length);
        Sse.Prefetch0(home);
        Sse.Prefetch0(home + 8); // the next line (past the table's end: harmless, a prefetch never faults)
    }

    /// <summary>Empties the set, keeping its capacity. One thread.</summary>
    public void Clear()
    {
        NativeMemory.Clear(_slots.Slots, (nuint)(_slots.Length * sizeof(ulong)));
        Count = 0;
    }

    /// <summary>Makes room for <paramref name="more"/> shared adds without passing the hard load. One thread, between phases.</summary>
    public void Reserve(long more)
    {
        if (Count + more > (long)(_slots.Length * HardLoad)) Grow(Count + more);
    }

    /// <summary>
    /// Adds <paramref name="fp"/> from any thread, after <see cref="Reserve"/>: the slot it now
    /// holds, or -1 when it was present. Call <see cref="Added"/> with the number added once
    /// every thread is done.
    /// </summary>
    public long TryAddShared(ulong fp) => InsertShared(_slots, fp);

    /// <summary>Counts the shared adds of a phase and grows if the load passed 3/4. One thread.</summary>
    public void Added(long added)
    {
        Count += added;
        if (Count > _limit) Grow(Count);
    }

    private static long Insert(HugeTable table, ulong fp)
    {
        var slots = table.Slots;
        long n = table.Length;
        long i = Home(fp, n);
        while (true)
        {
            ulong cur = slots[i];
            if (cur == fp) return -1;
            if (cur == 0) { slots[i] = fp; return i; }
            if (++i == n) i = 0;
        }
    }

    /// <summary>Runs the ranges of a resize in parallel (each re-inserted with compare-and-swap), and how many; null: one thread.</summary>
    internal Crew? GrowCrew { get; set; }

    /// <summary>
    /// A resize, in parallel without atomics. The fingerprints are cut into ranges by their high
    /// bits; a range's homes form one stretch of the old table and one of the new, so each thread
    /// streams its stretch of the old table into its own stretch of the new one with plain
    /// stores. A probe that would run into the next stretch (a cluster across the cut, or the
    /// wrap at the end) is deferred and inserted after the threads are done.
    /// </summary>
    private void Grow(long toHold)
    {
        long n = NewCapacity(toHold);
        Resizes++;
        var old = _slots;
        var oldIds = _ids?.Ids;
        long m = old.Length;
        var bigger = Allocate(n);
        var ids = oldIds is null ? null : new uint[n];
        int parts = m < 1 << 16 || GrowCrew is null ? 1 : GrowCrew.Threads;
        var deferred = new List<(ulong Fp, uint Id)>[parts];
        long Cut(long size, int p) => (long)((UInt128)(ulong)size * (ulong)p / (ulong)parts);
        void Move(int p)
        {
            var later = deferred[p] = new List<(ulong, uint)>();
            long start = Cut(m, p), end = Cut(m, p + 1), limit = Cut(n, p + 1);
            // The old table is let go of as it is read, so a resize holds the new table and what is left
            // of the old, not both whole. Not the stretch's first cluster: the stretch before reads on
            // into it (and the last one wraps into the first stretch's).
            long released = start;
            while (released < end && old[released] != 0) released++;
            for (long k = start; ; k++)
            {
                long at = k < m ? k : k - m; // past the end: the clusters that wrapped to the start
                if (k >= end && (parts == 1 || k - m >= end || old[at] == 0)) break;
                if (k - released >= HugeTable.PageSlots && k <= end)
                {
                    old.Release(released, k);
                    released = k / HugeTable.PageSlots * HugeTable.PageSlots;
                }
                ulong fp = old[at];
                if (fp == 0 || Home(fp, parts) != p) continue;
                uint id = oldIds is null ? 0 : oldIds[at];
                long i = Home(fp, n);
                while (i < limit && bigger[i] != 0) i++;
                if (i == limit) { later.Add((fp, id)); continue; }
                bigger[i] = fp;
                if (ids is not null) ids[i] = id;
            }
        }
        if (parts == 1) Move(0);
        else GrowCrew!.Run(parts, Move);
        foreach (var later in deferred)
            foreach (var (fp, id) in later)
            {
                long i = Insert(bigger, fp);
                if (ids is not null) ids[i] = id;
            }
        _slots = bigger;
        old.Free();
        if (_ids is not null) _ids.Ids = ids!;
        _limit = (long)(n * MaxLoad);
    }

    private static long InsertShared(HugeTable table, ulong fp)
    {
        var slots = table.Slots;
        long n = table.Length;
        for (long i = Home(fp, n); ; )
        {
            ulong cur = Volatile.Read(ref slots[i]);
            if (cur == 0)
            {
                cur = Interlocked.CompareExchange(ref slots[i], fp, 0);
                if (cur == 0) return i;
            }
            if (cur == fp) return -1;
            if (++i == n) i = 0;
        }
    }
}
