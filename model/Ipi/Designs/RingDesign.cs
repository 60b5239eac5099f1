using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi.Designs;

/// <summary>
/// The project's reference design, as later multikernel revisions (outside mainline) shaped it: a ring
/// of slots per target CPU with a cmpxchg-claimed head, fill, a release-store that
/// publishes, -ENOSPC when full; the receiver's irq_work drains the ring into a
/// private copy, frees the slot and advances tail, then calls the handlers whose
/// 64-bit type matches. The area is found under RCU and freed after
/// synchronize_rcu(); unregister unlinks and waits for the drain with
/// irq_work_sync(). The <see cref="Defect"/> knobs each remove one of these
/// safeguards, so that every invariant has a design on which it fails.
/// <para>
/// A variant derives from this class and reuses the protected building blocks (the
/// ring arithmetic, <see cref="LookupStep"/>, <see cref="ClaimStep"/>, <see cref="FillStep"/>,
/// <see cref="PublishStep"/>, <see cref="IpiStep"/>, the drain and the dispatch), adding
/// steps of its own to <see cref="Program"/>. A variant is not covered by the ring proofs
/// unless its class declares <see cref="ProofEncodedAttribute"/>: that it runs the ring
/// operations the encoding describes (the reference's, less <see cref="Defects"/>).
/// </para>
/// </summary>
[ProofEncoded]
public class RingDesign : IpiDesign
{
    [Flags]
    public enum Defect
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

    /// <summary>One step of the send path: runs it, and returns false when the send has returned (the CPU moved on).</summary>
    protected delegate bool SendStep(ref IpiState s, int cpu, IpiKernel k);

    private readonly string _name, _drainLine;
    private readonly (string Line, SendStep Run)[] _program;

    /// <summary>Whether the drain's loads read memory as it is (acquire, or smp_rmb() after READ_ONCE); whether a subclass has a receiver of its own.</summary>
    private readonly bool _drainFresh, _ownReceiver;

    public RingDesign(string name = "reference", Defect defects = Defect.None, IpiOrdering? ordering = null)
    {
        _name = name;
        Defects = defects;
        Ordering = ordering ?? IpiOrdering.Reference;
        string publishLine = Ordering.Publish == Memory.Ordering.Release ? Publish
            : (Ordering.WmbBeforePublish ? "smp_wmb(); " : "") + "WRITE_ONCE(slot->state, MK_SLOT_READY)";
        (string, SendStep) lookup = (Lookup, LookupStep), claim = (Ordering.TailLoad == Memory.Ordering.Acquire ? Claim : ClaimTailOnce, ClaimStep), fill = (Fill, FillStep),
            publish = (publishLine, PublishStep), ipi = (Ipi, IpiStep);
        _drainLine = DrainLine();
        _drainFresh = new StepOrder(Loads: Ordering.DrainState, Rmb: Ordering.RmbAfterState).FreshLoads;
        const System.Reflection.BindingFlags all = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        foreach (string m in new[] { nameof(RunWork), nameof(Interrupt), nameof(InterruptEnabled), nameof(WorkEnabled), nameof(WorkOrder) })
            _ownReceiver |= GetType().GetMethods(all).Any(x => x.Name == m && x.DeclaringType!.IsSubclassOf(typeof(RingDesign)));
        _program = Has(Defect.EarlyPublish) ? [lookup, claim, publish, fill, ipi] : [lookup, claim, fill, publish, ipi];
    }

    public override string Name => _name;
    public override string Summary => Defects != Defect.None ? $"reference with a deliberate defect: {Defects}"
        : Ordering != IpiOrdering.Reference ? $"reference with one ordering changed (caught only under a weak memory model): {Ordering.Summary}"
        : "reference: per-CPU ring, claim / fill / publish, -ENOSPC when full, private copy, RCU + irq_work_sync (one ring explored: rings of different CPUs share only the handler list)";

    /// <summary>How the ring's shared accesses are ordered (release/acquire, barriers); read by --memory-model tso and lkmm, and by litmus --ipi.</summary>
    public IpiOrdering Ordering { get; }

    /// <summary>
    /// Each send step's ordering: the lookup reads under RCU; the claim reads tail (acquire) and wins head with a
    /// fully ordered cmpxchg; the fill is plain stores and memcpy; the publish is smp_store_release (or smp_wmb();
    /// WRITE_ONCE); the IPI step's arch fence is the spec's (IpiWeakSpec).
    /// </summary>
    public override StepOrder SendOrder(in IpiState s, int cpu)
    {
        int pc = s.Senders[cpu].Pc;
        var program = Program;
        if (pc >= program.Count) return StepOrder.Plain;
        var run = program[pc].Run.Method;
        if (run == ((SendStep)ClaimStep).Method) return new(Loads: Ordering.TailLoad, IndexStore: Ordering.ClaimCmpxchg ? Memory.Ordering.Full : Memory.Ordering.Once);
        if (run == ((SendStep)PublishStep).Method) return new(Stores: Ordering.Publish, Wmb: Ordering.WmbBeforePublish);
        if (run == ((SendStep)LookupStep).Method) return new(Loads: Memory.Ordering.Once);
        return StepOrder.Plain;
    }

