using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The operations a design's steps perform on shared memory, the receiver and the
/// handler list, with the ghost bookkeeping that makes "lost", "torn" or
/// "duplicated" checkable facts. Designs call these instead of touching ghost
/// fields or indexing the slot array, so every design is judged by the same rules:
/// a slot index outside the ring is an <see cref="IpiInvariant.IndexBounded"/> violation,
/// never a silent access to model memory beyond it.
/// </summary>
public sealed class IpiKernel(IpiBounds bounds, IpiDesign design) : IReasonSource
{
    public IpiBounds Bounds { get; } = bounds;
    public ReasonSink Reasons { get; } = new();

    // The design's declared variables, read once (a design's lists may be built on each call).
    private readonly int _shared = design.SharedNames.Count, _locals = design.LocalNames.Count;
    private readonly bool _keepLocals = design.LocalsKeptAcrossSends;

    /// <summary>The design's bytes at these bounds: its shared variables, then each sender's locals (<see cref="IpiSpecs.For"/> sizes the state by it).</summary>
    public int DesignBytesUsed => _shared + Bounds.Senders * _locals;

    // ---- the design's own variables ---------------------------------------------------

    /// <summary>Shared variable <paramref name="i"/> of the design (<see cref="IpiDesign.SharedNames"/>[i]); one it did not declare breaks the step contract.</summary>
    public ref byte Shared(ref IpiState s, int i) => ref Var(ref s, SharedIndex(i));

    /// <summary>Sender <paramref name="cpu"/>'s local <paramref name="i"/> (<see cref="IpiDesign.LocalNames"/>[i]); one it did not declare breaks the step contract.</summary>
    public ref byte Local(ref IpiState s, int cpu, int i) => ref Var(ref s, CheckedLocalIndex(cpu, i));

    /// <summary>The value of shared variable <paramref name="i"/>, for a predicate (<see cref="IpiDesign.SendBlocked"/>, …), which is given the state read-only.</summary>
    public byte SharedValue(in IpiState s, int i) => Var(ref Unsafe.AsRef(in s), SharedIndex(i));

    /// <summary>The value of sender <paramref name="cpu"/>'s local <paramref name="i"/>, for a predicate.</summary>
    public byte LocalValue(in IpiState s, int cpu, int i) => Var(ref Unsafe.AsRef(in s), CheckedLocalIndex(cpu, i));

    private int SharedIndex(int i) => (uint)i < (uint)_shared ? i
        : throw new StepContractException($"a step used shared variable {i}, which the design does not declare (SharedNames has {_shared})");

    private int CheckedLocalIndex(int cpu, int i) => (uint)i < (uint)_locals && (uint)cpu < (uint)Bounds.Senders ? LocalIndex(cpu, i)
        : throw new StepContractException($"a step used local {i} of sender {cpu}, which the design does not declare (LocalNames has {_locals}, senders {Bounds.Senders})");

    /// <summary>Where sender <paramref name="cpu"/>'s local <paramref name="i"/> lies among the design's bytes.</summary>
    public int LocalIndex(int cpu, int i) => _shared + cpu * _locals + i;

    /// <summary>Byte <paramref name="index"/> of the design's variables: in the state itself, or past it in the frame the state is the core of.</summary>
    internal static ref byte Var(ref IpiState s, int index) =>
        ref index < IpiState.InlineDesignBytes ? ref s.Vars[index] : ref IpiFrames.More(ref s, index - IpiState.InlineDesignBytes);

    /// <summary>Records that <paramref name="i"/> broke here; the reason is formatted only when a trace is explained.</summary>
    public void Break(ref IpiState s, IpiInvariant i, [InterpolatedStringHandlerArgument("")] Reason why)
    {
        s.Broken |= (ushort)PropertyTable<IpiInvariant>.Bit(i);
        if (why.Text() is { } text) Reasons.Note((int)i, text);
    }

