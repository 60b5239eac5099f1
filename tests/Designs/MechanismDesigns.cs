using Multikernel.Model.Balloon;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Model.Restore;
using Multikernel.Model.Uffd;

namespace Multikernel.Tests.Designs;

// One design of each mechanism, written as a user writes one: a public class in an assembly of
// their own that overrides the design's hooks. Each has one defect, which its audit must find
// (UserDesignTests), and no other: the hooks work and can fail.

/// <summary>
/// IPI, the receiver side: the reference ring whose drain drops a zero-length message (a doorbell)
/// instead of calling its handler. Only the hook <see cref="RingDesign.Deliverable"/> changes; the
/// drain, the matching loop and the dispatch are the reference's.
/// </summary>
public sealed class DropsDoorbells : RingDesign
{
    public DropsDoorbells() : base("my-drops-doorbells") { }

    public override string Summary => "example: the drain drops a message with data_size 0 (a doorbell) instead of calling its handler";

    protected override bool Deliverable(in MkIpiData copy) => copy.DataSize != 0 && base.Deliverable(copy);
}

/// <summary>
/// userfaultfd: mainline, except that UFFDIO_UNREGISTER drops the VMA's context and forgets to clear
/// its uffd bits (vma->vm_userfaultfd_ctx = NULL_VM_UFFD_CTX without vm_flags &amp;= ~__VM_UFFD_FLAGS).
/// </summary>
public sealed class ForgetsUnregisterBits : UffdDesign
{
    public ForgetsUnregisterBits() : base("my-forgets-unregister-bits",
        "example: UFFDIO_UNREGISTER clears the context but not the VMA's uffd bits",
        UffdDesigns.MainlineVmUffdMinor, minorOnShmem: true, wpOnFileBacked: true) { }

    public override void UnregisterVma(ref UffdPage vma)
    {
        vma.Ctx = 0;       // vma->vm_userfaultfd_ctx = NULL_VM_UFFD_CTX;
        vma.RegModes = 0;  // and vm_flags keeps VM_UFFD_MISSING / _WP / _MINOR
    }
}

/// <summary>
/// The VMware balloon: mainline, except that the reset clears reset_required when it pops the pages,
/// before START, and without conf_sem: the balloon thread may send LOCK before the host has accepted START.
/// </summary>
public sealed class LockBeforeStart : BalloonDesign
{
    public LockBeforeStart() : base("my-lock-before-start",
        "example: vmballoon_reset() pops, clears reset_required and drops conf_sem before START, so LOCK can go first") { }

    public override void BeginReset(ref BalloonState s, BalloonKernel k)
    {
        ResetPages(ref s, k);                        // vmballoon_pop()
        s.Set(BalloonState.ResetPending, false);     // b->reset_required = false; … then START
    }

    public override string BeginResetLine(string pages) => $"vmballoon_reset(): vmballoon_pop(): free {pages}; reset_required = false (before START, conf_sem not taken)";
}

/// <summary>
/// The VMware balloon: mainline, except that the reset sends GUEST_ID before START (the timer's
/// command order is the design's). While START is owed the host refuses GUEST_ID with RESET, which
/// only makes the pending reset pending again: it is informative, so nothing breaks.
/// </summary>
public sealed class GuestIdBeforeStart : BalloonDesign
{
    public GuestIdBeforeStart() : base("my-guest-id-before-start", "example: vmballoon_reset() sends GUEST_ID, then START") { }

    public override IReadOnlyList<uint> ResetCommands => [BalloonConstants.CmdGuestId, BalloonConstants.CmdStart];
}

/// <summary>
/// The VMware balloon: mainline, except that the reset takes GUEST_ID for the handshake: it sends
/// GUEST_ID, clears reset_required when that is answered, and only then sends START.
/// </summary>
public sealed class ClearsOnGuestId : BalloonDesign
{
    public ClearsOnGuestId() : base("my-clears-on-guest-id", "example: vmballoon_reset() sends GUEST_ID, clears reset_required on its answer, then START") { }

