using System.Globalization;
using System.Numerics;
using Multikernel.Model.Checking;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Model.Balloon;

/// <summary>How the balloon specification's steps and states read in a trace.</summary>
public sealed partial class BalloonSpec
{
    private static string Fault(HostFault f) => f switch
    {
        HostFault.Reset => " -> host answers VMW_BALLOON_ERROR_RESET (forgets every locked page)",
        HostFault.Refuse => " -> host refuses the page (VMW_BALLOON_ERROR_PPN_PINNED)",
        _ => "",
    };

    private static string Target(byte index) => BalloonBounds.TargetValue(index).ToString(CultureInfo.InvariantCulture);

    private string Pages(byte set)
    {
        if (set == 0) return "-";
        var names = new List<string>();
        for (int p = 0; p < Bounds.Pages; p++) if ((set & (1 << p)) != 0) names.Add($"page{p}");
        if ((set & BalloonState.Alien) != 0) names.Add("an alien PFN");
        return string.Join(", ", names); // "page0, an alien PFN": the words of one item never run into the next
    }

    public string Describe(in BalloonState s, in BalloonAction a)
    {
        switch (a.Actor)
        {
            case BalloonActor.Host:
                return $"hypervisor: the target becomes {Target(a.Arg)} pages";
            case BalloonActor.Init:
                return a.Arg switch
                {
                    0 => "module init: register_virtio_device() succeeds; the driver core probes"
                        + ((s.Features & (1 << VirtioBalloonFStatsVq)) != 0 ? "; STATS_VQ is negotiated: find_vqs() of 3 queues -> -EINVAL, the driver does not bind" : ""),
                    1 => "module init: register_virtio_device() fails (device_add(): -ENOMEM); " + (Design.PutsDevice ? "put_device(): release frees the device" : "kfree(&vmballoon_dev->vdev)"),
                    2 => "virtballoon_probe(): kthread_run() starts the balloon thread",
                    _ => "virtballoon_probe(): kthread_run() fails (-ENOMEM): del_vqs, kfree(vb), the driver is unbound; "
                        + (Design.DisarmsOnProbeFailure ? "the timer is disarmed" : "vmballoon_del_vqs() does nothing: the poll timer stays armed"),
                };
            case BalloonActor.Timer:
                return "timer: " + (s.TimerPc switch
                {
                    TPoll when TimerPollWork(s) == 2 => Design.Serialised ? "vmballoon_work(): down_read(&conf_sem)" : "vmballoon_poll_host(): !reset_pending",
                    TPoll => Design.BeginResetLine(Pages(s.Ballooned)),
                    TProbeStart => "probe: vmballoon_find_vqs() -> vmballoon_do_reset(): START; if it succeeds: reset_pending = false, then GUEST_ID; mod_timer() either way",
                    TProbeGuestId => "probe: GUEST_ID; mod_timer(): the timer is armed",
                    >= TReset => _resetCommands[s.TimerPc - TReset] switch
                    {
                        CmdStart => Design.Reset == ResetStyle.GuestHandshake
                            ? "START; if it succeeds: reset_pending = false" : "START; if it succeeds: reset_required = false",
                        CmdGuestId => "GUEST_ID (a failure is only logged)",
                        var c => $"{BalloonKernel.CmdName(c)} (the design's reset sequence)",
                    },
                    TGetTarget when s.Has(BalloonState.ResetPending) => "vmballoon_send_get_target(): reset pending: nothing sent",
                    TGetTarget => $"GET_TARGET -> {Target(s.HostTarget)}",
                    _ => $"num_pages = {Target(s.TimerAnswer)}; target_current = true{(Design.Serialised ? "; up_read(&conf_sem)" : "")}",
                }) + (a.Fault == HostFault.Reset && TimerCommand(s) == CmdStart ? " -> START fails: the host answers VMW_BALLOON_ERROR_RESET" : Fault(a.Fault));
            default:
                return "balloon thread: " + (s.GuestPc switch
                {
                    GIdle => GuestIdleWork(s) switch
                    {
                        1 => $"virtio_balloon (the series' patches 1-3, as modelled): reset pending: free {Pages(s.Ballooned)} without telling the host; reset_completed = true",
                        2 => $"vmballoon_get(num_pages): !target_current: GET_TARGET -> {Target(s.HostTarget)}",
                        4 => $"end of the inflation cycle: release refused {Pages(s.Refused)}",
                        _ => $"{(s.Size < Want(s) ? "fill_balloon" : "leak_balloon")}(): num_pages {Target(s.NumPages)}, balloon {s.Size}{(Design.Serialised ? "; down_read(&conf_sem)" : "")}",
                    },
                    GWriteTarget => $"num_pages = {Target(s.GuestAnswer)}; target_current = true",
                    GCommand => CommandText(s),
                    GAddBufEnd => Design.Serialised ? "add_buf done: vb = token" : "add_buf done: bdev->vb = data; bdev->target_current = false",
                    GKick => "kick(): callback -> get_buf() returns the token",
                    GDrain => Design.TokenOnce ? "get_buf() again: NULL" : "get_buf() again: returns bdev->vb, the same token",
                    _ => $"balloon_ack(): {(s.Req == BalloonState.Inflate ? "inflated" : "deflated")} {Pages((byte)(s.AnswerOk & s.ReqPages))}; failed {Pages((byte)(s.ReqPages & ~s.AnswerOk))}{(Design.Serialised ? "; up_read(&conf_sem)" : "")}",
                }) + Fault(a.Fault);
        }
    }

