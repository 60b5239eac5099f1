// One source of truth: compiled into the model and, with MK_IMPL, into the implementation, whose
// restore calls these checks; proofs/Restore encodes them term for term, and a test holds the two equal.
#if MK_IMPL
using Multikernel.Impl.Uffd;
namespace Multikernel.Impl.Restore;
#else
using Multikernel.Model.Uffd;
namespace Multikernel.Model.Restore;
#endif

/// <summary>The image's sizes and limits, and the flag values a VMA is translated with (seed 003, 2008 layout).</summary>
public static class RestoreConstants
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    /// <summary>
    /// TASK_SIZE of x86_64 with 4-level paging: no user address at or above it. (1 &lt;&lt; 47) - PAGE_SIZE,
    /// the top page kept as a guard since 2.6.11 ("x86_64: Add a guard page at the end of the 47bit
    /// address space"), so in the seed's 2.6.27 too; TASK_SIZE_MAX on 6.18. The model had 1 &lt;&lt; 47
    /// until `differ restore` (issue 19): mmap(0x7ffffffff000, 0xfff, …, MAP_FIXED_NOREPLACE) is -ENOMEM on 6.18.
    /// </summary>
    public const ulong TaskSize = (1UL << 47) - PageSize;
    /// <summary>DEFAULT_MAX_MAP_COUNT: more VMAs than this is not an mm.</summary>
    public const uint MaxMapCount = 65530;
    /// <summary>Pages in one page-array chunk (the seed's cr_pgarr), at most.</summary>
    public const ulong MaxChunkPages = 1024;
    /// <summary>cr_hdr_pgarr's fixed part (u64 nr_pages); each page then takes its u64 address and its contents.</summary>
    public const ulong PgarrFixed = 8, PgarrPerPage = 8 + PageSize;
    /// <summary>The largest record length a header can state (u32 len).</summary>
    public const ulong MaxRecordLength = uint.MaxValue;

    public const uint VmaTypeAnon = 1, VmaTypeFile = 2;

    // vm_flags (include/linux/mm.h as the seed knew it: VM_DENYWRITE and VM_EXECUTABLE were removed in 5.15).
    public const ulong VmRead = UffdConstants.VmRead, VmWrite = UffdConstants.VmWrite, VmExec = UffdConstants.VmExec;
    public const ulong VmShared = UffdConstants.VmShared, VmMayshare = UffdConstants.VmMayshare, VmGrowsdown = UffdConstants.VmGrowsdown;
    public const ulong VmDenywrite = 0x800, VmExecutable = 0x1000;
    /// <summary>VM_SHARED and VM_MAYSHARE: the vm_flags bits of a shared mapping (never MAP_SHARED, 0x01 of the mmap flags).</summary>
    public const ulong SharedVmFlags = VmShared | VmMayshare;

    // mmap's prot and flags (include/uapi/asm-generic/mman-common.h, x86).
    public const ulong ProtRead = 0x1, ProtWrite = 0x2, ProtExec = 0x4, ProtSem = 0x8;
    public const ulong MapShared = 0x01, MapPrivate = 0x02, MapFixed = 0x10, MapGrowsdown = 0x100, MapDenywrite = 0x800, MapExecutable = 0x1000;

    /// <summary>cr_calc_map_prot_bits(): which vm_flags bit gives which PROT_* bit.</summary>
    public static readonly (ulong Vm, ulong To)[] ProtRows = [(VmRead, ProtRead), (VmWrite, ProtWrite), (VmExec, ProtExec)];
    /// <summary>cr_calc_map_flags_bits(): which vm_flags bit gives which MAP_* bit (MAP_FIXED | MAP_PRIVATE always).</summary>
    public static readonly (ulong Vm, ulong To)[] MapRows = [(VmGrowsdown, MapGrowsdown), (VmDenywrite, MapDenywrite), (VmExecutable, MapExecutable)];
    /// <summary>The vm_flags bits the translation carries into mmap: what restore can give back.</summary>
    public const ulong TranslatedVmFlags = VmRead | VmWrite | VmExec | VmGrowsdown | VmDenywrite | VmExecutable;
}

