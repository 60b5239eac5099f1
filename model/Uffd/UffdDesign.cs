using Multikernel.Model.Checking;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Model.Uffd;

/// <summary>
/// A design of userfaultfd's VM flags: where VM_UFFD_MINOR lives, which memory each
/// register mode accepts (vma_can_userfault), which reason each fault path passes to
/// handle_userfault(), the message's flags, and whether unregister / release wake the
/// faults they strand. The defaults are mainline's; a design of your own overrides what
/// it changes. Deliberate defects are <see cref="Defect"/> flags, for the honesty checks.
/// The proofs encode this class's rules from its parameters (the minor bit, the memory types,
/// the defects); a subclass overrides rules the encoding does not see, so it is not proved
/// unless it declares <see cref="ProofEncodedAttribute"/>.
/// </summary>
[ProofEncoded]
public class UffdDesign : IDesign
{
    [Flags]
    public enum Defect
    {
        None = 0,
        /// <summary>A minor fault on a VMA registered MISSING|MINOR passes both bits as its reason.</summary>
        BothReasons = 1,
        /// <summary>The message of a minor fault lacks UFFD_PAGEFAULT_FLAG_MINOR (the code before v5).</summary>
        NoMinorFlag = 2,
        /// <summary>Unregister and release clear the flags but do not wake the faults waiting there.</summary>
        NoWake = 4,
    }

    public UffdDesign(string name, string summary, ulong vmUffdMinor, bool minorOnShmem, bool wpOnFileBacked, Defect defects = Defect.None,
                      IReadOnlyList<(string Name, ulong Value)>? otherVmFlags = null)
    {
        Name = name;
        Summary = summary;
        VmUffdMinor = vmUffdMinor;
        MinorOnShmem = minorOnShmem;
        WpOnFileBacked = wpOnFileBacked;
        Defects = defects;
        OtherVmFlags = otherVmFlags ?? VmFlagsMainline;
    }

    public string Name { get; }
    public string Summary { get; }
    /// <summary>The defects this design has as posted, each tied to the property its audit violates (none unless the design declares them).</summary>
    public virtual IReadOnlyList<Finding> Findings => [];
    /// <summary>#define VM_UFFD_MINOR: the seed's 0x2000, or a bit of its own.</summary>
    public ulong VmUffdMinor { get; }
    /// <summary>Minor mode on shmem (mainline since 5.14); the seed has it on hugetlbfs only.</summary>
    public bool MinorOnShmem { get; }
    /// <summary>WP mode on shmem and hugetlbfs (mainline, with PTE markers); the seed has it on anonymous memory only.</summary>
    public bool WpOnFileBacked { get; }
    public Defect Defects { get; }
    public bool Has(Defect d) => (Defects & d) != 0;

    /// <summary>
    /// The VM_* flags of the tree the design is built in, other than the uffd ones: what the uffd
    /// bits must not share (<see cref="UffdConstants.VmFlagsMainline"/> unless the design says
    /// otherwise; the seed's is <see cref="UffdConstants.VmFlags2021"/>).
    /// </summary>
    public IReadOnlyList<(string Name, ulong Value)> OtherVmFlags { get; }

    /// <summary>__VM_UFFD_FLAGS = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR.</summary>
    public ulong VmUffdFlags => VmUffdMissing | VmUffdWp | VmUffdMinor;

    /// <summary>The features UFFDIO_API accepts.</summary>
    public virtual ulong SupportedFeatures =>
        UffdFeaturePagefaultFlagWp | UffdFeatureEventFork | UffdFeatureEventRemap | UffdFeatureEventRemove |
        UffdFeatureMissingHugetlbfs | UffdFeatureMissingShmem | UffdFeatureEventUnmap | UffdFeatureSigbus |
        UffdFeatureThreadId | UffdFeatureMinorHugetlbfs | (MinorOnShmem ? UffdFeatureMinorShmem : 0) | LaterFeatures;

    /// <summary>
    /// The features of mainline after 5.14 that UFFDIO_API accepts (<see cref="UffdConstants.UffdFeaturesLater"/>):
    /// the reference has them (6.18 answers them, issue 19's differential run); the seed's 5.11 tree has none.
    /// </summary>
    public virtual ulong LaterFeatures => UffdFeaturesLater;

    /// <summary>userfaultfd_register(): the vm_flags a register mode asks for.</summary>
    public virtual ulong VmFlagsOf(ulong mode) =>
        ((mode & UffdioRegisterModeMissing) != 0 ? VmUffdMissing : 0) |
        ((mode & UffdioRegisterModeWp) != 0 ? VmUffdWp : 0) |
        ((mode & UffdioRegisterModeMinor) != 0 ? VmUffdMinor : 0);

