using Multikernel.Model.Checking;

namespace Multikernel.Model.Restore;

/// <summary>
/// A design of mm restore from a checkpoint image, which <see cref="RestoreSpec"/> explores with the
/// image as the adversary. Its parameters are the choices the seed (003) and the project's reference
/// make differently; its steps (<see cref="ReadMm"/>, <see cref="ReadVma"/>, <see cref="ReadPages"/>,
/// <see cref="Finish"/>) and the reader's checks they consult (<see cref="RefusesOverlappingVma"/> …
/// <see cref="BoundsPageCount"/>) are virtual: a design of your own is a record derived from this one
/// that overrides the step or the check it changes, and <see cref="RestoreKernel"/> gives the steps
/// what the kernel does (fail, map a VMA, write a page, swallow an error).
/// </summary>
// proofs/Restore encodes this record's checks and translation; a derived design may read the image otherwise,
// so it is not proved unless its own type declares [ProofEncoded].
[ProofEncoded]
public record RestoreDesign(string Name, string Summary, bool ValidatesBeforeReplacing, bool ChecksPagesInVmas,
    bool VmFlagsNamespace, bool ReportsReadErrors) : IDesign
{
    /// <summary>A design with the reference's choices: derive from it and override what yours changes.</summary>
    protected RestoreDesign(string name, string summary) : this(name, summary, true, true, true, true)
    {
        Checks = RestoreCheck.Reference;
        KunmapsMappedAddress = true;
    }

    /// <summary>The checks of the image's fields the design makes (<see cref="RestoreValidation"/>), which proofs/Restore encodes.</summary>
    public RestoreCheck Checks { get; init; }

    /// <summary>vm_flags bits the design does not carry into mmap (a mutant's defect; none in the catalogue).</summary>
    public ulong Untranslated { get; init; }

    /// <summary>cr_page_read() gives kunmap_atomic() the address kmap_atomic() returned (the reply's fix), not the struct page.</summary>
    public bool KunmapsMappedAddress { get; init; }

    /// <summary>A failure past the point of no return kills the task (as execve does after flush_old_exec()) instead of returning to it.</summary>
    public bool KillsPastPointOfNoReturn { get; init; }

    /// <summary>The defects this design has as posted, each tied to the property its audit violates.</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];

    // ---- the reader's checks: whether a step refuses the record before acting on it ----------

    /// <summary>A VMA over the previous one (the reference: sorted and disjoint, or refused; v6 maps it MAP_FIXED).</summary>
    public virtual bool RefusesOverlappingVma => ValidatesBeforeReplacing;
    /// <summary>VM_SHARED | VM_MAYSHARE, tested on vm_flags (v6 tests VM_SHARED on the MAP_* bits, which never have it).</summary>
    public virtual bool RefusesSharedVma => VmFlagsNamespace;
    /// <summary>An aligned vm_start with an unaligned vm_end (do_mmap_pgoff() would map PAGE_ALIGN(len)).</summary>
    public virtual bool RefusesUnalignedEnd => Checks.HasFlag(RestoreCheck.VmaAligned);
    /// <summary>A page of the current VMA written already (each page once, in ascending order).</summary>
    public virtual bool RefusesRepeatedPage => ValidatesBeforeReplacing;
    /// <summary>A page address outside the VMA whose pages are being read.</summary>
    public virtual bool RefusesPageOutsideVma => ChecksPagesInVmas;
    /// <summary>nr_pages bounded before any address is read (the page-array memory does not follow a count from the image).</summary>
    public virtual bool BoundsPageCount => ValidatesBeforeReplacing;
    /// <summary>A failed get_user_pages() or page read is returned as itself (v6 returns 0).</summary>
    public virtual bool ReturnsPageErrors => ReportsReadErrors;

    // ---- the steps: one per record the image holds -------------------------------------------

    /// <summary>cr_hdr_mm with map_count <paramref name="mapCount"/>: the VMAs to read next, into a staging mm (v6 destroys the current mm here instead).</summary>
    public virtual void ReadMm(ref RestoreState s, int mapCount, RestoreKernel k)
    {
        s.VmasLeft = (byte)mapCount;
        s.Phase = RestoreState.ExpectVmaOrContext;
    }

    /// <summary>A cr_hdr_vma (or do_mmap_pgoff() failing on one): <paramref name="record"/> is one of the Vma… records or <see cref="ImageRecord.MmapFails"/>.</summary>
    public virtual void ReadVma(ref RestoreState s, ImageRecord record, RestoreKernel k)
    {
        switch (record)
        {
            case ImageRecord.Vma: RestoreKernel.MapVma(ref s); return;
            case ImageRecord.MmapFails: k.Fail(ref s); return;         // do_mmap_pgoff()'s or filp_open()'s error is returned
            case ImageRecord.VmaOverlapping:
                if (RefusesOverlappingVma) { k.Fail(ref s); return; }
                s.Corrupt = 1;                                          // MAP_FIXED unmaps the earlier VMA's range, pages and all
                RestoreKernel.MapVma(ref s);
                return;
            case ImageRecord.VmaShared:
                if (RefusesSharedVma) { k.Fail(ref s); return; }
                s.SharedMapped = 1;                                     // MAP_* bits & VM_SHARED is 0: mapped MAP_SHARED
                RestoreKernel.MapVma(ref s);
                return;
            case ImageRecord.VmaUnaligned or ImageRecord.VmaEmpty:
                k.Fail(ref s);                                          // the reference's check, or do_mmap_pgoff()'s -EINVAL
                return;
            case ImageRecord.VmaUnalignedEnd:
                if (RefusesUnalignedEnd) { k.Fail(ref s); return; }
                s.Corrupt = 1;                                          // do_mmap_pgoff() maps PAGE_ALIGN(len): a larger VMA
                RestoreKernel.MapVma(ref s);
                return;
            default: throw new ArgumentOutOfRangeException(nameof(record));
        }
    }

    /// <summary>A cr_hdr_pgarr's page (or restoring it failing): <paramref name="record"/> is one of the Pages… records or <see cref="ImageRecord.ReadError"/>.</summary>
    public virtual void ReadPages(ref RestoreState s, ImageRecord record, RestoreKernel k)
    {
        switch (record)
        {
            case ImageRecord.PagesInside:
                k.WritePage(ref s);
                s.PagesInVma++;
                return;
            case ImageRecord.PagesRepeated:
                if (RefusesRepeatedPage) { k.Fail(ref s); return; }
                s.Corrupt = 1;                                          // the later contents overwrite the earlier
                k.WritePage(ref s);
                return;
            case ImageRecord.PagesInEarlierVma:
                if (RefusesPageOutsideVma) { k.Fail(ref s); return; }
                s.OutsidePage = 1; s.Corrupt = 1;                       // get_user_pages(write=1, force=1) writes it there (a COW copy if read-only)
                k.WritePage(ref s);
                return;
            case ImageRecord.PagesOutside:
                if (RefusesPageOutsideVma || ReturnsPageErrors) { k.Fail(ref s); return; }
                RestoreKernel.Swallow(ref s);                                       // get_user_pages() -EFAULT, returned as 0
                return;
            case ImageRecord.PagesHugeCount:
                if (BoundsPageCount) { k.Fail(ref s); return; }
                s.Unbounded = 1;                                        // page arrays grow with the addresses read, until the stream or kmalloc fails
                k.Fail(ref s);
                return;
            case ImageRecord.ReadError:
                if (ReturnsPageErrors) { k.Fail(ref s); return; }
                RestoreKernel.Swallow(ref s);
                return;
            default: throw new ArgumentOutOfRangeException(nameof(record));
        }
    }

    /// <summary>cr_hdr_mm_context: the restore is done; the reference's staged mm replaces the live one here, in one step.</summary>
    public virtual void Finish(ref RestoreState s, RestoreKernel k)
    {
        s.Phase = RestoreState.Succeeded;
        s.Live = RestoreState.LiveImage;
    }
}