/// <summary>The checks a restore design makes on the image's fields; the reference makes all but the seed's.</summary>
[Flags]
public enum RestoreCheck : uint
{
    None = 0,
    /// <summary>vm_start and vm_end page-aligned.</summary>
    VmaAligned = 1 << 0,
    /// <summary>vm_end above vm_start (the seed refuses only vm_end below vm_start).</summary>
    VmaNonEmpty = 1 << 1,
    /// <summary>vm_end not below vm_start: the seed's one check of a VMA's bounds.</summary>
    VmaNotReversed = 1 << 2,
    /// <summary>vm_end at most TASK_SIZE.</summary>
    VmaInTaskSize = 1 << 3,
    /// <summary>vm_start at or above the previous VMA's end: sorted, not overlapping.</summary>
    VmaSorted = 1 << 4,
    /// <summary>vm_pgoff plus the VMA's pages fits a file offset (a file VMA).</summary>
    PgoffFits = 1 << 5,
    /// <summary>nr_pages at most a chunk and at most the VMA's pages.</summary>
    ChunkBounded = 1 << 6,
    /// <summary>The record's length is exactly what nr_pages takes.</summary>
    ChunkLength = 1 << 7,
    /// <summary>A page address aligned and inside its VMA.</summary>
    PageInVma = 1 << 8,
    /// <summary>Page addresses ascend: none twice.</summary>
    PageAscending = 1 << 9,
    /// <summary>Shared refused by vm_flags &amp; (VM_SHARED | VM_MAYSHARE); without it, the seed's test of the MAP_* value against VM_SHARED.</summary>
    SharedByVmFlags = 1 << 10,
    /// <summary>PROT_* only from VM_READ, VM_WRITE, VM_EXEC; without it, the seed's vm_flags &amp; PROT_SEM as well.</summary>
    ProtFromVmFlags = 1 << 11,

    Reference = VmaAligned | VmaNonEmpty | VmaNotReversed | VmaInTaskSize | VmaSorted | PgoffFits | ChunkBounded | ChunkLength | PageInVma | PageAscending | SharedByVmFlags | ProtFromVmFlags,
    /// <summary>cr_read_vma() and cr_read_private_vma_contents() as posted (003).</summary>
    SeedV6 = VmaNotReversed,
}

/// <summary>do_mmap_pgoff()'s refusals of a MAP_FIXED mapping (mm/mmap.c, 2.6.27), with the error each returns.</summary>
public enum MmapRefusal
{
    None,
    /// <summary>-EINVAL: "if (!len) return -EINVAL;"</summary>
    ZeroLength,
    /// <summary>-ENOMEM: "len = PAGE_ALIGN(len); if (!len || len > TASK_SIZE) return -ENOMEM;"</summary>
    TooLong,
    /// <summary>-EOVERFLOW: "if ((pgoff + (len >> PAGE_SHIFT)) &lt; pgoff)"</summary>
    PgoffWraps,
    /// <summary>-ENOMEM, get_unmapped_area(): "if (addr &gt; TASK_SIZE - len) return -ENOMEM;"</summary>
    PastTaskSize,
    /// <summary>-EINVAL, get_unmapped_area(): MAP_FIXED returns addr as given, then "if (addr &amp; ~PAGE_MASK) return -EINVAL;"</summary>
    StartUnaligned,
}

public enum VmaFault { None, StartUnaligned, EndUnaligned, Reversed, Empty, PastTaskSize, Overlaps, Shared, BadType, PgoffOverflow }
public enum ChunkFault { None, AboveChunk, AboveVma, BadLength }
public enum PageFault { None, Unaligned, OutsideVma, NotAscending }

/// <summary>
/// A design's validation of the image's fields, as pure functions of the fields: the first check
/// that fails, or None. <paramref name="untranslated"/> in the translation is a mutant's hook: vm_flags
/// bits a design forgets to carry into mmap.
/// </summary>
public static class RestoreValidation
{
    private const ulong PageMask = RestoreConstants.PageSize - 1;

    /// <summary>cr_read_vma()'s checks of a cr_hdr_vma, with the previous VMA's end (0 for the first).</summary>
    public static VmaFault CheckVma(RestoreCheck on, ulong start, ulong end, ulong vmFlags, ulong pgoff, uint type, ulong prevEnd)
    {
        if (on.HasFlag(RestoreCheck.VmaAligned) && (start & PageMask) != 0) return VmaFault.StartUnaligned;
        if (on.HasFlag(RestoreCheck.VmaAligned) && (end & PageMask) != 0) return VmaFault.EndUnaligned;
        if (on.HasFlag(RestoreCheck.VmaNotReversed) && end < start) return VmaFault.Reversed;
        if (on.HasFlag(RestoreCheck.VmaNonEmpty) && end <= start) return VmaFault.Empty;
        if (on.HasFlag(RestoreCheck.VmaInTaskSize) && end > RestoreConstants.TaskSize) return VmaFault.PastTaskSize;
        if (on.HasFlag(RestoreCheck.VmaSorted) && start < prevEnd) return VmaFault.Overlaps;
        if (RefusedAsShared(on, vmFlags)) return VmaFault.Shared;
        if (type is not (RestoreConstants.VmaTypeAnon or RestoreConstants.VmaTypeFile)) return VmaFault.BadType;
        if (on.HasFlag(RestoreCheck.PgoffFits) && type == RestoreConstants.VmaTypeFile && pgoff > (ulong.MaxValue >> RestoreConstants.PageShift) - ((end - start) >> RestoreConstants.PageShift))
            return VmaFault.PgoffOverflow;
        return VmaFault.None;
    }

