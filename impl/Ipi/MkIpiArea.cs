using System.Runtime.CompilerServices;

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

    /// <summary>Senders inside SendIpiData on this area: the rcu_read_lock() section.</summary>
    public int Senders;
    /// <summary>The APIC's pending bit for MULTIKERNEL_VECTOR on the instance's CPU.</summary>
    public int IpiPending;
    /// <summary>irq_work pending: set by every interrupt, cleared by the drain that serves it.</summary>
    public int WorkPending;
    /// <summary>Managed thread id of the CPU draining the ring, 0 when none, <see cref="Dead"/> once destroyed.</summary>
    public int DrainOwner;
    /// <summary>Odd while a drain pass runs: what irq_work_sync() waits on.</summary>
    public int DrainGen;
    public const int Dead = -1;

    // Receiver-private: never read back from the region.
    public uint ConsumerTail;
    public readonly byte[] Copy = new byte[MkIpiLayout.MaxDataSize];
    public long Delivered, Dropped, Resets;

    public MkCpu? Cpu;

    public MkIpiArea(int id, int ringSize)
    {
        Id = id;
        RingSize = (uint)ringSize;
        Mask = (uint)ringSize - 1;
        Region = GC.AllocateArray<byte>(MkIpiLayout.RegionSize(ringSize), pinned: true);
    }

    public ref uint Head => ref Word(MkIpiLayout.Head);
    public ref uint Tail => ref Word(MkIpiLayout.Tail);

    /// <summary>A u32 of the region; the array's bounds check is the last line of defence, not the first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref uint Word(int offset) => ref Unsafe.As<byte, uint>(ref Region[offset]);
}
