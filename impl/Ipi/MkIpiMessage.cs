namespace Multikernel.Impl.Ipi;

/// <summary>
/// What a handler's callback receives: the receiver's private copy of one message
/// (struct mk_ipi_data), valid only during the callback.
/// </summary>
public readonly ref struct MkIpiMessage(int senderCpu, ulong type, ReadOnlySpan<byte> data)
{
    public int SenderCpu { get; } = senderCpu;
    public ulong Type { get; } = type;
    public ReadOnlySpan<byte> Data { get; } = data;
}

/// <summary>mk_ipi_callback_t: runs on the receiving instance's CPU, in its interrupt context.</summary>
public delegate void MkIpiCallback(in MkIpiMessage message, object? ctx);

/// <summary>Receiver-side counters of one instance.</summary>
public readonly record struct MkIpiStats(long Delivered, long Dropped, long Resets);

/// <summary>
/// Deliberate defects, for showing that the properties catch them. Each one removes a
/// single safeguard of the design; production code passes <see cref="None"/>.
/// </summary>
[Flags]
public enum MkIpiDefects
{
    None = 0,
    /// <summary>The sender publishes the slot before copying the header and payload.</summary>
    PublishBeforeCopy = 1,
    /// <summary>Ring positions are used as slot indices without masking them.</summary>
    NoIndexMask = 2,
    /// <summary>UnregisterHandler returns without waiting for a drain in progress (no irq_work_sync).</summary>
    UnregisterNoWait = 4,
    /// <summary>The sender claims a position without checking that the ring has room.</summary>
    NoFullCheck = 8,
    /// <summary>The receiver never repairs a ring the other kernel wrote into; it waits on it for ever.</summary>
    NoRingRepair = 16,
    /// <summary>DestroyInstance frees the region without waiting for senders still inside (no synchronize_rcu).</summary>
    NoRcuWait = 32,
    /// <summary>The ring repair moves head back but leaves the lost positions' slots as they are (a published one stays READY).</summary>
    RepairKeepsSlots = 64,
}