    /// <summary>
    /// The environment: what do_mmap_pgoff(file, vm_start, vm_end - vm_start, prot, MAP_FIXED | …, pgoff)
    /// refuses on its own (2.6.27, before mmap_region(); map_count, memory and the file's checks are
    /// not functions of these fields). What it accepts it maps as PAGE_ALIGN(len): <see cref="MappedEnd"/>.
    /// </summary>
    public static MmapRefusal DoMmapPgoff(ulong start, ulong end, ulong pgoff) => DoMmapPgoff(start, end, pgoff, RestoreConstants.TaskSize);

    /// <summary><see cref="DoMmapPgoff(ulong, ulong, ulong)"/> with another TASK_SIZE (a mutant's, for the differential test's honesty check).</summary>
    public static MmapRefusal DoMmapPgoff(ulong start, ulong end, ulong pgoff, ulong taskSize)
    {
        ulong len = end - start;
        if (len == 0) return MmapRefusal.ZeroLength;
        ulong aligned = (len + PageMask) & ~PageMask;
        if (aligned == 0 || aligned > taskSize) return MmapRefusal.TooLong;
        if (pgoff + (aligned >> RestoreConstants.PageShift) < pgoff) return MmapRefusal.PgoffWraps;
        if (start > taskSize - aligned) return MmapRefusal.PastTaskSize;
        if ((start & PageMask) != 0) return MmapRefusal.StartUnaligned;
        return MmapRefusal.None;
    }

    /// <summary>The end of the VMA do_mmap_pgoff() maps: vm_start + PAGE_ALIGN(len), past vm_end when vm_end is unaligned.</summary>
    public static ulong MappedEnd(ulong start, ulong end) => start + ((end - start + PageMask) & ~PageMask);

    /// <summary>The shared-mapping test: the reference's on vm_flags; the seed's on the MAP_* value it built (003: "if (vm_flags &amp; VM_SHARED)").</summary>
    public static bool RefusedAsShared(RestoreCheck on, ulong vmFlags) =>
        on.HasFlag(RestoreCheck.SharedByVmFlags) ? (vmFlags & RestoreConstants.SharedVmFlags) != 0 : (MapFlags(on, vmFlags) & RestoreConstants.VmShared) != 0;

    /// <summary>cr_calc_map_prot_bits(): vm_flags to PROT_*.</summary>
    public static ulong MapProt(RestoreCheck on, ulong vmFlags, ulong untranslated = 0) =>
        Translate(RestoreConstants.ProtRows, vmFlags & ~untranslated)
        | (!on.HasFlag(RestoreCheck.ProtFromVmFlags) && (vmFlags & RestoreConstants.ProtSem) != 0 ? RestoreConstants.ProtSem : 0); // 003: "if (orig_vm_flags & PROT_SEM)"

    /// <summary>cr_calc_map_flags_bits(): vm_flags to MAP_*, with MAP_FIXED; MAP_SHARED only where the design lets VM_MAYSHARE through.</summary>
    public static ulong MapFlags(RestoreCheck on, ulong vmFlags, ulong untranslated = 0) =>
        RestoreConstants.MapFixed | Translate(RestoreConstants.MapRows, vmFlags & ~untranslated)
        | ((vmFlags & RestoreConstants.VmMayshare) != 0 ? RestoreConstants.MapShared : RestoreConstants.MapPrivate);

    private static ulong Translate((ulong Vm, ulong To)[] rows, ulong vmFlags)
    {
        ulong to = 0;
        foreach (var row in rows)
            if ((vmFlags & row.Vm) != 0) to |= row.To;
        return to;
    }

    /// <summary>A cr_hdr_pgarr's count and length, for a VMA of <paramref name="vmaPages"/> pages.</summary>
    public static ChunkFault CheckChunk(RestoreCheck on, ulong nr, ulong vmaPages, ulong len)
    {
        if (on.HasFlag(RestoreCheck.ChunkBounded) && nr > RestoreConstants.MaxChunkPages) return ChunkFault.AboveChunk;
        if (on.HasFlag(RestoreCheck.ChunkBounded) && nr > vmaPages) return ChunkFault.AboveVma;
        if (on.HasFlag(RestoreCheck.ChunkLength) && len != RestoreConstants.PgarrFixed + nr * RestoreConstants.PgarrPerPage) return ChunkFault.BadLength;
        return ChunkFault.None;
    }

    /// <summary>A page address of a VMA [start, end), after the page that ended at <paramref name="next"/>.</summary>
    public static PageFault CheckPage(RestoreCheck on, ulong addr, ulong start, ulong end, ulong next)
    {
        if (on.HasFlag(RestoreCheck.PageInVma) && (addr & PageMask) != 0) return PageFault.Unaligned;
        if (on.HasFlag(RestoreCheck.PageInVma) && (addr < start || addr >= end)) return PageFault.OutsideVma;
        if (on.HasFlag(RestoreCheck.PageAscending) && addr < next) return PageFault.NotAscending;
        return PageFault.None;
    }
}
