namespace Multikernel.Model.Ipi;

/// <summary>
/// The operations a design's steps perform on shared memory, the receiver and the
/// handler list, with the ghost bookkeeping that makes "lost", "torn" or
/// "duplicated" checkable facts. Designs call these instead of touching ghost
/// fields, so every design is judged by the same rules.
/// </summary>
public sealed class IpiKernel(IpiBounds bounds, IpiDesign design)
{
    public IpiBounds Bounds { get; } = bounds;

    public static void Break(ref IpiState s, IpiInvariant i) => s.Broken |= (ushort)(1 << (int)i);

    public IpiMessage MessageOf(in IpiState s, int cpu) => Bounds.Message(MessageId(s, cpu));
    public int MessageId(in IpiState s, int cpu) => Bounds.MessageId(cpu, s.Senders[cpu].K);

    // ---- sender side -------------------------------------------------------------

    /// <summary>if (data_size > MK_MAX_DATA_SIZE) return -EINVAL; true when the send was refused.</summary>
    public bool RejectOversize(ref IpiState s, int cpu)
    {
        if (MessageOf(s, cpu).Size <= IpiConstants.MkMaxDataSize) return false;
        Return(ref s, cpu, -Kernel.Errno.EINVAL);
        return true;
    }

    /// <summary>mk_instance_ipi_get(): the area pointer, or NULL once unpublished.</summary>
    public bool LookupArea(ref IpiState s, int cpu)
    {
        if (s.Area != IpiState.AreaLive) return false;
        s.Senders[cpu].HoldsArea = 1;
        return true;
    }

    /// <summary>Bounds check of an index into the slot array: an index outside it is a violation.</summary>
    public bool Slot(ref IpiState s, int index, out int slot)
    {
        slot = index;
        if ((uint)index < (uint)design.Slots(Bounds)) return true;
        Break(ref s, IpiInvariant.IndexBounded);
        return false;
    }

    private void BeforeWrite(ref IpiState s, int cpu, int slot)
    {
        if (s.Area == IpiState.AreaFreed && s.Senders[cpu].HoldsArea != 0) Break(ref s, IpiInvariant.NoUseAfterFree);
        ref var d = ref s.Slots[slot];
        if (d.Live != 0) { Break(ref s, IpiInvariant.NoOverwrite); d.Live = 0; }
    }

    /// <summary>memset(target, 0, sizeof(*target)).</summary>
    public void Memset(ref IpiState s, int cpu, int slot)
    {
        BeforeWrite(ref s, cpu, slot);
        s.Slots[slot] = default;
    }

    /// <summary>target->data_size = data_size; target->sender_cpu = cpu; target->type = type (as the design stores it).</summary>
    public void WriteHeader(ref IpiState s, int cpu, int slot)
    {
        BeforeWrite(ref s, cpu, slot);
        var m = MessageOf(s, cpu);
        ref var d = ref s.Slots[slot];
        d.DataSize = (ushort)m.Size;
        d.SenderCpu = (byte)(cpu + 1);
        d.Type = design.StoredType(m.Type);
    }

    /// <summary>memcpy(target->buffer, data, data_size): nothing is copied for a zero-length message.</summary>
    public void CopyPayload(ref IpiState s, int cpu, int slot)
    {
        BeforeWrite(ref s, cpu, slot);
        if (MessageOf(s, cpu).Size > 0) s.Slots[slot].Payload = (byte)MessageId(s, cpu);
    }

    /// <summary>Ghost: the sender's message now lies complete in the slot.</summary>
    public void Complete(ref IpiState s, int cpu, int slot) => s.Slots[slot].Live = (byte)MessageId(s, cpu);

    /// <summary>__apic_send_IPI(cpu, MULTIKERNEL_VECTOR): sets the receiver's pending bit.</summary>
    public static void RaiseIpi(ref IpiState s) => s.IpiPending = 1;

    /// <summary>multikernel_send_ipi_data returns <paramref name="rc"/>; the CPU moves to its next message.</summary>
    public void Return(ref IpiState s, int cpu, int rc)
    {
        ushort bit = (ushort)(1 << (MessageId(s, cpu) - 1));
        if (rc == 0) s.Accepted |= bit; else s.Rejected |= bit;
        ref var c = ref s.Senders[cpu];
        c.HoldsArea = 0;
        c.K++;
        c.Pc = c.K < Bounds.Messages ? (byte)0 : SenderCpu.Done;
    }

    // ---- receiver side -----------------------------------------------------------

    /// <summary>The receiver discards what the slot holds.</summary>
    public static void Drop(ref IpiState s, int slot)
    {
        ref var d = ref s.Slots[slot];
        if (d.Live != 0) { Break(ref s, IpiInvariant.NoSilentDrop); d.Live = 0; }
    }

    /// <summary>The receiver copies a published slot into its private buffer: the copy must be one whole message.</summary>
    public void TakeCopy(ref IpiState s, int slot)
    {
        s.Copy = s.Slots[slot];
        s.Copy.Live = 0;
        if (Identify(s.Copy) == 0) Break(ref s, IpiInvariant.Intact);
        Taken(ref s, slot);
    }

    /// <summary>Ghost: the receiver has taken the slot's message (copied it, or dispatched it to nobody).</summary>
    public static void Taken(ref IpiState s, int slot) => s.Slots[slot].Live = 0;

    /// <summary>handler->saved_data = data; irq_work_queue(&amp;handler->work): a no-op while the work is pending.</summary>
    public void QueueWork(ref IpiState s, int h, int slot)
    {
        ref var hd = ref s.Handlers[h];
        if ((hd.Flags & MkIpiHandler.WorkPending) != 0) Break(ref s, IpiInvariant.NoCoalescedWork);
        hd.SavedData = (byte)(slot + 1);
        hd.Dispatched = (byte)Identify(s.Slots[slot]);
        hd.Flags |= MkIpiHandler.WorkPending;
    }

    /// <summary>
    /// handler->callback(data, ctx): the handler reads <paramref name="view"/> (shared memory for
    /// the seeds, a private copy for the reference). It must read, whole, the message it was
    /// dispatched for (<paramref name="dispatched"/>; -1 when the view cannot change).
    /// </summary>
    public void Callback(ref IpiState s, int h, in MkIpiData view, int dispatched = -1, int slot = -1)
    {
        if ((s.Handlers[h].Flags & MkIpiHandler.Unregistered) != 0) Break(ref s, IpiInvariant.UnregisterFinal);
        int id = Identify(view);
        if (id == 0 || (dispatched >= 0 && id != dispatched)) { Break(ref s, IpiInvariant.Intact); return; }
        if (IpiBounds.HandlerType(h) != Bounds.Message(id).Type) { Break(ref s, IpiInvariant.HandlerType); return; }
        int shift = 2 * (id - 1);
        uint count = (s.Delivered >> shift) & 3;
        if (count >= 1) Break(ref s, IpiInvariant.NoDuplicate);
        if (count < 3) s.Delivered += 1u << shift;
        if (slot >= 0 && s.Slots[slot].Live == id) Taken(ref s, slot);
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
