// One source of truth: compiled into the model and, with MK_IMPL, into the implementation.
#if MK_IMPL
namespace Multikernel.Impl.Uffd;
#else
namespace Multikernel.Model.Uffd;
#endif

/// <summary>
/// The flag values of include/linux/mm.h, include/linux/userfaultfd_k.h and
/// include/uapi/linux/userfaultfd.h that matter here, defined once. VM_UFFD_MINOR is not
/// here: it is what the designs disagree on (<see cref="UffdDesign.VmUffdMinor"/>).
/// </summary>
public static class UffdConstants
{
    // include/linux/mm.h (64-bit build)
    public const ulong VmNone = 0x0;
    public const ulong VmRead = 0x1, VmWrite = 0x2, VmExec = 0x4, VmShared = 0x8;
    public const ulong VmMayread = 0x10, VmMaywrite = 0x20, VmMayexec = 0x40, VmMayshare = 0x80;
    public const ulong VmGrowsdown = 0x100;
    public const ulong VmUffdMissing = 0x200;
    public const ulong VmPfnmap = 0x400;
    public const ulong VmUffdWp = 0x1000;
    public const ulong VmLocked = 0x2000;
    public const ulong VmIo = 0x4000;
    public const ulong VmSeqRead = 0x8000, VmRandRead = 0x10000;
    public const ulong VmDontcopy = 0x20000, VmDontexpand = 0x40000;
    public const ulong VmLockonfault = 0x80000;
    public const ulong VmAccount = 0x100000, VmNoreserve = 0x200000;
    public const ulong VmHugetlb = 0x400000;
    public const ulong VmSync = 0x800000;
    public const ulong VmArch1 = 0x1000000;
    public const ulong VmWipeonfork = 0x2000000, VmDontdump = 0x4000000;
    public const ulong VmSoftdirty = 0x8000000;
    public const ulong VmMixedmap = 0x10000000, VmHugepage = 0x20000000, VmNohugepage = 0x40000000;
    public const ulong VmMergeable = 0x80000000;

    /// <summary>Mainline's VM_UFFD_MINOR (VM_UFFD_MINOR_BIT 38 on 64-bit builds): the reference design's value.</summary>
    public const ulong VmUffdMinorMainline = 1UL << 38;

    /// <summary>The build's VM_* flags other than the uffd ones, by name: what the uffd bits must not share.</summary>
    public static readonly IReadOnlyList<(string Name, ulong Value)> OtherVmFlags =
    [
        ("VM_READ", VmRead), ("VM_WRITE", VmWrite), ("VM_EXEC", VmExec), ("VM_SHARED", VmShared),
        ("VM_MAYREAD", VmMayread), ("VM_MAYWRITE", VmMaywrite), ("VM_MAYEXEC", VmMayexec), ("VM_MAYSHARE", VmMayshare),
        ("VM_GROWSDOWN", VmGrowsdown), ("VM_PFNMAP", VmPfnmap), ("VM_LOCKED", VmLocked), ("VM_IO", VmIo),
        ("VM_SEQ_READ", VmSeqRead), ("VM_RAND_READ", VmRandRead), ("VM_DONTCOPY", VmDontcopy), ("VM_DONTEXPAND", VmDontexpand),
        ("VM_LOCKONFAULT", VmLockonfault), ("VM_ACCOUNT", VmAccount), ("VM_NORESERVE", VmNoreserve), ("VM_HUGETLB", VmHugetlb),
        ("VM_SYNC", VmSync), ("VM_ARCH_1", VmArch1), ("VM_WIPEONFORK", VmWipeonfork), ("VM_DONTDUMP", VmDontdump),
        ("VM_SOFTDIRTY", VmSoftdirty), ("VM_MIXEDMAP", VmMixedmap), ("VM_HUGEPAGE", VmHugepage), ("VM_NOHUGEPAGE", VmNohugepage),
        ("VM_MERGEABLE", VmMergeable),
    ];

    // include/uapi/linux/userfaultfd.h
    public const ulong UffdApi = 0xAA;
    public const ulong UffdioRegisterModeMissing = 1UL << 0;
    public const ulong UffdioRegisterModeWp = 1UL << 1;
    public const ulong UffdioRegisterModeMinor = 1UL << 2;

    public const ulong UffdFeaturePagefaultFlagWp = 1UL << 0;
    public const ulong UffdFeatureEventFork = 1UL << 1;
    public const ulong UffdFeatureEventRemap = 1UL << 2;
    public const ulong UffdFeatureEventRemove = 1UL << 3;
    public const ulong UffdFeatureMissingHugetlbfs = 1UL << 4;
    public const ulong UffdFeatureMissingShmem = 1UL << 5;
    public const ulong UffdFeatureEventUnmap = 1UL << 6;
    public const ulong UffdFeatureSigbus = 1UL << 7;
    public const ulong UffdFeatureThreadId = 1UL << 8;
    public const ulong UffdFeatureMinorHugetlbfs = 1UL << 9;
    public const ulong UffdFeatureMinorShmem = 1UL << 10;

    public const ulong UffdPagefaultFlagWrite = 1UL << 0;
    public const ulong UffdPagefaultFlagWp = 1UL << 1;
    public const ulong UffdPagefaultFlagMinor = 1UL << 2;

    /// <summary>The model's page: addresses in traces are page index × PAGE_SIZE.</summary>
    public const ulong PageSize = 0x1000;
    /// <summary>A huge page spans this many model pages (hugetlb ranges must be aligned to it).</summary>
    public const int HugePages = 2;
}

/// <summary>What backs a VMA. Shared and private mappings of shmem and hugetlbfs behave differently.</summary>
public enum MemType : byte
{
    None = 0,
    Anon,
    ShmemShared,
    ShmemPrivate,
    HugetlbShared,
    HugetlbPrivate,
}

public static class MemTypes
{
    public static readonly MemType[] All = [MemType.Anon, MemType.ShmemShared, MemType.ShmemPrivate, MemType.HugetlbShared, MemType.HugetlbPrivate];
    public static bool IsHugetlb(MemType t) => t is MemType.HugetlbShared or MemType.HugetlbPrivate;
    public static bool IsShmem(MemType t) => t is MemType.ShmemShared or MemType.ShmemPrivate;
    public static bool IsAnon(MemType t) => t == MemType.Anon;
    /// <summary>Has a page cache (a file behind it), so a page can be cached while its PTE is none: a minor fault.</summary>
    public static bool HasPageCache(MemType t) => t != MemType.Anon && t != MemType.None;

    /// <summary>The vm_flags of a fresh mmap(PROT_READ | PROT_WRITE) of this memory type.</summary>
    public static ulong MmapFlags(MemType t) =>
        UffdConstants.VmRead | UffdConstants.VmWrite | UffdConstants.VmMayread | UffdConstants.VmMaywrite |
        (t is MemType.ShmemShared or MemType.HugetlbShared ? UffdConstants.VmShared | UffdConstants.VmMayshare : 0) |
        (IsHugetlb(t) ? UffdConstants.VmHugetlb : 0);
    public static string Name(MemType t) => t switch
    {
        MemType.Anon => "anon",
        MemType.ShmemShared => "shmem-shared",
        MemType.ShmemPrivate => "shmem-private",
        MemType.HugetlbShared => "hugetlb-shared",
        MemType.HugetlbPrivate => "hugetlb-private",
        _ => "unmapped",
    };
}
