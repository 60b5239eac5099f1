using System.Numerics;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Balloon;

/// <summary>How a design passes a PFN to LOCK / UNLOCK.</summary>
public enum PfnPath
{
    /// <summary>The seed: virtio_balloon's pfns[] is a u32 array, so the PFN is truncated before the driver's check can see it.</summary>
    TruncatedArray,
    /// <summary>Mainline: the full PFN is checked, and a page whose PFN does not fit the command is not sent (refused).</summary>
    Checked,
}

/// <summary>How a design handles the host's RESET.</summary>
public enum ResetStyle
{
    /// <summary>The seed: reset_pending, the guest frees its pages and sets reset_completed, the timer sends START, clears reset_pending, then GUEST_ID.</summary>
    GuestHandshake,
    /// <summary>Mainline (and 2.6.34): the work item pops every page without telling the host, sends START, clears reset_required, then GUEST_ID (whose failure is only logged); mainline holds conf_sem.</summary>
    DriverPops,
}

/// <summary>
/// A design of the VMware balloon. Its behaviour is hooks the specification calls: the guest's
/// request (<see cref="SendCommands"/>: the order of backdoor commands; <see cref="CompleteRequest"/>:
/// when pages join or leave the balloon relative to the host's answers), the reset handling
/// (<see cref="Probe"/>, <see cref="SignalReset"/>, <see cref="BeginReset"/>, <see cref="ResetPages"/>,
/// <see cref="ResetCommands"/> (the reset's command sequence), <see cref="ResetAnswered"/> (<see cref="StartAnswered"/>,
/// <see cref="SendsGuestId"/>, <see cref="GuestIdAnswered"/>), <see cref="GuestResets"/> / <see cref="GuestReset"/>,
/// <see cref="TimerMayReset"/>), and conf_sem (<see cref="Serialised"/>). This class's hooks are
/// mainline's (the reference); the seed (<see cref="BalloonRfcDesign"/>) overrides them, and so does a
/// design of your own, calling <see cref="BalloonKernel"/> for what the host does. The rules the proofs
/// encode (<see cref="SendsPfn"/>, <see cref="WirePfn"/>, <see cref="StoredTarget"/>, <see cref="ClearsReset"/>)
/// are functions of the constructor's parameters. Deliberate defects are <see cref="Defect"/> flags, for
/// the honesty checks. The proofs encode this class; a subclass is not proved unless it declares
/// <see cref="ProofEncodedAttribute"/>.
/// </summary>
[ProofEncoded]
public class BalloonDesign : IDesign
{
    [Flags]
    public enum Defect
    {
        None = 0,
        /// <summary>The timer and the balloon thread do not take conf_sem.</summary>
        NoLock = 1,
        /// <summary>The PFN goes through a u32 before the batch entry.</summary>
        TruncatePfn = 2,
        /// <summary>The completion drains get_buf until NULL (the virtio convention), and get_buf keeps returning the last token.</summary>
        TokenTwice = 4,
        /// <summary>On RESET the driver deflates with UNLOCK like a normal deflate (and keeps a page whose UNLOCK fails) instead of popping its pages silently.</summary>
        UnlockOnReset = 8,
        /// <summary>On RESET the driver keeps its pages as if they were still locked.</summary>
        KeepOnReset = 16,
        /// <summary>get_features also sets VIRTIO_BALLOON_F_STATS_VQ, which this transport does not offer.</summary>
        ExtraFeature = 32,
        /// <summary>A GET_TARGET answer is stored in a u32 without a check.</summary>
        TruncateTarget = 64,
        /// <summary>After a refused page the driver stops inflating for good.</summary>
        GiveUpOnRefusal = 128,
        /// <summary>reset_required is cleared whatever START answered.</summary>
        ClearOnFailedStart = 256,
        /// <summary>After a failed register_virtio_device() the device is freed with kfree(), not put_device().</summary>
        KfreeDevice = 512,
        /// <summary>A probe that fails after the timer was armed leaves it armed.</summary>
        TimerOutlivesProbe = 1024,
    }

    public BalloonDesign(string name, string summary, PfnPath pfn = PfnPath.Checked, bool targetChecked = true, bool featuresInitialised = true,
        Defect defects = Defect.None)
    {
        Name = name;
        Summary = summary;
        Pfn = pfn;
        TargetChecked = targetChecked && (defects & Defect.TruncateTarget) == 0;
        FeaturesInitialised = featuresInitialised;
        Defects = defects;
    }

