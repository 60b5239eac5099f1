using System.Numerics;
using Multikernel.Model.Checking;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Model.Balloon;

/// <summary>Who acts in the balloon specification.</summary>
public enum BalloonActor : byte
{
    /// <summary>The guest's balloon thread: config read, fill / leak with add_buf, kick, get_buf; the seed's reset handling.</summary>
    Guest,
    /// <summary>The poll timer (vmballoon_poll_host; mainline: the work's reset and target half).</summary>
    Timer,
    /// <summary>The hypervisor changes its target (<see cref="BalloonAction.Arg"/>: the new target).</summary>
    Host,
    /// <summary>Module init registers the device (<see cref="BalloonAction.Arg"/>: 0 it succeeds and probe runs; 1 register_virtio_device() fails).</summary>
    Init,
}

/// <summary>One step: who acts, and for a command the fault the host injects into its answer.</summary>
public readonly record struct BalloonAction(BalloonActor Actor, HostFault Fault = HostFault.None, byte Arg = 0);

/// <summary>
/// The VMware balloon as a state machine over a design and bounds: the guest's balloon thread
/// and the poll timer, which race as they do in seed 002 unless the design serialises them, and
/// a hypervisor that may answer RESET at any command, refuse a page, and change its target.
/// </summary>
public sealed partial class BalloonSpec : ISpec<BalloonState, BalloonAction>
{
    // The balloon thread's program counter.
    public const byte GIdle = 0, GWriteTarget = 1, GCommand = 2, GAddBufEnd = 3, GKick = 4, GDrain = 5, GComplete = 6;
    // The timer's: TReset + i: the reset's i-th command (the design's ResetCommands) next.
    public const byte TPoll = 0, TGetTarget = 3, TWrite = 4, TReset = 8;
    /// <summary>The most commands a design's reset may send.</summary>
    public const int MaxResetCommands = 8;
    // The seed's probe (vmballoon_find_vqs(): vmballoon_do_reset(), then mod_timer()): the balloon
    // thread does not exist until find_vqs() returns (virtballoon_probe() starts it after).
    public const byte TProbeStart = 5, TProbeGuestId = 6;

    private readonly BalloonKernel _k;
    private readonly Property[] _properties;

    public BalloonSpec(BalloonDesign design, BalloonBounds? bounds = null)
    {
        Design = design;
        Bounds = bounds ?? BalloonBounds.Default;
        if (Bounds.Validate() is { } problem) throw new ArgumentException(problem);
        _k = new BalloonKernel(Bounds);
        _properties = BalloonInvariants.Table.Properties();
        _balloonable = Balloonable;
        _resetCommands = [.. design.ResetCommands];
        if (_resetCommands.Length is 0 or > MaxResetCommands)
            throw new ArgumentException($"{design.Name}: the reset sends 1..{MaxResetCommands} commands (ResetCommands has {_resetCommands.Length})");
        foreach (uint c in _resetCommands)
            if (BalloonKernel.CmdName(c).StartsWith("command ", StringComparison.Ordinal))
                throw new ArgumentException($"{design.Name}: ResetCommands names {c}, which is no backdoor command");
    }

    /// <summary>The design's reset sequence, read once (the steps index it).</summary>
    private readonly uint[] _resetCommands;

    private readonly int _balloonable;

    public BalloonDesign Design { get; }
    public BalloonBounds Bounds { get; }
    public string Name => $"balloon/{Design.Name}";
    public IReadOnlyList<Property> Properties => _properties;

    private bool Batching => Design.Batched && Bounds.Batch;

    public void Initial(List<BalloonState> into)
    {
        var s = default(BalloonState);
        s.HostTarget = (byte)Bounds.Target;
        s.Budget = (byte)(Bounds.Resets | (Bounds.Refusals << 2) | (Bounds.Changes << 4));
        s.Features = Design.FeaturesSet;
        s.HostPhase = 1; // no START yet: the host acts on nothing else
        Design.Probe(ref s); // mainline's vmballoon_init(): reset_required = true; the seed's find_vqs() sends START
        into.Add(s);
        // Only the seed's features word is garbage; the device's registration is the first step either way.
        // The seed's `unsigned long features;` is never cleared: the word holds whatever the stack held.
        // Of its bits only those in virtio_balloon's feature table survive negotiation: STATS_VQ is one.
        if (!Design.FeaturesInitialised) into.Add(s with { Features = (byte)(Design.FeaturesSet | (1 << VirtioBalloonFStatsVq)) });
    }

