using Multikernel.Model.Checking;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Model.Uffd;

/// <summary>
/// The seed (004) as posted: VM_UFFD_MINOR 0x00002000 (= VM_LOCKED) in the 2021 tree, minor mode on
/// hugetlbfs only, WP on anonymous memory only. Its rules are <see cref="UffdDesign"/>'s with these
/// parameters, and its minor fault path keeps the page reference; what it adds is the list of its
/// defects (docs/audits/004-uffd.md).
/// </summary>
/// <remarks>Its flag rules are the base class's (the page reference is no obligation's business): the proofs encode it.</remarks>
[ProofEncoded]
public sealed class UffdV5 : UffdDesign
{
    public UffdV5() : base("uffd-v5",
        "userfaultfd minor-fault mode v5 as posted (004): VM_UFFD_MINOR 0x00002000 (= VM_LOCKED), minor on hugetlbfs only",
        vmUffdMinor: 0x2000, minorOnShmem: false, wpOnFileBacked: false, otherVmFlags: VmFlags2021)
    { }

    /// <summary>hugetlb_no_page(): unlock_page(page) without put_page(page) before handle_userfault(VM_UFFD_MINOR).</summary>
    public override bool MinorFaultPutsPage => false;

    /// <summary>v5.11's vma_to_resize(): if (is_vm_hugetlb_page(vma)) return ERR_PTR(-EINVAL).</summary>
    public override bool MremapsHugetlb => false;
    public override bool MremapsSeveralVmas => false; // vma_to_resize(): "We can't remap across vm area boundaries"

    /// <summary>The 5.11 tree predates EXACT_ADDRESS (5.18) and the later features.</summary>
    public override ulong LaterFeatures => 0;

    /// <summary>v5 keeps the model's former unregister, which skips a VMA of another userfaultfd (not checked against the 5.11 tree).</summary>
    public override bool UnregisterChecksOwner => false;

    /// <summary>The child of a fork keeps a MINOR-only registration's context but not its bit.</summary>
    public static readonly Precondition EventFork = new("event-fork-minor",
        "the monitor enabled UFFD_FEATURE_EVENT_FORK and registered a hugetlbfs range MINOR; the BUG fires when it closes " +
        "(or registers / unregisters through) the child's userfaultfd while the child lives");

    public override IReadOnlyList<Finding> Findings { get; } =
    [
        new("uffd-bits-disjoint", "004 include/linux/mm.h",
            "#define VM_UFFD_MINOR  0x00002000      /* minor fault interception */ (VM_LOCKED is 0x00002000, seed line 281)",
            Consequence.KernelBug,
            "VM_UFFD_MINOR is VM_LOCKED's bit, so __VM_UFFD_FLAGS contains VM_LOCKED: every mlocked VMA reads as uffd-registered " +
            "(the walks' BUG_ON, no-kernel-bug) and every MINOR-registered VMA as mlocked (mlock-survives), as the author's reply says."),
        new("ctx-iff-uffd-bit", "004 include/linux/userfaultfd_k.h",
            "#define __VM_UFFD_FLAGS (VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR)",
            Consequence.KernelBug,
            "mlock2() of an anonymous or shmem range sets VM_LOCKED, which __VM_UFFD_FLAGS counts: the VMA has a uffd bit and no " +
            "context, the state the release, register and unregister walks BUG_ON() (no-kernel-bug shows the BUG)."),
        new("ctx-iff-uffd-bit", "004 dup_userfaultfd()",
            "if (!octx || !(octx->features & UFFD_FEATURE_EVENT_FORK)) {",
            Consequence.KernelBug,
            "With UFFD_FEATURE_EVENT_FORK the child's copy of a MINOR-registered hugetlbfs VMA keeps a new context, then dup_mmap() " +
            "clears VM_LOCKED | VM_LOCKONFAULT, which takes VM_UFFD_MINOR: a context without a uffd bit (MINOR only), which the child " +
            "userfaultfd's release walk BUG_ON()s (no-kernel-bug); registered MISSING|MINOR, the child silently loses minor interception.",
            EventFork),
        new("no-kernel-bug", "004 userfaultfd_release()",
            "BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ … !!(vma->vm_flags & __VM_UFFD_FLAGS));",
            Consequence.KernelBug,
            "mlock2() an anonymous or shmem range, then close() a userfaultfd of the same process (no UFFDIO_API needed): " +
            "userfaultfd_release() walks every VMA of the mm and BUG()s on the mlocked one. UFFDIO_REGISTER and UFFDIO_UNREGISTER " +
            "over an mlocked VMA no userfaultfd registered BUG() the same way (seed lines 208 and 227)."),
        new("no-page-leak", "004 hugetlb_no_page()",
            "unlock_page(page); … ret = handle_userfault(&vmf, VM_UFFD_MINOR); … goto out;",
            Consequence.Leak,
            "The minor path unlocks the huge page find_lock_page() returned but never put_page()s it, so each minor fault leaks " +
            "a reference: the page can no longer be freed when the file is truncated or its range punched out, so the " +
            "hugetlb pool loses it. The merged version (5.13) has put_page(page) there."),
        new("no-kernel-bug", "004 userfaultfd_release()",
            "BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ … !!(vma->vm_flags & __VM_UFFD_FLAGS));",
            Consequence.KernelBug,
            "The child userfaultfd that UFFD_EVENT_FORK hands the monitor walks the child's mm when it is closed while the child " +
            "lives, and BUG()s on the child's copy of a MINOR-only registered hugetlbfs VMA (a context whose VM_UFFD_MINOR = " +
            "VM_LOCKED bit dup_mmap() cleared).",
            EventFork),
        new("mlock-survives", "004 userfaultfd_register()",
            "new_flags = (vma->vm_flags & ~__VM_UFFD_FLAGS) | vm_flags;",
            Consequence.Corruption,
            "UFFDIO_REGISTER_MODE_MINOR on a hugetlbfs range sets 0x2000, which the rest of mm reads as VM_LOCKED on a VMA the user " +
            "never mlocked and mlock_fixup() never locks (smaps, munmap()'s mm->locked_vm accounting: not modelled); on a range the " +
            "user mlocked after registering, re-registering it clears VM_LOCKED with the uffd bits."),
        new("mlock-survives", "004 userfaultfd_release()",
            "new_flags = vma->vm_flags & ~__VM_UFFD_FLAGS;",
            Consequence.Corruption,
            "A registered anonymous VMA the user then mlock2()s (VM_LOCKED, i.e. VM_UFFD_MINOR, set beside its context) loses " +
            "VM_LOCKED when the userfaultfd is closed: the user's mlock is dropped while mm->locked_vm still counts it (not modelled)."),
    ];
}
