using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>Who acts in the IPI specification.</summary>
public enum IpiActor : byte
{
    /// <summary>A sender CPU in multikernel_send_ipi_data() (<see cref="IpiAction.Index"/>: which one, 0-based).</summary>
    Sender,
    /// <summary>The receiving CPU's MULTIKERNEL_VECTOR handler.</summary>
    Interrupt,
    /// <summary>An irq_work item on the receiving CPU (<see cref="IpiAction.Index"/>: which one).</summary>
    Work,
    /// <summary>A CPU in multikernel_unregister_handler(handler0).</summary>
    Unregister,
    /// <summary>A CPU destroying the target instance.</summary>
    Destroy,
    /// <summary>The hostile peer kernel writing shared memory out of protocol (bound hostile-peer).</summary>
    Peer,
    /// <summary>Weak memory only: a buffered store becomes visible (<see cref="IpiAction.Index"/>: CPU × 16 + its position).</summary>
    Propagate,
    /// <summary>lkmm only: a receiving CPU stops reading a slot's old fields (<see cref="IpiAction.Index"/>: CPU × 8 + slot × 2 + group).</summary>
    Invalidate,
}

/// <summary>One step of one actor.</summary>
public readonly record struct IpiAction(IpiActor Actor, byte Index = 0);

/// <summary>
/// The multikernel IPI mechanism as a state machine over a design and bounds.
/// Actors: sender CPUs 1..n in multikernel_send_ipi_data(), the receiving CPU 0
/// (interrupt handler and irq_work), a CPU calling multikernel_unregister_handler()
/// on handler 0, and a CPU destroying the target instance (and, with the bound
/// hostile-peer, a peer kernel writing the region out of protocol). The model is
/// sequentially consistent: a step is one shared-memory access, seen by every CPU at
/// once, so missing barriers and reordered stores are out of its sight (README; issue 21).
/// Presentation (how a step and a state read in a trace) is in IpiSpec.Presentation.cs.
/// </summary>
public sealed partial class IpiSpec : ISpec<IpiState, IpiAction>
{
    private readonly IpiKernel _k;
    private readonly Property[] _properties;
    /// <summary>The invariant behind each property of <see cref="_properties"/>, and each invariant's position there (-1: left out).</summary>
    private readonly IpiInvariant[] _ids;
    private readonly int[] _position;
    /// <summary>Whether the list leaves an always-property out, so that broken bits must be moved to their positions.</summary>
    private readonly bool _remap;
    /// <summary>Bit of each sometimes-property in this spec's list, or -1 where these bounds leave it out.</summary>
    private readonly int _someDelivery, _unregisterReturns, _destroyInFlight;

    /// <summary>The specification of a design whose variables fit the state (<see cref="IpiState.InlineDesignBytes"/>); <see cref="IpiSpecs.For"/> takes any design.</summary>
    public IpiSpec(IpiDesign design, IpiBounds? bounds = null) : this(design, bounds, inFrame: false) { }

    /// <param name="inFrame">Run by an <see cref="IpiWideSpec{TMore}"/>, which keeps the design's variables past the state's in its frame.</param>
    internal IpiSpec(IpiDesign design, IpiBounds? bounds, bool inFrame)
    {
        Design = design;
        Bounds = bounds ?? IpiBounds.Default;
        if (Bounds.Validate() is { } problem) throw new ArgumentException(problem);
        _shape = ShapeOf(design);
        int receivers = design.Receivers(Bounds);
        if (receivers < 1 || receivers > Bounds.Receivers)
            throw new ArgumentException($"{design.Name}: {receivers} receiving CPUs with receivers={Bounds.Receivers}");
        _k = new IpiKernel(Bounds, design);
        if (VariablesOverflow(design, Bounds.Senders) is { } tooBig) throw new ArgumentException(tooBig);
        if (!inFrame && _k.DesignBytesUsed > IpiState.InlineDesignBytes)
            throw new ArgumentException($"{design.Name}: {_k.DesignBytesUsed} bytes of variables, more than the {IpiState.InlineDesignBytes} IpiState keeps: IpiSpecs.For explores it in a wider state");
        (_undeclared0, _undeclared1) = Undeclared(_k.DesignBytesUsed);
        // A trace's "from:" line cites the design's finding for the property (its seed function and line).
        var all = IpiInvariants.Table.Properties(i => design.Findings.FirstOrDefault(f => f.Property == IpiInvariants.Name(i)) is { } f ? $"{f.Function}: {f.Line}" : null);
        var ids = IpiInvariants.All.Where(Applies).ToArray();
        _ids = ids;
        _properties = ids.Select(i => all[(int)i]).ToArray();
        _position = new int[all.Length];
        Array.Fill(_position, -1);
        for (int p = 0; p < ids.Length; p++) _position[(int)ids[p]] = p;
        _remap = ids.Where(i => IpiInvariants.Kind(i) != PropertyKind.Sometimes).Select((i, p) => (int)i != p).Any(x => x);
        (_someDelivery, _unregisterReturns, _destroyInFlight) = (_position[(int)IpiInvariant.SomeDelivery], _position[(int)IpiInvariant.UnregisterReturns], _position[(int)IpiInvariant.DestroyInFlight]);
    }