    // ---- enabled actions ------------------------------------------------------------

    private static bool LockFree(in BalloonState s) => !s.Has(BalloonState.GuestHoldsLock) && !s.Has(BalloonState.TimerHoldsLock);

    private static int Want(in BalloonState s) => s.NumPages == BalloonBounds.TargetHuge ? 0 : s.NumPages;

    /// <summary>What the balloon thread does next from idle: 0 nothing, 1 reset handshake, 2 GET_TARGET, 3 a request, 4 release refused pages.</summary>
    private int GuestIdleWork(in BalloonState s)
    {
        if (Design.GuestResets(s)) return 1;
        if (Design.Serialised && (!LockFree(s) || s.Has(BalloonState.ResetPending))) return 0;
        if (!Design.Serialised && !s.Has(BalloonState.TargetCurrent) && !s.Has(BalloonState.ResetPending)) return 2;
        int want = Want(s);
        if (s.Size > want) return s.Ballooned != 0 ? 3 : 0;
        if (s.Size < want && !s.Has(BalloonState.GaveUp) && (~(s.Ballooned | s.Refused) & ((1 << Bounds.Pages) - 1)) != 0) return 3;
        // The inflation cycle ends (target reached, or no page left to try): mainline's
        // vmballoon_inflate() ends with vmballoon_release_refused_pages().
        return s.Refused != 0 ? 4 : 0;
    }

    /// <summary>What the timer does next from its poll: 0 nothing, 1 the reset, 2 GET_TARGET.</summary>
    private int TimerPollWork(in BalloonState s)
    {
        if (Design.Serialised && !LockFree(s)) return 0;
        if (s.Has(BalloonState.ResetPending))
            return Design.TimerMayReset(s) ? 1 : 0;
        return s.HostTarget != s.NumPages || !s.Has(BalloonState.TargetCurrent) ? 2 : 0;
    }

    /// <summary>The backdoor command <paramref name="who"/>'s next step sends (uint.MaxValue: none).</summary>
    public uint Command(in BalloonState s, BalloonActor who) => who switch
    {
        BalloonActor.Guest => GuestCommand(s),
        BalloonActor.Timer => TimerCommand(s),
        _ => uint.MaxValue,
    };

    /// <summary>The command the balloon thread's next step sends, or none.</summary>
    private uint GuestCommand(in BalloonState s) => s.GuestPc switch
    {
        GIdle when GuestIdleWork(s) == 2 => CmdGetTarget,
        GCommand when !s.Has(BalloonState.ResetPending) && SendsNext(s) =>
            Batching ? (s.Req == BalloonState.Inflate ? CmdBatchedLock : CmdBatchedUnlock) : (s.Req == BalloonState.Inflate ? CmdLock : CmdUnlock),
        _ => uint.MaxValue,
    };

    /// <summary>Whether the next page of the request goes to the host (a PFN that does not fit is refused by a checking design).</summary>
    private bool SendsNext(in BalloonState s) => Batching || Design.SendsPfn(Bounds.Pfn(NextPage(s)), batched: false);

    private static int NextPage(in BalloonState s) => BalloonKernel.NextPage(s);

    private uint TimerCommand(in BalloonState s) => s.TimerPc switch
    {
        TProbeStart => CmdStart,
        TProbeGuestId => CmdGuestId,
        >= TReset => _resetCommands[s.TimerPc - TReset],
        TGetTarget when !s.Has(BalloonState.ResetPending) => CmdGetTarget,
        _ => uint.MaxValue,
    };

    /// <summary>A command step, once per fault the host may inject into its answer.</summary>
    private static int Faults(in BalloonState s, uint cmd, BalloonActor who, Span<BalloonAction> into, int n)
    {
        into[n++] = new(who);
        if (cmd == uint.MaxValue) return n;
        // While START is owed the host refuses every other command anyway: no fault to inject there.
        if (s.Resets > 0 && (s.HostPhase == 0 || cmd == CmdStart)) into[n++] = new(who, HostFault.Reset);
        if (s.Refusals > 0 && cmd is CmdLock or CmdBatchedLock) into[n++] = new(who, HostFault.Refuse);
        return n;
    }