    /// <summary>vma_can_userfault(vma, vm_flags).</summary>
    public virtual bool VmaCanUserfault(MemType type, ulong vmFlags)
    {
        if ((vmFlags & VmUffdWp) != 0 && !MemTypes.IsAnon(type) && !WpOnFileBacked) return false;
        if ((vmFlags & VmUffdMinor) != 0 && !(MemTypes.IsHugetlb(type) || (MinorOnShmem && MemTypes.IsShmem(type)))) return false;
        return type != MemType.None;
    }

    /// <summary>
    /// The reason a fault on a page whose PTE is none passes to handle_userfault(), or 0 for
    /// a normal fault: do_anonymous_page(), shmem_get_folio_gfp(), hugetlb_no_page().
    /// </summary>
    public virtual ulong FaultReason(MemType type, ulong vmFlags, bool cached)
    {
        bool minorPath = cached && (MemTypes.IsHugetlb(type) || (MinorOnShmem && MemTypes.IsShmem(type)));
        if (minorPath && (vmFlags & VmUffdMinor) != 0) // userfaultfd_minor(vma)
            return Has(Defect.BothReasons) ? vmFlags & (VmUffdMinor | VmUffdMissing) : VmUffdMinor;
        if (!cached && (vmFlags & VmUffdMissing) != 0) return VmUffdMissing; // userfaultfd_missing(vma)
        return 0;
    }

    /// <summary>userfault_msg(): msg.arg.pagefault.flags for a reason and an access.</summary>
    public virtual ulong MessageFlags(ulong reason, bool write)
    {
        ulong f = 0;
        if (write) f |= UffdPagefaultFlagWrite;
        if ((reason & VmUffdWp) != 0) f |= UffdPagefaultFlagWp;
        if ((reason & VmUffdMinor) != 0 && !Has(Defect.NoMinorFlag)) f |= UffdPagefaultFlagMinor;
        return f;
    }

    /// <summary>
    /// hugetlb_no_page()'s minor path drops the reference find_lock_page() took before it calls
    /// handle_userfault() (unlock_page(page); put_page(page); as merged): the seed only unlocks it.
    /// </summary>
    public virtual bool MinorFaultPutsPage => true;

    /// <summary>
    /// mremap() moves a hugetlbfs VMA (mainline since 5.16, whole huge pages); before that
    /// vma_to_resize() refused it with -EINVAL, and the seed's v5.11 tree is before that.
    /// </summary>
    public virtual bool MremapsHugetlb => true;

    /// <summary>
    /// mremap(MREMAP_FIXED) of a range over several VMAs, not resized, moves them one by one,
    /// refusing (-EFAULT) at one with a userfaultfd context: the 6.18 kernel does (found by
    /// `differ uffd`, issue 19). Older trees refuse any range across VMAs with -EFAULT; v5's 5.11 does.
    /// </summary>
    public virtual bool MremapsSeveralVmas => true;

    /// <summary>
    /// UFFDIO_UNREGISTER of a range holding a VMA registered through another userfaultfd is -EINVAL
    /// (mainline; found by `differ uffd`, issue 19: 6.18 refuses it, the model skipped the VMA and
    /// returned 0). v5 keeps the former skip (not checked against its 5.11 tree).
    /// </summary>
    public virtual bool UnregisterChecksOwner => true;

    /// <summary>Unregister and release call wake_userfault() on what they unregister.</summary>
    public virtual bool WakesStrandedFaults => !Has(Defect.NoWake);

    // ---- hooks: what each walk of fs/userfaultfd.c and mm does to one VMA --------------
    // UffdKernel runs the walks (the range checks, the BUG_ON, the wake-ups) and calls these on
    // each VMA the walk changes. The defaults are mainline's, which the reference is; the seed's
    // hunks change only the mask (__VM_UFFD_FLAGS, i.e. VmUffdFlags), so uffd-v5 runs them too.
    // A design of your own overrides the one it changes; every property then judges the result.

    /// <summary>
    /// userfaultfd_register(), on a VMA of the range once every check of the walk passed:
    /// new_flags = (vm_flags &amp; ~__VM_UFFD_FLAGS) | vm_flags; vma->vm_userfaultfd_ctx.ctx = ctx.
    /// <paramref name="vmFlags"/> is <see cref="VmFlagsOf"/>(<paramref name="mode"/>).
    /// </summary>
    public virtual void RegisterVma(ref UffdPage vma, int ctx, ulong vmFlags, ulong mode)
    {
        vma.VmFlags = (vma.VmFlags & ~VmUffdFlags) | vmFlags;
        vma.Ctx = (byte)ctx;
        vma.RegModes = (byte)mode;
    }

    /// <summary>userfaultfd_unregister(), on a VMA of the context in the range (after its faults were woken): userfaultfd_clear_vma().</summary>
    public virtual void UnregisterVma(ref UffdPage vma) => ClearVma(ref vma);