    public IpiMessage MessageOf(in IpiState s, int cpu) => Bounds.Message(MessageId(s, cpu));
    /// <summary>Whether message <paramref name="id"/> is owed to handler <paramref name="h"/>: the handler of its type, or every handler in a design without types.</summary>
    public bool Owed(int h, int id) => design.HandlerTypes ? Bounds.Intended(id) == h : h < Bounds.Handlers;
    /// <summary>Receiving CPUs in this exploration (<see cref="IpiDesign.Receivers"/>).</summary>
    public int Receivers => design.Receivers(Bounds);
    /// <summary>Sender <paramref name="cpu"/>'s name in traces: receiving CPUs come first (CPU0..), senders after them.</summary>
    public string SenderName(int cpu) => $"CPU{Receivers + cpu}";
    /// <summary>A slot's sender_cpu as traces name CPUs (the model stores sender index + 1; 0 stays 0).</summary>
    public int ShownCpu(byte senderCpu) => senderCpu == 0 ? 0 : Receivers + senderCpu - 1;
    /// <summary>The receiving CPU sender <paramref name="cpu"/>'s current message is addressed to (its slot in a design with a slot per CPU).</summary>
    public int Target(in IpiState s, int cpu) => Bounds.Target(MessageId(s, cpu), Receivers);
    public int MessageId(in IpiState s, int cpu) => Bounds.MessageId(cpu, s.Senders[cpu].K);
    private static string Msg(int id) => id == 0 ? "no whole message" : $"m{id}";

    // ---- slots -------------------------------------------------------------------

    /// <summary>Whether <paramref name="index"/> is inside the design's mailbox; if not, that is an index-bounded violation.</summary>
    public bool InRing(ref IpiState s, int index)
    {
        int slots = design.Slots(Bounds);
        if ((uint)index < (uint)slots) return true;
        Break(ref s, IpiInvariant.IndexBounded, $"slot index {index} used with ring size {slots}");
        return false;
    }

    /// <summary>
    /// &amp;slots[index], bounds-checked: outside the ring it records the violation and returns a
    /// scratch slot, zeroed at every such access (so the step stays deterministic), where
    /// writes are lost; the step goes on as the kernel would.
    /// </summary>
    public ref MkIpiData Slot(ref IpiState s, int index)
    {
        if (InRing(ref s, index)) return ref s.Slots[index];
        _outside = default;
        return ref _outside;
    }

    // Per thread: the explorer runs a specification on several threads at once.
    [ThreadStatic] private static MkIpiData _outside;

    // ---- sender side -------------------------------------------------------------

    /// <summary>if (data_size > MK_MAX_DATA_SIZE) return -EINVAL; true when the send was refused.</summary>
    public bool RejectOversize(ref IpiState s, int cpu)
    {
        if (MessageOf(s, cpu).Size <= IpiConstants.MkMaxDataSize) return false;
        Return(ref s, cpu, -Kernel.Errno.EINVAL);
        return true;
    }

    /// <summary>mk_instance_ipi_get(): the area pointer, or NULL once unpublished.</summary>
    public static bool LookupArea(ref IpiState s, int cpu)
    {
        if (s.Area != IpiState.AreaLive) return false;
        s.Senders[cpu].HoldsArea = 1;
        return true;
    }

    private void BeforeWrite(ref IpiState s, int cpu, ref MkIpiData d)
    {
        if (s.Area == IpiState.AreaFreed && s.Senders[cpu].HoldsArea != 0)
            Break(ref s, IpiInvariant.NoUseAfterFree, $"{SenderName(cpu)} writes m{MessageId(s, cpu)} into the IPI area after destroy freed it");
        if (d.Live != 0 && d.Live != MessageId(s, cpu)) // the sender's own message, whole after its header: not a loss
        {
            Break(ref s, IpiInvariant.NoOverwrite, $"{SenderName(cpu)} writes over m{d.Live}, complete and not yet taken by the receiver");
            d.Live = 0;
        }
    }

    /// <summary>memset(target, 0, sizeof(*target)).</summary>
    public void Memset(ref IpiState s, int cpu, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        BeforeWrite(ref s, cpu, ref d);
        d = default;
    }

    /// <summary>
    /// The hostile peer (bound hostile-peer, off by default): it writes data_size = MK_MAX_DATA_SIZE + 1
    /// into <paramref name="slot"/>. The message it destroys is nobody's loss to blame on the design:
    /// it is spoiled (no delivery owed, no intact check on it).
    /// </summary>
    public void PeerWrite(ref IpiState s, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        if (d.Live != 0) s.Spoiled |= (ushort)(1 << (d.Live - 1));
        d.Live = 0;
        d.DataSize = IpiConstants.MkMaxDataSize + 1;
        d.Forged = 1;
        s.PeerDone = 1;
    }