/// <summary>
/// What restore's steps do to the kernel, for every design alike: return an error (killing the task
/// past its point of no return, if the design does), map a VMA, write a page through the kmap slot,
/// swallow a page error (the stream then reads page data as a header).
/// </summary>
public sealed class RestoreKernel(RestoreDesign design, RestoreBounds bounds)
{
    public RestoreBounds Bounds { get; } = bounds;

    /// <summary>The restore returns an error; a design that kills the task past its point of no return (as execve does) does so here.</summary>
    public void Fail(ref RestoreState s)
    {
        s.Phase = RestoreState.Failed;
        if (design.KillsPastPointOfNoReturn && s.Live != RestoreState.LiveOriginal) s.Killed = 1;
    }

    /// <summary>do_mmap_pgoff() maps the VMA; its pages come next.</summary>
    public static void MapVma(ref RestoreState s)
    {
        s.PagesInVma = 0;
        s.VmasLeft--; s.Vmas++;
        s.Phase = RestoreState.ExpectPages;
    }

    /// <summary>
    /// cr_page_read(): kmap_atomic(page, KM_USER1), memcpy, kunmap_atomic(). On x86_32 a highmem page
    /// takes the CPU's KM_USER1 fixmap slot, and kunmap_atomic() clears the slot only when given its
    /// address (kmap_atomic()'s return); given the struct page it clears nothing, and the next
    /// kmap_atomic(…, KM_USER1) of a highmem page finds the PTE set: BUG_ON(!pte_none(*(kmap_pte-idx))).
    /// </summary>
    public void WritePage(ref RestoreState s)
    {
        if (!Bounds.Highmem || design.KunmapsMappedAddress) return;
        if (s.KmapStale != 0) { s.Phase = RestoreState.Bug; return; }
        s.KmapStale = 1;
    }