    public string Name { get; }
    public string Summary { get; }
    /// <summary>The defects this design has as posted, each tied to the property its audit violates (none unless the design declares them).</summary>
    public virtual IReadOnlyList<Finding> Findings => [];
    /// <summary>conf_sem orders the reset and the target update against inflation and deflation (mainline); the seed has no lock.</summary>
    public virtual bool Serialised => !Has(Defect.NoLock);
    /// <summary>BATCHED_LOCK / BATCHED_UNLOCK of a request's pages in one command (with bounds batch=yes); the seed sends one LOCK / UNLOCK per page.</summary>
    public virtual bool Batched => true;
    public PfnPath Pfn { get; }
    public bool TargetChecked { get; }
    /// <summary>The completion takes the request's token from get_buf once (balloon_ack() calls it once per kick).</summary>
    public virtual bool TokenOnce => !Has(Defect.TokenTwice);
    /// <summary>vmballoon_get_features() starts from 0 (the seed leaves the word uninitialised).</summary>
    public bool FeaturesInitialised { get; }
    /// <summary>Whose reset handling this is, for the rule <see cref="ClearsReset"/> and for traces (the steps are the hooks below).</summary>
    public virtual ResetStyle Reset => ResetStyle.DriverPops;
    public Defect Defects { get; }
    public bool Has(Defect d) => (Defects & d) != 0;

    /// <summary>The features get_features() sets on top of whatever the word held.</summary>
    public virtual byte FeaturesSet => (byte)(BalloonConstants.OfferedFeatures | (Has(Defect.ExtraFeature) ? 1u << BalloonConstants.VirtioBalloonFStatsVq : 0));

    // ---- the design's rules as functions: the spec runs them, proofs/Balloon encodes them ----

    /// <summary>Whether a page with this PFN is sent at all (a checking design refuses one that does not fit the command).</summary>
    public virtual bool SendsPfn(ulong pfn, bool batched) =>
        batched ? pfn <= BalloonConstants.BatchMaxPfn : Pfn == PfnPath.TruncatedArray || BalloonConstants.Fits32(pfn);

    /// <summary>The PFN the command carries for a page that is sent: the seed's u32 array (or a truncating defect) cuts it to 32 bits.</summary>
    public virtual ulong WirePfn(ulong pfn, bool batched) =>
        (batched ? Has(Defect.TruncatePfn) : Pfn == PfnPath.TruncatedArray) ? (uint)pfn : pfn;

    /// <summary>config.num_pages for a GET_TARGET answer: refused (null) when it does not fit and the design checks, else the u32 it stores.</summary>
    public virtual ulong? StoredTarget(ulong answer) =>
        TargetChecked && !BalloonConstants.Fits32(answer) ? null : (uint)answer;

    /// <summary>
    /// Whether the reset sequence clears reset_pending / reset_required after START answered this
    /// status. The seed and 2.6.34: only on VMW_BALLOON_SUCCESS; mainline: on SUCCESS or
    /// SUCCESS_WITH_CAPABILITIES. GUEST_ID's answer never matters (mainline only logs its failure).
    /// </summary>
    public virtual bool ClearsReset(ulong startStatus) =>
        Has(Defect.ClearOnFailedStart) || startStatus == BalloonConstants.Success
        || (Reset == ResetStyle.DriverPops && startStatus == BalloonConstants.SuccessWithCapabilities);

    /// <summary>
    /// Whether the init error path gives a device whose registration failed back with put_device()
    /// (the driver-core rule: device_initialize() took a reference; its release callback frees).
    /// The seed kfree()s it. Mainline vmw_balloon registers no device; the reference follows the rule.
    /// </summary>
    public virtual bool PutsDevice => !Has(Defect.KfreeDevice);

    /// <summary>
    /// Whether a probe that fails after the timer (or work) was armed disarms it. The seed arms the
    /// poll timer in find_vqs() and its del_vqs() does nothing; mainline's vmballoon_init() queues
    /// its work only once nothing else can fail.
    /// </summary>
    public virtual bool DisarmsOnProbeFailure => !Has(Defect.TimerOutlivesProbe);

