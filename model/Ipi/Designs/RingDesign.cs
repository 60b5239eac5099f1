namespace Multikernel.Model.Ipi.Designs;

/// <summary>
/// The project's reference design, as mainline's later revisions shaped it: a ring
/// of slots per target CPU with a cmpxchg-claimed head, fill, a release-store that
/// publishes, -ENOSPC when full; the receiver's irq_work drains the ring into a
/// private copy, frees the slot and advances tail, then calls the handlers whose
/// 64-bit type matches. The area is found under RCU and freed after
/// synchronize_rcu(); unregister unlinks and waits for the drain with
/// irq_work_sync(). The <see cref="Mutation"/> knobs each remove one of these
/// safeguards, so that every invariant has a design on which it fails.
/// </summary>
public class RingDesign : IpiDesign
{
    [Flags]
    public enum Mutation
    {
        None = 0,
        /// <summary>Claim without checking head - tail against the ring size.</summary>
        NoFullCheck = 1,
        /// <summary>Use head and tail as slot indices without masking.</summary>
        NoMask = 2,
        /// <summary>Unregister returns right after list_del_rcu, without irq_work_sync.</summary>
        NoSync = 4,
        /// <summary>The drain does not mark the slot free after copying it.</summary>
        NoClear = 8,
        /// <summary>Publish the slot before filling it.</summary>
        EarlyPublish = 16,
        /// <summary>Destroy frees the area without synchronize_rcu.</summary>
        NoRcu = 32,
    }

    private readonly Mutation _mutation;
    private readonly string _name;

    public RingDesign(string name = "reference", Mutation mutation = Mutation.None)
    {
        _name = name;
        _mutation = mutation;
        _sendSteps = Has(Mutation.EarlyPublish) ? [Lookup, Claim, Publish, Fill, Ipi] : [Lookup, Claim, Fill, Publish, Ipi];
    }

    private readonly string[] _sendSteps;

    public override string Name => _name;
    public override string Summary => _mutation == Mutation.None
        ? "reference: per-CPU ring, claim / fill / publish, -ENOSPC when full, private copy, RCU + irq_work_sync"
        : $"reference with a deliberate defect: {_mutation}";

    /// <summary>The safeguards this design removes (none for the reference).</summary>
    public Mutation Mutations => _mutation;

    private bool Has(Mutation m) => (_mutation & m) != 0;
    public override int Slots(IpiBounds b) => b.Ring;
    private static MkRing Ring(IpiBounds b) => new((uint)b.Ring, CounterBits: 8); // IpiState keeps byte counters
    private int Index(IpiBounds b, int counter) => Has(Mutation.NoMask) ? counter : (int)Ring(b).Slot((uint)counter);

    public override IReadOnlyList<string> SendSteps => _sendSteps;

    private const string Lookup = "rcu_read_lock(); ipi = rcu_dereference(mk_instance_ipi_map[instance_id])";
    private const string Claim = "head = READ_ONCE(ring->head); if (head - smp_load_acquire(&ring->tail) >= MK_IPI_RING) return -ENOSPC; cmpxchg(&ring->head, head, head + 1)";
    private const string Fill = "slot = &ring->slots[head & (MK_IPI_RING - 1)]; slot->sender_cpu, type, data_size = …; memcpy(slot->buffer, data, data_size)";
    private const string Publish = "smp_store_release(&slot->state, MK_SLOT_READY)";
    private const string Ipi = "__apic_send_IPI(cpu, MULTIKERNEL_VECTOR); rcu_read_unlock(); return 0";

    public override void SendIpiData(ref IpiState s, int cpu, IpiKernel k)
    {
        ref var c = ref s.Senders[cpu];
        string step = _sendSteps[c.Pc];
        if (step == Lookup)
        {
            if (k.RejectOversize(ref s, cpu)) return;
            if (!k.LookupArea(ref s, cpu)) { k.Return(ref s, cpu, -Kernel.Errno.ENODEV); return; }
        }
        else if (step == Claim)
        {
            if (!Has(Mutation.NoFullCheck) && Ring(k.Bounds).Full(s.Head, s.Tail)) { k.Return(ref s, cpu, -Kernel.Errno.ENOSPC); return; }
            c.Slot = s.Head;
            s.Head = (byte)Ring(k.Bounds).Advance(s.Head);
        }
        else if (step == Fill)
        {
            if (k.Slot(ref s, Index(k.Bounds, c.Slot), out int slot))
            {
                k.WriteHeader(ref s, cpu, slot);
                k.CopyPayload(ref s, cpu, slot);
                k.Complete(ref s, cpu, slot);
            }
        }
        else if (step == Publish)
        {
            if (k.Slot(ref s, Index(k.Bounds, c.Slot), out int slot)) s.Slots[slot].State = IpiConstants.SlotReady;
        }
        else
        {
            IpiKernel.RaiseIpi(ref s);
            k.Return(ref s, cpu, 0);
            return;
        }
        c.Pc++;
    }

