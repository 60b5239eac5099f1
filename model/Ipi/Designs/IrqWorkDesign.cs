namespace Multikernel.Model.Ipi.Designs;

/// <summary>
/// What RFC v1 and v2 share: one mk_ipi_data slot per target CPU, an interrupt
/// handler that walks mk_handlers under mk_handlers_lock and hands each matching
/// handler a pointer into shared memory (saved_data) through its own irq_work,
/// and an unregister that unlinks, waits with irq_work_sync and frees.
/// </summary>
public abstract class IrqWorkDesign : IpiDesign
{
    /// <summary>Whether the interrupt handler accepts what the slot holds (v2 checks data_size).</summary>
    protected virtual bool Valid(in MkIpiData data) => true;
    /// <summary>Whether a handler is queued for the slot (v2 compares ipi_type with data->type).</summary>
    protected abstract bool Matches(int h, in MkIpiData data);

    public override ulong StoredType(ulong type) => (uint)type; // struct mk_ipi_data: unsigned int type

    public override void Interrupt(ref IpiState s, IpiKernel k) => Interrupt(ref s, k, 0);

    /// <summary>
    /// multikernel_interrupt_handler() on receiving CPU <paramref name="cpu"/>: one step, as it runs
    /// under raw_spin_lock(&amp;mk_handlers_lock). It reads cpu_data[cpu], the slot of the CPU it runs on.
    /// </summary>
    public override void Interrupt(ref IpiState s, IpiKernel k, int cpu)
    {
        s.IpiPending &= (byte)~(1 << cpu);
        int slot = cpu;
        var data = k.Slot(ref s, slot);
        if (!Valid(data)) { k.Drop(ref s, slot); return; }
        bool ownQueued = false;
        // mk_handlers is a LIFO list: the handler registered last comes first.
        for (int h = k.Bounds.Handlers - 1; h >= 0; h--)
        {
            if ((s.Handlers[h].Flags & MkIpiHandler.Linked) == 0 || !Matches(h, data)) continue;
            k.QueueWork(ref s, h, slot, cpu);
            ownQueued |= data.Live != 0 && k.Owed(h, data.Live);
        }
        if (!ownQueued) k.Taken(ref s, slot);
    }

    public override int WorkItems(IpiBounds b) => b.Handlers;
    /// <summary>
    /// A handler's work runs in two steps, as irq_work_run() does: clear PENDING (the work is now
    /// BUSY and may be queued again), then handler_work() loads saved_data and calls back. A CPU
    /// runs its irq_work list in hard interrupt context: while one of its works is between the two
    /// steps, that CPU takes no interrupt and starts no other work. (A handler whose callback is
    /// between the steps starts its next run only after it: the model does not run one handler's
    /// callback on two CPUs at once.)
    /// </summary>
    public override bool WorkEnabled(in IpiState s, int work, IpiKernel k)
    {
        var hd = s.Handlers[work];
        if ((hd.Flags & MkIpiHandler.Running) != 0) return true;
        return (hd.Flags & MkIpiHandler.WorkPending) != 0 && !Busy(s, hd.WorkCpu);
    }

    /// <summary>Whether receiving CPU <paramref name="cpu"/> is inside a work between its two steps.</summary>
    private static bool Busy(in IpiState s, int cpu)
    {
        for (int h = 0; h < IpiBounds.MaxHandlers; h++)
            if ((s.Handlers[h].Flags & MkIpiHandler.Running) != 0 && s.Handlers[h].RunCpu == cpu) return true;
        return false;
    }

    public override bool InterruptEnabled(in IpiState s, int cpu, IpiKernel k) => !Busy(s, cpu);

    /// <summary>A handler's work is queued only by the interrupt handler (<see cref="IpiKernel.QueueWork"/>), on the CPU that takes it; handler_work() reads the slot with plain loads.</summary>
    public override bool MayReadStale(in IpiState s, int cpu)
    {
        for (int h = 0; h < IpiBounds.MaxHandlers; h++)
        {
            var hd = s.Handlers[h];
            if ((hd.Flags & MkIpiHandler.WorkPending) != 0 && hd.WorkCpu == cpu || (hd.Flags & MkIpiHandler.Running) != 0 && hd.RunCpu == cpu) return true;
        }
        return false;
    }

    public override string WorkLine(in IpiState s, int work) => (s.Handlers[work].Flags & MkIpiHandler.Running) != 0
        ? $"handler_work(): handler{work}->callback(handler{work}->saved_data, ctx)"
        : $"irq_work_run(): handler{work}'s work: PENDING cleared (BUSY), calls handler_work()";

    /// <summary>The receiving CPU work item <paramref name="work"/> runs on (for traces).</summary>
    public override int WorkCpu(in IpiState s, int work) =>
        (s.Handlers[work].Flags & MkIpiHandler.Running) != 0 ? s.Handlers[work].RunCpu : s.Handlers[work].WorkCpu;

    /// <summary>handler_work(): the callback reads the slot saved_data points to, as it is now.</summary>
    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        int h = work; // irq_work item h is handler h's
        ref var hd = ref s.Handlers[h];
        if ((hd.Flags & MkIpiHandler.Running) == 0)
        {
            hd.Flags = (byte)((hd.Flags & ~MkIpiHandler.WorkPending) | MkIpiHandler.Running);
            hd.RunCpu = hd.WorkCpu;
            hd.RunDispatched = hd.Dispatched;
            return;
        }
        hd.Flags &= unchecked((byte)~MkIpiHandler.Running);
        int slot = hd.SavedData - 1;
        var view = k.Slot(ref s, slot);
        k.Callback(ref s, h, view, hd.RunDispatched, slot);
        hd.RunCpu = hd.RunDispatched = 0;
    }

    public override void RenderHandler(in MkIpiHandler h, List<(string, Checking.TraceValue)> fields)
    {
        fields.Add(("work_pending", Checking.TraceValue.Of((h.Flags & MkIpiHandler.WorkPending) == 0 ? "no" : $"on CPU{h.WorkCpu}")));
        if ((h.Flags & MkIpiHandler.Running) != 0) fields.Add(("running", Checking.TraceValue.Of($"on CPU{h.RunCpu}, saved_data not yet read")));
        fields.Add(("saved_data", Checking.TraceValue.Of(h.SavedData == 0 ? "NULL" : $"slot{h.SavedData - 1}")));
    }

    public override IReadOnlyList<string> UnregisterSteps =>
    [
        "raw_spin_lock_irqsave(&mk_handlers_lock); *pp = p->next; raw_spin_unlock_irqrestore()",
        "irq_work_sync(&handler->work); kfree(p); return",
    ];

    public override bool UnregisterEnabled(in IpiState s, IpiKernel k) => s.UnregisterPc switch
    {
        0 => true,
        // irq_work_sync(): waits while the work is pending or running (BUSY).
        1 => (s.Handlers[0].Flags & (MkIpiHandler.WorkPending | MkIpiHandler.Running)) == 0 || s.Area != IpiState.AreaLive,
        _ => false,
    };

    public override void Unregister(ref IpiState s, IpiKernel k)
    {
        if (s.UnregisterPc == 0) s.Handlers[0].Flags &= unchecked((byte)~MkIpiHandler.Linked);
        else IpiKernel.UnregisterReturned(ref s, 0);
        s.UnregisterPc++;
    }
}