    // ---- hooks: the driver's behaviour, as the specification runs it --------------------------
    // Each runs inside one step of the balloon thread or the poll timer. They change the guest's
    // variables and call BalloonKernel for what the host does; the properties judge the outcome
    // (a reset left before the host accepted START is caught whoever clears it).

    /// <summary>
    /// The driver at probe, before any step: mainline's vmballoon_init() sets reset_required, so its
    /// first work is a reset (START, then GUEST_ID).
    /// </summary>
    public virtual void Probe(ref BalloonState s) => s.Set(BalloonState.ResetPending, true);

    /// <summary>__vmballoon_cmd() / vmballoon_check_status(): a command answered <paramref name="status"/>; VMW_BALLOON_ERROR_RESET makes a reset pending.</summary>
    public virtual void SignalReset(ref BalloonState s, uint status)
    {
        if (status == BalloonConstants.ErrorReset) s.Set(BalloonState.ResetPending, true);
    }

    /// <summary>Whether the balloon thread, idle, has reset work to do itself (the seed's virtio_balloon does; mainline's work item does it all in <see cref="BeginReset"/>).</summary>
    public virtual bool GuestResets(in BalloonState s) => false;

    /// <summary>The balloon thread's reset work, when <see cref="GuestResets"/> says there is some.</summary>
    public virtual void GuestReset(ref BalloonState s, BalloonKernel k) { }

    /// <summary>Whether the poll timer may start the pending reset now (the seed waits for the guest's reset_completed).</summary>
    public virtual bool TimerMayReset(in BalloonState s) => true;

    /// <summary>
    /// The poll timer starts the reset, before START: mainline's vmballoon_reset() takes conf_sem for
    /// writing and pops every page (<see cref="ResetPages"/>). START is sent by the next step.
    /// </summary>
    public virtual void BeginReset(ref BalloonState s, BalloonKernel k)
    {
        s.Set(BalloonState.TimerHoldsLock, Serialised);
        ResetPages(ref s, k);
    }

    /// <summary>How <see cref="BeginReset"/> reads in a trace; <paramref name="pages"/> names the pages the balloon holds.</summary>
    public virtual string BeginResetLine(string pages) => $"vmballoon_reset(): down_write(&conf_sem); vmballoon_pop(): free {pages} without telling the host";

    /// <summary>vmballoon_pop(): the host has forgotten every page, so the driver releases them all without telling it.</summary>
    public virtual void ResetPages(ref BalloonState s, BalloonKernel k)
    {
        if (Has(Defect.UnlockOnReset))
        {
            // A normal deflate: UNLOCK each page and keep the ones the host does not unlock (START is
            // still owed, so the host refuses them all).
            byte kept = 0;
            for (int p = 0; p < k.Bounds.Pages; p++)
            {
                if ((s.Ballooned & (1 << p)) == 0) continue;
                uint status = BalloonKernel.Receive(ref s, BalloonConstants.CmdUnlock, HostFault.None);
                if (status == BalloonConstants.Success) status = k.Page(ref s, lockIt: false, k.Bounds.Pfn(p), refuse: false);
                if (status != BalloonConstants.Success) kept |= (byte)(1 << p);
            }
            s.Ballooned = kept; s.Size = (byte)BitOperations.PopCount(kept); s.Refused = 0;
            return;
        }
        if (Has(Defect.KeepOnReset)) return;
        s.Ballooned = 0; s.Size = 0; s.Refused = 0;
    }

    /// <summary>
    /// The reset's START was answered <paramref name="status"/>: mainline's __vmballoon_cmd() looks for
    /// RESET in it, and vmballoon_reset() clears reset_required when <see cref="ClearsReset"/> says so
    /// (right after START, before GUEST_ID).
    /// </summary>
    public virtual void StartAnswered(ref BalloonState s, uint status, BalloonKernel k)
    {
        SignalReset(ref s, status);
        if (!ClearsReset(status)) return;
        k.ResetCleared(ref s, "vmballoon_reset()");
        s.Set(BalloonState.ResetPending, false);
    }

    /// <summary>Whether the reset sends GUEST_ID after a START the host accepted (mainline and the seed do; it is informative).</summary>
    public virtual bool SendsGuestId => true;

