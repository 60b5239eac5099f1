using Multikernel.Model.Checking;

namespace Multikernel.Model.Balloon;

/// <summary>
/// Seed 002 as posted (Dmitry Torokhov, March 2010, [PATCH 4/4]): vmballoon_* over virtio_balloon,
/// unsynchronised timer and config read, the u32 pfns[] array of virtio_balloon, an uninitialised
/// features word, the reset_pending / reset_completed handshake. Its findings are declared here,
/// each tied to the seed line and to what it needs (docs/audits/002-balloon.md reads the seed).
/// </summary>
/// <remarks>The proofs encode it from its parameters, as the base class.</remarks>
[ProofEncoded]
public sealed class BalloonRfcDesign() : BalloonDesign("balloon-rfc",
    "VMware balloon over virtio as posted (002): one LOCK / UNLOCK per PFN, poll timer, reset_pending / reset_completed",
    pfn: PfnPath.TruncatedArray, targetChecked: false, featuresInitialised: false)
{
    // ---- its behaviour: the seed's steps, overriding mainline's ----------------------------

    /// <summary>No conf_sem: vmballoon_poll_host() and virtio_balloon's config read run unsynchronised.</summary>
    public override bool Serialised => false;

    /// <summary>vmballoon_vq_add_buf(): one vmballoon_send_lock_page() / _unlock_page() per PFN of virtio_balloon's pfns[].</summary>
    public override bool Batched => false;

    public override ResetStyle Reset => ResetStyle.GuestHandshake;

    /// <summary>vmballoon_find_vqs() -> vmballoon_do_reset(): the timer's first step sends START (the balloon thread starts after).</summary>
    public override void Probe(ref BalloonState s) => s.TimerPc = BalloonSpec.TProbeStart;

    /// <summary>vmballoon_signal_reset(): if (!reset_pending) { reset_completed = false; reset_pending = true; … }</summary>
    public override void SignalReset(ref BalloonState s, uint status)
    {
        if (status != BalloonConstants.ErrorReset || s.Has(BalloonState.ResetPending)) return;
        s.Set(BalloonState.ResetCompleted, false);
        s.Set(BalloonState.ResetPending, true);
    }

    /// <summary>virtio_balloon's config_changed sees reset_pending: the balloon thread frees its pages.</summary>
    public override bool GuestResets(in BalloonState s) => s.Has(BalloonState.ResetPending) && !s.Has(BalloonState.ResetCompleted);

    /// <summary>The series' patches 1-3 (as modelled): free every page without telling the host, then reset_completed = true.</summary>
    public override void GuestReset(ref BalloonState s, BalloonKernel k)
    {
        s.Ballooned = 0; s.Size = 0; s.Refused = 0;
        s.Set(BalloonState.ResetCompleted, true);
    }

    /// <summary>vmballoon_poll_host(): if (reset_pending &amp;&amp; reset_completed) vmballoon_do_reset();</summary>
    public override bool TimerMayReset(in BalloonState s) => s.Has(BalloonState.ResetCompleted);

    /// <summary>vmballoon_do_reset() goes straight to START: the guest has already freed its pages.</summary>
    public override void BeginReset(ref BalloonState s, BalloonKernel k) { }

    public override string BeginResetLine(string pages) => "vmballoon_poll_host(): reset_pending && reset_completed: vmballoon_do_reset()";

    /// <summary>vmballoon_do_reset(): if (vmballoon_send_start(bdev)) { reset_pending = false; … }; vmballoon_send_start() does not look for RESET.</summary>
    public override void StartAnswered(ref BalloonState s, uint status, BalloonKernel k)
    {
        if (!ClearsReset(status)) return;
        k.ResetCleared(ref s, "vmballoon_do_reset()");
        s.Set(BalloonState.ResetPending, false);
    }

    /// <summary>vmballoon_init(): if (err) { kfree(&vmballoon_dev->vdev); return err; }</summary>
    public override bool PutsDevice => false;

    /// <summary>vmballoon_find_vqs() arms the timer; vmballoon_del_vqs() does nothing, so virtballoon_probe()'s error path leaves it armed.</summary>
    public override bool DisarmsOnProbeFailure => false;

    /// <summary>A page at PFN ≥ 2^32: with 4 KiB pages, ≥ 16 TiB of guest physical memory (bound high-pfn, off by default).</summary>
    public static readonly Precondition HighPfn = new("high-pfn",
        "the guest has a page at PFN ≥ 2^32, i.e. ≥ 16 TiB of physical memory with 4 KiB pages", "high-pfn");

    /// <summary>A host that answers GET_TARGET above the limit the guest sent (bound huge-target, off by default).</summary>
    public static readonly Precondition HostileHost = new("hostile-host",
        "the host answers GET_TARGET with ≥ 2^32 pages, above the 32-bit limit (totalram) the guest sent; a conforming protocol-v2 host does not", "huge-target");

    /// <summary>register_virtio_device() returns an error: device_register()'s device_add() failed (e.g. -ENOMEM).</summary>
    public static readonly Precondition RegisterFails = new("register-fails",
        "register_virtio_device() fails: device_add() inside device_register() returns an error (e.g. -ENOMEM under memory pressure)");

    /// <summary>virtballoon_probe() fails after find_vqs() returned: kthread_run() returns an error.</summary>
    public static readonly Precondition ProbeFails = new("probe-fails",
        "virtballoon_probe() fails after find_vqs(): kthread_run() of the balloon thread returns an error (e.g. -ENOMEM)");

    private const string Seed = "002 ";

    public override IReadOnlyList<Finding> Findings { get; } =
    [
        new("features-exact", Seed + "vmballoon_get_features()",
            "unsigned long features; … __set_bit(VIRTIO_BALLOON_F_MUST_TELL_HOST, &features); … return features;",
            Consequence.Unusable,
            "The word is never cleared, so whatever the stack held is offered as the device's features, and the virtio core keeps every bit in virtio_balloon's feature table. "
            + "With VIRTIO_BALLOON_F_STATS_VQ (bit 1) set, virtballoon_probe() asks find_vqs() for three queues, vmballoon_find_vqs() returns -EINVAL (nvqs != 2), and the balloon never binds: the host cannot reclaim this guest's memory."),
        new("device-put", Seed + "vmballoon_init()",
            "err = register_virtio_device(&vmballoon_dev->vdev); if (err) { kfree(&vmballoon_dev->vdev); return err; }",
            Consequence.Leak,
            "device_register() has run device_initialize(), whose reference only put_device() gives back, and register_virtio_device() has named the device (dev_set_name()). "
            + "kfree() frees the structure once (release never runs, so this is not a double free), but the name is never freed: a leak, and a breach of the driver-core rule (put_device(), never kfree(), after device_register(), even when it failed).",
            RegisterFails),
        new("timer-lifetime", Seed + "vmballoon_find_vqs()",
            "mod_timer(&bdev->poll_timer, round_jiffies(jiffies + HZ));",
            Consequence.KernelBug,
            "find_vqs() arms the poll timer and vmballoon_del_vqs() does nothing, so a probe that fails afterwards leaves the timer running on a device with no driver. "
            + "The failed probe left dev.driver NULL, so drv (container_of() of its first member) in vmballoon_poll_host() and vmballoon_signal_reset() is NULL, and the next config_changed call (a target that differs from num_pages, or a RESET answer) dereferences it in softirq: an oops. "
            + "If neither comes, module exit's release frees bdev with the timer still armed.",
            ProbeFails),
        new("target-fresh", Seed + "vmballoon_get_target()",
            "} else if (vmballoon_send_get_target(bdev, &new_target)) { bdev->target_current = true; … bdev->config.num_pages = cpu_to_le32(new_target);",
            Consequence.SpecOnly,
            "The balloon thread (virtio_balloon's config read) and the poll timer (softirq, vmballoon_poll_host()) both send GET_TARGET and write config.num_pages with no lock between them: "
            + "the thread can write an answer older than the one the timer just wrote, and sets target_current. The balloon moves toward the stale target until the next poll (about HZ later) sees the host's target differ and writes it again."),
        new("pfn-fits", Seed + "vmballoon_send_lock_page()",
            "pfn32 = (u32)pfn; if (pfn32 != pfn) return false;",
            Consequence.Corruption,
            "The check can never fire: virtio_balloon's page_to_balloon_pfn() returns a u32 and its pfns[] is a u32 array, so the PFN is already cut to 32 bits when vmballoon_vq_add_buf() passes pfns[j]. "
            + "LOCK then names PFN mod 2^32, a different page the guest has not given up (it may be in use), and the host may take its memory. The truncation is virtio_balloon's; the seed relies on a check that cannot see it.",
            HighPfn),
        new("balloon-consistent", Seed + "vmballoon_vq_add_buf()",
            "success = (unsigned long)vq->priv == 0 ? vmballoon_send_lock_page(bdev, pfns[j]) : vmballoon_send_unlock_page(bdev, pfns[j]);",
            Consequence.Corruption,
            "Same cause as pfn-fits: the guest files the high page as ballooned, while the host holds locked the page at PFN mod 2^32, which the guest has not given up.",
            HighPfn),
        new("lock-once", Seed + "vmballoon_vq_add_buf()",
            "success = (unsigned long)vq->priv == 0 ? vmballoon_send_lock_page(bdev, pfns[j]) : vmballoon_send_unlock_page(bdev, pfns[j]);",
            Consequence.SpecOnly,
            "Same cause as pfn-fits: inflating the low page later sends LOCK for a PFN the host already holds for the high one; the host answers VMW_BALLOON_ERROR_PPN_LOCKED and the guest counts the page as refused. The harm is the one under balloon-consistent.",
            HighPfn),
        new("reaches-target", Seed + "vmballoon_vq_add_buf()",
            "success = (unsigned long)vq->priv == 0 ? vmballoon_send_lock_page(bdev, pfns[j]) : vmballoon_send_unlock_page(bdev, pfns[j]);",
            Consequence.SpecOnly,
            "Same cause as pfn-fits: the guest's and the host's sets of ballooned pages never agree again, so the balloon never settles at the host's target. The harm is the one under balloon-consistent.",
            HighPfn),
        new("target-given", Seed + "vmballoon_send_get_target()",
            "status = VMWARE_BALLOON_CMD(GET_TARGET, limit, target); if (vmballoon_check_status(bdev, status)) { *new_target = target;",
            Consequence.SpecOnly,
            "new_target is a u32: an answer of 2^32 pages or more is stored mod 2^32 and acted on. The guest sent its totalram as the limit, checked to fit 32 bits, so only a host that breaks that contract answers this.",
            HostileHost),
    ];
}
