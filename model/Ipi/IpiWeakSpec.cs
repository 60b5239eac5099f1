using System.Globalization;
using Multikernel.Model.Checking;
using Multikernel.Model.Memory;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The IPI specification under a weak memory model (bound memory-model=tso or lkmm): <see cref="IpiSpec"/>'s steps,
/// each run on the view its CPU has of the mailbox, and its stores to the slots, head and tail buffered until a
/// propagate step makes them visible (owed fairness: a store is eventually visible). What a step orders is what its
/// design declares (<see cref="StepOrder"/>).
/// <list type="bullet">
/// <item><b>tso</b> (x86-64): a FIFO store buffer per CPU, forwarding to its own loads; a fence or atomic RMW
/// (and the IPI send) drains it first.</item>
/// <item><b>lkmm</b>: stores propagate in any order except that a release store waits for the CPU's earlier stores,
/// smp_wmb() orders the stores before it before those after it, and stores to one field stay in order (coherence);
/// a store becomes visible to every other CPU at once (other-multicopy-atomic, as arm64). A receiving CPU may keep
/// reading a slot's old fields after a store to them propagated (its loads satisfied early) until an invalidate step,
/// an acquire, smp_rmb() or a fence in its step, or the interrupt it takes.</item>
/// </list>
/// Not produced (so "holds" speaks of nothing beyond): a load satisfied after a later store of its CPU became visible
/// (LB), a store visible to some CPUs before others (non-multicopy-atomic, as POWER), a sender reading old values
/// (only receiving CPUs read stale slots), an acquire load that itself reads an old value, reorderings inside one
/// step, the design's own variables, the handler list and the instance area (they stay sequentially consistent).
/// </summary>
public sealed class IpiWeakSpec : ISpec<IpiWeakState, IpiAction>
{
    private readonly IpiSpec _inner;
    private readonly IpiDesign _d;
    private readonly int _receivers, _cpus, _slots, _innerActors;
    private readonly bool _lkmm, _reduce;

    // Field bits of a slot: state is group 0, the rest (header and buffer) group 1.
    public const byte FState = 1, FSender = 2, FSize = 4, FType = 8, FPayload = 16, DataFields = FSender | FSize | FType | FPayload;

    /// <param name="inner">The sequential specification whose steps run on the CPUs' views.</param>
    /// <param name="reduce">Merge states no step or property can tell apart (<see cref="Normalise"/>); off only for the test that proves it sound.</param>
    public IpiWeakSpec(IpiSpec inner, bool reduce = true)
    {
        if (inner.Bounds.MemoryModel == IpiMemoryModel.Sc) throw new ArgumentException("IpiWeakSpec is for memory-model=tso or lkmm; sc is IpiSpec itself");
        _inner = inner;
        _d = inner.Design;
        _receivers = inner.Receivers;
        _cpus = _receivers + inner.Bounds.Senders;
        _slots = Math.Min(_d.Slots(inner.Bounds), IpiBounds.MaxSlots);
        _lkmm = inner.Bounds.MemoryModel == IpiMemoryModel.Lkmm;
        _innerActors = inner.FairActors.Count;
        _reduce = reduce;
    }

    public IpiSpec Inner => _inner;

    /// <summary>
    /// Steps that found the store buffers full and made a store visible early: behaviours with more pending stores
    /// were not explored. Counted beside the search (a statistic, not state), so the run reports the bound.
    /// </summary>
    private long _overflows;
    public string? ModelBoundReached => Interlocked.Read(ref _overflows) is > 0 and var n
        ? $"the store-buffer bound ({IpiWeakState.MaxPending} pending stores in all) was reached on {n:N0} steps: runs with more pending stores were not explored, so no verdict above speaks of them"
        : null;
    public string Name => _inner.Name;
    public IReadOnlyList<Property> Properties => _inner.Properties;
    public string? MemoryModel => Describe(_inner.Bounds.MemoryModel);