    /// <summary>v6: cr_read_pages_contents() returns 0 after the error; the page's contents stay unread, and the next header is read from them.</summary>
    public static void Swallow(ref RestoreState s)
    {
        s.Lost = 1; s.Corrupt = 1;
        s.Phase = RestoreState.Desynced;
    }
}

public static class RestoreDesigns
{
    /// <summary>A checkpoint image cr_write_mm() could not have written: edited, corrupted, or made by hand.</summary>
    public static readonly Precondition CraftedImage = new("crafted-image",
        "the image is not one the checkpoint side wrote (VMAs overlapping, shared, unaligned; pages outside their VMA; a count its addresses do not follow): edited, corrupted or hand-made",
        "crafted");

    /// <summary>The kmap slot only matters where user pages can be highmem.</summary>
    public static readonly Precondition HighmemX86 = new("x86_32-highmem",
        "x86_32 with CONFIG_HIGHMEM and the restored pages in highmem (more RAM than the ~896 MiB lowmem): kmap_atomic() then uses the CPU's KM_USER1 fixmap slot; on x86_64 it returns page_address() and kunmap_atomic() has nothing to clear",
        "highmem");

    /// <summary>The seed as posted (003, v6): nukes the mm first, reads pages anywhere, tests VM_SHARED on MAP_* bits, swallows read errors.</summary>
    public static readonly RestoreDesign V6 = new RestoreV6();

    /// <summary>The reference, which impl/Restore implements: atomic, validated, CRIU's checks.</summary>
    public static readonly RestoreDesign Reference = new("reference",
        "atomic, validated restore: the whole image checked into a staging mm, pages only inside private VMAs of the image",
        ValidatesBeforeReplacing: true, ChecksPagesInVmas: true, VmFlagsNamespace: true, ReportsReadErrors: true) { Checks = RestoreCheck.Reference, KunmapsMappedAddress = true };

    /// <summary>Mutants of the reference, one seed defect each, caught at the bounds named: the checks are not vacuous.</summary>
    public static readonly RestoreDesign[] Mutants =
    [
        Reference with { Name = "ref-swallows-errors", Summary = "the reference returning 0 after a failed page read, as v6 does (caught at default bounds)", ReportsReadErrors = false },
        Reference with { Name = "ref-pages-anywhere", Summary = "the reference without the page-in-VMA check (caught with --crafted)", ChecksPagesInVmas = false, Checks = RestoreCheck.Reference & ~RestoreCheck.PageInVma },
        Reference with { Name = "ref-kunmap-page", Summary = "the reference giving kunmap_atomic() the struct page, as v6 does (caught with --highmem)", KunmapsMappedAddress = false },
    ];
}

