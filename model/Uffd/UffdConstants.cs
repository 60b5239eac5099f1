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

    /// <summary>
    /// Mainline's VM_UFFD_MINOR on 64-bit builds: bit 41 (VM_UFFD_MINOR_BIT 41, now
    /// DECLARE_VMA_BIT(UFFD_MINOR, 41)). It was 37 when merged (5.13), 38 from 6.6 (x86's
    /// VM_SHADOW_STACK took VM_HIGH_ARCH_5 = 37), and 41 since 2025, when arm64's GCS made
    /// VM_SHADOW_STACK VM_HIGH_ARCH_6 = 38 ("mm: fix VM_UFFD_MINOR == VM_SHADOW_STACK on
    /// USERFAULTFD=y &amp;&amp; ARM64_GCS=y"). The reference design's value.
    /// </summary>
    public const ulong VmUffdMinorMainline = 1UL << 41;

    /// <summary>VM_HIGH_ARCH_n: bit 32 + n, only on 64-bit builds with CONFIG_ARCH_USES_HIGH_VMA_FLAGS.</summary>
    public static ulong VmHighArch(int n) => 1UL << (32 + n);

    /// <summary>
    /// The VM_* flags of include/linux/mm.h as the seed's tree had them (early 2021, v5.11, the
    /// 64-bit builds), other than the uffd ones: bits 0-31 (VM_DENYWRITE still at 0x800, seed
    /// line 248) and the high architecture bits then in use, VM_HIGH_ARCH_0..4 (bits 32-36):
    /// protection keys (x86 VM_PKEY_BIT0..3, powerpc ..BIT4) and arm64's VM_MTE / VM_MTE_ALLOWED
    /// on HIGH_ARCH_0 / 1. Nothing above bit 36 existed.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, ulong Value)> VmFlags2021 =
    [
        .. LowFlags(denywrite: true),
        ("VM_PKEY_BIT0", VmHighArch(0)), ("VM_PKEY_BIT1", VmHighArch(1)), ("VM_PKEY_BIT2", VmHighArch(2)),
        ("VM_PKEY_BIT3", VmHighArch(3)), ("VM_PKEY_BIT4 (powerpc)", VmHighArch(4)),
        ("VM_MTE (arm64)", VmHighArch(0)), ("VM_MTE_ALLOWED (arm64)", VmHighArch(1)),
    ];

    /// <summary>
    /// The VM_* flags of mainline's include/linux/mm.h (the enum form of 2025), other than the
    /// uffd ones, on the 64-bit builds: bits 0-31 (bit 11, VM_DENYWRITE's until 5.15, is now
    /// VM_MAYBE_GUARD), VM_HIGH_ARCH_0..6 (bits 32-38: protection keys, arm64's VM_MTE and
    /// VM_MTE_ALLOWED on HIGH_ARCH_4 / 5, VM_SHADOW_STACK on HIGH_ARCH_5 with x86's shadow stack
    /// and on HIGH_ARCH_6 with arm64's GCS), VM_ALLOW_ANY_UNCACHED (39), VM_DROPPABLE (40) and
    /// VM_SEALED (42).
    /// </summary>
    public static readonly IReadOnlyList<(string Name, ulong Value)> VmFlagsMainline =
    [
        .. LowFlags(denywrite: false),
        ("VM_PKEY_BIT0", VmHighArch(0)), ("VM_PKEY_BIT1", VmHighArch(1)), ("VM_PKEY_BIT2", VmHighArch(2)),
        ("VM_PKEY_BIT3", VmHighArch(3)), ("VM_PKEY_BIT4 (powerpc)", VmHighArch(4)),
        ("VM_MTE (arm64)", VmHighArch(4)), ("VM_MTE_ALLOWED (arm64)", VmHighArch(5)),
        ("VM_SHADOW_STACK (x86)", VmHighArch(5)), ("VM_SHADOW_STACK (arm64 GCS)", VmHighArch(6)),
        ("VM_ALLOW_ANY_UNCACHED", 1UL << 39), ("VM_DROPPABLE", 1UL << 40), ("VM_SEALED", 1UL << 42),
    ];

    private static IEnumerable<(string Name, ulong Value)> LowFlags(bool denywrite) =>
    [
        ("VM_READ", VmRead), ("VM_WRITE", VmWrite), ("VM_EXEC", VmExec), ("VM_SHARED", VmShared),
        ("VM_MAYREAD", VmMayread), ("VM_MAYWRITE", VmMaywrite), ("VM_MAYEXEC", VmMayexec), ("VM_MAYSHARE", VmMayshare),
        ("VM_GROWSDOWN", VmGrowsdown), ("VM_PFNMAP", VmPfnmap), (denywrite ? "VM_DENYWRITE" : "VM_MAYBE_GUARD", 0x800), ("VM_LOCKED", VmLocked), ("VM_IO", VmIo),
        ("VM_SEQ_READ", VmSeqRead), ("VM_RAND_READ", VmRandRead), ("VM_DONTCOPY", VmDontcopy), ("VM_DONTEXPAND", VmDontexpand),
        ("VM_LOCKONFAULT", VmLockonfault), ("VM_ACCOUNT", VmAccount), ("VM_NORESERVE", VmNoreserve), ("VM_HUGETLB", VmHugetlb),
        ("VM_SYNC", VmSync), ("VM_ARCH_1", VmArch1), ("VM_WIPEONFORK", VmWipeonfork), ("VM_DONTDUMP", VmDontdump),
        ("VM_SOFTDIRTY", VmSoftdirty), ("VM_MIXEDMAP", VmMixedmap), ("VM_HUGEPAGE", VmHugepage), ("VM_NOHUGEPAGE", VmNohugepage),
        ("VM_MERGEABLE", VmMergeable),
    ];

    /// <summary>The union of a build's flags.</summary>
    public static ulong Mask(IReadOnlyList<(string Name, ulong Value)> flags) => flags.Aggregate(0UL, (m, f) => m | f.Value);

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
    // Later mainline features (5.18 - 6.8): no rule of the model depends on them, UFFDIO_API accepts them.
    public const ulong UffdFeatureExactAddress = 1UL << 11;
    public const ulong UffdFeatureWpHugetlbfsShmem = 1UL << 12;
    public const ulong UffdFeatureWpUnpopulated = 1UL << 13;
    public const ulong UffdFeaturePoison = 1UL << 14;
    public const ulong UffdFeatureWpAsync = 1UL << 15;
    public const ulong UffdFeatureMove = 1UL << 16;
    /// <summary>
    /// The features mainline added after the seed's tree (EXACT_ADDRESS .. MOVE): UFFDIO_API accepts
    /// them (the running kernel does, `differ uffd`). WP_ASYNC widens WP-only registration to other
    /// memory than anonymous, shmem and hugetlbfs, which the model does not have: no rule changes.
    /// </summary>
    public const ulong UffdFeaturesLater = UffdFeatureExactAddress | UffdFeatureWpHugetlbfsShmem | UffdFeatureWpUnpopulated |
                                           UffdFeaturePoison | UffdFeatureWpAsync | UffdFeatureMove;

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
    /// <summary>A MAP_SHARED mapping (VM_SHARED): UFFDIO_COPY and ZEROPAGE put the page in the file's page cache, not an anonymous page.</summary>
    public static bool IsShared(MemType t) => t is MemType.ShmemShared or MemType.HugetlbShared;

    /// <summary>
    /// A normal fault leaves the page in the page cache: shmem, shared or private (shmem_fault()
    /// allocates it there; a private write fault then copies it), and a shared hugetlbfs mapping.
    /// A private hugetlbfs mapping gets an anonymous huge page (hugetlb_no_page() adds only a
    /// VM_MAYSHARE one to the cache), so its pages are never cached: no minor fault there.
    /// </summary>
    public static bool FaultFillsPageCache(MemType t) => IsShmem(t) || t == MemType.HugetlbShared;

    /// <summary>
    /// The model pages a fault, UFFDIO_COPY / ZEROPAGE / CONTINUE and a write-protection act on at
    /// once: a huge page (<see cref="UffdConstants.HugePages"/>) on hugetlbfs, one page elsewhere.
    /// </summary>
    public static int Unit(MemType t) => IsHugetlb(t) ? UffdConstants.HugePages : 1;

    /// <summary>
    /// Whether model page <paramref name="page"/> starts in the page cache with no PTE: the first
    /// page of each shmem VMA (pages 0 and 2), and the huge page of a shared hugetlbfs VMA A (pages
    /// 0-1: the whole huge page, as hugetlbfs caches it). A private hugetlbfs mapping cannot have
    /// cached pages (<see cref="FaultFillsPageCache"/>).
    /// </summary>
    public static bool StartsCached(MemType t, int page) =>
        IsShmem(t) ? page % 2 == 0 : t == MemType.HugetlbShared && page < UffdConstants.HugePages;

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