    public int Enabled(in BalloonState s, Span<BalloonAction> into)
    {
        int n = 0;
        switch (s.Device)
        {
            case BalloonState.DevNew:
                // Module init: register_virtio_device() succeeds (the driver core probes), or fails
                // (device_add() can, e.g. -ENOMEM): then the module is not loaded and nothing else happens.
                into[n++] = new(BalloonActor.Init);
                into[n++] = new(BalloonActor.Init, Arg: 1);
                return n;
            case BalloonState.DevGone or BalloonState.DevNoBind:
                return n;
            case BalloonState.DevProbing when s.TimerPc < TProbeStart:
                // find_vqs() has returned: virtballoon_probe() starts its thread (kthread_run()), which can fail.
                into[n++] = new(BalloonActor.Init, Arg: 2);
                into[n++] = new(BalloonActor.Init, Arg: 3);
                return n;
            case BalloonState.DevProbeFailed when Design.DisarmsOnProbeFailure:
                return n;
        }
        if (s.Device == BalloonState.DevBound && (s.GuestPc != GIdle || GuestIdleWork(s) != 0)) n = Faults(s, GuestCommand(s), BalloonActor.Guest, into, n);
        if (s.TimerPc != TPoll || TimerPollWork(s) != 0) n = Faults(s, TimerCommand(s), BalloonActor.Timer, into, n);
        if (s.Changes > 0)
        {
            for (int t = 0; t <= Bounds.Pages; t++)
                if (t != s.HostTarget) into[n++] = new(BalloonActor.Host, Arg: (byte)t);
            if (Bounds.HugeTarget && s.HostTarget != BalloonBounds.TargetHuge) into[n++] = new(BalloonActor.Host, Arg: BalloonBounds.TargetHuge);
        }
        return n;
    }

    // ---- next state -------------------------------------------------------------------

    public BalloonState Next(in BalloonState s, in BalloonAction a)
    {
        var t = s;
        switch (a.Actor)
        {
            case BalloonActor.Guest: Guest(ref t, a.Fault); LeftReset(s, ref t, "the balloon thread"); break;
            case BalloonActor.Timer:
                if (t.Device == BalloonState.DevProbeFailed)
                    _k.Break(ref t, BalloonInvariant.TimerLifetime, $"the poll timer runs after virtballoon_probe() failed: dev.driver is NULL, so its next config_changed call (a changed target, or a RESET) dereferences a NULL drv");
                Timer(ref t, a.Fault);
                LeftReset(s, ref t, "the poll timer");
                break;
            case BalloonActor.Host:
                t.HostTarget = a.Arg;
                t.Budget -= 1 << 4;
                break;
            case BalloonActor.Init:
                if (a.Arg == 0)
                {
                    // virtio_dev_probe() negotiates the features; with STATS_VQ virtballoon_probe() asks
                    // find_vqs() for three queues, and a transport with two answers -EINVAL before it arms anything.
                    t.Device = (t.Features & (1 << VirtioBalloonFStatsVq)) != 0 ? BalloonState.DevNoBind : BalloonState.DevProbing;
                    break;
                }
                if (a.Arg == 2) { t.Device = BalloonState.DevBound; break; }
                if (a.Arg == 3)
                {
                    // kthread_run() failed: virtballoon_probe() calls del_vqs and frees its state; the driver core unbinds.
                    t.Device = BalloonState.DevProbeFailed;
                    break;
                }
                // The error path: device_initialize() inside register_virtio_device() took the reference
                // that only put_device() gives back (its release callback, vmballoon_release_device(), frees).
                if (!Design.PutsDevice)
                    _k.Break(ref t, BalloonInvariant.DevicePut, $"register_virtio_device() failed and the device is freed with kfree(): release never runs, the reference and the device's name stay");
                t.Device = BalloonState.DevGone;
                break;
        }
        return t;
    }

    /// <summary>
    /// Whatever a design's step does, leaving reset handling (reset_pending / reset_required cleared)
    /// while the host still owes a successful START breaks reset-order. The designs here say so
    /// themselves where they clear it (BalloonKernel.ResetCleared, with the function's name); this
    /// catches a design of your own that clears it anywhere else.
    /// </summary>
    private void LeftReset(in BalloonState before, ref BalloonState after, string who)
    {
        if (before.Has(BalloonState.ResetPending) && !after.Has(BalloonState.ResetPending) && after.HostPhase != 0
            && (after.Broken & PropertyTable<BalloonInvariant>.Bit(BalloonInvariant.ResetOrder)) == 0)
            _k.Break(ref after, BalloonInvariant.ResetOrder, $"{who} clears the reset while the host still owes it a successful START");
    }