    /// <summary>What an exploration under <paramref name="m"/> assumes, for the report's header and JSON.</summary>
    public static string Describe(IpiMemoryModel m) => m switch
    {
        IpiMemoryModel.Tso => $"tso (x86-64: a FIFO store buffer per CPU with forwarding; smp_mb(), atomic RMWs and the IPI send drain it; {IpiWeakState.MaxPending} pending stores in all, a bound; the handler list, the area and a design's own variables stay sequentially consistent)",
        IpiMemoryModel.Lkmm => $"lkmm (an operational approximation: stores propagate out of order unless release, smp_wmb() or a fence orders them, visible to every other CPU at once; receiving CPUs may read a slot's old fields until an acquire, smp_rmb(), a fence or the interrupt; {IpiWeakState.MaxPending} pending stores in all, a bound; not produced: load buffering, non-multicopy-atomic propagation, stale reads by senders; the handler list, the area and a design's own variables stay sequentially consistent)",
        _ => "sequential consistency",
    };

    public IReadOnlyList<string> FairActors => _fair ??= Actors();
    private string[]? _fair;
    private string[] Actors()
    {
        var names = new List<string>(_inner.FairActors);
        for (int c = 0; c < _cpus; c++) names.Add($"CPU{c}'s store buffer");
        if (_lkmm) for (int r = 0; r < _receivers; r++) names.Add($"CPU{r}'s stale reads");
        return [.. names];
    }

    public int Actor(in IpiAction a) => a.Actor switch
    {
        IpiActor.Propagate => _innerActors + a.Index / 16,
        IpiActor.Invalidate => _innerActors + _cpus + a.Index / 8,
        _ => _inner.Actor(a),
    };

    public void Initial(List<IpiWeakState> into)
    {
        var seq = new List<IpiState>();
        _inner.Initial(seq);
        foreach (var s in seq) into.Add(new IpiWeakState { Mem = s });
    }

    public int Enabled(in IpiWeakState s, Span<IpiAction> into)
    {
        int n = _inner.Enabled(s.Mem, into);
        for (int j = 0; j < s.Pending; j++)
            if (CanPropagate(s, j)) into[n++] = new(IpiActor.Propagate, (byte)(s.Stores[j].Cpu * 16 + j));
        if (_lkmm)
            for (int r = 0; r < _receivers; r++)
                for (int i = 0; i < _slots; i++)
                {
                    byte m = s.Stale[r * IpiBounds.MaxSlots + i].Mask;
                    if ((m & FState) != 0) into[n++] = new(IpiActor.Invalidate, (byte)(r * 8 + i * 2));
                    if ((m & DataFields) != 0) into[n++] = new(IpiActor.Invalidate, (byte)(r * 8 + i * 2 + 1));
                }
        return n;
    }

    public IpiWeakState Next(in IpiWeakState s, in IpiAction a)
    {
        var t = s;
        switch (a.Actor)
        {
            case IpiActor.Propagate: Propagate(ref t, a.Index % 16); Normalise(ref t); return t;
            case IpiActor.Invalidate:
                t.Stale[a.Index / 8 * IpiBounds.MaxSlots + a.Index % 8 / 2].Mask &= (byte)(a.Index % 2 == 0 ? ~FState : ~DataFields);
                Normalise(ref t);
                return t;
        }
        int cpu = CpuOf(s.Mem, a);
        var order = OrderOf(s.Mem, a);
        var view = Prepare(ref t, a, cpu, order);
        // A sender's IPI is sent, and fenced, even while the receiver's bit is already pending (the ICR is written
        // anyway): run the step with the bits clear to see whether it sends one.
        byte pending = view.IpiPending;
        if (a.Actor == IpiActor.Sender) view.IpiPending = 0;
        var after = _inner.Next(view, a);
        bool ipi = a.Actor == IpiActor.Sender && after.IpiPending != 0;
        if (a.Actor == IpiActor.Sender) { view.IpiPending = pending; after.IpiPending |= pending; }
        Commit(ref t, view, after, cpu, order, ipi);
        Normalise(ref t);
        return t;
    }

    // ---- one state for what no later step or property can tell apart ------------------