    /// <summary>
    /// The backdoor commands the poll timer's reset sends after <see cref="BeginReset"/>, in this order
    /// (at most <see cref="BalloonSpec.MaxResetCommands"/>); then GET_TARGET. Mainline: START, then
    /// GUEST_ID (<see cref="SendsGuestId"/>). A design of your own may reorder them or send others
    /// (GUEST_ID or GET_TARGET before START, …); each answer goes to <see cref="ResetAnswered"/>.
    /// </summary>
    public virtual IReadOnlyList<uint> ResetCommands => SendsGuestId ? [BalloonConstants.CmdStart, BalloonConstants.CmdGuestId] : [BalloonConstants.CmdStart];

    /// <summary>
    /// The reset's command <paramref name="cmd"/> was answered <paramref name="status"/>; whether the reset
    /// goes on (to its next command, then GET_TARGET) or the poll ends here. START: <see cref="StartAnswered"/>,
    /// and the reset goes on only after a START that succeeded; GUEST_ID: <see cref="GuestIdAnswered"/>;
    /// any other command: a RESET answer makes a reset pending.
    /// </summary>
    public virtual bool ResetAnswered(ref BalloonState s, uint cmd, uint status, BalloonKernel k)
    {
        switch (cmd)
        {
            case BalloonConstants.CmdStart:
                StartAnswered(ref s, status, k);
                return status == BalloonConstants.Success;
            case BalloonConstants.CmdGuestId:
                GuestIdAnswered(ref s, status, k);
                return true;
            default:
                SignalReset(ref s, status);
                return true;
        }
    }

    /// <summary>The reset's GUEST_ID was answered <paramref name="status"/>: its failure is only logged; a RESET answer makes a reset pending again.</summary>
    public virtual void GuestIdAnswered(ref BalloonState s, uint status, BalloonKernel k) => SignalReset(ref s, status);

    /// <summary>
    /// add_buf's commands for the request in flight, one step's worth: one LOCK / UNLOCK of the next
    /// page, or one BATCHED_LOCK / BATCHED_UNLOCK of all of them (bounds batch=yes and <see cref="Batched"/>).
    /// Each page is answered once, with <see cref="BalloonKernel.Answer"/>; <paramref name="fault"/> is what
    /// the host injects into its answer.
    /// </summary>
    public virtual void SendCommands(ref BalloonState s, HostFault fault, BalloonKernel k)
    {
        bool lockIt = s.Req == BalloonState.Inflate;
        bool batching = k.Batching(this);
        if (s.Has(BalloonState.ResetPending))
        {
            // if (bdev->config.reset_pending) return false; : nothing is sent, the pages fail.
            for (int p = 0; p < k.Bounds.Pages; p++) if ((s.ReqPages & ~s.Answered & (1 << p)) != 0) { k.Answer(ref s, p, false); if (!batching) break; }
            return;
        }
        if (!batching)
        {
            int p = BalloonKernel.NextPage(s);
            if (!SendsPfn(k.Bounds.Pfn(p), batched: false)) { k.Answer(ref s, p, false); return; } // refused before it is sent
            ulong wire = k.Wire(ref s, p, this, batched: false);
            uint status = BalloonKernel.Receive(ref s, lockIt ? BalloonConstants.CmdLock : BalloonConstants.CmdUnlock, fault);
            if (status == BalloonConstants.Success) status = k.Page(ref s, lockIt, wire, fault == HostFault.Refuse);
            SignalReset(ref s, status);
            k.Answer(ref s, p, status == BalloonConstants.Success);
            return;
        }
        // One batched command: the batch page's entries carry the whole PFN (52 bits), and a status each.
        uint batch = BalloonKernel.Receive(ref s, lockIt ? BalloonConstants.CmdBatchedLock : BalloonConstants.CmdBatchedUnlock, fault);
        SignalReset(ref s, batch);
        bool refuse = fault == HostFault.Refuse;
        for (int p = 0; p < k.Bounds.Pages; p++)
        {
            if ((s.ReqPages & ~s.Answered & (1 << p)) == 0) continue;
            uint status = batch;
            if (batch == BalloonConstants.Success)
            {
                ulong wire = k.Wire(ref s, p, this, batched: true);
                status = k.Page(ref s, lockIt, wire, refuse);
                refuse = false; // the host refuses the first page of the batch
            }
            k.Answer(ref s, p, status == BalloonConstants.Success);
        }
    }

