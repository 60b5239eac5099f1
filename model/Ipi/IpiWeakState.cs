using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Multikernel.Model.Ipi;

/// <summary>
/// A store a CPU has executed that is not yet visible to the other CPUs: to slot <see cref="Loc"/> (0..),
/// or to the ring's head (<see cref="HeadLoc"/>) or tail (<see cref="TailLoc"/>); <see cref="Mask"/> says
/// which fields (<see cref="IpiWeakSpec"/>'s field bits), the rest holds their values.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct PendingStore
{
    public const byte HeadLoc = 0x40, TailLoc = 0x41;
    /// <summary>Flags: smp_store_release (waits for the CPU's earlier stores); after smp_wmb() (it and every later store wait).</summary>
    public const byte Release = 1, AfterWmb = 2;
    public byte Cpu, Loc, Mask, Flags;
    public byte State, SenderCpu;
    public ushort DataSize;
    public ulong Type;
    public byte Payload;
}

/// <summary>A receiving CPU's view of one slot where it lags behind memory (lkmm): the fields in <see cref="Mask"/> still read their old values.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct StaleSlot
{
    public byte Mask;
    /// <summary>The CPU whose store it has not yet seen (the first one, for the trace).</summary>
    public byte Writer;
    public byte State, SenderCpu;
    public ushort DataSize;
    public ulong Type;
    public byte Payload;
}

[InlineArray(IpiWeakState.MaxPending)] public struct PendingArray { private PendingStore _e; }
[InlineArray(IpiBounds.MaxReceivers * IpiBounds.MaxSlots)] public struct StaleArray { private StaleSlot _e; }

/// <summary>
/// The IPI state under a weak memory model: <see cref="Mem"/> is memory as every CPU will see it (the
/// sequential state, with the ghost history), the pending stores are the CPUs' store buffers (sorted by CPU,
/// program order within one: one canonical form per state), and, under lkmm, each receiving CPU's stale slot
/// fields. Under sc this type is not used at all.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct IpiWeakState
{
    /// <summary>Pending stores of all CPUs together: the store-buffer bound (a CPU with stores past it makes its oldest visible first).</summary>
    public const int MaxPending = 6;
    public IpiState Mem;
    public byte Pending;
    public PendingArray Stores;
    public StaleArray Stale;
}
