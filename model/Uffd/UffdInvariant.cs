namespace Multikernel.Model.Uffd;

/// <summary>The uffd invariant catalogue (DESIGN.md); the value is the property's bit.</summary>
public enum UffdInvariant
{
    OneReasonBit,
    RegisteredFault,
    CtxIffUffdBit,
    UffdBitsDisjoint,
    MlockSurvives,
    MessageFlags,
    NoStrandedFault,
}

public static class UffdInvariants
{
    public static readonly UffdInvariant[] All = Enum.GetValues<UffdInvariant>();

    public static string Name(UffdInvariant i) => i switch
    {
        UffdInvariant.OneReasonBit => "one-reason-bit",
        UffdInvariant.RegisteredFault => "registered-fault",
        UffdInvariant.CtxIffUffdBit => "ctx-iff-uffd-bit",
        UffdInvariant.UffdBitsDisjoint => "uffd-bits-disjoint",
        UffdInvariant.MlockSurvives => "mlock-survives",
        UffdInvariant.MessageFlags => "message-flags",
        UffdInvariant.NoStrandedFault => "no-stranded-fault",
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    public static string Statement(UffdInvariant i) => i switch
    {
        UffdInvariant.OneReasonBit => "handle_userfault() is always called with exactly one reason bit, inside __VM_UFFD_FLAGS",
        UffdInvariant.RegisteredFault => "a fault reaches handle_userfault() only on a VMA registered, with a context, in the mode of its reason",
        UffdInvariant.CtxIffUffdBit => "a VMA has a userfaultfd context if and only if it has a uffd bit set",
        UffdInvariant.UffdBitsDisjoint => "the uffd bits are disjoint from every other VM_* flag of the build",
        UffdInvariant.MlockSurvives => "VM_LOCKED is set exactly where the user mlocked: register, unregister and release leave it alone",
        UffdInvariant.MessageFlags => "the fault message's flags match the reason (WP, MINOR, neither) and the access (WRITE)",
        UffdInvariant.NoStrandedFault => "no fault stays blocked on a range whose context is gone (unregister and release wake it)",
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    /// <summary>The seed line (004) or kernel rule each invariant comes from.</summary>
    public static string Source(UffdInvariant i) => i switch
    {
        UffdInvariant.OneReasonBit => "seed 004: VM_BUG_ON(reason & ~__VM_UFFD_FLAGS), replacing VM_BUG_ON(!(reason & VM_UFFD_MISSING) ^ !!(reason & VM_UFFD_WP))",
        UffdInvariant.RegisteredFault => "seed 004: static inline bool userfaultfd_minor(vma) { return vma->vm_flags & VM_UFFD_MINOR; }",
        UffdInvariant.CtxIffUffdBit => "seed 004: BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ !!(vma->vm_flags & __VM_UFFD_FLAGS))",
        UffdInvariant.UffdBitsDisjoint => "seed 004: #define VM_UFFD_MINOR 0x00002000 next to #define VM_LOCKED 0x00002000",
        UffdInvariant.MlockSurvives => "seed 004: new_flags = (vma->vm_flags & ~__VM_UFFD_FLAGS) | vm_flags;",
        UffdInvariant.MessageFlags => "seed 004: if (reason & VM_UFFD_MINOR) msg.arg.pagefault.flags |= UFFD_PAGEFAULT_FLAG_MINOR;",
        UffdInvariant.NoStrandedFault => "fs/userfaultfd.c: wake_userfault() in userfaultfd_unregister() and userfaultfd_release()",
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };
}