    /// <summary>
    /// The callback's work once the token came back: the pages answered PFN_OK join (inflate) or leave
    /// (deflate) the balloon, refused ones are kept aside until the inflation cycle ends.
    /// </summary>
    public virtual void CompleteRequest(ref BalloonState s, BalloonKernel k)
    {
        if ((s.Answered & s.ReqPages) != s.ReqPages)
            k.Break(ref s, BalloonInvariant.AnsweredOnce, $"the request completes with pages 0x{s.ReqPages & ~s.Answered:x} never answered");
        byte ok = (byte)(s.AnswerOk & s.ReqPages), failed = (byte)(s.ReqPages & ~s.AnswerOk);
        if (s.Req == BalloonState.Inflate)
        {
            s.Ballooned |= ok;
            s.Size += (byte)BitOperations.PopCount(ok);
            s.Refused |= failed;
            if (failed != 0 && Has(Defect.GiveUpOnRefusal) && s.Has(BalloonState.RefusalSeen)) s.Set(BalloonState.GaveUp, true);
        }
        else
        {
            s.Ballooned &= (byte)~ok;
            s.Size -= (byte)BitOperations.PopCount(ok);
        }
    }

    public override string ToString() => Name;
}

/// <summary>The designs that ship with the project.</summary>
public static class BalloonDesigns
{
    /// <summary>The seed as posted (002): unsynchronised timer and config read, u32 PFN array, uninitialised features, the reset handshake.</summary>
    public static readonly BalloonDesign Rfc = new BalloonRfcDesign();

    public static readonly BalloonDesign Reference = new("reference",
        "mainline-like: conf_sem, batched LOCK / UNLOCK, PFNs and targets checked, pop on RESET then START (reset cleared) and GUEST_ID, refused pages kept aside");

    private static BalloonDesign Mutant(string name, string what, BalloonDesign.Defect d) => new(name, $"reference, but {what}", defects: d);

    public static readonly IReadOnlyList<BalloonDesign> Mutants =
    [
        Mutant("balloon-ref-no-lock", "the timer and the balloon thread do not take conf_sem", BalloonDesign.Defect.NoLock),
        Mutant("balloon-ref-truncate-pfn", "a PFN goes through a u32 before the batch entry", BalloonDesign.Defect.TruncatePfn),
        Mutant("balloon-ref-token-twice", "the completion drains get_buf until NULL, and get_buf keeps returning the last token", BalloonDesign.Defect.TokenTwice),
        Mutant("balloon-ref-unlock-on-reset", "RESET deflates with UNLOCK (keeping a page the host will not unlock) instead of popping", BalloonDesign.Defect.UnlockOnReset),
        Mutant("balloon-ref-keep-on-reset", "RESET keeps the guest's pages", BalloonDesign.Defect.KeepOnReset),
        Mutant("balloon-ref-extra-feature", "get_features sets STATS_VQ too", BalloonDesign.Defect.ExtraFeature),
        Mutant("balloon-ref-truncate-target", "a GET_TARGET answer is truncated to 32 bits", BalloonDesign.Defect.TruncateTarget),
        Mutant("balloon-ref-give-up", "a refused page stops inflation for good", BalloonDesign.Defect.GiveUpOnRefusal),
        Mutant("balloon-ref-clear-on-failed-start", "reset_required is cleared whatever START answered", BalloonDesign.Defect.ClearOnFailedStart),
        Mutant("balloon-ref-kfree-device", "a device whose registration failed is freed with kfree()", BalloonDesign.Defect.KfreeDevice),
        Mutant("balloon-ref-timer-outlives-probe", "a probe that fails leaves the work armed", BalloonDesign.Defect.TimerOutlivesProbe),
    ];
}

/// <summary>The balloon mechanism in the registry: its designs, bounds and specification.</summary>
public sealed class BalloonMechanism : Mechanism<BalloonDesign, BalloonBounds>
{
    public static readonly BalloonMechanism Instance = new();

    public override string Name => "balloon";
    public override string Summary => "VMware memory balloon: guest driver, poll timer and hypervisor (seed 002, mainline vmw_balloon.c)";
    public override DesignCatalogue Designs { get; } = new([BalloonDesigns.Rfc], BalloonDesigns.Reference, BalloonDesigns.Mutants);
    public override IReadOnlyList<BoundOption> BoundOptions => BalloonBounds.Options;
    public override IBounds ParseBounds(string text) => BalloonBounds.Parse(text);
    protected override ISpecHandle Spec(BalloonDesign design, BalloonBounds bounds) => new BalloonSpec(design, bounds);
}
