using System.Globalization;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The multikernel IPI mechanism as a state machine over a design and bounds.
/// Actors: sender CPUs 1..n in multikernel_send_ipi_data(), the receiving CPU 0
/// (interrupt handler and irq_work), a CPU calling multikernel_unregister_handler()
/// on handler 0, and a CPU destroying the target instance.
/// </summary>
public sealed class IpiSpec : ISpec<IpiState>
{
    private const byte InterruptActor = 8, WorkActor = 16, UnregisterActor = 32, DestroyActor = 33;

    private readonly IpiKernel _k;
    private readonly Property[] _properties;

    public IpiSpec(IpiDesign design, IpiBounds? bounds = null)
    {
        Design = design;
        Bounds = bounds ?? IpiBounds.Default;
        if (Bounds.Validate() is { } problem) throw new ArgumentException(problem);
        _k = new IpiKernel(Bounds, design);
        _properties = IpiInvariants.All.Select(i => new Property(
            IpiInvariants.Name(i), IpiInvariants.Kind(i), IpiInvariants.Statement(i),
            design.Cites(i) ?? "DESIGN.md invariant catalogue (IPI)")).ToArray();
    }

    public IpiDesign Design { get; }
    public IpiBounds Bounds { get; }
    public string Name => $"ipi/{Design.Name}";
    public IReadOnlyList<Property> Properties => _properties;

    public void Initial(List<IpiState> into)
    {
        var s = default(IpiState);
        for (int h = 0; h < Bounds.Handlers; h++) s.Handlers[h].Flags = MkIpiHandler.Linked;
        for (int c = Bounds.Senders; c < IpiBounds.MaxSenders; c++) s.Senders[c].Pc = SenderCpu.Done;
        into.Add(s);
    }

    private bool ReceiverAlive(in IpiState s) => s.Area == IpiState.AreaLive;

    public int Enabled(in IpiState s, Span<Step> into)
    {
        int n = 0;
        for (int c = 0; c < Bounds.Senders; c++)
            if (s.Senders[c].Pc != SenderCpu.Done && !Design.SendBlocked(s, c)) into[n++] = new Step((byte)c);
        if (ReceiverAlive(s))
        {
            if (s.IpiPending != 0 && Design.InterruptEnabled(s)) into[n++] = new Step(InterruptActor);
            int works = Design.WorkItems(Bounds);
            for (int w = 0; w < works; w++)
                if (Design.WorkEnabled(s, w)) into[n++] = new Step(WorkActor, (byte)w);
        }
        // Unregister and destroy race with the sends: they may start only while a send is in
        // flight, so that the behaviours in which they never happen keep their terminal states
        // (otherwise every run would end with the instance destroyed and nothing owed).
        bool sending = Sending(s);
        if (Bounds.Unregister && (sending || s.UnregisterPc > 0) && Design.UnregisterEnabled(s)) into[n++] = new Step(UnregisterActor);
        if (Bounds.Destroy && Design.HasInstances && (sending || s.DestroyPc > 0) && Design.DestroyEnabled(s)) into[n++] = new Step(DestroyActor);
        return n;
    }

    private bool Sending(in IpiState s)
    {
        for (int c = 0; c < Bounds.Senders; c++) if (s.Senders[c].Pc != SenderCpu.Done) return true;
        return false;
    }

    public IpiState Next(in IpiState s, Step step)
    {
        var t = s;
        switch (step.Actor)
        {
            case InterruptActor: Design.Interrupt(ref t, _k); break;
            case WorkActor: Design.RunWork(ref t, step.Arg, _k); break;
            case UnregisterActor: Design.Unregister(ref t, _k); break;
            case DestroyActor: Design.Destroy(ref t, _k); break;
            default: Design.SendIpiData(ref t, step.Actor, _k); break;
        }
        return t;
    }

    public ulong Violated(in IpiState s) => s.Broken;

    public ulong Pending(in IpiState s)
    {
        if (!ReceiverAlive(s)) return 0;
        for (int id = 1; id <= Bounds.MessageCount; id++)
        {
            if ((s.Accepted & (1 << (id - 1))) == 0 || s.DeliveredCount(id) != 0) continue;
            int h = Bounds.Intended(id);
            if (h >= 0 && (s.Handlers[h].Flags & MkIpiHandler.Linked) != 0) return 1UL << (int)IpiInvariant.Delivered;
        }
        return 0;
    }

    // ---- presentation ------------------------------------------------------------

    private string Msg(int id)
    {
        var m = Bounds.Message(id);
        return string.Create(CultureInfo.InvariantCulture, $"m{id} (type 0x{m.Type:x}, {m.Size} B)");
    }

    public string Describe(in IpiState s, Step step) => step.Actor switch
    {
        InterruptActor => $"CPU0 interrupt: {Design.InterruptLine}",
        WorkActor => $"CPU0 irq_work: {Design.WorkLine(s, step.Arg)}",
        UnregisterActor => $"CPU{Bounds.Senders + 1} multikernel_unregister_handler(handler0): {Design.UnregisterSteps[s.UnregisterPc]}",
        DestroyActor => $"CPU{Bounds.Senders + 2} destroy instance: {Design.DestroySteps[s.DestroyPc]}",
        _ => $"CPU{step.Actor + 1} send {Msg(_k.MessageId(s, step.Actor))}: {Design.SendSteps[s.Senders[step.Actor].Pc]}",
    };