/// <summary>
/// The seed as posted (003, v6): cr_read_mm() destroys the mm before it reads the first VMA, reads pages
/// anywhere, tests VM_SHARED on MAP_* bits, swallows page errors; its findings, each tied to the seed line.
/// </summary>
// Its steps are the base record's with its parameters and its field checks RestoreCheck.SeedV6: the encoding speaks of it.
[ProofEncoded]
public sealed record RestoreV6 : RestoreDesign
{
    public RestoreV6() : base("restore-v6", "in-kernel checkpoint/restart v6 as posted (003): cr_read_mm() nukes the mm, then reads and maps",
        ValidatesBeforeReplacing: false, ChecksPagesInVmas: false, VmFlagsNamespace: false, ReportsReadErrors: false)
    {
        Checks = RestoreCheck.SeedV6;
        Findings = SeedFindings;
    }

    /// <summary>cr_read_mm(): "/* point of no return -- destruct current mm */" before any VMA is read.</summary>
    public override void ReadMm(ref RestoreState s, int mapCount, RestoreKernel k)
    {
        s.Live = RestoreState.LiveNuked;
        base.ReadMm(ref s, mapCount, k);
    }

    private static readonly IReadOnlyList<Finding> SeedFindings =
        [
            new("atomic", "003 cr_read_mm()", "/* point of no return -- destruct current mm */ … ret = cr_read_vma(ctx, mm); if (ret < 0) goto out;",
                Consequence.LostData,
                "Every VMA is unmapped before the first cr_hdr_vma is read; any later error (the image ends, do_mmap_pgoff() -ENOMEM, a file that no longer opens) is returned to the task, which goes back to user space on the VMAs restored so far. Nothing in the posted patch kills it, as execve does past its point of no return (sys_restart() is not in the seed: not checked)."),
            new("equal-on-success", "003 cr_read_vma()", "if (hh->vm_end < hh->vm_start) goto err;",
                Consequence.LostData,
                "The only check of a VMA's bounds: an unaligned vm_end is mapped as PAGE_ALIGN(len) by do_mmap_pgoff() (the VMA ends up to a page later than the image's), and a VMA over an earlier one is mapped MAP_FIXED over it, unmapping the earlier VMA's pages already read; restore returns 0. (An unaligned vm_start or an empty VMA is refused by do_mmap_pgoff() itself.)",
                RestoreDesigns.CraftedImage),
            new("pages-inside", "003 cr_read_pages_contents()", "ret = get_user_pages(current, mm, vaddrs[i], 1, 1, 1, &page, NULL);",
                Consequence.Corruption,
                "Page addresses are never compared with the VMA being restored: get_user_pages(write=1, force=1) writes the image's page into any VMA already mapped, a read-only one too (force makes a private COW copy; the file is not written). The other VMA's page is silently replaced. An unmapped address fails with -EFAULT (see no-error-lost).",
                RestoreDesigns.CraftedImage),
            new("bounded-allocation", "003 cr_read_pages_vaddrs()", "while (nr_pages) { pgarr = cr_pgarr_current(ctx); … ret = cr_kread(ctx, vaddrp, nr * sizeof(unsigned long));",
                Consequence.SpecOnly,
                "nr_pages (an unsigned long from the image) is never bounded: all its addresses are read into the page-array chain before any contents, cr_pgarr_current() (patch 4/9, not in the seed) adding an array when the last holds CR_PGARR_TOTAL. The memory follows the addresses actually read, not the count, so it is bounded by the stream; but the image is any fd, and a pipe or a sparse file delivers as many bytes as are asked until cr_pgarr_current() fails (-ENOMEM). The model shows the unbounded count, not memory exhaustion.",
                RestoreDesigns.CraftedImage),
            new("flags-namespace", "003 cr_read_vma()", "vm_flags = cr_calc_map_flags_bits(hh->vm_flags); … if (vm_flags & VM_SHARED) goto err;",
                Consequence.SpecOnly,
                "VM_SHARED (0x8) is tested on the MAP_* value, which never has 0x8: the refusal of shared VMAs never fires, and VM_MAYSHARE becomes MAP_SHARED. An anonymous one is restored as a shared (shmem) mapping; a file one only read-only, since the file is opened O_RDONLY: do_mmap_pgoff() refuses PROT_WRITE (-EACCES) and clears VM_MAYWRITE, so get_user_pages(write=1) gets -EFAULT and no write reaches the file.",
                RestoreDesigns.CraftedImage),
            new("no-error-lost", "003 cr_read_pages_contents()", "out: up_read(&mm->mmap_sem); kfree(buf); return 0;",
                Consequence.LostData,
                "A failed get_user_pages() (-ENOMEM under memory pressure, -EFAULT past the end of a file that shrank) or page read is returned as 0. The page's contents stay unread, so the next cr_read_obj_type() reads page data as a header and the restore fails with -EINVAL instead of the real error; only page data that happens to be a valid cr_hdr_pgarr lets it go on with the page missing."),
            new("no-kernel-bug", "003 cr_page_read()", "ptr = kmap_atomic(page, KM_USER1); memcpy(ptr, buf, PAGE_SIZE); kunmap_atomic(page, KM_USER1);",
                Consequence.KernelBug,
                "kunmap_atomic() clears the KM_USER1 fixmap PTE only when given that slot's address; given the struct page (a lowmem address) it clears nothing, leaving a stale mapping of the restored page. The next kmap_atomic(…, KM_USER1) of a highmem page on that CPU (the next page restored, or a COW copy in copy_user_highpage()) hits BUG_ON(!pte_none(*(kmap_pte-idx))) in kmap_atomic_prot(). The reply's fix, kunmap_atomic(ptr, KM_USER1), is right.",
                RestoreDesigns.HighmemX86),
        ];
}