    private void Guest(ref BalloonState s, HostFault fault)
    {
        switch (s.GuestPc)
        {
            case GIdle:
                switch (GuestIdleWork(s))
                {
                    case 1: // the design's own reset work on the balloon thread (the seed's virtio_balloon)
                        Design.GuestReset(ref s, _k);
                        return;
                    case 2: // vmballoon_get() -> vmballoon_get_target(): GET_TARGET
                    {
                        uint status = BalloonKernel.Receive(ref s, CmdGetTarget, fault);
                        Design.SignalReset(ref s, status);
                        if (status != Success) return;
                        BalloonKernel.Answered(ref s.GuestAnswer, ref s.GuestAnswerFlags, s.TimerAnswer, ref s.TimerAnswerFlags, s.HostTarget);
                        s.GuestPc = GWriteTarget;
                        return;
                    }
                    case 3:
                        if (Design.Serialised) s.Set(BalloonState.GuestHoldsLock, true);
                        BuildRequest(ref s);
                        s.GuestPc = GCommand;
                        return;
                    case 4: // end of the inflation cycle: release the refused pages
                        s.Refused = 0;
                        return;
                }
                return;
            case GWriteTarget:
                _k.WriteTarget(ref s, s.GuestAnswer, ref s.GuestAnswerFlags, ref s.TimerAnswerFlags, Design, "the balloon thread");
                s.GuestPc = GIdle;
                return;
            case GCommand:
                Design.SendCommands(ref s, fault, _k);
                if ((s.Answered & s.ReqPages) == s.ReqPages) s.GuestPc = GAddBufEnd;
                return;
            case GAddBufEnd: // bdev->vb = data; bdev->target_current = false;
                s.Token = 1;
                if (!Design.Serialised) s.Set(BalloonState.TargetCurrent, false);
                s.GuestPc = GKick;
                return;
            case GKick: // kick -> callback (balloon_ack) -> get_buf, once: the token comes back
                s.Token = 2;
                s.GuestPc = Design.TokenOnce ? GComplete : GDrain;
                return;
            case GDrain: // a design that drains get_buf until NULL (the seed's balloon_ack calls it once)
                _k.Break(ref s, BalloonInvariant.AnsweredOnce, $"get_buf returns the request's token a second time");
                s.GuestPc = GComplete;
                return;
            case GComplete:
                Design.CompleteRequest(ref s, _k);
                s.Req = 0; s.ReqPages = 0; s.Answered = 0; s.AnswerOk = 0; s.Token = 0;
                s.Set(BalloonState.GuestHoldsLock, false);
                s.GuestPc = GIdle;
                return;
        }
    }

    /// <summary>fill_balloon / leak_balloon: the pages of one request (one page, or a batch of two).</summary>
    private void BuildRequest(ref BalloonState s)
    {
        int want = Want(s), max = Batching ? 2 : 1;
        bool inflate = s.Size < want;
        int pool = inflate ? ~(s.Ballooned | s.Refused) & ((1 << Bounds.Pages) - 1) : s.Ballooned;
        int count = Math.Min(max, Math.Abs(want - s.Size));
        byte pages = 0;
        for (int p = 0; p < Bounds.Pages && BitOperations.PopCount(pages) < count; p++)
            if ((pool & (1 << p)) != 0) pages |= (byte)(1 << p);
        s.Req = inflate ? BalloonState.Inflate : BalloonState.Deflate;
        s.ReqPages = pages;
        s.Answered = 0;
        s.AnswerOk = 0;
        s.Token = 0;
    }