    /// <summary>userfaultfd_release(), on a VMA of the closed context: userfaultfd_clear_vma().</summary>
    public virtual void ReleaseVma(ref UffdPage vma) => ClearVma(ref vma);

    /// <summary>
    /// fork(): the child's copy of <paramref name="parent"/>. dup_mmap() clears VM_LOCKED | VM_LOCKONFAULT;
    /// dup_userfaultfd() keeps a (new) context only when the parent's has UFFD_FEATURE_EVENT_FORK
    /// (<paramref name="eventFork"/>), and otherwise clears __VM_UFFD_FLAGS. Returns the child's vm_flags
    /// and whether it has a context.
    /// </summary>
    public virtual (ulong VmFlags, bool KeepsCtx) ForkVma(in UffdPage parent, bool eventFork)
    {
        ulong flags = parent.VmFlags & ~(VmLocked | VmLockonfault);
        bool keepsCtx = parent.Ctx != 0 && eventFork;
        if (!keepsCtx) flags &= ~VmUffdFlags;
        return (flags, keepsCtx);
    }

    /// <summary>
    /// mremap_userfaultfd_prep(), on a moved VMA that has a context: with UFFD_FEATURE_EVENT_REMAP
    /// (<paramref name="eventRemap"/>) the monitor gets UFFD_EVENT_REMAP and the VMA keeps it; without,
    /// "drop uffd context if remap feature not enabled".
    /// </summary>
    public virtual void MremapVma(ref UffdPage vma, bool eventRemap)
    {
        if (!eventRemap) ClearVma(ref vma);
    }

    /// <summary>
    /// userfaultfd_clear_vma(): a VMA registered WP first has its PTEs' uffd-wp bits reset
    /// (uffd_wp_range(vma, start, len, false); found by `differ uffd`), then vma->vm_flags &amp;= ~__VM_UFFD_FLAGS;
    /// vma->vm_userfaultfd_ctx = NULL_VM_UFFD_CTX. mremap without EVENT_REMAP does the same.
    /// </summary>
    protected void ClearVma(ref UffdPage vma)
    {
        if (vma.Pte == UffdPage.PteUffdWp) vma.Pte = UffdPage.PtePresent;
        vma.VmFlags &= ~VmUffdFlags;
        vma.Ctx = 0;
        vma.RegModes = 0;
    }

    public override string ToString() => Name;
}

/// <summary>The designs that ship with the project.</summary>
public static class UffdDesigns
{
    /// <summary>Mainline's VM_UFFD_MINOR on 64-bit builds (include/linux/mm.h): bit 41 since 2025.</summary>
    public const ulong MainlineVmUffdMinor = VmUffdMinorMainline;

    /// <summary>The seed as posted: VM_UFFD_MINOR = 0x2000 (= VM_LOCKED), minor on hugetlbfs only, WP on anonymous only.</summary>
    public static readonly UffdDesign V5 = new UffdV5();

    public static readonly UffdDesign Reference = new("reference",
        "VM_UFFD_MINOR a bit of its own (bit 41, as in mainline since 2025: 37 when merged in 5.13, then 38, " +
        "moved off 38 when arm64's GCS put VM_SHADOW_STACK there), minor on hugetlbfs and shmem",
        MainlineVmUffdMinor, minorOnShmem: true, wpOnFileBacked: true);

    public static readonly IReadOnlyList<UffdDesign> Mutants =
    [
        new("uffd-ref-both-reasons", "reference, but a minor fault passes MISSING|MINOR when both are registered", MainlineVmUffdMinor, true, true, UffdDesign.Defect.BothReasons),
        new("uffd-ref-no-minor-flag", "reference, but the message lacks UFFD_PAGEFAULT_FLAG_MINOR", MainlineVmUffdMinor, true, true, UffdDesign.Defect.NoMinorFlag),
        new("uffd-ref-no-wake", "reference, but unregister and release do not wake stranded faults", MainlineVmUffdMinor, true, true, UffdDesign.Defect.NoWake),
    ];

    public static IEnumerable<UffdDesign> All => Mutants.Prepend(Reference).Prepend(V5);

    public static UffdDesign? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The userfaultfd mechanism in the registry: its designs, bounds and specification.</summary>
public sealed class UffdMechanism : Mechanism<UffdDesign, UffdBounds>
{
    public static readonly UffdMechanism Instance = new();

    public override string Name => "uffd";
    public override string Summary => "userfaultfd VM flags: registration, faults, fork, mremap, mlock (seed 004)";
    public override DesignCatalogue Designs { get; } = new([UffdDesigns.V5], UffdDesigns.Reference, UffdDesigns.Mutants);
    public override IReadOnlyList<BoundOption> BoundOptions => UffdBounds.Options;
    public override IBounds ParseBounds(string text) => UffdBounds.Parse(text);
    protected override ISpecHandle Spec(UffdDesign design, UffdBounds bounds) => new UffdSpec(design, bounds);
}