    /// <summary>
    /// Why the design's own variables (<see cref="IpiDesign.SharedNames"/>, then <see cref="IpiDesign.LocalNames"/> on
    /// each of <paramref name="senders"/> sender CPUs, a byte each) are more than <see cref="IpiState.MaxDesignBytes"/>;
    /// null when they are not. Refused, never truncated.
    /// </summary>
    public static string? VariablesOverflow(IpiDesign design, int senders)
    {
        int shared = design.SharedNames.Count, locals = design.LocalNames.Count, need = shared + senders * locals;
        return need <= IpiState.MaxDesignBytes ? null
            : $"{design.Name}: {shared} shared variables and {locals} locals on each of {senders} sender{(senders == 1 ? "" : "s")} need {need} bytes; a design has at most {IpiState.MaxDesignBytes}";
    }

    /// <summary>
    /// Whether the property applies to this design at these bounds. handler-type does not apply to
    /// a design whose handlers have no type (RFC v1): it is left out of the list and the design's
    /// summary says so, rather than reported as holding unchecked.
    /// </summary>
    private bool Applies(IpiInvariant i) => i switch
    {
        IpiInvariant.HandlerType => Design.HandlerTypes,
        IpiInvariant.SizeChecked => Bounds.HostilePeer,
        IpiInvariant.UnregisterReturns => Bounds.Unregister,
        IpiInvariant.DestroyInFlight => Bounds.Destroy && Design.HasInstances,
        _ => true,
    };

    public IpiDesign Design { get; }
    public IpiBounds Bounds { get; }
    /// <summary>The kernel facade the steps run on (for the weak-memory layer's ghost bookkeeping).</summary>
    internal IpiKernel Kernel => _k;
    public string Name => $"ipi/{Design.Name}";
    public IReadOnlyList<Property> Properties => _properties;

    /// <summary>Receiving CPUs explored: CPU0..CPU(r-1); senders are named after them.</summary>
    public int Receivers => _k.Receivers;

    public void Initial(List<IpiState> into)
    {
        var s = default(IpiState);
        Init(ref s);
        into.Add(s);
    }

    /// <summary>The initial state, in place (in a wide specification's frame, whose variables the design's Init may set).</summary>
    internal void Init(ref IpiState s)
    {
        for (int h = 0; h < Bounds.Handlers; h++) s.Handlers[h].Flags = MkIpiHandler.Linked;
        for (int c = Bounds.Senders; c < IpiBounds.MaxSenders; c++) s.Senders[c].Pc = SenderCpu.Done;
        Design.Init(ref s, _k);
    }

    private static bool ReceiverAlive(in IpiState s) => s.Area == IpiState.AreaLive;