    public override string InterruptLine => "multikernel_interrupt_handler(): irq_work_queue(&ring->work)";
    public override bool InterruptEnabled(in IpiState s) => s.RingWork != 2; // hardirqs do not nest
    public override void Interrupt(ref IpiState s, IpiKernel k)
    {
        s.IpiPending = 0;
        if (s.RingWork == 0) s.RingWork = 1;
    }

    public override int WorkItems(IpiBounds b) => 1;
    public override bool WorkEnabled(in IpiState s, int work) => s.RingWork != 0;

    public override string WorkLine(in IpiState s, int work) => s.Targets != 0
        ? $"mk_ring_drain(): handler{System.Numerics.BitOperations.TrailingZeroCount(s.Targets)}->callback(&copy, ctx)"
        : "mk_ring_drain(): t = ring->tail; slot = &ring->slots[t & (MK_IPI_RING - 1)]; if READY: copy = *slot; slot->state = FREE; smp_store_release(&ring->tail, t + 1)";

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        if (s.Targets != 0)
        {
            int h = System.Numerics.BitOperations.TrailingZeroCount(s.Targets);
            s.Targets &= (byte)(s.Targets - 1);
            k.Callback(ref s, h, s.Copy);
            return;
        }
        s.RingWork = 2;
        if (!k.Slot(ref s, Index(k.Bounds, s.Tail), out int slot) || s.Slots[slot].State != IpiConstants.SlotReady)
        {
            s.RingWork = 0; // ring empty: the work is done
            s.Copy = default;
            return;
        }
        k.TakeCopy(ref s, slot);
        if (!Has(Mutation.NoClear)) s.Slots[slot].State = IpiConstants.SlotFree;
        s.Tail = (byte)Ring(k.Bounds).Advance(s.Tail);
        // list_for_each_entry_rcu(h, &mk_handlers): the walk sees the list as it is now.
        for (int h = 0; h < k.Bounds.Handlers; h++)
            if ((s.Handlers[h].Flags & MkIpiHandler.Linked) != 0 && IpiBounds.HandlerType(h) == s.Copy.Type)
                s.Targets |= (byte)(1 << h);
    }

    public override IReadOnlyList<string> UnregisterSteps => Has(Mutation.NoSync)
        ? ["mutex_lock(&mk_handlers_mutex); list_del_rcu(&handler->list); mutex_unlock(); kfree_rcu(handler); return"]
        : ["mutex_lock(&mk_handlers_mutex); list_del_rcu(&handler->list); mutex_unlock()",
           "irq_work_sync(&ring->work); kfree(handler); return"];

    public override bool UnregisterEnabled(in IpiState s) => s.UnregisterPc switch
    {
        0 => true,
        1 => !Has(Mutation.NoSync) && (s.RingWork == 0 || s.Area != IpiState.AreaLive),
        _ => false,
    };

    public override void Unregister(ref IpiState s, IpiKernel k)
    {
        if (s.UnregisterPc == 0)
        {
            s.Handlers[0].Flags &= unchecked((byte)~MkIpiHandler.Linked);
            if (Has(Mutation.NoSync)) IpiKernel.UnregisterReturned(ref s, 0);
        }
        else IpiKernel.UnregisterReturned(ref s, 0);
        s.UnregisterPc++;
    }

    public override IReadOnlyList<string> DestroySteps =>
    [
        "rcu_assign_pointer(mk_instance_ipi_map[id], NULL)",
        Has(Mutation.NoRcu) ? "multikernel_free_ipi_buffer(…)" : "synchronize_rcu(); multikernel_free_ipi_buffer(…)",
    ];

    public override bool DestroyEnabled(in IpiState s)
    {
        if (s.DestroyPc == 0) return true;
        if (s.DestroyPc > 1) return false;
        if (Has(Mutation.NoRcu)) return true;
        for (int i = 0; i < IpiBounds.MaxSenders; i++) if (s.Senders[i].HoldsArea != 0) return false;
        return true;
    }

    public override void Destroy(ref IpiState s, IpiKernel k)
    {
        s.Area = s.DestroyPc == 0 ? IpiState.AreaUnpublished : IpiState.AreaFreed;
        s.DestroyPc++;
    }
}