    /// <summary>
    /// The state's normal form: bytes no step reads are zero (a pending store's fields outside its mask; a stale
    /// slot's fields outside its mask, and its writer when none is left), and a stale field that holds what memory
    /// holds is no longer stale (the CPU's view is the same either way; a later store to it makes it stale again with
    /// that same old value), and a receiving CPU that reads the mailbox next in its interrupt or with fresh loads
    /// (<see cref="IpiDesign.MayReadStale"/>: no irq_work of it queued or running, or one that reads with acquire) has
    /// nothing stale, since those read memory as it is. None touches memory, a store buffer's order or flags, or the ghost history the properties read. The last
    /// two disable invalidate steps that only led to the normal form itself (a stutter), so no verdict or shortest trace
    /// changes (IpiWeakReductionTests).
    /// </summary>
    private void Normalise(ref IpiWeakState t)
    {
        if (!_reduce) return;
        for (int j = 0; j < t.Pending; j++)
        {
            ref var e = ref t.Stores[j];
            Keep(ref e.State, ref e.SenderCpu, ref e.DataSize, ref e.Type, ref e.Payload, e.Mask);
        }
        if (!_lkmm) return;
        for (int r = 0; r < _receivers; r++)
        {
            if (!_d.MayReadStale(t.Mem, r))
            {
                ClearStale(ref t, r);
                continue;
            }
            for (int i = 0; i < _slots; i++)
            {
                ref var st = ref t.Stale[r * IpiBounds.MaxSlots + i];
                if (st.Mask == 0 && st.Writer == 0 && st.State == 0 && st.SenderCpu == 0 && st.DataSize == 0 && st.Type == 0 && st.Payload == 0) continue;
                ref readonly var m = ref t.Mem.Slots[i];
                byte same = (byte)(st.Mask & ~Changed(m, new MkIpiData { State = st.State, SenderCpu = st.SenderCpu, DataSize = st.DataSize, Type = st.Type, Payload = st.Payload }, 0xff));
                st.Mask &= (byte)~same;
                Keep(ref st.State, ref st.SenderCpu, ref st.DataSize, ref st.Type, ref st.Payload, st.Mask);
                if (st.Mask == 0) st.Writer = 0;
            }
        }
    }

    /// <summary>Zeroes the fields outside <paramref name="mask"/>: no step reads them.</summary>
    private static void Keep(ref byte state, ref byte sender, ref ushort size, ref ulong type, ref byte payload, byte mask)
    {
        if ((mask & FState) == 0) state = 0;
        if ((mask & FSender) == 0) sender = 0;
        if ((mask & FSize) == 0) size = 0;
        if ((mask & FType) == 0) type = 0;
        if ((mask & FPayload) == 0) payload = 0;
    }

    // ---- the CPUs and what their steps order ----------------------------------------

    /// <summary>The CPU that takes <paramref name="a"/>: receivers are CPU0.., senders after them; unregister, destroy and the peer have no buffer (-1).</summary>
    private int CpuOf(in IpiState s, in IpiAction a) => a.Actor switch
    {
        IpiActor.Sender => _receivers + a.Index,
        IpiActor.Interrupt => a.Index,
        IpiActor.Work => _d.WorkCpu(s, a.Index),
        _ => -1,
    };

    private StepOrder OrderOf(in IpiState s, in IpiAction a) => a.Actor switch
    {
        IpiActor.Sender => _d.SendOrder(s, a.Index),
        IpiActor.Work => _d.WorkOrder(s, a.Index),
        _ => StepOrder.Plain,
    };

    /// <summary>
    /// Before the step: a fence makes the CPU's stores visible; fresh loads (acquire, smp_rmb(), a fence, or the
    /// interrupt: the sender's stores were visible before it sent the IPI) drop its stale fields. Returns the view.
    /// </summary>
    private IpiState Prepare(ref IpiWeakState t, in IpiAction a, int cpu, StepOrder order)
    {
        if (cpu < 0) return t.Mem;
        if (order.FenceBefore) Drain(ref t, cpu);
        if (cpu < _receivers && (order.FreshLoads || a.Actor == IpiActor.Interrupt)) ClearStale(ref t, cpu);
        return View(t, cpu);
    }