    public override IReadOnlyList<uint> ResetCommands => [BalloonConstants.CmdGuestId, BalloonConstants.CmdStart];

    public override bool ResetAnswered(ref BalloonState s, uint cmd, uint status, BalloonKernel k)
    {
        if (cmd != BalloonConstants.CmdGuestId) return base.ResetAnswered(ref s, cmd, status, k);
        s.Set(BalloonState.ResetPending, false); // b->reset_required = false; before START
        return true;
    }
}

/// <summary>
/// mm restore: the reference, except that the reader does not bound nr_pages before it reads the page
/// addresses (it skips the length check), so the page arrays grow with what the image states.
/// </summary>
public sealed record SkipsPageCountCheck : RestoreDesign
{
    public SkipsPageCountCheck() : base("my-skips-page-count-check",
        "example: cr_read_pages_vaddrs() reads nr_pages addresses without bounding nr_pages") { }

    public override bool BoundsPageCount => false;
}

/// <summary>userfaultfd: close() drops each VMA's context and keeps its uffd bits (the release walk's hook).</summary>
public sealed class ReleaseKeepsBits : UffdDesign
{
    public ReleaseKeepsBits() : base("my-release-keeps-bits", "example: userfaultfd_release() clears the context but not the uffd bits",
        UffdDesigns.MainlineVmUffdMinor, minorOnShmem: true, wpOnFileBacked: true) { }

    public override void ReleaseVma(ref UffdPage vma) => vma.Ctx = 0;
}

/// <summary>userfaultfd: UFFDIO_REGISTER sets the mode's bits and forgets the context (the register walk's hook).</summary>
public sealed class RegisterWithoutContext : UffdDesign
{
    public RegisterWithoutContext() : base("my-register-without-ctx", "example: userfaultfd_register() sets vm_flags but not vm_userfaultfd_ctx",
        UffdDesigns.MainlineVmUffdMinor, minorOnShmem: true, wpOnFileBacked: true) { }

    public override void RegisterVma(ref UffdPage vma, int ctx, ulong vmFlags, ulong mode) => vma.VmFlags = (vma.VmFlags & ~VmUffdFlags) | vmFlags;
}

/// <summary>userfaultfd: mremap() drops the context even when the monitor asked for UFFD_EVENT_REMAP, and keeps the bits.</summary>
public sealed class MremapKeepsBits : UffdDesign
{
    public MremapKeepsBits() : base("my-mremap-keeps-bits", "example: mremap_userfaultfd_prep() drops the context and keeps the uffd bits",
        UffdDesigns.MainlineVmUffdMinor, minorOnShmem: true, wpOnFileBacked: true) { }

    public override void MremapVma(ref UffdPage vma, bool eventRemap) => vma.Ctx = 0;
}

/// <summary>IPI: per-CPU locals that survive a send (LocalsKeptAcrossSends): a count of the CPU's sends.</summary>
public sealed class CountsSends : RingDesign
{
    private readonly bool _keep;

    public CountsSends() : this("my-counts-sends", keep: true) { }
    internal CountsSends(string name, bool keep) : base(name) => _keep = keep;

    public override string Summary => "example: a per-CPU count of the sends, kept across them";
    public override IReadOnlyList<string> LocalNames => ["sent"];
    public override bool LocalsKeptAcrossSends => _keep;

    protected override IReadOnlyList<(string Line, SendStep Run)> Program => [("this_cpu_inc(sent)", Count), .. base.Program];

    private static bool Count(ref IpiState s, int cpu, IpiKernel k)
    {
        k.Local(ref s, cpu, 0)++;
        return true;
    }
}

/// <summary>IPI: more variables than a design's bytes hold at three senders (4 shared + 3 × 5 locals = 19).</summary>
public sealed class TooManyVariables : RingDesign
{
    public TooManyVariables() : base("my-too-many-variables") { }

    public override string Summary => "example: 4 shared variables and 5 locals per CPU";
    public override IReadOnlyList<string> SharedNames => ["a", "b", "c", "d"];
    public override IReadOnlyList<string> LocalNames => ["l0", "l1", "l2", "l3", "l4"];
}