    /// <summary>The drain reads the slot's state (acquire, or READ_ONCE then smp_rmb()), copies it, frees it (WRITE_ONCE) and advances tail (release); a dispatch touches only the private copy.</summary>
    public override StepOrder WorkOrder(in IpiState s, int work) => s.Targets != 0 ? StepOrder.Plain
        : new(Loads: Ordering.DrainState, Stores: Memory.Ordering.Once, IndexStore: Ordering.TailStore, Rmb: Ordering.RmbAfterState);

    /// <summary>The safeguards this design removes (none for the reference).</summary>
    public Defect Defects { get; }

    /// <summary>
    /// What this design runs that the ring obligations depend on but do not encode: send steps other
    /// than the reference's building blocks in the reference's order, or a receiver, drain or
    /// interrupt of its own. Empty for this class; a subclass that declares <see cref="ProofEncodedAttribute"/>
    /// is held to it, so declaring itself encoded cannot lend it the reference's proofs.
    /// </summary>
    public IReadOnlyList<string> StepsOutsideEncoding()
    {
        var outside = new List<string>();
        var reference = new RingDesign(Name, Defects).Program;
        var program = Program;
        if (program.Count != reference.Count)
            outside.Add($"its send path has {program.Count} steps, the encoded one {reference.Count}");
        else
            for (int i = 0; i < program.Count; i++)
                if (program[i].Run.Method != reference[i].Run.Method)
                    outside.Add($"send step {i + 1} ('{program[i].Line}') is its own");
        const System.Reflection.BindingFlags all = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        foreach (string m in new[] { nameof(RunWork), nameof(Interrupt), nameof(SendIpiData), nameof(Deliverable), nameof(PickHandlers) })
            if (GetType().GetMethods(all).Any(x => x.Name == m && x.DeclaringType!.IsSubclassOf(typeof(RingDesign)))) outside.Add($"it overrides {m}");
        return outside;
    }

    protected bool Has(Defect d) => (Defects & d) != 0;
    public override int Slots(IpiBounds b) => b.Ring;
    public override bool SlotHasState => true;

    // ---- building blocks ---------------------------------------------------------

    /// <summary>The ring's arithmetic at the model's counter width (IpiState keeps byte counters).</summary>
    protected static MkRing Ring(IpiBounds b) => new((uint)b.Ring, CounterBits: 8);
    /// <summary>The slot index of a free-running counter: masked, unless the design forgets to.</summary>
    protected int SlotIndex(IpiBounds b, int counter) => Has(Defect.NoMask) ? counter : (int)Ring(b).Slot((uint)counter);

    /// <summary>The send path, one entry per step: its source line and what it does. A variant extends it.</summary>
    protected virtual IReadOnlyList<(string Line, SendStep Run)> Program => _program;

    public override IReadOnlyList<string> SendSteps => Program.Select(p => p.Line).ToArray();

    public override void SendIpiData(ref IpiState s, int cpu, IpiKernel k)
    {
        if (Program[s.Senders[cpu].Pc].Run(ref s, cpu, k)) s.Senders[cpu].Pc++;
    }

    protected const string Lookup = "rcu_read_lock(); ipi = rcu_dereference(mk_instance_ipi_map[instance_id])";
    protected const string Claim = "head = READ_ONCE(ring->head); if (head - smp_load_acquire(&ring->tail) >= MK_IPI_RING) return -ENOSPC; cmpxchg(&ring->head, head, head + 1)";
    protected const string ClaimTailOnce = "head = READ_ONCE(ring->head); if (head - READ_ONCE(ring->tail) >= MK_IPI_RING) return -ENOSPC; cmpxchg(&ring->head, head, head + 1)";
    protected const string Fill = "slot = &ring->slots[head & (MK_IPI_RING - 1)]; slot->sender_cpu, type, data_size = …; memcpy(slot->buffer, data, data_size)";
    protected const string Publish = "smp_store_release(&slot->state, MK_SLOT_READY)";
    protected const string Ipi = "__apic_send_IPI(cpu, MULTIKERNEL_VECTOR); rcu_read_unlock(); return 0";

