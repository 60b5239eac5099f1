using Multikernel.Model.Checking;

namespace Multikernel.Model.Balloon;

/// <summary>
/// Seed 002 as posted (Dmitry Torokhov, March 2010, [PATCH 4/4]): vmballoon_* over virtio_balloon,
/// unsynchronised timer and config read, the u32 pfns[] array of virtio_balloon, an uninitialised
/// features word, the reset_pending / reset_completed handshake. Its findings are declared here,
/// each tied to the seed line and to what it needs (docs/audits/002-balloon.md reads the seed).
/// </summary>
public sealed class BalloonRfcDesign() : BalloonDesign("balloon-rfc",
    "VMware balloon over virtio as posted (002): one LOCK / UNLOCK per PFN, poll timer, reset_pending / reset_completed",
    serialised: false, batched: false, pfn: PfnPath.TruncatedArray, targetChecked: false, tokenOnce: true,
    featuresInitialised: false, reset: ResetStyle.GuestHandshake)
{
    /// <summary>The proofs encode this design from its parameters, as the base class.</summary>
    public override bool Encoded => true;

    public override IReadOnlyList<Finding> Findings => [];
}
