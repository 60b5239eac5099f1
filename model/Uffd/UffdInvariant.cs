using Multikernel.Model.Checking;
using static Multikernel.Model.Checking.PropertyKind;

namespace Multikernel.Model.Uffd;

/// <summary>The uffd properties (docs/ARCHITECTURE.md, the invariants); the value is the property's bit. Sometimes-properties come last.</summary>
public enum UffdInvariant
{
    OneReasonBit,
    RegisteredFault,
    CtxIffUffdBit,
    UffdBitsDisjoint,
    MlockSurvives,
    MessageFlags,
    NoStrandedFault,
    NoKernelBug,
    NoPageLeak,
    MissingFaultQueued,
    MinorFaultQueued,
    WpFaultQueued,
}

public static class UffdInvariants
{
    public static readonly PropertyTable<UffdInvariant> Table = new(
        (UffdInvariant.OneReasonBit, "one-reason-bit", Always, "handle_userfault() is always called with exactly one reason bit, inside __VM_UFFD_FLAGS",
            "seed 004: VM_BUG_ON(reason & ~__VM_UFFD_FLAGS), replacing VM_BUG_ON(!(reason & VM_UFFD_MISSING) ^ !!(reason & VM_UFFD_WP))"),
        (UffdInvariant.RegisteredFault, "registered-fault", Always, "a fault reaches handle_userfault() only on a VMA registered, with a context, in the mode of its reason",
            "seed 004: static inline bool userfaultfd_minor(vma) { return vma->vm_flags & VM_UFFD_MINOR; }"),
        (UffdInvariant.CtxIffUffdBit, "ctx-iff-uffd-bit", Always, "a VMA has a userfaultfd context if and only if it has a uffd bit set",
            "seed 004: BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ !!(vma->vm_flags & __VM_UFFD_FLAGS))"),
        (UffdInvariant.UffdBitsDisjoint, "uffd-bits-disjoint", Always, "the uffd bits are disjoint from every other VM_* flag of the build",
            "seed 004: #define VM_UFFD_MINOR 0x00002000 next to #define VM_LOCKED 0x00002000 (all 64 bits of the build's flags are compared)"),
        (UffdInvariant.MlockSurvives, "mlock-survives", Always, "VM_LOCKED is set exactly where mlock2() / munlock() left it (never on hugetlbfs): register, unregister and release leave it alone",
            "seed 004: new_flags = (vma->vm_flags & ~__VM_UFFD_FLAGS) | vm_flags;"),
        (UffdInvariant.MessageFlags, "message-flags", Always, "the fault message's flags match the reason (WP, MINOR, neither) and the access (WRITE)",
            "seed 004: if (reason & VM_UFFD_MINOR) msg.arg.pagefault.flags |= UFFD_PAGEFAULT_FLAG_MINOR;"),
        (UffdInvariant.NoStrandedFault, "no-stranded-fault", Always, "no fault stays blocked on a range whose context is gone (unregister and release wake it)",
            "fs/userfaultfd.c: wake_userfault() in userfaultfd_unregister() and userfaultfd_release()"),
        (UffdInvariant.NoKernelBug, "no-kernel-bug", Always, "no BUG_ON fires: every VMA the release, register and unregister walks visit has a context if and only if it has a uffd bit",
            "seed 004: BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ !!(vma->vm_flags & __VM_UFFD_FLAGS)) in userfaultfd_release(), _register(), _unregister()"),
        (UffdInvariant.NoPageLeak, "no-page-leak", Always, "a fault path that hands a fault to userfaultfd drops the page reference it took (find_lock_page() in hugetlb_no_page())",
            "seed 004: unlock_page(page); … ret = handle_userfault(&vmf, VM_UFFD_MINOR); … goto out;"),
        (UffdInvariant.MissingFaultQueued, "missing-fault-queued", Sometimes, "a missing fault reaches handle_userfault(VM_UFFD_MISSING) and its thread waits for the monitor",
            "seed 004: handle_userfault(vmf, VM_UFFD_MISSING)"),
        (UffdInvariant.MinorFaultQueued, "minor-fault-queued", Sometimes, "a minor fault reaches handle_userfault(VM_UFFD_MINOR) and its thread waits for UFFDIO_CONTINUE",
            "seed 004: if (userfaultfd_minor(vma)) return handle_userfault(vmf, VM_UFFD_MINOR);"),
        (UffdInvariant.WpFaultQueued, "wp-fault-queued", Sometimes, "a write to a write-protected page reaches handle_userfault(VM_UFFD_WP)",
            "mm/memory.c: do_wp_page(): if (userfaultfd_pte_wp(vma, *vmf->pte)) return handle_userfault(vmf, VM_UFFD_WP);"));

    public static IReadOnlyList<UffdInvariant> All => Table.All;
    public static string Name(UffdInvariant i) => Table.Name(i);
    public static string Statement(UffdInvariant i) => Table.Statement(i);
    public static string Source(UffdInvariant i) => Table.Properties()[(int)i].Source;
}