    protected static bool LookupStep(ref IpiState s, int cpu, IpiKernel k)
    {
        if (k.RejectOversize(ref s, cpu)) return false;
        if (IpiKernel.LookupArea(ref s, cpu)) return true;
        k.Return(ref s, cpu, -Kernel.Errno.ENODEV);
        return false;
    }

    protected bool ClaimStep(ref IpiState s, int cpu, IpiKernel k)
    {
        if (!Has(Defect.NoFullCheck) && Ring(k.Bounds).Full(s.Head, s.Tail)) { k.Return(ref s, cpu, -Kernel.Errno.ENOSPC); return false; }
        s.Senders[cpu].Slot = s.Head;
        s.Head = (byte)Ring(k.Bounds).Advance(s.Head);
        return true;
    }

    protected bool FillStep(ref IpiState s, int cpu, IpiKernel k)
    {
        int slot = SlotIndex(k.Bounds, s.Senders[cpu].Slot);
        k.WriteHeader(ref s, cpu, slot);
        k.CopyPayload(ref s, cpu, slot);
        k.Complete(ref s, cpu, slot);
        return true;
    }

    protected bool PublishStep(ref IpiState s, int cpu, IpiKernel k)
    {
        k.Slot(ref s, SlotIndex(k.Bounds, s.Senders[cpu].Slot)).State = IpiConstants.SlotReady;
        return true;
    }

    protected static bool IpiStep(ref IpiState s, int cpu, IpiKernel k)
    {
        IpiKernel.RaiseIpi(ref s);
        k.Return(ref s, cpu, 0);
        return false;
    }

    // ---- the receiver ------------------------------------------------------------

    public override string InterruptLine => "multikernel_interrupt_handler(): irq_work_queue(&ring->work)";
    public override bool InterruptEnabled(in IpiState s, IpiKernel k) => s.RingWork != 2; // hardirqs do not nest
    public override void Interrupt(ref IpiState s, IpiKernel k)
    {
        s.IpiPending = 0;
        if (s.RingWork == 0) s.RingWork = 1;
    }

    public override int WorkItems(IpiBounds b) => 1;
    public override bool WorkEnabled(in IpiState s, int work, IpiKernel k) => s.RingWork != 0;
    /// <summary>
    /// The ring's work is queued only by the interrupt handler and runs until it finds the ring empty; of its steps only
    /// the drain reads the slots, with fresh loads unless its ordering says READ_ONCE without smp_rmb() (a dispatch reads
    /// the private copy). A subclass with a receiver of its own may read otherwise: nothing is forgotten for it.
    /// </summary>
    public override bool MayReadStale(in IpiState s, int cpu) => _ownReceiver || s.RingWork != 0 && !_drainFresh;

    public override string WorkLine(in IpiState s, int work) => s.Targets != 0
        ? $"mk_ring_drain(): handler{System.Numerics.BitOperations.TrailingZeroCount(s.Targets)}->callback(&copy, ctx)"
        : _drainLine;