    /// <summary>Memory as <paramref name="cpu"/> reads it: its stale fields, then its own pending stores (forwarding).</summary>
    private IpiState View(in IpiWeakState s, int cpu)
    {
        var v = s.Mem;
        if (cpu < 0) return v;
        if (_lkmm && cpu < _receivers)
            for (int i = 0; i < _slots; i++)
            {
                ref readonly var st = ref s.Stale[cpu * IpiBounds.MaxSlots + i];
                if (st.Mask != 0) Apply(ref v.Slots[i], st.Mask, st.State, st.SenderCpu, st.DataSize, st.Type, st.Payload);
            }
        for (int j = 0; j < s.Pending; j++)
            if (s.Stores[j].Cpu == cpu) Apply(ref v, s.Stores[j]);
        return v;
    }

    /// <summary>After the step: its non-shared effects (program counters, ghost history, the handler list) land at once; its stores to slots, head and tail are buffered, or visible at once when atomic.</summary>
    private void Commit(ref IpiWeakState t, in IpiState view, in IpiState after, int cpu, StepOrder order, bool ipi)
    {
        var k = _inner.Kernel;
        var before = t.Mem;
        var mem = after;
        for (int i = 0; i < _slots; i++) Apply(ref mem.Slots[i], 0xff, before.Slots[i].State, before.Slots[i].SenderCpu, before.Slots[i].DataSize, before.Slots[i].Type, before.Slots[i].Payload);
        mem.Head = before.Head;
        mem.Tail = before.Tail;
        // Ghost: a message is whole (Live) when memory holds it, not when its sender's buffer does; the propagation
        // that completes it sets Live (MakeVisible). A step that clears Live (taken, overwritten) clears it at once.
        for (int i = 0; i < _slots; i++)
            if (after.Slots[i].Live != view.Slots[i].Live && after.Slots[i].Live != 0 && k.Identify(mem.Slots[i]) != after.Slots[i].Live)
                mem.Slots[i].Live = 0;
        t.Mem = mem;
        // The IPI send orders the CPU's earlier stores before it: x2apic_send_IPI()'s weak_wrmsr_fence() before the ICR write,
        // gic_ipi_send_mask()'s barrier ("stores to Normal memory are visible to the other CPUs before they observe us
        // issuing the IPI"); and the step's own stores come before the IPI in it.
        bool direct = cpu < 0 || order.Atomic || ipi;
        if (ipi && cpu >= 0) Drain(ref t, cpu);
        bool first = true;
        for (int i = 0; i < _slots; i++)
        {
            byte data = Changed(view.Slots[i], after.Slots[i], DataFields), state = Changed(view.Slots[i], after.Slots[i], FState);
            if (data != 0) Store(ref t, cpu, (byte)i, data, after.Slots[i], order.Stores, direct, order.Wmb && first, ref first);
            if (state != 0) Store(ref t, cpu, (byte)i, state, after.Slots[i], order.Stores, direct, order.Wmb && first, ref first);
        }
        if (after.Head != view.Head) Store(ref t, cpu, PendingStore.HeadLoc, FState, new MkIpiData { State = after.Head }, order.IndexStore, direct, order.Wmb && first, ref first);
        if (after.Tail != view.Tail) Store(ref t, cpu, PendingStore.TailLoc, FState, new MkIpiData { State = after.Tail }, order.IndexStore, direct, order.Wmb && first, ref first);
    }

