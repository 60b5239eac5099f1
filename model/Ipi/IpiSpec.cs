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
}

/// <summary>One step of one actor.</summary>
public readonly record struct IpiAction(IpiActor Actor, byte Index = 0);

/// <summary>
/// The multikernel IPI mechanism as a state machine over a design and bounds.
/// Actors: sender CPUs 1..n in multikernel_send_ipi_data(), the receiving CPU 0
/// (interrupt handler and irq_work), a CPU calling multikernel_unregister_handler()
/// on handler 0, and a CPU destroying the target instance. Presentation (how a step
/// and a state read in a trace) is in IpiSpec.Presentation.cs.
/// </summary>
public sealed partial class IpiSpec : ISpec<IpiState, IpiAction>
{
    private readonly IpiKernel _k;
    private readonly Property[] _properties;
    /// <summary>Bit of each sometimes-property in this spec's list, or -1 where these bounds leave it out.</summary>
    private readonly int _someDelivery, _unregisterReturns, _destroyInFlight;

    public IpiSpec(IpiDesign design, IpiBounds? bounds = null)
    {
        Design = design;
        Bounds = bounds ?? IpiBounds.Default;
        if (Bounds.Validate() is { } problem) throw new ArgumentException(problem);
        if (design.SharedNames.Count > IpiState.MaxDesignShared || design.LocalNames.Count > IpiState.MaxDesignLocals)
            throw new ArgumentException($"{design.Name}: at most {IpiState.MaxDesignShared} shared variables and {IpiState.MaxDesignLocals} locals");
        _k = new IpiKernel(Bounds, design);
        // Sometimes-properties come last in the table, so leaving one out moves no other bit.
        var all = IpiInvariants.Table.Properties(design.Cites);
        var props = all.Where((p, i) => p.Kind != PropertyKind.Sometimes || Applies((IpiInvariant)i)).ToArray();
        _properties = props;
        int Bit(IpiInvariant i) => Array.IndexOf(props, all[(int)i]);
        (_someDelivery, _unregisterReturns, _destroyInFlight) = (Bit(IpiInvariant.SomeDelivery), Bit(IpiInvariant.UnregisterReturns), Bit(IpiInvariant.DestroyInFlight));
    }

    private bool Applies(IpiInvariant sometimes) => sometimes switch
    {
        IpiInvariant.UnregisterReturns => Bounds.Unregister,
        IpiInvariant.DestroyInFlight => Bounds.Destroy && Design.HasInstances,
        _ => true,
    };

    public IpiDesign Design { get; }
    public IpiBounds Bounds { get; }
    public string Name => $"ipi/{Design.Name}";
    public IReadOnlyList<Property> Properties => _properties;

    public void Initial(List<IpiState> into)
    {
        var s = default(IpiState);
        for (int h = 0; h < Bounds.Handlers; h++) s.Handlers[h].Flags = MkIpiHandler.Linked;
        for (int c = Bounds.Senders; c < IpiBounds.MaxSenders; c++) s.Senders[c].Pc = SenderCpu.Done;
        Design.Init(ref s, Bounds);
        into.Add(s);
    }

    private static bool ReceiverAlive(in IpiState s) => s.Area == IpiState.AreaLive;

    public int Enabled(in IpiState s, Span<IpiAction> into)
    {
        int n = 0;
        for (int c = 0; c < Bounds.Senders; c++)
            if (s.Senders[c].Pc != SenderCpu.Done && !Design.SendBlocked(s, c)) into[n++] = new(IpiActor.Sender, (byte)c);
        if (ReceiverAlive(s))
        {
            if (s.IpiPending != 0 && Design.InterruptEnabled(s)) into[n++] = new(IpiActor.Interrupt);
            int works = Design.WorkItems(Bounds);
            for (int w = 0; w < works; w++)
                if (Design.WorkEnabled(s, w)) into[n++] = new(IpiActor.Work, (byte)w);
        }
        // Unregister and destroy race with the sends: they may start only while a send is in
        // flight, so that the behaviours in which they never happen keep their terminal states
        // (otherwise every run would end with the instance destroyed and nothing owed).
        bool sending = Sending(s);
        if (Bounds.Unregister && (sending || s.UnregisterPc > 0) && Design.UnregisterEnabled(s)) into[n++] = new(IpiActor.Unregister);
        if (Bounds.Destroy && Design.HasInstances && (sending || s.DestroyPc > 0) && Design.DestroyEnabled(s)) into[n++] = new(IpiActor.Destroy);
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
        switch (a.Actor)
        {
            case IpiActor.Sender: Design.SendIpiData(ref t, a.Index, _k); break;
            case IpiActor.Interrupt: Design.Interrupt(ref t, _k); break;
            case IpiActor.Work: Design.RunWork(ref t, a.Index, _k); break;
            case IpiActor.Unregister: Design.Unregister(ref t, _k); break;
            case IpiActor.Destroy: Design.Destroy(ref t, _k); break;
        }
        return t;
    }

    public ulong Violated(in IpiState s) => s.Broken;

    public ulong Pending(in IpiState s) => OwedMessage(s) != 0 ? PropertyTable<IpiInvariant>.Bit(IpiInvariant.Delivered) : 0;

    /// <summary>The first message accepted and not yet delivered while its handler is still registered, or 0.</summary>
    private int OwedMessage(in IpiState s)
    {
        if (!ReceiverAlive(s)) return 0;
        for (int id = 1; id <= Bounds.MessageCount; id++)
        {
            if ((s.Accepted & (1 << (id - 1))) == 0 || s.DeliveredCount(id) != 0) continue;
            int h = Bounds.Intended(id);
            if (h >= 0 && (s.Handlers[h].Flags & MkIpiHandler.Linked) != 0) return id;
        }
        return 0;
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
