using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Multikernel.Model.Ipi;

/// <summary>One struct mk_ipi_data as the model sees it (plus the reference ring's slot state).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MkIpiData
{
    /// <summary>Reference ring only: SlotFree / SlotClaimed / SlotReady.</summary>
    public byte State;
    /// <summary>sender_cpu; senders are CPUs 1..n, 0 after memset.</summary>
    public byte SenderCpu;
    public ushort DataSize;
    /// <summary>type, as the design stores it (the seeds keep an unsigned int).</summary>
    public ulong Type;
    /// <summary>Whose bytes fill buffer[]: a message id, or 0 for zeroes.</summary>
    public byte Payload;
    /// <summary>Ghost: the message whose complete copy is here and not yet taken by the receiver.</summary>
    public byte Live;
    /// <summary>Ghost: data_size was last written by a hostile peer, not by a sender.</summary>
    public byte Forged;
}

/// <summary>A sending CPU inside multikernel_send_ipi_data.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct SenderCpu
{
    public const byte Done = 0xff;
    /// <summary>Index of the next step of the design's send program; <see cref="Done"/> when all messages are sent.</summary>
    public byte Pc;
    /// <summary>Which of its messages it is sending (0-based).</summary>
    public byte K;
    /// <summary>The ring position it claimed (head value), or its slot index.</summary>
    public byte Slot;
    /// <summary>It holds a pointer to the target's IPI area (from the lookup until it returns).</summary>
    public byte HoldsArea;
}

/// <summary>
/// The bytes a design of your own keeps: its shared variables first (<see cref="IpiDesign.SharedNames"/>),
/// then each sender CPU's locals (<see cref="IpiDesign.LocalNames"/>), as many as the design declares: the
/// first 16 here, the rest in the frame the state is explored in (<see cref="IpiFrame{TMore}"/>). Reach them with
/// <see cref="IpiKernel.Shared"/> and <see cref="IpiKernel.Local"/> (<see cref="IpiKernel.SharedValue"/> and
/// <see cref="IpiKernel.LocalValue"/> in a predicate), never by index.
/// </summary>
[InlineArray(IpiState.InlineDesignBytes)] public struct DesignVars { private byte _e; }

/// <summary>A struct mk_ipi_handler with its irq_work.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MkIpiHandler
{
    /// <summary>Running: irq_work_run() has cleared PENDING (the work is BUSY) and handler_work() has not yet loaded saved_data.</summary>
    public const byte Linked = 1, WorkPending = 2, Unregistered = 4, Running = 8;
    public byte Flags;
    /// <summary>saved_data: slot index + 1, or 0.</summary>
    public byte SavedData;
    /// <summary>Ghost: the message the slot held, whole, when the work was queued (0: none whole).</summary>
    public byte Dispatched;
    /// <summary>The receiving CPU whose irq_work list holds the pending work (irq_work_queue() queues on the local CPU).</summary>
    public byte WorkCpu;
    /// <summary>While <see cref="Running"/>: the CPU running it, and (ghost) the message it was dispatched for.</summary>
    public byte RunCpu, RunDispatched;
}

[InlineArray(IpiBounds.MaxSlots)] public struct SlotArray { private MkIpiData _e; }
[InlineArray(IpiBounds.MaxSenders)] public struct SenderArray { private SenderCpu _e; }
[InlineArray(IpiBounds.MaxHandlers)] public struct HandlerArray { private MkIpiHandler _e; }

/// <summary>
/// The whole system: sender CPUs, the target's shared IPI area, the receiving CPU,
/// the handler list, the unregistering and destroying threads, and ghost history.
/// Packed and unmanaged: its bytes are its identity for the explorer.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct IpiState
{
    public SenderArray Senders;
    public SlotArray Slots;
    /// <summary>Reference ring indices in shared memory, free-running (wrap at 256 in the model).</summary>
    public byte Head, Tail;

    // The receiving CPUs (CPU 0 of the target instance; CPU 0..r-1 where the design addresses CPUs).
    /// <summary>Bit r: receiving CPU r's APIC has MULTIKERNEL_VECTOR pending; IPIs sent to it before it is serviced coalesce.</summary>
    public byte IpiPending;
    /// <summary>Reference: the ring's irq_work: 0 idle, 1 queued, 2 running.</summary>
    public byte RingWork;
    /// <summary>Reference: handlers still to call for the message being dispatched (bit h).</summary>
    public byte Targets;
    /// <summary>Reference: the receiver's private copy of the message being dispatched.</summary>
    public MkIpiData Copy;

    public HandlerArray Handlers;
    /// <summary>Step of multikernel_unregister_handler(handler 0); 0 = not called.</summary>
    public byte UnregisterPc;
    /// <summary>Step of the instance destroy; 0 = not started.</summary>
    public byte DestroyPc;
    /// <summary>The target's IPI area: see <see cref="AreaLive"/> and friends.</summary>
    public byte Area;

    public const byte AreaLive = 0, AreaUnpublished = 1, AreaFreed = 2;
    /// <summary>
    /// The design's bytes kept in the state itself (shared variables + senders × locals): every design that
    /// needs no more (all that ship) is explored in this struct. A design that needs more is explored in an
    /// <see cref="IpiFrame{TMore}"/> of 64, 128 or 256 bytes of variables, the smallest it fits.
    /// </summary>
    public const int InlineDesignBytes = 16;
    /// <summary>The most bytes of variables a design may have at its bounds (one byte each); more is refused with the counts.</summary>
    public const int MaxDesignBytes = 256;

    /// <summary>A design's own variables (a lock word, a lazily set pointer, a per-CPU sequence, …): see <see cref="DesignVars"/>.</summary>
    public DesignVars Vars;

    // Ghost history.
    public ushort Accepted, Rejected;
    /// <summary>Two bits per (handler, message id): intact deliveries of the message to that handler (saturates at 3).</summary>
    public ulong Delivered;
    /// <summary>Bit i: event-invariant i was broken on the way here.</summary>
    public ushort Broken;
    /// <summary>The hostile peer has written (it writes once).</summary>
    public byte PeerDone;
    /// <summary>Ghost, bit id-1: the message was destroyed by the hostile peer's write; nothing owes its delivery.</summary>
    public ushort Spoiled;


    public const int MaxIds = IpiBounds.MaxSenders * IpiBounds.MaxMessages;
    public static int DeliveredShift(int h, int id) => 2 * (h * MaxIds + id - 1);
    /// <summary>Intact deliveries of message <paramref name="id"/> to handler <paramref name="h"/> (saturates at 3).</summary>
    public readonly int DeliveredCount(int h, int id) => (int)(Delivered >> DeliveredShift(h, id)) & 3;
}
