namespace Multikernel.Impl.Ipi;

/// <summary>
/// The byte layout of an instance's shared IPI region, as both kernels map it:
/// a ring header (head and tail on their own cache lines) followed by the slots,
/// each a struct mk_ipi_data with the ring's state and sequence words in front.
/// Everything here can be written by the other kernel, so the receiver treats every
/// value it reads from the region as untrusted.
/// </summary>
public static class MkIpiLayout
{
    /// <summary>u32 ring->head: the next position to claim; senders cmpxchg it.</summary>
    public const int Head = 0;
    /// <summary>u32 ring->tail: the next position to consume; the receiver release-stores it.</summary>
    public const int Tail = 64;
    /// <summary>struct mk_ipi_slot slots[ring] begin here.</summary>
    public const int Slots = 128;

    // struct mk_ipi_slot, offsets inside one slot.
    /// <summary>u32 state: MK_SLOT_FREE / MK_SLOT_READY (published with a release store).</summary>
    public const int SlotState = 0;
    /// <summary>u32 seq: the ring position the sender claimed, so a stale or forged slot is recognised.</summary>
    public const int SlotSeq = 4;
    /// <summary>s32 sender_cpu.</summary>
    public const int SlotSenderCpu = 8;
    /// <summary>u32 data_size.</summary>
    public const int SlotDataSize = 12;
    /// <summary>u64 type: the full 64-bit type, never truncated.</summary>
    public const int SlotType = 16;
    /// <summary>u8 buffer[MK_MAX_DATA_SIZE].</summary>
    public const int SlotBuffer = 32;
    /// <summary>32-byte header + 256-byte buffer, rounded up to whole 64-byte cache lines.</summary>
    public const int SlotSize = 320;

    public const int MaxDataSize = IpiConstants.MkMaxDataSize;
    public const int MaxRing = IpiConstants.MkIpiRingMax;

    /// <summary>Bytes of a region holding a ring of <paramref name="ring"/> slots.</summary>
    public static int RegionSize(int ring) => Slots + ring * SlotSize;

    /// <summary>Byte offset of slot <paramref name="index"/>; the caller has already masked it.</summary>
    public static int SlotOffset(uint index) => Slots + (int)index * SlotSize;
}