    /// <summary>target->data_size = data_size; target->sender_cpu = cpu; target->type = type (as the design stores it).</summary>
    public void WriteHeader(ref IpiState s, int cpu, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        BeforeWrite(ref s, cpu, ref d);
        var m = MessageOf(s, cpu);
        d.DataSize = (ushort)m.Size;
        d.Forged = 0;
        d.SenderCpu = (byte)(cpu + 1);
        d.Type = design.StoredType(m.Type);
        NoteWhole(ref s, cpu, ref d);
    }

    /// <summary>
    /// Ghost, derived from what the slot holds, not from the design's say-so: once the sender's writes
    /// make the slot hold its whole message, the message is there to be lost (no-overwrite), whether or
    /// not the design also calls <see cref="Complete"/>.
    /// </summary>
    private void NoteWhole(ref IpiState s, int cpu, ref MkIpiData d)
    {
        if (Unsafe.AreSame(ref d, ref _outside) || d.Forged != 0) return;
        int id = MessageId(s, cpu);
        if (Identify(d) == id) d.Live = (byte)id;
    }

    /// <summary>memcpy(target->buffer, data, data_size): nothing is copied for a zero-length message.</summary>
    public void CopyPayload(ref IpiState s, int cpu, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        BeforeWrite(ref s, cpu, ref d);
        if (MessageOf(s, cpu).Size > 0) d.Payload = (byte)MessageId(s, cpu);
        NoteSpoiled(ref s, cpu, ref d);
        NoteWhole(ref s, cpu, ref d);
    }

    /// <summary>
    /// Optional: the sender says its message now lies complete in the slot. It changes nothing the
    /// slot's bytes do not already say (<see cref="NoteWhole"/>): a call on a slot that does not hold
    /// the message marks nothing, and a fill that never calls it is judged the same.
    /// </summary>
    public void Complete(ref IpiState s, int cpu, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        NoteSpoiled(ref s, cpu, ref d);
        NoteWhole(ref s, cpu, ref d);
    }

    /// <summary>The peer rewrote data_size mid-send: the message is spoiled (owed to nobody), not complete.</summary>
    private void NoteSpoiled(ref IpiState s, int cpu, ref MkIpiData d)
    {
        if (!Unsafe.AreSame(ref d, ref _outside) && d.Forged != 0) s.Spoiled |= (ushort)(1 << (MessageId(s, cpu) - 1));
    }

    /// <summary>__apic_send_IPI(cpu, MULTIKERNEL_VECTOR): sets the (first) receiver's pending bit.</summary>
    public static void RaiseIpi(ref IpiState s) => RaiseIpi(ref s, 0);
    /// <summary>__apic_send_IPI(cpu, MULTIKERNEL_VECTOR): sets receiving CPU <paramref name="receiver"/>'s pending bit.</summary>
    public static void RaiseIpi(ref IpiState s, int receiver) => s.IpiPending |= (byte)(1 << receiver);

    /// <summary>
    /// multikernel_send_ipi_data returns <paramref name="rc"/>; the CPU moves to its next message. The
    /// CPU's locals are the function's automatic variables, so they are zeroed here, unless the design
    /// keeps them across sends (<see cref="IpiDesign.LocalsKeptAcrossSends"/>: per-CPU variables). The
    /// step that calls Return must end there (return false): the step contract checks it.
    /// </summary>
    public void Return(ref IpiState s, int cpu, int rc)
    {
        ushort bit = (ushort)(1 << (MessageId(s, cpu) - 1));
        if (rc == 0) s.Accepted |= bit; else s.Rejected |= bit;
        ref var c = ref s.Senders[cpu];
        c.HoldsArea = 0;
        if (!_keepLocals) for (int i = 0; i < _locals; i++) Var(ref s, LocalIndex(cpu, i)) = 0;
        c.K++;
        c.Pc = c.K < Bounds.Messages ? (byte)0 : SenderCpu.Done;
    }

    // ---- receiver side -----------------------------------------------------------

    /// <summary>
    /// The receiver discards what the slot holds. Discarding a message no registered handler is owed is
    /// what the reference does too (it copies and dispatches to nobody): only a message a linked handler
    /// is owed is a silent drop, so the verdict does not depend on which of Drop and TakeCopy a design calls.
    /// </summary>
    public void Drop(ref IpiState s, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        if (d.Live == 0) return;
        if (OwedToLinked(s, d.Live))
            Break(ref s, IpiInvariant.NoSilentDrop, $"the receiver drops m{d.Live} (data_size {d.DataSize}), whose send returned or will return 0");
        d.Live = 0;
    }

