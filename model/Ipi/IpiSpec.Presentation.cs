using System.Globalization;
using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>How the IPI specification's steps and states read in a trace.</summary>
public sealed partial class IpiSpec
{
    private string Msg(int id)
    {
        var m = Bounds.Message(id);
        return string.Create(CultureInfo.InvariantCulture, $"m{id} (type 0x{m.Type:x}, {m.Size} B)");
    }

    public string Describe(in IpiState s, in IpiAction a) => a.Actor switch
    {
        IpiActor.Interrupt => $"CPU{a.Index} interrupt: {Design.InterruptLine}",
        IpiActor.Work => $"CPU{Design.WorkCpu(s, a.Index)} irq_work: {Design.WorkLine(s, a.Index)}",
        IpiActor.Unregister => $"CPU{Receivers + Bounds.Senders} multikernel_unregister_handler(handler0): {Line(Design.UnregisterSteps, s.UnregisterPc)}",
        IpiActor.Destroy => $"CPU{Receivers + Bounds.Senders + 1} destroy instance: {Line(Design.DestroySteps, s.DestroyPc)}",
        IpiActor.Peer => $"hostile peer (--hostile-peer, out of protocol): slot0->data_size = {IpiConstants.MkMaxDataSize + 1}",
        _ => $"{_k.SenderName(a.Index)} send {Msg(_k.MessageId(s, a.Index))}{(Receivers > 1 ? $" to CPU{_k.Target(s, a.Index)}" : "")}: {Line(Design.SendSteps, s.Senders[a.Index].Pc)}",
    };

    private static string Line(IReadOnlyList<string> steps, int pc) => pc < steps.Count ? steps[pc] : $"(step {pc + 1}: past the design's {steps.Count} listed steps)";

    public void Render(in IpiState s, List<TraceVar> into)
    {
        for (int c = 0; c < Bounds.Senders; c++)
        {
            var cpu = s.Senders[c];
            string name = $"cpu{Receivers + c}";
            if (cpu.Pc == SenderCpu.Done) { into.Add(new(name, TraceValue.Of("done"))); continue; }
            var fields = new List<(string, TraceValue)>
            {
                ("sending", TraceValue.Of($"m{Bounds.MessageId(c, cpu.K)}")),
                ("next_step", TraceValue.Of($"{cpu.Pc + 1}/{Design.SendSteps.Count}")),
            };
            Design.RenderSender(cpu, fields);
            for (int i = 0; i < Design.LocalNames.Count; i++) fields.Add((Design.LocalNames[i], TraceValue.Of(IpiKernel.Var(ref Unsafe.AsRef(in s), _k.LocalIndex(c, i)))));
            into.Add(new(name, TraceValue.Record(fields.ToArray())));
        }
        for (int i = 0; i < Design.Slots(Bounds); i++) into.Add(new($"slot{i}", IpiPresentation.Slot(s.Slots[i], _k, Design.SlotHasState)));
        for (int i = 0; i < Design.SharedNames.Count; i++) into.Add(new(Design.SharedNames[i], TraceValue.Of(IpiKernel.Var(ref Unsafe.AsRef(in s), i))));
        Design.RenderReceiver(s, _k, into);
        if (Receivers == 1) into.Add(new("ipi_pending", TraceValue.Of(s.IpiPending != 0)));
        else for (int r = 0; r < Receivers; r++) into.Add(new($"cpu{r}_ipi_pending", TraceValue.Of((s.IpiPending & (1 << r)) != 0)));
        for (int h = 0; h < Bounds.Handlers; h++)
        {
            var hd = s.Handlers[h];
            var fields = new List<(string, TraceValue)>();
            // RFC v1's struct mk_ipi_handler has no ipi_type: show none.
            if (Design.HandlerTypes) fields.Add(("ipi_type", TraceValue.Of(IpiBounds.HandlerType(h))));
            fields.Add(("linked", TraceValue.Of((hd.Flags & MkIpiHandler.Linked) != 0)));
            Design.RenderHandler(hd, fields);
            into.Add(new($"handler{h}", TraceValue.Record(fields.ToArray())));
        }
        if (Bounds.Unregister)
            into.Add(new("unregister", TraceValue.Of(s.UnregisterPc == 0 ? "not called"
                : s.UnregisterPc >= Design.UnregisterSteps.Count ? "returned" : $"at step {s.UnregisterPc + 1}")));
        if (Bounds.Destroy && Design.HasInstances)
            into.Add(new("area", TraceValue.Of(s.Area switch { 0 => "live", 1 => "unpublished", _ => "freed" })));
        if (Bounds.HostilePeer)
        {
            into.Add(new("hostile_peer", TraceValue.Of(s.PeerDone != 0 ? "has written slot0" : "not yet")));
            into.Add(new("spoiled_by_peer", TraceValue.Of(IpiPresentation.Ids(s.Spoiled))));
        }
        into.Add(new("accepted", TraceValue.Of(IpiPresentation.Ids(s.Accepted))));
        into.Add(new("rejected", TraceValue.Of(IpiPresentation.Ids(s.Rejected))));
        var delivered = new List<string>();
        for (int id = 1; id <= Bounds.MessageCount; id++)
            for (int h = 0; h < Bounds.Handlers; h++)
                if (s.DeliveredCount(h, id) is int n && n > 0)
                    delivered.Add((n == 1 ? $"m{id}" : $"m{id}×{n}") + (Design.HandlerTypes ? "" : $"→handler{h}"));
        into.Add(new("delivered", TraceValue.Of(delivered.Count == 0 ? "-" : string.Join(" ", delivered))));
    }