    private void Timer(ref BalloonState s, HostFault fault)
    {
        switch (s.TimerPc)
        {
            case TProbeStart: // vmballoon_find_vqs() -> vmballoon_do_reset(): START; its failure is ignored
            {
                uint status = BalloonKernel.Receive(ref s, CmdStart, fault);
                Design.StartAnswered(ref s, status, _k);
                s.TimerPc = status == Success && Design.SendsGuestId ? TProbeGuestId : TPoll; // then mod_timer(): the timer is armed
                return;
            }
            case TProbeGuestId:
                Design.GuestIdAnswered(ref s, BalloonKernel.Receive(ref s, CmdGuestId, fault), _k);
                s.TimerPc = TPoll;
                return;
            case TPoll:
                if (TimerPollWork(s) == 2)
                {
                    if (Design.Serialised) s.Set(BalloonState.TimerHoldsLock, true);
                    s.TimerPc = TGetTarget;
                    return;
                }
                Design.BeginReset(ref s, _k);
                s.TimerPc = TReset;
                return;
            case >= TReset:
            {
                // The design's reset sequence: mainline's START (which clears the reset right after it, before
                // GUEST_ID: the seed, 2.6.34 and mainline alike), then GUEST_ID (its failure only logged).
                int i = s.TimerPc - TReset;
                uint cmd = _resetCommands[i];
                uint status = BalloonKernel.Receive(ref s, cmd, fault);
                if (!Design.ResetAnswered(ref s, cmd, status, _k)) { EndPoll(ref s); return; }
                s.TimerPc = i + 1 < _resetCommands.Length ? (byte)(TReset + i + 1) : TGetTarget;
                return;
            }
            case TGetTarget:
            {
                if (s.Has(BalloonState.ResetPending)) { EndPoll(ref s); return; }
                uint status = BalloonKernel.Receive(ref s, CmdGetTarget, fault);
                Design.SignalReset(ref s, status);
                if (status != Success) { EndPoll(ref s); return; }
                BalloonKernel.Answered(ref s.TimerAnswer, ref s.TimerAnswerFlags, s.GuestAnswer, ref s.GuestAnswerFlags, s.HostTarget);
                s.TimerPc = TWrite;
                return;
            }
            case TWrite:
                _k.WriteTarget(ref s, s.TimerAnswer, ref s.TimerAnswerFlags, ref s.GuestAnswerFlags, Design, "the poll timer");
                EndPoll(ref s);
                return;
        }
    }

    private static void EndPoll(ref BalloonState s)
    {
        s.Set(BalloonState.TimerHoldsLock, false);
        s.TimerPc = TPoll;
    }

    // ---- properties -------------------------------------------------------------------

    /// <summary>No exchange in flight: both actors idle, no reset pending, the host not mid-reset.</summary>
    private static bool Quiescent(in BalloonState s) =>
        s.GuestPc == GIdle && s.Req == 0 && s.TimerPc == TPoll && !s.Has(BalloonState.ResetPending) && s.HostPhase == 0;

    private static ulong Bit(BalloonInvariant i) => PropertyTable<BalloonInvariant>.Bit(i);

    public ulong Violated(in BalloonState s)
    {
        ulong v = s.Broken;
        // virtio_dev_probe() reads get_features() once the device is registered.
        if (s.Device is not (BalloonState.DevNew or BalloonState.DevGone) && s.Features != OfferedFeatures)
            v |= Bit(BalloonInvariant.FeaturesExact);
        if (Quiescent(s))
        {
            if (s.Ballooned != s.HostLocked) v |= Bit(BalloonInvariant.BalloonConsistent);
            if (s.Size != BitOperations.PopCount(s.HostLocked)) v |= Bit(BalloonInvariant.SizeMatches);
        }
        return v;
    }

    /// <summary>Pages this design can put in the balloon: a checking, unbatched design never sends a PFN ≥ 2^32 (high-pfn).</summary>
    private int Balloonable
    {
        get
        {
            int n = 0;
            for (int p = 0; p < Bounds.Pages; p++)
                if (Batching || Design.SendsPfn(Bounds.Pfn(p), batched: false)) n++;
            return n;
        }
    }

    public ulong Pending(in BalloonState s)
    {
        // Owed once the host is quiet, for a target the guest can hold and reach, by a driver that loaded.
        if (s.Device != BalloonState.DevBound || !s.HostQuiet || s.HostTarget == BalloonBounds.TargetHuge || s.HostTarget > _balloonable) return 0;
        bool reached = Quiescent(s) && s.Size == s.HostTarget && s.Ballooned == s.HostLocked;
        return reached ? 0 : Bit(BalloonInvariant.ReachesTarget);
    }

    public ulong Reached(in BalloonState s)
    {
        ulong r = 0;
        if (s.Has(BalloonState.ResetSeen) && s.HostPhase == 0 && !s.Has(BalloonState.ResetPending)) r |= Bit(BalloonInvariant.ResetHandled);
        if (s.Has(BalloonState.RefusalSeen)) r |= Bit(BalloonInvariant.PageRefused);
        if (Quiescent(s) && s.Size > 0 && s.Size == s.HostTarget) r |= Bit(BalloonInvariant.TargetReached);
        return r;
    }
}