    /// <summary>
    /// The receiver discards its private copy instead of calling the handlers: a silent drop when the copy
    /// is a whole message a linked handler is owed (a copy the hostile peer wrote is owed to nobody).
    /// </summary>
    public void DropCopy(ref IpiState s)
    {
        if (s.Copy.Forged != 0) return;
        int id = Identify(s.Copy);
        if (id != 0 && OwedToLinked(s, id))
            Break(ref s, IpiInvariant.NoSilentDrop, $"the receiver drops its copy of m{id} (data_size {s.Copy.DataSize}), whose send returned or will return 0");
    }

    /// <summary>Whether handler <paramref name="h"/> takes a message whose slot holds type <paramref name="storedType"/>: its ipi_type as the design stores types, or every handler in a design without types.</summary>
    public bool Takes(int h, ulong storedType) => !design.HandlerTypes || design.StoredType(IpiBounds.HandlerType(h)) == storedType;

    /// <summary>
    /// list_for_each_entry_rcu(h, &amp;mk_handlers) if (h->ipi_type == type): bit h set for each handler
    /// still linked that takes <paramref name="storedType"/>, as the list is now. The receiver's matching
    /// loop, for a design's drain to reuse.
    /// </summary>
    public byte Matching(in IpiState s, ulong storedType)
    {
        byte mask = 0;
        for (int h = 0; h < Bounds.Handlers; h++)
            if ((s.Handlers[h].Flags & MkIpiHandler.Linked) != 0 && Takes(h, storedType)) mask |= (byte)(1 << h);
        return mask;
    }

    /// <summary>Whether some handler still on the list is owed message <paramref name="id"/>.</summary>
    private bool OwedToLinked(in IpiState s, int id)
    {
        for (int h = 0; h < Bounds.Handlers; h++)
            if ((s.Handlers[h].Flags & MkIpiHandler.Linked) != 0 && Owed(h, id)) return true;
        return false;
    }