    private void Store(ref IpiWeakState t, int cpu, byte loc, byte mask, in MkIpiData v, Ordering o, bool direct, bool wmb, ref bool first)
    {
        first = false;
        var e = new PendingStore
        {
            Cpu = (byte)Math.Max(cpu, 0), Loc = loc, Mask = mask,
            Flags = (byte)((o == Ordering.Release ? PendingStore.Release : 0) | (wmb ? PendingStore.AfterWmb : 0)),
            State = v.State, SenderCpu = v.SenderCpu, DataSize = v.DataSize, Type = v.Type, Payload = v.Payload,
        };
        if (direct) { MakeVisible(ref t, e, cpu); return; }
        if (t.Pending == IpiWeakState.MaxPending)
        {
            // The bound: make the oldest store of this CPU (or of the first CPU with one) visible first.
            Interlocked.Increment(ref _overflows);
            int j = 0;
            for (int k = 0; k < t.Pending; k++) if (t.Stores[k].Cpu == cpu) { j = k; break; }
            Propagate(ref t, j);
        }
        // Keep the buffers sorted by CPU, program order within one: one canonical state.
        int at = t.Pending;
        while (at > 0 && t.Stores[at - 1].Cpu > e.Cpu) at--;
        for (int k = t.Pending; k > at; k--) t.Stores[k] = t.Stores[k - 1];
        t.Stores[at] = e;
        t.Pending++;
    }

    // ---- propagation -----------------------------------------------------------------

    /// <summary>Whether pending store <paramref name="j"/> may become visible now.</summary>
    private bool CanPropagate(in IpiWeakState s, int j)
    {
        ref readonly var e = ref s.Stores[j];
        bool wmbBetween = (e.Flags & (PendingStore.Release | PendingStore.AfterWmb)) != 0;
        for (int i = j - 1; i >= 0; i--)
        {
            ref readonly var o = ref s.Stores[i];
            if (o.Cpu != e.Cpu) break;
            if (!_lkmm || wmbBetween) return false; // tso: FIFO; lkmm: ordered after this older store
            if (o.Loc == e.Loc && (o.Mask & e.Mask) != 0) return false; // coherence: one field's stores in order
            if ((o.Flags & PendingStore.AfterWmb) != 0) wmbBetween = true;
        }
        return true;
    }

    /// <summary>Whether an older store of the same CPU is still pending (the store that propagates runs ahead of it).</summary>
    private static int Ahead(in IpiWeakState s, int j)
    {
        int n = 0;
        for (int i = j - 1; i >= 0 && s.Stores[i].Cpu == s.Stores[j].Cpu; i--) n++;
        return n;
    }

    private void Propagate(ref IpiWeakState t, int j)
    {
        var e = t.Stores[j];
        for (int k = j; k < t.Pending - 1; k++) t.Stores[k] = t.Stores[k + 1];
        t.Pending--;
        t.Stores[t.Pending] = default;
        MakeVisible(ref t, e, e.Cpu);
    }

    /// <summary>The store reaches memory; under lkmm the other receiving CPUs may go on reading the old fields for a while.</summary>
    private void MakeVisible(ref IpiWeakState t, in PendingStore e, int cpu)
    {
        if (e.Loc == PendingStore.HeadLoc) { t.Mem.Head = e.State; return; }
        if (e.Loc == PendingStore.TailLoc) { t.Mem.Tail = e.State; return; }
        ref var slot = ref t.Mem.Slots[e.Loc];
        if (_lkmm)
            for (int r = 0; r < _receivers; r++)
            {
                ref var st = ref t.Stale[r * IpiBounds.MaxSlots + e.Loc];
                if (r == cpu) { st.Mask &= (byte)~e.Mask; continue; } // its own store: it reads it from now on
                byte fresh = (byte)(Changed(slot, e, e.Mask) & ~st.Mask);
                if (fresh == 0) continue;
                if (st.Mask == 0) st.Writer = (byte)cpu;
                Apply(ref st, fresh, slot);
                st.Mask |= fresh;
            }
        int was = _inner.Kernel.Identify(slot);
        Apply(ref slot, e.Mask, e.State, e.SenderCpu, e.DataSize, e.Type, e.Payload);
        // Ghost (IpiKernel.NoteWhole at memory): the sender's data store that makes its message whole makes it Live.
        if ((e.Mask & DataFields) != 0 && slot.Forged == 0 && _inner.Kernel.Identify(slot) is int id and not 0 && id != was
            && cpu == _receivers + _inner.Bounds.SenderOf(id))
            slot.Live = (byte)id;
    }

