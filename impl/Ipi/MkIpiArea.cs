using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Multikernel.Impl.Ipi;

/// <summary>
/// struct mk_instance_ipi_data: one instance's shared region plus what only this
/// kernel sees (the receiver's private tail and copy buffer, the read-side count).
/// </summary>
internal sealed class MkIpiArea
{
    public readonly int Id;
    public readonly byte[] Region;
    public readonly uint RingSize;
    public readonly uint Mask;

    /// <summary>
    /// Senders inside SendIpiData on this area (the rcu_read_lock() section), one counter per
    /// sending thread on a cache line of its own, written by that thread alone with plain
    /// stores, as a CPU's RCU nesting count is. Threads beyond <see cref="ReaderSlots"/> share
    /// slot 0 and update it atomically. Readers of the counters first run a process-wide
    /// barrier (membarrier), which orders the senders' plain stores for them.
    /// </summary>
    public readonly int[] Senders = new int[(ReaderSlots + 1) * IntsPerLine];
    public const int ReaderSlots = 16, IntsPerLine = 16;

    [ThreadStatic] private static int t_slot; // 0 unassigned; 1..ReaderSlots own; -1 shared
    private static int s_slots;

    /// <summary>This thread's reader slot, assigned on first use (smp_processor_id() for a CPU).</summary>
    public static int MySlot()
    {
        int s = t_slot;
        if (s != 0) return s;
        s = Interlocked.Increment(ref s_slots);
        return t_slot = s <= ReaderSlots ? s : -1;
    }

    /// <summary>rcu_read_lock() on this area.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadLock(int slot)
    {
        if (slot > 0) { ref int c = ref Senders[slot * IntsPerLine]; Volatile.Write(ref c, c + 1); }
        else Interlocked.Increment(ref Senders[0]);
    }

    /// <summary>rcu_read_unlock(): a release store, after everything the sender wrote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadUnlock(int slot)
    {
        if (slot > 0) { ref int c = ref Senders[slot * IntsPerLine]; Volatile.Write(ref c, c - 1); }
        else Interlocked.Decrement(ref Senders[0]);
    }

    /// <summary>True when some sender is inside SendIpiData on this area. The caller has run the process-wide barrier.</summary>
    public bool AnySender()
    {
        for (int i = 0; i <= ReaderSlots; i++) if (Volatile.Read(ref Senders[i * IntsPerLine]) != 0) return true;
        return false;
    }

    /// <summary>The slot at the receiver's tail is published: there is work for the CPU.</summary>
    public bool HasWork() => Volatile.Read(ref Word(MkIpiLayout.SlotOffset(Recv.ConsumerTail & Mask) + MkIpiLayout.SlotState)) == IpiConstants.SlotReady;
    /// <summary>The last tail value a sender read from the region: senders re-read the region's tail (a line the receiver writes) only when this one says the ring is full.</summary>
    public SenderLine Send;
    /// <summary>The APIC's pending bit: written by both sides, so alone on its line.</summary>
    public IrqLine Irq;
    /// <summary>Written by the receiving CPU only (and read by unregister and destroy).</summary>
    public ReceiverLine Recv;
    public const int Dead = -1;

    public readonly byte[] Copy = new byte[MkIpiLayout.MaxDataSize];

    public MkCpu? Cpu;

    /// <param name="region">A zeroed region from the pool (memory another instance had), or null for a new one.</param>
    public MkIpiArea(int id, int ringSize, byte[]? region)
    {
        Id = id;
        RingSize = (uint)ringSize;
        Mask = (uint)ringSize - 1;
        Region = region ?? GC.AllocateArray<byte>(MkIpiLayout.RegionSize(ringSize), pinned: true);
    }

    public ref uint Head => ref Word(MkIpiLayout.Head);
    public ref uint Tail => ref Word(MkIpiLayout.Tail);

    /// <summary>A u32 of the region; the array's bounds check is the last line of defence, not the first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref uint Word(int offset) => ref Unsafe.As<byte, uint>(ref Region[offset]);
}

/// <summary>Padded to 64-byte lines, so that a sender's write does not invalidate the receiver's line and vice versa.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct SenderLine
{
    [FieldOffset(64)] public uint CachedTail;
}

[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct IrqLine
{
    /// <summary>
    /// The APIC's pending bit for MULTIKERNEL_VECTOR on the instance's CPU; it stays set while
    /// the CPU is awake and polling the ring, so senders skip the IPI then.
    /// </summary>
    [FieldOffset(64)] public int IpiPending;
}

[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct ReceiverLine
{
    /// <summary>irq_work pending: set by every interrupt, cleared by the drain that serves it.</summary>
    [FieldOffset(64)] public int WorkPending;
    /// <summary>Managed thread id of the CPU draining the ring, 0 when none, <see cref="MkIpiArea.Dead"/> once destroyed.</summary>
    [FieldOffset(68)] public int DrainOwner;
    /// <summary>Odd while a drain pass runs: what irq_work_sync() waits on.</summary>
    [FieldOffset(72)] public int DrainGen;
    /// <summary>The receiver's own tail: never read back from the region.</summary>
    [FieldOffset(76)] public uint ConsumerTail;
    [FieldOffset(80)] public long Delivered;
    [FieldOffset(88)] public long Dropped;
    [FieldOffset(96)] public long Resets;
    /// <summary>Where the last pass stopped at an unpublished, claimed slot: telling a slow sender from a damaged ring.</summary>
    [FieldOffset(104)] public uint StallTail;
    [FieldOffset(108)] public uint Stalls;
}
