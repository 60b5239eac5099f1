using Multikernel.Model.Checking;
using static Multikernel.Model.Checking.PropertyKind;

namespace Multikernel.Model.Balloon;

/// <summary>The balloon properties (docs/ARCHITECTURE.md, the invariants); the value is the property's bit. Sometimes-properties come last.</summary>
public enum BalloonInvariant
{
    BalloonConsistent,
    SizeMatches,
    LockOnce,
    ResetOrder,
    AnsweredOnce,
    FeaturesExact,
    TargetGiven,
    TargetFresh,
    PfnFits,
    DevicePut,
    TimerLifetime,
    ReachesTarget,
    ResetHandled,
    PageRefused,
    TargetReached,
}

public static class BalloonInvariants
{
    private const string Catalogue = "ARCHITECTURE.md invariants (balloon)";

    public static readonly PropertyTable<BalloonInvariant> Table = new(
        (BalloonInvariant.BalloonConsistent, "balloon-consistent", Always,
            "after every completed exchange the guest's ballooned pages are exactly the pages the host holds locked (after a RESET, none)",
            "002 vmballoon_check_status(): case VMW_BALLOON_ERROR_RESET: vmballoon_signal_reset(bdev);"),
        (BalloonInvariant.SizeMatches, "size-matches", Always,
            "after every completed exchange the balloon's size equals the number of pages the host holds locked", Catalogue),
        (BalloonInvariant.LockOnce, "lock-once", Always,
            "no page is locked twice, and no page that is not locked is unlocked",
            "002 vmballoon_vq_add_buf(): vmballoon_send_lock_page(bdev, pfns[j]) / vmballoon_send_unlock_page(bdev, pfns[j])"),
        (BalloonInvariant.ResetOrder, "reset-order", Always,
            "the guest leaves reset handling only after a START the host accepted (until then the host refuses every other command with RESET; GUEST_ID is informative, its failure only logged)",
            "002 vmballoon_do_reset(): if (vmballoon_send_start(bdev)) { bdev->config.reset_pending = false; vmballoon_send_guest_id(bdev); } (2.6.34 and mainline vmballoon_reset(): the same order)"),
        (BalloonInvariant.AnsweredOnce, "answered-once", Always,
            "every page of a request is answered PFN_OK or PFN_FAIL exactly once, and the request's token comes back exactly once",
            "002 vmballoon_vq_get_buf(): return bdev->vb; (virtio_balloon's balloon_ack() calls get_buf once per kick)"),
        (BalloonInvariant.FeaturesExact, "features-exact", Always,
            "the negotiated features are exactly the offered ones: MUST_TELL_HOST | HOST_MAY_REFUSE, no undefined bit",
            "002 vmballoon_get_features(): unsigned long features; __set_bit(VIRTIO_BALLOON_F_MUST_TELL_HOST, &features); … return features;"),
        (BalloonInvariant.TargetGiven, "target-given", Always,
            "the target the guest acts on is one the host gave: a GET_TARGET answer that does not fit 32 bits (only a host that breaks protocol v2 gives one) is refused, never truncated",
            "002 vmballoon_send_get_target(): unsigned long target; … *new_target = target; (u32 *new_target)"),
        (BalloonInvariant.TargetFresh, "target-fresh", Always,
            "an older GET_TARGET answer never overwrites a newer one in config space (the timer and a config read do not race)",
            "002 vmballoon_poll_host() and vmballoon_get_target() both write bdev->config.num_pages and target_current, unsynchronised"),
        (BalloonInvariant.PfnFits, "pfn-fits", Always,
            "a PFN that does not fit the command is refused, never truncated: the host locks the page the guest gave",
            "002 vmballoon_send_lock_page(): pfn32 = (u32)pfn; if (pfn32 != pfn) return false; (virtio_balloon's page_to_balloon_pfn() returns a u32 into its u32 pfns[])"),
        (BalloonInvariant.DevicePut, "device-put", Always,
            "a device the driver core has initialised (register_virtio_device(), even when it fails) is given back with put_device(), whose release callback frees it; never with kfree()",
            "002 vmballoon_init(): err = register_virtio_device(&vmballoon_dev->vdev); if (err) { kfree(&vmballoon_dev->vdev); return err; }"),
        (BalloonInvariant.TimerLifetime, "timer-lifetime", Always,
            "the poll timer runs only while a driver is bound: a probe that fails after find_vqs() armed the timer disarms it",
            "002 vmballoon_find_vqs(): mod_timer(&bdev->poll_timer, round_jiffies(jiffies + HZ)); and vmballoon_del_vqs(): no need to do anything here"),
        (BalloonInvariant.ReachesTarget, "reaches-target", Eventually,
            "once the host stops changing its target, refusing pages and resetting, the balloon reaches the host's target", Catalogue),
        (BalloonInvariant.ResetHandled, "reset-handled", Sometimes, "a RESET is answered and handled: START and GUEST_ID, and the balloon works again", Catalogue),
        (BalloonInvariant.PageRefused, "page-refused", Sometimes, "the host refuses a page and the guest sees it", Catalogue),
        (BalloonInvariant.TargetReached, "target-reached", Sometimes, "the balloon reaches a non-zero target the host set", Catalogue));

    public static IReadOnlyList<BalloonInvariant> All => Table.All;
    public static string Name(BalloonInvariant i) => Table.Name(i);
}