    private void Drain(ref IpiWeakState t, int cpu)
    {
        for (int j = 0; j < t.Pending;)
            if (t.Stores[j].Cpu == cpu) Propagate(ref t, j);
            else j++;
    }

    private static void ClearStale(ref IpiWeakState t, int cpu)
    {
        for (int i = 0; i < IpiBounds.MaxSlots; i++) t.Stale[cpu * IpiBounds.MaxSlots + i] = default;
    }

    // ---- fields ------------------------------------------------------------------------

    private static byte Changed(in MkIpiData x, in MkIpiData y, byte mask)
    {
        int m = 0;
        if (x.State != y.State) m |= FState;
        if (x.SenderCpu != y.SenderCpu) m |= FSender;
        if (x.DataSize != y.DataSize) m |= FSize;
        if (x.Type != y.Type) m |= FType;
        if (x.Payload != y.Payload) m |= FPayload;
        return (byte)(m & mask);
    }

    private static byte Changed(in MkIpiData x, in PendingStore y, byte mask) =>
        Changed(x, new MkIpiData { State = y.State, SenderCpu = y.SenderCpu, DataSize = y.DataSize, Type = y.Type, Payload = y.Payload }, mask);

    private static void Apply(ref MkIpiData d, byte mask, byte state, byte sender, ushort size, ulong type, byte payload)
    {
        if ((mask & FState) != 0) d.State = state;
        if ((mask & FSender) != 0) d.SenderCpu = sender;
        if ((mask & FSize) != 0) d.DataSize = size;
        if ((mask & FType) != 0) d.Type = type;
        if ((mask & FPayload) != 0) d.Payload = payload;
    }

    private static void Apply(ref StaleSlot st, byte mask, in MkIpiData old)
    {
        if ((mask & FState) != 0) st.State = old.State;
        if ((mask & FSender) != 0) st.SenderCpu = old.SenderCpu;
        if ((mask & FSize) != 0) st.DataSize = old.DataSize;
        if ((mask & FType) != 0) st.Type = old.Type;
        if ((mask & FPayload) != 0) st.Payload = old.Payload;
    }

    private static void Apply(ref IpiState v, in PendingStore e)
    {
        if (e.Loc == PendingStore.HeadLoc) v.Head = e.State;
        else if (e.Loc == PendingStore.TailLoc) v.Tail = e.State;
        else Apply(ref v.Slots[e.Loc], e.Mask, e.State, e.SenderCpu, e.DataSize, e.Type, e.Payload);
    }

    // ---- properties: judged on memory and the ghost history ----------------------------

    public ulong Violated(in IpiWeakState s) => _inner.Violated(s.Mem);
    public ulong Pending(in IpiWeakState s) => _inner.Pending(s.Mem);
    public ulong Reached(in IpiWeakState s) => _inner.Reached(s.Mem);

    // ---- presentation --------------------------------------------------------------------

    private static readonly string[] FieldNames = ["state", "sender_cpu", "data_size", "type", "buffer"];

    private static string Fields(byte loc, byte mask)
    {
        if (loc == PendingStore.HeadLoc) return "ring->head";
        if (loc == PendingStore.TailLoc) return "ring->tail";
        var names = new List<string>();
        for (int f = 0; f < FieldNames.Length; f++) if ((mask & (1 << f)) != 0) names.Add(FieldNames[f]);
        return $"slot{loc}.{(names.Count == 1 ? names[0] : "{" + string.Join(", ", names) + "}")}";
    }

    private static string Value(in PendingStore e)
    {
        if (e.Loc >= PendingStore.HeadLoc) return e.State.ToString(CultureInfo.InvariantCulture);
        if (e.Mask == FState) return e.State switch { IpiConstants.SlotReady => "READY", IpiConstants.SlotClaimed => "CLAIMED", _ => "FREE" };
        return (e.Mask & FPayload) != 0 && e.Payload != 0 ? $"m{e.Payload}'s" : (e.Mask & FPayload) != 0 ? "zeroes" : "header";
    }

