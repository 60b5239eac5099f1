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
/// A design of the VMware balloon: the choices the seed and mainline make differently. The
/// defaults are mainline's (the reference); a design of your own sets or overrides what it
/// changes. Deliberate defects are <see cref="Defect"/> flags, for the honesty checks. The proofs
/// encode this class from its parameters; a subclass is not proved unless it declares <see cref="ProofEncodedAttribute"/>.
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

    public BalloonDesign(string name, string summary, bool serialised = true, bool batched = true, PfnPath pfn = PfnPath.Checked,
        bool targetChecked = true, bool tokenOnce = true, bool featuresInitialised = true, ResetStyle reset = ResetStyle.DriverPops,
        Defect defects = Defect.None)
    {
        Name = name;
        Summary = summary;
        Serialised = serialised && (defects & Defect.NoLock) == 0;
        Batched = batched;
        Pfn = pfn;
        TargetChecked = targetChecked && (defects & Defect.TruncateTarget) == 0;
        TokenOnce = tokenOnce && (defects & Defect.TokenTwice) == 0;
        FeaturesInitialised = featuresInitialised;
        Reset = reset;
        Defects = defects;
    }

    public string Name { get; }
    public string Summary { get; }
    /// <summary>The defects this design has as posted, each tied to the property its audit violates (none unless the design declares them).</summary>
    public virtual IReadOnlyList<Finding> Findings => [];
    /// <summary>conf_sem orders the reset and the target update against inflation and deflation.</summary>
    public bool Serialised { get; }
    /// <summary>BATCHED_LOCK / BATCHED_UNLOCK of a request's pages in one command (with bounds batch=yes).</summary>
    public bool Batched { get; }
    public PfnPath Pfn { get; }
    public bool TargetChecked { get; }
    public bool TokenOnce { get; }
    /// <summary>vmballoon_get_features() starts from 0 (the seed leaves the word uninitialised).</summary>
    public bool FeaturesInitialised { get; }
    public ResetStyle Reset { get; }
    public Defect Defects { get; }
    public bool Has(Defect d) => (Defects & d) != 0;

    /// <summary>The features get_features() sets on top of whatever the word held.</summary>
    public virtual byte FeaturesSet => (byte)(BalloonConstants.OfferedFeatures | (Has(Defect.ExtraFeature) ? 1u << BalloonConstants.VirtioBalloonFStatsVq : 0));

    // ---- the design's rules as functions: the spec runs them, proofs/Balloon encodes them ----

    /// <summary>Whether a page with this PFN is sent at all (a checking design refuses one that does not fit the command).</summary>
    public bool SendsPfn(ulong pfn, bool batched) =>
        batched ? pfn <= BalloonConstants.BatchMaxPfn : Pfn == PfnPath.TruncatedArray || BalloonConstants.Fits32(pfn);

    /// <summary>The PFN the command carries for a page that is sent: the seed's u32 array (or a truncating defect) cuts it to 32 bits.</summary>
    public ulong WirePfn(ulong pfn, bool batched) =>
        (batched ? Has(Defect.TruncatePfn) : Pfn == PfnPath.TruncatedArray) ? (uint)pfn : pfn;

    /// <summary>config.num_pages for a GET_TARGET answer: refused (null) when it does not fit and the design checks, else the u32 it stores.</summary>
    public ulong? StoredTarget(ulong answer) =>
        TargetChecked && !BalloonConstants.Fits32(answer) ? null : (uint)answer;

    /// <summary>
    /// Whether the reset sequence clears reset_pending / reset_required after START answered this
    /// status. The seed and 2.6.34: only on VMW_BALLOON_SUCCESS; mainline: on SUCCESS or
    /// SUCCESS_WITH_CAPABILITIES. GUEST_ID's answer never matters (mainline only logs its failure).
    /// </summary>
    public bool ClearsReset(ulong startStatus) =>
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
public sealed class BalloonMechanism : Mechanism
{
    public static readonly BalloonMechanism Instance = new();

    public override string Name => "balloon";
    public override string Summary => "VMware memory balloon: guest driver, poll timer and hypervisor (seed 002, mainline vmw_balloon.c)";
    public override DesignCatalogue Designs { get; } = new([BalloonDesigns.Rfc], BalloonDesigns.Reference, BalloonDesigns.Mutants);
    public override bool Accepts(IDesign design) => design is BalloonDesign;
    public override IReadOnlyList<BoundOption> BoundOptions => BalloonBounds.Options;
    public override IBounds ParseBounds(string text) => BalloonBounds.Parse(text);
    public override ISpecHandle Specification(IDesign design, IBounds bounds) => new BalloonSpec((BalloonDesign)design, (BalloonBounds)bounds);
}
