using Multikernel.Model.Checking;

namespace Multikernel.Model.Restore;

/// <summary>
/// A design of mm restore from a checkpoint image: the choices the seed (003) and the project's
/// reference make differently, which <see cref="RestoreSpec"/> explores with the image as the adversary.
/// </summary>
public sealed record RestoreDesign(string Name, string Summary, bool ValidatesBeforeReplacing, bool ChecksPagesInVmas,
    bool VmFlagsNamespace, bool ReportsReadErrors) : IDesign
{
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
    public static readonly RestoreDesign V6 = new("restore-v6",
        "in-kernel checkpoint/restart v6 as posted (003): cr_read_mm() nukes the mm, then reads and maps",
        ValidatesBeforeReplacing: false, ChecksPagesInVmas: false, VmFlagsNamespace: false, ReportsReadErrors: false)
    {
        Checks = RestoreCheck.SeedV6,
        Findings =
        [
            new("atomic", "003 cr_read_mm()", "/* point of no return -- destruct current mm */ … ret = cr_read_vma(ctx, mm); if (ret < 0) goto out;",
                Consequence.LostData,
                "Every VMA is unmapped before the first cr_hdr_vma is read; any later error (the image ends, do_mmap_pgoff() -ENOMEM, a file that no longer opens) is returned to the task, which goes back to user space on the VMAs restored so far. Nothing in the posted patch kills it, as execve does past its point of no return (sys_restart() is not in the seed: not checked)."),
            new("equal-on-success", "003 cr_read_vma()", "if (hh->vm_end < hh->vm_start) goto err;",
                Consequence.LostData,
                "The only check of a VMA's bounds: an unaligned vm_end is mapped as PAGE_ALIGN(len) by do_mmap_pgoff() (the VMA ends up to a page later than the image's), and a VMA over an earlier one is mapped MAP_FIXED over it, unmapping the earlier VMA's pages already read; restore returns 0. (An unaligned vm_start or an empty VMA is refused by do_mmap_pgoff() itself.)",
                CraftedImage),
            new("pages-inside", "003 cr_read_pages_contents()", "ret = get_user_pages(current, mm, vaddrs[i], 1, 1, 1, &page, NULL);",
                Consequence.Corruption,
                "Page addresses are never compared with the VMA being restored: get_user_pages(write=1, force=1) writes the image's page into any VMA already mapped, a read-only one too (force makes a private COW copy; the file is not written). The other VMA's page is silently replaced. An unmapped address fails with -EFAULT (see no-error-lost).",
                CraftedImage),
            new("bounded-allocation", "003 cr_read_pages_vaddrs()", "while (nr_pages) { pgarr = cr_pgarr_current(ctx); … ret = cr_kread(ctx, vaddrp, nr * sizeof(unsigned long));",
                Consequence.SpecOnly,
                "nr_pages (an unsigned long from the image) is never bounded: all its addresses are read into the page-array chain before any contents, cr_pgarr_current() (patch 4/9, not in the seed) adding an array when the last holds CR_PGARR_TOTAL. The memory follows the addresses actually read, not the count, so it is bounded by the stream; but the image is any fd, and a pipe or a sparse file delivers as many bytes as are asked until cr_pgarr_current() fails (-ENOMEM). The model shows the unbounded count, not memory exhaustion.",
                CraftedImage),
            new("flags-namespace", "003 cr_read_vma()", "vm_flags = cr_calc_map_flags_bits(hh->vm_flags); … if (vm_flags & VM_SHARED) goto err;",
                Consequence.SpecOnly,
                "VM_SHARED (0x8) is tested on the MAP_* value, which never has 0x8: the refusal of shared VMAs never fires, and VM_MAYSHARE becomes MAP_SHARED. An anonymous one is restored as a shared (shmem) mapping; a file one only read-only, since the file is opened O_RDONLY: do_mmap_pgoff() refuses PROT_WRITE (-EACCES) and clears VM_MAYWRITE, so get_user_pages(write=1) gets -EFAULT and no write reaches the file.",
                CraftedImage),
            new("no-error-lost", "003 cr_read_pages_contents()", "out: up_read(&mm->mmap_sem); kfree(buf); return 0;",
                Consequence.LostData,
                "A failed get_user_pages() (-ENOMEM under memory pressure, -EFAULT past the end of a file that shrank) or page read is returned as 0. The page's contents stay unread, so the next cr_read_obj_type() reads page data as a header and the restore fails with -EINVAL instead of the real error; only page data that happens to be a valid cr_hdr_pgarr lets it go on with the page missing."),
            new("no-kernel-bug", "003 cr_page_read()", "ptr = kmap_atomic(page, KM_USER1); memcpy(ptr, buf, PAGE_SIZE); kunmap_atomic(page, KM_USER1);",
                Consequence.KernelBug,
                "kunmap_atomic() clears the KM_USER1 fixmap PTE only when given that slot's address; given the struct page (a lowmem address) it clears nothing, leaving a stale mapping of the restored page. The next kmap_atomic(…, KM_USER1) of a highmem page on that CPU (the next page restored, or a COW copy in copy_user_highpage()) hits BUG_ON(!pte_none(*(kmap_pte-idx))) in kmap_atomic_prot(). The reply's fix, kunmap_atomic(ptr, KM_USER1), is right.",
                HighmemX86),
        ],
    };

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

/// <summary>The restore mechanism in the registry: designs, the specification (the image length is bounded by the spec), implementation checks.</summary>
public sealed class RestoreMechanism : Mechanism
{
    public static readonly RestoreMechanism Instance = new();

    public override string Name => "restore";
    public override string Summary => "mm restore from a checkpoint image (seed 003): the image and the kernel calls restore makes are the adversary (crafted images with --crafted)";
    public override DesignCatalogue Designs { get; } = new([RestoreDesigns.V6], RestoreDesigns.Reference, RestoreDesigns.Mutants);
    public override bool Accepts(IDesign design) => design is RestoreDesign;
    public override IReadOnlyList<BoundOption> BoundOptions => RestoreBounds.Options;
    public override IBounds ParseBounds(string text) => RestoreBounds.Parse(text);
    public override ISpecHandle Specification(IDesign design, IBounds bounds) => new RestoreSpec((RestoreDesign)design, (RestoreBounds)bounds);
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