/// <summary>The restore mechanism in the registry: designs, the specification (the image length is bounded by the spec), implementation checks.</summary>
public sealed class RestoreMechanism : Mechanism<RestoreDesign, RestoreBounds>
{
    public static readonly RestoreMechanism Instance = new();

    public override string Name => "restore";
    public override string Summary => "mm restore from a checkpoint image (seed 003): the image and the kernel calls restore makes are the adversary (crafted images with --crafted)";
    public override DesignCatalogue Designs { get; } = new([RestoreDesigns.V6], RestoreDesigns.Reference, RestoreDesigns.Mutants);
    public override IReadOnlyList<BoundOption> BoundOptions => RestoreBounds.Options;
    public override IBounds ParseBounds(string text) => RestoreBounds.Parse(text);
    protected override ISpecHandle Spec(RestoreDesign design, RestoreBounds bounds) => new RestoreSpec(design, bounds);
}

/// <summary>
/// Restore's exploration: images of up to <see cref="RestoreSpec.MaxRecords"/> records. By default the
/// image is one a checkpoint could write and the kernel's calls fail only as mainline's do; crafted=yes
/// adds the records only an edited image holds, highmem=yes the x86_32 kmap slot.
/// </summary>
public sealed record RestoreBounds(bool Crafted = false, bool Highmem = false) : IBounds
{
    public static readonly RestoreBounds Instance = new();

    public static readonly IReadOnlyList<BoundOption> Options =
    [
        new("crafted", "images a checkpoint cannot write (overlapping, shared, unaligned VMAs; pages outside their VMA; huge counts): yes or no", "--crafted", "yes"),
        new("highmem", "x86_32 with highmem: kmap_atomic() uses a per-CPU fixmap slot: yes or no", "--highmem", "yes"),
    ];

    /// <summary>Reads what <see cref="ToString"/> writes ("", "crafted=yes", "crafted=yes highmem=yes"); throws <see cref="BoundsException"/>.</summary>
    public static RestoreBounds Parse(string text)
    {
        var b = Instance;
        foreach (var (key, value) in BoundsText.Pairs(text))
        {
            if (key == "crafted") b = b with { Crafted = BoundsText.YesNo(key, value) };
            else if (key == "highmem") b = b with { Highmem = BoundsText.YesNo(key, value) };
            else throw BoundsText.Unknown(key, Options);
        }
        return b;
    }

    /// <summary>Only the bounds that are on: the default reads "none".</summary>
    public override string ToString() => string.Join(' ', new[] { Crafted ? "crafted=yes" : null, Highmem ? "highmem=yes" : null }.OfType<string>());
}