    private string DrainLine() =>
        "mk_ring_drain(): t = ring->tail; slot = &ring->slots[t & (MK_IPI_RING - 1)]; if (" +
        (Ordering.DrainState == Memory.Ordering.Acquire ? "smp_load_acquire(&slot->state)" : "READ_ONCE(slot->state)") + " == READY): " +
        (Ordering.RmbAfterState ? "smp_rmb(); " : "") + "copy = *slot; WRITE_ONCE(slot->state, FREE); " +
        (Ordering.TailStore == Memory.Ordering.Release ? "smp_store_release(&ring->tail, t + 1)" : "WRITE_ONCE(ring->tail, t + 1)") +
        "; if (copy.data_size > MK_MAX_DATA_SIZE) drop it";

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        if (s.Targets != 0) DispatchStep(ref s, k);
        else DrainStep(ref s, k);
    }

    /// <summary>Calls the next handler picked for the private copy.</summary>
    protected static void DispatchStep(ref IpiState s, IpiKernel k)
    {
        int h = System.Numerics.BitOperations.TrailingZeroCount(s.Targets);
        s.Targets &= (byte)(s.Targets - 1);
        k.Callback(ref s, h, s.Copy);
    }

    /// <summary>
    /// Takes the READY slot at tail into the private copy, frees it, advances tail, and picks the handlers
    /// to call (<see cref="PickHandlers"/>), or drops the copy when it is not <see cref="Deliverable"/>.
    /// A receiver of your own overrides those two hooks, or <see cref="RunWork"/> and reuses this step.
    /// </summary>
    protected void DrainStep(ref IpiState s, IpiKernel k)
    {
        s.RingWork = 2;
        int slot = SlotIndex(k.Bounds, s.Tail);
        if (!k.InRing(ref s, slot) || s.Slots[slot].State != IpiConstants.SlotReady)
        {
            s.RingWork = 0; // ring empty: the work is done
            s.Copy = default;
            return;
        }
        k.TakeCopy(ref s, slot);
        if (!Has(Defect.NoClear)) k.Slot(ref s, slot).State = IpiConstants.SlotFree;
        s.Tail = (byte)Ring(k.Bounds).Advance(s.Tail);
        if (!Deliverable(s.Copy)) { k.DropCopy(ref s); return; }
        s.Targets = PickHandlers(s, k);
    }

    /// <summary>
    /// Whether the drain hands its private copy to the handlers. The reference checks the size the other
    /// kernel wrote, once, on the copy: if (copy.data_size > MK_MAX_DATA_SIZE) drop it.
    /// </summary>
    protected virtual bool Deliverable(in MkIpiData copy) => copy.DataSize <= IpiConstants.MkMaxDataSize;

    /// <summary>
    /// The handlers the drain calls for its copy (bit h: handler h, called lowest first). The reference:
    /// list_for_each_entry_rcu(h, &amp;mk_handlers) if (h->ipi_type == copy.type), the list as it is now
    /// (<see cref="IpiKernel.Matching"/>).
    /// </summary>
    protected virtual byte PickHandlers(in IpiState s, IpiKernel k) => k.Matching(s, s.Copy.Type);

    // ---- unregister and destroy ----------------------------------------------------

    public override IReadOnlyList<string> UnregisterSteps => Has(Defect.NoSync)
        ? ["mutex_lock(&mk_handlers_mutex); list_del_rcu(&handler->list); mutex_unlock(); kfree_rcu(handler); return"]
        : ["mutex_lock(&mk_handlers_mutex); list_del_rcu(&handler->list); mutex_unlock()",
           "irq_work_sync(&ring->work); kfree(handler); return"];

    public override bool UnregisterEnabled(in IpiState s, IpiKernel k) => s.UnregisterPc switch
    {
        0 => true,
        1 => !Has(Defect.NoSync) && (s.RingWork == 0 || s.Area != IpiState.AreaLive),
        _ => false,
    };

    public override void Unregister(ref IpiState s, IpiKernel k)
    {
        if (s.UnregisterPc == 0)
        {
            s.Handlers[0].Flags &= unchecked((byte)~MkIpiHandler.Linked);
            if (Has(Defect.NoSync)) IpiKernel.UnregisterReturned(ref s, 0);
        }
        else IpiKernel.UnregisterReturned(ref s, 0);
        s.UnregisterPc++;
    }

    public override IReadOnlyList<string> DestroySteps =>
    [
        "rcu_assign_pointer(mk_instance_ipi_map[id], NULL)",
        Has(Defect.NoRcu) ? "multikernel_free_ipi_buffer(…)" : "synchronize_rcu(); multikernel_free_ipi_buffer(…)",
    ];

    public override bool DestroyEnabled(in IpiState s, IpiKernel k)
    {
        if (s.DestroyPc == 0) return true;
        if (s.DestroyPc > 1) return false;
        if (Has(Defect.NoRcu)) return true;
        for (int i = 0; i < IpiBounds.MaxSenders; i++) if (s.Senders[i].HoldsArea != 0) return false;
        return true;
    }

    public override void Destroy(ref IpiState s, IpiKernel k)
    {
        s.Area = s.DestroyPc == 0 ? IpiState.AreaUnpublished : IpiState.AreaFreed;
        s.DestroyPc++;
    }

    // ---- presentation --------------------------------------------------------------

    public override void RenderReceiver(in IpiState s, IpiKernel k, List<TraceVar> into)
    {
        into.Add(new("ring", TraceValue.Record(("head", TraceValue.Of(s.Head)), ("tail", TraceValue.Of(s.Tail)))));
        into.Add(new("ring_work", TraceValue.Of(s.RingWork switch { 0 => "idle", 1 => "queued", _ => "running" })));
        into.Add(new("copy", IpiPresentation.Slot(s.Copy, k, withState: false)));
        into.Add(new("to_call", TraceValue.Of(IpiPresentation.HandlerSet(s.Targets))));
    }

    public override void RenderSender(in SenderCpu c, List<(string, TraceValue)> fields)
    {
        var program = Program;
        for (int i = 0; i < c.Pc && i < program.Count; i++)
            if (program[i].Line is Claim or ClaimTailOnce) { fields.Add(("claimed", TraceValue.Of(c.Slot))); return; }
    }
}