    private string CommandText(in BalloonState s)
    {
        bool lockIt = s.Req == BalloonState.Inflate;
        if (s.Has(BalloonState.ResetPending)) return "reset_pending: nothing sent, PFN_FAIL";
        if (Batching) return $"{(lockIt ? "BATCHED_LOCK" : "BATCHED_UNLOCK")} of {Pages((byte)(s.ReqPages & ~s.Answered))} (batch page entries: PFN << 12 | status)";
        int p = NextPage(s);
        ulong pfn = Bounds.Pfn(p);
        if (!Design.SendsPfn(pfn, batched: false)) return $"page{p}'s PFN 0x{pfn:x} does not fit 32 bits: refused, not sent";
        ulong wire = Design.WirePfn(pfn, batched: false);
        string cut = wire != pfn ? $" (its PFN 0x{pfn:x}, bound high-pfn, cut to 32 bits by virtio_balloon's u32 pfns[])" : "";
        return $"{(lockIt ? "LOCK" : "UNLOCK")}(0x{wire:x}) for page{p}{cut}";
    }

    public void Render(in BalloonState s, List<TraceVar> into)
    {
        into.Add(new("host", TraceValue.Record(
            ("locked", TraceValue.Of(Pages(s.HostLocked))),
            ("target", TraceValue.Of(Target(s.HostTarget))),
            ("state", TraceValue.Of(s.HostPhase == 1 ? "START owed: refuses everything else" : "running")),
            ("may_still", TraceValue.Of($"reset {s.Resets}, refuse {s.Refusals}, change target {s.Changes}")))));
        into.Add(new("device", TraceValue.Of(s.Device switch
        {
            BalloonState.DevNew => "not registered yet", BalloonState.DevProbing => "registered, probing", BalloonState.DevBound => "bound",
            BalloonState.DevGone => "registration failed: given back", BalloonState.DevProbeFailed => "probe failed after find_vqs(): no driver",
            _ => "probe failed in find_vqs(): not bound, nothing armed",
        })));
        into.Add(new("guest", TraceValue.Record(
            ("ballooned", TraceValue.Of(Pages(s.Ballooned))),
            ("size", TraceValue.Of(s.Size)),
            ("refused", TraceValue.Of(Pages(s.Refused))),
            ("num_pages", TraceValue.Of(Target(s.NumPages))),
            ("target_current", TraceValue.Of(s.Has(BalloonState.TargetCurrent))),
            ("reset_pending", TraceValue.Of(s.Has(BalloonState.ResetPending))),
            ("reset_completed", TraceValue.Of(s.Has(BalloonState.ResetCompleted))),
            ("features", TraceValue.Of($"0x{s.Features:x}")))));
        string req = s.Req == 0 ? "-" :
            $"{(s.Req == BalloonState.Inflate ? "inflate" : "deflate")} {Pages(s.ReqPages)}; answered {Pages(s.Answered)}; token {(s.Token switch { 0 => "not queued", 1 => "with the transport", _ => "given back" })}";
        into.Add(new("balloon_thread", TraceValue.Record(("at", TraceValue.Of(GuestPcName(s.GuestPc))), ("request", TraceValue.Of(req)),
            ("answer", TraceValue.Of((s.GuestAnswerFlags & BalloonState.AnswerValid) != 0 ? Target(s.GuestAnswer) : "-")))));
        into.Add(new("timer", TraceValue.Record(("at", TraceValue.Of(TimerPcName(s.TimerPc))),
            ("answer", TraceValue.Of((s.TimerAnswerFlags & BalloonState.AnswerValid) != 0 ? Target(s.TimerAnswer) : "-")))));
        if (Design.Serialised)
            into.Add(new("conf_sem", TraceValue.Of(s.Has(BalloonState.GuestHoldsLock) ? "balloon thread" : s.Has(BalloonState.TimerHoldsLock) ? "timer" : "free")));
    }

    private static string GuestPcName(byte pc) => pc switch
    {
        GIdle => "idle", GWriteTarget => "writing num_pages", GCommand => "add_buf: commands", GAddBufEnd => "add_buf: end",
        GKick => "kick", GDrain => "get_buf loop", _ => "completing",
    };

    private string TimerPcName(byte pc) => pc switch
    {
        TPoll => "idle", >= TReset => $"{BalloonKernel.CmdName(_resetCommands[pc - TReset])} next", TGetTarget => "GET_TARGET next", TWrite => "writing num_pages",
        TProbeStart => "probe: START next", _ => "probe: GUEST_ID next",
    };

    public string? Explain(in BalloonState before, BalloonAction? last, in BalloonState after, int property)
    {
        var id = (BalloonInvariant)property;
        switch (id)
        {
            case BalloonInvariant.FeaturesExact when after.Device != BalloonState.DevNew && after.Features != OfferedFeatures:
                return $"the negotiated features are 0x{after.Features:x}; the transport offers 0x{OfferedFeatures:x} (MUST_TELL_HOST | HOST_MAY_REFUSE)"
                    + ((after.Features & (1 << VirtioBalloonFStatsVq)) != 0 ? ": with STATS_VQ virtballoon_probe() asks find_vqs() for 3 queues, and find_vqs() answers -EINVAL (nvqs != 2)" : "");
            case BalloonInvariant.BalloonConsistent when Quiescent(after):
                return $"the guest believes {Pages(after.Ballooned)} ballooned; the host holds {Pages(after.HostLocked)} locked";
            case BalloonInvariant.SizeMatches when Quiescent(after):
                return $"the balloon's size is {after.Size}; the host holds {BitOperations.PopCount(after.HostLocked)} pages locked";
            case BalloonInvariant.ReachesTarget:
                return $"the host stopped at a target of {Target(after.HostTarget)} pages; the balloon holds {after.Size} ({Pages(after.Ballooned)}), and on this behaviour it never gets there";
        }
        if (last is not { } a) return null;
        var s = before;
        return _k.Reasons.Explain(property, () => Next(s, a));
    }
}