    /// <summary>The receiver copies a published slot into its private buffer: the copy must be one whole message.</summary>
    public void TakeCopy(ref IpiState s, int slot)
    {
        ref var d = ref Slot(ref s, slot);
        s.Copy = d;
        s.Copy.Live = 0;
        if (d.Forged == 0 && Identify(s.Copy) == 0)
            Break(ref s, IpiInvariant.Intact, $"the receiver copies slot{slot}, which holds no whole message (sender_cpu {ShownCpu(d.SenderCpu)}, type 0x{d.Type:x}, data_size {d.DataSize}, buffer {(d.Payload == 0 ? "zeroes" : $"m{d.Payload}'s bytes")})");
        d.Live = 0;
    }

    /// <summary>Ghost: the receiver has taken the slot's message (copied it, or dispatched it to nobody).</summary>
    public void Taken(ref IpiState s, int slot) => Slot(ref s, slot).Live = 0;

    /// <summary>
    /// handler->saved_data = data; irq_work_queue(&amp;handler->work) on receiving CPU <paramref name="cpu"/>.
    /// As in mainline's kernel/irq_work.c, irq_work_queue() claims the work and returns false,
    /// doing nothing, while it is still pending (queued, callback not started); it queues on the
    /// local CPU's list. So a second dispatch before the callback starts is folded into the first,
    /// and the callback reads whatever saved_data points to by then.
    /// </summary>
    public void QueueWork(ref IpiState s, int h, int slot, int cpu = 0)
    {
        ref var hd = ref s.Handlers[h];
        int dispatched = Identify(Slot(ref s, slot));
        if ((hd.Flags & MkIpiHandler.WorkPending) != 0)
        {
            // Lost to coalescing only when saved_data is redirected away from a message that is
            // still whole where it was: with one slot, the message the pending work was for has
            // already been overwritten (no-overwrite's loss), and the callback reads the new one.
            int was = hd.SavedData - 1;
            if (hd.Dispatched != 0 && was != slot && was >= 0 && Identify(Slot(ref s, was)) == hd.Dispatched)
                Break(ref s, IpiInvariant.NoCoalescedWork, $"handler{h}'s irq_work is still pending on CPU{hd.WorkCpu} for m{hd.Dispatched} in slot{was}; CPU{cpu} sets saved_data = slot{slot} and irq_work_queue() returns false: the one callback reads slot{slot}, and m{hd.Dispatched} never reaches handler{h}");
        }
        else
        {
            // Not pending, so irq_work_queue() succeeds; but if a run has cleared PENDING and its
            // handler_work() has not yet loaded saved_data, that callback now reads the new slot too.
            int was = hd.SavedData - 1;
            if ((hd.Flags & MkIpiHandler.Running) != 0 && hd.RunDispatched != 0 && was != slot && was >= 0 && Identify(Slot(ref s, was)) == hd.RunDispatched)
                Break(ref s, IpiInvariant.NoCoalescedWork, $"handler{h}'s irq_work on CPU{hd.RunCpu} has cleared PENDING but not yet read saved_data (m{hd.RunDispatched} in slot{was}); CPU{cpu} sets saved_data = slot{slot} and queues it again: both callbacks read slot{slot}, and m{hd.RunDispatched} never reaches handler{h}");
            hd.WorkCpu = (byte)cpu;
        }
        hd.SavedData = (byte)(slot + 1);
        hd.Dispatched = (byte)dispatched;
        hd.Flags |= MkIpiHandler.WorkPending;
    }

    /// <summary>
    /// handler->callback(data, ctx): the handler reads <paramref name="view"/> (shared memory for
    /// the seeds, a private copy for the reference). It must read, whole, the message it was
    /// dispatched for (<paramref name="dispatched"/>; -1 when the view cannot change).
    /// </summary>
    public void Callback(ref IpiState s, int h, in MkIpiData view, int dispatched = -1, int slot = -1)
    {
        if ((s.Handlers[h].Flags & MkIpiHandler.Unregistered) != 0)
            Break(ref s, IpiInvariant.UnregisterFinal, $"handler{h}'s callback runs after multikernel_unregister_handler(handler{h}) returned");
        if (view.Forged != 0)
        {
            // Written by the hostile peer: no message of ours to judge, but its size must have been checked.
            if (view.DataSize > IpiConstants.MkMaxDataSize)
                Break(ref s, IpiInvariant.SizeChecked, $"handler{h}'s callback is handed data_size {view.DataSize} (buffer[] holds {IpiConstants.MkMaxDataSize}), written by the hostile peer");
            return;
        }
        int id = Identify(view);
        if (id == 0 || (dispatched >= 0 && id != dispatched))
        {
            Break(ref s, IpiInvariant.Intact, $"handler{h} was dispatched {Msg(Math.Max(dispatched, 0))} but reads {(id == 0 ? $"a torn slot (sender_cpu {ShownCpu(view.SenderCpu)}, type 0x{view.Type:x}, data_size {view.DataSize})" : $"m{id}")}");
            return;
        }
        var m = Bounds.Message(id);
        // Without handler types (RFC v1) every handler is owed every message: nothing to compare.
        if (design.HandlerTypes && IpiBounds.HandlerType(h) != m.Type)
        {
            Break(ref s, IpiInvariant.HandlerType, $"handler{h} (ipi_type {IpiBounds.HandlerType(h)}) ran with m{id} (type 0x{m.Type:x})");
            return;
        }
        int count = s.DeliveredCount(h, id);
        if (count >= 1) Break(ref s, IpiInvariant.NoDuplicate, $"m{id} is delivered to handler{h} a second time");
        if (count < 3) s.Delivered += 1UL << IpiState.DeliveredShift(h, id);
        if (slot >= 0 && Slot(ref s, slot).Live == id) Taken(ref s, slot);
    }

    /// <summary>The message whose header and payload the view holds, whole; 0 when torn or stale.</summary>
    public int Identify(in MkIpiData view)
    {
        for (int id = 1; id <= Bounds.MessageCount; id++)
        {
            var m = Bounds.Message(id);
            if (view.SenderCpu == Bounds.SenderOf(id) + 1 && view.DataSize == m.Size &&
                view.Type == design.StoredType(m.Type) && (m.Size == 0 || view.Payload == id))
                return id;
        }
        return 0;
    }

    /// <summary>Ghost: multikernel_unregister_handler(h) has returned.</summary>
    public static void UnregisterReturned(ref IpiState s, int h) => s.Handlers[h].Flags |= MkIpiHandler.Unregistered;
}