    public int Enabled(in IpiState s, Span<IpiAction> into)
    {
        int n = 0;
        for (int c = 0; c < Bounds.Senders; c++)
            if (s.Senders[c].Pc != SenderCpu.Done && !Design.SendBlocked(s, c, _k)) into[n++] = new(IpiActor.Sender, (byte)c);
        if (ReceiverAlive(s))
        {
            for (int r = 0; r < Receivers; r++)
                if ((s.IpiPending & (1 << r)) != 0 && Design.InterruptEnabled(s, r, _k)) into[n++] = new(IpiActor.Interrupt, (byte)r);
            int works = Design.WorkItems(Bounds);
            for (int w = 0; w < works; w++)
                if (Design.WorkEnabled(s, w, _k)) into[n++] = new(IpiActor.Work, (byte)w);
        }
        // Unregister and destroy race with the sends: they may start only while a send is in
        // flight, so that the behaviours in which they never happen keep their terminal states
        // (otherwise every run would end with the instance destroyed and nothing owed).
        bool sending = Sending(s);
        if (Bounds.Unregister && (sending || s.UnregisterPc > 0) && Design.UnregisterEnabled(s, _k)) into[n++] = new(IpiActor.Unregister);
        if (Bounds.Destroy && Design.HasInstances && (sending || s.DestroyPc > 0) && Design.DestroyEnabled(s, _k)) into[n++] = new(IpiActor.Destroy);
        // The hostile peer writes once, into the live region, while a send is in flight.
        if (Bounds.HostilePeer && s.PeerDone == 0 && sending && ReceiverAlive(s)) into[n++] = new(IpiActor.Peer);
        return n;
    }

    private bool Sending(in IpiState s)
    {
        for (int c = 0; c < Bounds.Senders; c++) if (s.Senders[c].Pc != SenderCpu.Done) return true;
        return false;
    }

    public IpiState Next(in IpiState s, in IpiAction a)
    {
        var t = s;
        Step(ref t, a);
        CheckContract(s, t, a, default, default);
        return t;
    }

    /// <summary>The step of <paramref name="a"/>, in place; the caller checks the step contract.</summary>
    internal void Step(ref IpiState t, in IpiAction a)
    {
        switch (a.Actor)
        {
            case IpiActor.Sender: Design.SendIpiData(ref t, a.Index, _k); break;
            case IpiActor.Interrupt: Design.Interrupt(ref t, _k, a.Index); break;
            case IpiActor.Work: Design.RunWork(ref t, a.Index, _k); break;
            case IpiActor.Unregister: Design.Unregister(ref t, _k); break;
            case IpiActor.Destroy: Design.Destroy(ref t, _k); break;
            case IpiActor.Peer: _k.PeerWrite(ref t, 0); break;
        }
    }

    public ulong Violated(in IpiState s)
    {
        if (!_remap) return s.Broken;
        ulong v = 0;
        for (uint b = s.Broken; b != 0; b &= b - 1)
            if (_position[System.Numerics.BitOperations.TrailingZeroCount(b)] is int p and >= 0) v |= 1UL << p;
        return v;
    }

    public ulong Pending(in IpiState s) => OwedMessage(s).Id != 0 ? 1UL << _position[(int)IpiInvariant.Delivered] : 0;

    /// <summary>The first message accepted and not yet delivered to a handler it is owed to while that handler is still registered, or 0.</summary>
    private (int Id, int Handler) OwedMessage(in IpiState s)
    {
        if (!ReceiverAlive(s)) return (0, -1);
        for (int id = 1; id <= Bounds.MessageCount; id++)
        {
            if ((s.Accepted & ~s.Spoiled & (1 << (id - 1))) == 0) continue;
            for (int h = 0; h < Bounds.Handlers; h++)
                if (_k.Owed(h, id) && s.DeliveredCount(h, id) == 0 && (s.Handlers[h].Flags & MkIpiHandler.Linked) != 0) return (id, h);
        }
        return (0, -1);
    }

    public ulong Reached(in IpiState s)
    {
        ulong r = 0;
        if (s.Delivered != 0) r |= 1UL << _someDelivery;
        if (_unregisterReturns >= 0 && (s.Handlers[0].Flags & MkIpiHandler.Unregistered) != 0 && Sending(s)) r |= 1UL << _unregisterReturns;
        if (_destroyInFlight >= 0 && s.Area == IpiState.AreaFreed && Sending(s)) r |= 1UL << _destroyInFlight;
        return r;
    }
}