    public void Render(in IpiState s, List<TraceVar> into)
    {
        for (int c = 0; c < Bounds.Senders; c++)
        {
            var cpu = s.Senders[c];
            string what = cpu.Pc == SenderCpu.Done ? "done"
                : $"sending m{Bounds.MessageId(c, cpu.K)}, next step {cpu.Pc + 1}/{Design.SendSteps.Count}";
            into.Add(new($"cpu{c + 1}", TraceValue.Of(what)));
        }
        for (int i = 0; i < Design.Slots(Bounds); i++) into.Add(new($"slot{i}", RenderSlot(s.Slots[i], ring: Design is Designs.RingDesign)));
        if (Design is Designs.RingDesign)
        {
            into.Add(new("ring", TraceValue.Record(("head", TraceValue.Of(s.Head)), ("tail", TraceValue.Of(s.Tail)))));
            into.Add(new("ring_work", TraceValue.Of(s.RingWork switch { 0 => "idle", 1 => "queued", _ => "running" })));
            into.Add(new("copy", TraceValue.Of(s.Copy.Equals(default(MkIpiData)) ? "-" : Label(s.Copy))));
            into.Add(new("to_call", TraceValue.Of(Handlers(s.Targets))));
        }
        into.Add(new("ipi_pending", TraceValue.Of(s.IpiPending != 0)));
        for (int h = 0; h < Bounds.Handlers; h++)
        {
            var hd = s.Handlers[h];
            var fields = new List<(string, TraceValue)>
            {
                ("ipi_type", TraceValue.Of(IpiBounds.HandlerType(h))),
                ("linked", TraceValue.Of((hd.Flags & MkIpiHandler.Linked) != 0)),
            };
            if (Design is not Designs.RingDesign)
            {
                fields.Add(("work_pending", TraceValue.Of((hd.Flags & MkIpiHandler.WorkPending) != 0)));
                fields.Add(("saved_data", TraceValue.Of(hd.SavedData == 0 ? "NULL" : $"slot{hd.SavedData - 1}")));
            }
            into.Add(new($"handler{h}", TraceValue.Record(fields.ToArray())));
        }
        if (Bounds.Unregister)
            into.Add(new("unregister", TraceValue.Of(s.UnregisterPc == 0 ? "not called"
                : s.UnregisterPc >= Design.UnregisterSteps.Count ? "returned" : $"at step {s.UnregisterPc + 1}")));
        if (Bounds.Destroy && Design.HasInstances)
            into.Add(new("area", TraceValue.Of(s.Area switch { 0 => "live", 1 => "unpublished", _ => "freed" })));
        into.Add(new("accepted", TraceValue.Of(Ids(s.Accepted))));
        into.Add(new("rejected", TraceValue.Of(Ids(s.Rejected))));
        var delivered = new List<string>();
        for (int id = 1; id <= Bounds.MessageCount; id++)
            if (s.DeliveredCount(id) is int n && n > 0) delivered.Add(n == 1 ? $"m{id}" : $"m{id}×{n}");
        into.Add(new("delivered", TraceValue.Of(delivered.Count == 0 ? "-" : string.Join(" ", delivered))));
    }

    private TraceValue RenderSlot(in MkIpiData d, bool ring)
    {
        var fields = new List<(string, TraceValue)>();
        if (ring) fields.Add(("state", TraceValue.Of(d.State switch { IpiConstants.SlotReady => "READY", IpiConstants.SlotClaimed => "CLAIMED", _ => "FREE" })));
        fields.Add(("sender_cpu", TraceValue.Of(d.SenderCpu)));
        fields.Add(("type", TraceValue.Of(d.Type)));
        fields.Add(("data_size", TraceValue.Of(d.DataSize)));
        fields.Add(("buffer", TraceValue.Of(d.Payload == 0 ? "zeroes" : $"m{d.Payload}'s bytes")));
        fields.Add(("holds", TraceValue.Of(_k.Identify(d) is int id && id != 0 ? $"m{id}" : "no whole message")));
        return TraceValue.Record(fields.ToArray());
    }

    private string Label(in MkIpiData d) => _k.Identify(d) is int id && id != 0 ? $"m{id}" : "torn";

    private static string Ids(ushort mask)
    {
        if (mask == 0) return "-";
        var ids = new List<string>();
        for (int i = 0; i < 16; i++) if ((mask & (1 << i)) != 0) ids.Add($"m{i + 1}");
        return string.Join(" ", ids);
    }

    private static string Handlers(byte mask)
    {
        if (mask == 0) return "-";
        var hs = new List<string>();
        for (int h = 0; h < 8; h++) if ((mask & (1 << h)) != 0) hs.Add($"handler{h}");
        return string.Join(" ", hs);
    }
}