    public string Describe(in IpiWeakState s, in IpiAction a)
    {
        switch (a.Actor)
        {
            case IpiActor.Propagate:
            {
                int j = a.Index % 16;
                var e = s.Stores[j];
                int ahead = Ahead(s, j);
                string how = ahead == 0 ? "" : $" (ahead of {ahead} earlier store{(ahead == 1 ? "" : "s")} of CPU{e.Cpu}, {Earlier(s, j)}, which {(_lkmm ? "LKMM does not order before it" : "")})";
                return $"CPU{e.Cpu}'s store {Fields(e.Loc, e.Mask)} = {Value(e)} becomes visible to every CPU{how}";
            }
            case IpiActor.Invalidate:
            {
                int r = a.Index / 8, i = a.Index % 8 / 2;
                var st = s.Stale[r * IpiBounds.MaxSlots + i];
                return $"CPU{r} now reads slot{i}'s {(a.Index % 2 == 0 ? "state" : "header and buffer")} as memory holds it (CPU{st.Writer}'s store reaches it)";
            }
        }
        int cpu = CpuOf(s.Mem, a);
        var t = s;
        var view = Prepare(ref t, a, cpu, OrderOf(s.Mem, a));
        string line = _inner.Describe(view, a);
        if (_lkmm && cpu >= 0 && cpu < _receivers)
            for (int i = 0; i < _slots; i++)
                if (t.Stale[cpu * IpiBounds.MaxSlots + i] is { Mask: not 0 } st)
                    line += $" [not yet visible to CPU{cpu}: CPU{st.Writer}'s store to slot{i}'s {Names(st.Mask)}]";
        return line;
    }

    private static string Earlier(in IpiWeakState s, int j)
    {
        var parts = new List<string>();
        for (int i = j - 1; i >= 0 && s.Stores[i].Cpu == s.Stores[j].Cpu; i--) parts.Insert(0, Fields(s.Stores[i].Loc, s.Stores[i].Mask));
        return string.Join(", ", parts);
    }

    private static string Names(byte mask)
    {
        var names = new List<string>();
        for (int f = 0; f < FieldNames.Length; f++) if ((mask & (1 << f)) != 0) names.Add(FieldNames[f]);
        return string.Join(", ", names);
    }

    public void Render(in IpiWeakState s, List<TraceVar> into)
    {
        _inner.Render(s.Mem, into);
        for (int c = 0; c < _cpus; c++)
        {
            var pending = new List<string>();
            for (int j = 0; j < s.Pending; j++)
                if (s.Stores[j].Cpu == c) pending.Add($"{Fields(s.Stores[j].Loc, s.Stores[j].Mask)} = {Value(s.Stores[j])}{((s.Stores[j].Flags & PendingStore.Release) != 0 ? " (release)" : "")}{((s.Stores[j].Flags & PendingStore.AfterWmb) != 0 ? " (after smp_wmb)" : "")}");
            if (pending.Count > 0) into.Add(new($"cpu{c}_store_buffer", TraceValue.Of(string.Join("; ", pending))));
        }
        if (_lkmm)
            for (int r = 0; r < _receivers; r++)
                for (int i = 0; i < _slots; i++)
                    if (s.Stale[r * IpiBounds.MaxSlots + i] is { Mask: not 0 } st)
                        into.Add(new($"cpu{r}_stale_slot{i}", TraceValue.Of($"{Names(st.Mask)} (CPU{st.Writer}'s store not yet seen)")));
    }

    public string? Explain(in IpiWeakState before, IpiAction? last, in IpiWeakState after, int property)
    {
        if (last is not { } a || a.Actor is IpiActor.Propagate or IpiActor.Invalidate) return _inner.Explain(before.Mem, null, after.Mem, property);
        var t = before;
        var view = Prepare(ref t, a, CpuOf(before.Mem, a), OrderOf(before.Mem, a));
        return _inner.Explain(view, a, after.Mem, property);
    }
}