    public string? Explain(in IpiState before, IpiAction? last, in IpiState after, int property)
    {
        var p = _properties[property];
        if (p.Name == IpiInvariants.Name(IpiInvariant.Delivered))
        {
            var (id, h) = OwedMessage(after);
            if (id == 0) return null;
            string type = Design.HandlerTypes ? $" (ipi_type {IpiBounds.HandlerType(h)})" : " (handlers have no type: every registered handler is owed every message)";
            return $"m{id} was accepted (send returned 0) and never delivered to handler{h}{type}, which is still registered";
        }
        if (last is not { } a || p.Kind != PropertyKind.Always) return null;
        var s = before;
        return ExplainStep(property, () => Next(s, a));
    }

    /// <summary>Why always-property <paramref name="property"/> broke in the step <paramref name="replay"/> runs again.</summary>
    internal string? ExplainStep(int property, Action replay) => _k.Reasons.Explain((int)_ids[property], replay);
}

/// <summary>Renderings shared by the spec and the designs.</summary>
public static class IpiPresentation
{
    /// <summary>A slot (or the receiver's copy): its header, whose bytes fill the buffer, and which whole message it holds.</summary>
    public static TraceValue Slot(in MkIpiData d, IpiKernel k, bool withState)
    {
        var fields = new List<(string, TraceValue)>();
        if (withState) fields.Add(("state", TraceValue.Of(d.State switch { IpiConstants.SlotReady => "READY", IpiConstants.SlotClaimed => "CLAIMED", _ => "FREE" })));
        fields.Add(("sender_cpu", TraceValue.Of(k.ShownCpu(d.SenderCpu))));
        fields.Add(("type", TraceValue.Of(d.Type)));
        fields.Add(("data_size", TraceValue.Of(d.DataSize)));
        fields.Add(("buffer", TraceValue.Of(d.Payload == 0 ? "zeroes" : $"m{d.Payload}'s bytes")));
        fields.Add(("holds", TraceValue.Of(d.Forged != 0 ? "data_size forged by the peer" : k.Identify(d) is int id && id != 0 ? $"m{id}" : "no whole message")));
        return TraceValue.Record(fields.ToArray());
    }

    public static string Ids(ushort mask)
    {
        if (mask == 0) return "-";
        var ids = new List<string>();
        for (int i = 0; i < 16; i++) if ((mask & (1 << i)) != 0) ids.Add($"m{i + 1}");
        return string.Join(" ", ids);
    }

    public static string HandlerSet(byte mask)
    {
        if (mask == 0) return "-";
        var hs = new List<string>();
        for (int h = 0; h < 8; h++) if ((mask & (1 << h)) != 0) hs.Add($"handler{h}");
        return string.Join(" ", hs);
    }
}
