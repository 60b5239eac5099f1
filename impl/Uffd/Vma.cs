namespace Multikernel.Impl.Uffd;

/// <summary>struct vm_area_struct, the fields userfaultfd touches. [Start, End) in bytes.</summary>
public struct Vma
{
    public ulong Start, End;
    public MemType Type;
    /// <summary>The file behind a shmem / hugetlbfs mapping (0 for anonymous memory): VMAs of different files never merge.</summary>
    public int Mapping;
    public ulong VmFlags;
    /// <summary>vm_userfaultfd_ctx.ctx: 0 or a context number.</summary>
    public int Ctx;

    public override readonly string ToString() => $"[{Start:x}, {End:x}) {Type} flags 0x{VmFlags:x} ctx {Ctx}";
}

/// <summary>What a fault did: a normal fault, a thread blocked with a message, or SIGBUS.</summary>
public enum FaultOutcome : byte { None, Normal, Blocked, Sigbus }

/// <summary>The result of handle_mm_fault(): the outcome, and for a blocked fault its reason and message flags.</summary>
public readonly record struct FaultResult(FaultOutcome Outcome, ulong Reason = 0, ulong MessageFlags = 0);

/// <summary>Deliberate defects, for showing that the model-based properties catch them.</summary>
[Flags]
public enum UffdImplDefects
{
    None = 0,
    /// <summary>Register applies to whole VMAs instead of splitting them at the range's ends.</summary>
    NoSplit = 1,
    /// <summary>Unregister leaves split VMAs unmerged.</summary>
    NoMerge = 2,
    /// <summary>The fault dispatcher reports a minor fault as a missing one.</summary>
    MinorAsMissing = 4,
}
