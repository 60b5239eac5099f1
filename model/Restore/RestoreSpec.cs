using System.Runtime.InteropServices;
using Multikernel.Model.Checking;
using static Multikernel.Model.Checking.PropertyKind;

namespace Multikernel.Model.Restore;

/// <summary>
/// The next record the image holds, or what the kernel's calls do with it: the explorer chooses, so
/// the shortest counterexample is the shortest bad image. Records a checkpoint cannot write (cr_write_mm()
/// writes sorted, disjoint, aligned, private VMAs and the pages it found in them) are crafted: only
/// with the bound crafted=yes.
/// </summary>
public enum ImageRecord : byte
{
    /// <summary>cr_hdr_mm with map_count 1 (Arg 1) or 2 (Arg 2).</summary>
    Mm,
    /// <summary>A private anonymous VMA after the last one: what a checkpoint writes.</summary>
    Vma,
    /// <summary>Crafted: a VMA over the previous one.</summary>
    VmaOverlapping,
    /// <summary>Crafted: a VMA with VM_SHARED | VM_MAYSHARE.</summary>
    VmaShared,
    /// <summary>Crafted: vm_start not page-aligned (do_mmap_pgoff(): get_unmapped_area() returns -EINVAL for MAP_FIXED).</summary>
    VmaUnaligned,
    /// <summary>Crafted: vm_end == vm_start (do_mmap_pgoff(): -EINVAL for len 0).</summary>
    VmaEmpty,
    /// <summary>Crafted: vm_start aligned, vm_end not (do_mmap_pgoff() maps PAGE_ALIGN(len): the VMA is larger).</summary>
    VmaUnalignedEnd,
    /// <summary>do_mmap_pgoff() refuses a good VMA (-ENOMEM: no memory, map_count), or a file VMA's file no longer opens.</summary>
    MmapFails,
    /// <summary>A page of the current VMA not written yet (each VMA has two).</summary>
    PagesInside,
    /// <summary>Crafted: a page of the current VMA written already.</summary>
    PagesRepeated,
    /// <summary>Crafted: a page address inside an earlier VMA of the image (mapped: get_user_pages() succeeds).</summary>
    PagesInEarlierVma,
    /// <summary>Crafted: a page address no VMA maps (get_user_pages() returns -EFAULT).</summary>
    PagesOutside,
    /// <summary>Crafted: nr_pages far beyond the addresses that follow.</summary>
    PagesHugeCount,
    PagesEnd,
    Context,
    /// <summary>The image ends here (or its read fails): the next read returns an error.</summary>
    Truncated,
    /// <summary>Restoring a page of the current VMA fails: get_user_pages() -ENOMEM (OOM) or -EFAULT (a file VMA's file now shorter), or the read of its contents.</summary>
    ReadError,
    /// <summary>After a swallowed page error the next header is read from the page's unread contents: a checkpointed page is no cr_hdr_pgarr (-EINVAL).</summary>
    HeaderGarbage,
    /// <summary>Crafted: the unread page contents are a valid cr_hdr_pgarr, and restore goes on.</summary>
    HeaderInPageData,
}

public readonly record struct RestoreAction(ImageRecord Record, byte Arg = 0);

/// <summary>Restore as it goes: the records read, the live mm, and the ghost facts the invariants judge.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct RestoreState
{
    public const byte ExpectMm = 0, ExpectVmaOrContext = 1, ExpectPages = 2, Succeeded = 3, Failed = 4, Bug = 5, Desynced = 6;
    public const byte LiveOriginal = 0, LiveNuked = 1, LiveImage = 2;

    public byte Phase;
    public byte VmasLeft, Vmas, Records, PagesInVma;
    /// <summary>The address space the process runs on: untouched, nuked (and partly rebuilt), or replaced by the image's.</summary>
    public byte Live;
    /// <summary>Ghost: what of the image went wrong silently (a lost error, an overlapped VMA, a shared one, a page outside its VMA, an unbounded count).</summary>
    public byte Lost, Corrupt, SharedMapped, OutsidePage, Unbounded;
    /// <summary>The task was killed past a point of no return (a design that does as execve does).</summary>
    public byte Killed;
    /// <summary>This CPU's KM_USER1 kmap_atomic slot still maps a page (x86_32 highmem: kunmap_atomic() given something other than the slot's address).</summary>
    public byte KmapStale;
    public ushort Broken;
}

public enum RestoreInvariant
{
    Atomic, EqualOnSuccess, PagesInside, BoundedAllocation, FlagsNamespace, NoErrorLost, NoKernelBug, RestoreSucceeds, RestoreFails,
}

public static class RestoreInvariants
{
    public static readonly PropertyTable<RestoreInvariant> Table = new(
        (RestoreInvariant.Atomic, "atomic", Always,
            "a restore that fails leaves the address space as it was, or, past a point of no return, never returns to the task on a half-built one (it is killed, as execve does after flush_old_exec())",
            "003 cr_read_mm(): /* point of no return -- destruct current mm */ … cr_read_vma() fails … return ret;"),
        (RestoreInvariant.EqualOnSuccess, "equal-on-success", Always, "a restore that succeeds gives the address space the image describes: every VMA, every page, or it is refused",
            "003 cr_read_vma(): if (hh->vm_end < hh->vm_start) goto err; (the only check of a VMA's bounds) … do_mmap_pgoff(file, vm_start, vm_size, vm_prot, vm_flags, vm_pgoff)"),
        (RestoreInvariant.PagesInside, "pages-inside", Always, "every page is written inside the VMA whose contents are being read, never into another one",
            "003 cr_read_pages_contents(): get_user_pages(current, mm, vaddrs[i], 1, 1, 1, &page, NULL) on any address the image gives"),
        (RestoreInvariant.BoundedAllocation, "bounded-allocation", Always,
            "the page-array memory restore holds at once is bounded by a constant, not by a count the image states (the image is any fd: a pipe or a sparse file delivers as many bytes as are asked)",
            "003 cr_read_pages_vaddrs(): while (nr_pages) { pgarr = cr_pgarr_current(ctx); … } before any contents are read"),
        (RestoreInvariant.FlagsNamespace, "flags-namespace", Always, "the private-mapping test reads vm_flags with VM_* masks, never MAP_* bits with VM_SHARED",
            "003 cr_read_vma(): vm_flags = cr_calc_map_flags_bits(hh->vm_flags); … if (vm_flags & VM_SHARED) goto err;"),
        (RestoreInvariant.NoErrorLost, "no-error-lost", Always, "every read or mapping error is returned as itself; none is swallowed",
            "003 cr_read_pages_contents(): out: up_read(&mm->mmap_sem); kfree(buf); return 0;"),
        (RestoreInvariant.NoKernelBug, "no-kernel-bug", Always, "no BUG_ON fires: every kmap_atomic() slot is cleared by its kunmap_atomic() before the next kmap_atomic() of that slot",
            "003 cr_page_read(): ptr = kmap_atomic(page, KM_USER1); … kunmap_atomic(page, KM_USER1);"),
        (RestoreInvariant.RestoreSucceeds, "restore-succeeds", Sometimes, "some image restores", "ARCHITECTURE.md invariants (restore)"),
        (RestoreInvariant.RestoreFails, "restore-fails", Sometimes, "some image is refused", "ARCHITECTURE.md invariants (restore)"));
}

/// <summary>
/// mm restore as a state machine whose adversary is the image and the kernel calls it makes: each
/// step reads the record the explorer chooses (a VMA, pages, the end of a VMA's pages, the context, a
/// truncation) or has a call fail as mainline's can (do_mmap_pgoff() -ENOMEM, get_user_pages()
/// -ENOMEM/-EFAULT, a failed read). Records only a crafted image holds (overlapping, shared,
/// unaligned or empty VMAs; pages outside their VMA or twice; a huge count) need crafted=yes; the
/// x86_32 kmap slot needs highmem=yes. The seed (v6) nukes the mm first and maps and fills as it
/// reads; the reference checks everything into a staging mm and replaces the live one only at the end.
/// </summary>
public sealed class RestoreSpec(RestoreDesign design, RestoreBounds? bounds = null) : ISpec<RestoreState, RestoreAction>
{
    public const int MaxRecords = 10;

    public RestoreDesign Design { get; } = design;
    public RestoreBounds Bounds { get; } = bounds ?? RestoreBounds.Instance;
    public string Name => $"restore/{Design.Name}";
    public IReadOnlyList<Property> Properties { get; } = RestoreInvariants.Table.Properties();

    public void Initial(List<RestoreState> into) => into.Add(default);

    public int Enabled(in RestoreState s, Span<RestoreAction> into)
    {
        int n = 0;
        if (s.Phase is RestoreState.Succeeded or RestoreState.Failed or RestoreState.Bug || s.Records >= MaxRecords) return 0;
        bool crafted = Bounds.Crafted;
        into[n++] = new(ImageRecord.Truncated);
        switch (s.Phase)
        {
            case RestoreState.ExpectMm:
                into[n++] = new(ImageRecord.Mm, 1);
                into[n++] = new(ImageRecord.Mm, 2);
                break;
            case RestoreState.ExpectVmaOrContext when s.VmasLeft > 0:
                into[n++] = new(ImageRecord.Vma);
                into[n++] = new(ImageRecord.MmapFails);
                if (!crafted) break;
                foreach (var r in new[] { ImageRecord.VmaShared, ImageRecord.VmaUnaligned, ImageRecord.VmaEmpty, ImageRecord.VmaUnalignedEnd })
                    into[n++] = new(r);
                if (s.Vmas > 0) into[n++] = new(ImageRecord.VmaOverlapping);
                break;
            case RestoreState.ExpectVmaOrContext:
                into[n++] = new(ImageRecord.Context);
                break;
            case RestoreState.ExpectPages:
                if (s.PagesInVma < 2) into[n++] = new(ImageRecord.PagesInside);
                into[n++] = new(ImageRecord.PagesEnd);
                into[n++] = new(ImageRecord.ReadError);
                if (!crafted) break;
                if (s.PagesInVma > 0) into[n++] = new(ImageRecord.PagesRepeated);
                if (s.Vmas > 1) into[n++] = new(ImageRecord.PagesInEarlierVma);
                into[n++] = new(ImageRecord.PagesOutside);
                into[n++] = new(ImageRecord.PagesHugeCount);
                break;
            case RestoreState.Desynced:
                into[n++] = new(ImageRecord.HeaderGarbage);
                if (crafted) into[n++] = new(ImageRecord.HeaderInPageData);
                break;
        }
        return n;
    }

    private readonly RestoreKernel _k = new(design, bounds ?? RestoreBounds.Instance);

    public RestoreState Next(in RestoreState s0, in RestoreAction a)
    {
        var s = s0;
        s.Records++;
        switch (a.Record)
        {
            case ImageRecord.Truncated: // the reader's error is returned (every design): the restore fails
            case ImageRecord.HeaderGarbage: // cr_read_obj_type(): not a CR_HDR_PGARR, -EINVAL
                _k.Fail(ref s);
                break;
            case ImageRecord.Mm:
                Design.ReadMm(ref s, a.Arg, _k);
                break;
            case ImageRecord.Vma or ImageRecord.MmapFails or ImageRecord.VmaOverlapping or ImageRecord.VmaShared
                or ImageRecord.VmaUnaligned or ImageRecord.VmaEmpty or ImageRecord.VmaUnalignedEnd:
                Design.ReadVma(ref s, a.Record, _k);
                break;
            case ImageRecord.PagesInside or ImageRecord.PagesRepeated or ImageRecord.PagesInEarlierVma or ImageRecord.PagesOutside
                or ImageRecord.PagesHugeCount or ImageRecord.ReadError:
                Design.ReadPages(ref s, a.Record, _k);
                break;
            case ImageRecord.HeaderInPageData:
                s.Phase = RestoreState.ExpectPages;                   // the failed page stays as it was; restore goes on
                break;
            case ImageRecord.PagesEnd:
                s.Phase = RestoreState.ExpectVmaOrContext;
                break;
            case ImageRecord.Context:
                Design.Finish(ref s, _k);
                break;
        }
        return s;
    }

    private static ulong Bit(RestoreInvariant i) => PropertyTable<RestoreInvariant>.Bit(i);

    public ulong Violated(in RestoreState s)
    {
        ulong v = s.Broken;
        if (s.Phase == RestoreState.Failed && s.Live != RestoreState.LiveOriginal && s.Killed == 0) v |= Bit(RestoreInvariant.Atomic);
        if (s.Phase == RestoreState.Succeeded && s.Corrupt != 0) v |= Bit(RestoreInvariant.EqualOnSuccess);
        if (s.OutsidePage != 0) v |= Bit(RestoreInvariant.PagesInside);
        if (s.Unbounded != 0) v |= Bit(RestoreInvariant.BoundedAllocation);
        if (s.SharedMapped != 0) v |= Bit(RestoreInvariant.FlagsNamespace);
        if (s.Lost != 0) v |= Bit(RestoreInvariant.NoErrorLost);
        if (s.Phase == RestoreState.Bug) v |= Bit(RestoreInvariant.NoKernelBug);
        return v;
    }

    public ulong Reached(in RestoreState s) =>
        (s.Phase == RestoreState.Succeeded ? Bit(RestoreInvariant.RestoreSucceeds) : 0) |
        (s.Phase == RestoreState.Failed ? Bit(RestoreInvariant.RestoreFails) : 0);

    private string Page(string what) =>
        Bounds.Highmem && !Design.KunmapsMappedAddress ? $"{what}; kunmap_atomic(page, KM_USER1) leaves the slot mapped" : what;

    /// <summary>Whether the design's cr_hdr_mm step destroys the live mm (the step run on a copy).</summary>
    private bool Nukes(in RestoreState s, in RestoreAction a)
    {
        var t = s;
        Design.ReadMm(ref t, a.Arg, _k);
        return s.Live == RestoreState.LiveOriginal && t.Live != RestoreState.LiveOriginal;
    }

    /// <summary>A trace viewer's lanes: the records restore reads from the image, and the kernel's calls failing under it.</summary>
    public string Lane(in RestoreAction a) => a.Record is ImageRecord.MmapFails or ImageRecord.ReadError ? "kernel" : "image";

    public string Describe(in RestoreState s, in RestoreAction a) => a.Record switch
    {
        ImageRecord.Mm => $"image: cr_hdr_mm, map_count {a.Arg}{(Nukes(s, a) ? " -> the current mm is nuked" : "")}",
        ImageRecord.Vma => "image: cr_hdr_vma, a private anonymous VMA after the last one -> mapped",
        ImageRecord.MmapFails => "do_mmap_pgoff() fails (-ENOMEM), or the file VMA's file does not open -> the error is returned",
        ImageRecord.VmaOverlapping => $"crafted image: cr_hdr_vma overlapping the previous VMA -> {(Design.RefusesOverlappingVma ? "refused" : "do_mmap_pgoff(MAP_FIXED) unmaps the previous VMA's range and maps over it")}",
        ImageRecord.VmaShared => $"crafted image: cr_hdr_vma with VM_SHARED | VM_MAYSHARE -> {(Design.RefusesSharedVma ? "refused (VM_SHARED tested on vm_flags)" : "mapped MAP_SHARED (VM_SHARED tested on MAP_* bits)")}",
        ImageRecord.VmaUnaligned => $"crafted image: cr_hdr_vma with an unaligned vm_start -> {(Design.ValidatesBeforeReplacing ? "refused" : "do_mmap_pgoff(MAP_FIXED): -EINVAL")}",
        ImageRecord.VmaEmpty => $"crafted image: cr_hdr_vma with vm_end == vm_start -> {(Design.ValidatesBeforeReplacing ? "refused" : "do_mmap_pgoff(len 0): -EINVAL")}",
        ImageRecord.VmaUnalignedEnd => $"crafted image: cr_hdr_vma with an aligned vm_start and an unaligned vm_end -> {(Design.RefusesUnalignedEnd ? "refused" : "do_mmap_pgoff() maps PAGE_ALIGN(len): the VMA ends up to a page later")}",
        ImageRecord.PagesInside => Page("image: cr_hdr_pgarr, a page inside the VMA -> written"),
        ImageRecord.PagesRepeated => $"crafted image: cr_hdr_pgarr, a page written already -> {(Design.RefusesRepeatedPage ? "refused" : Page("written again"))}",
        ImageRecord.PagesInEarlierVma => $"crafted image: cr_hdr_pgarr, a page of an earlier VMA -> {(Design.RefusesPageOutsideVma ? "refused" : Page("get_user_pages(write=1, force=1) writes it into that VMA"))}",
        ImageRecord.PagesOutside => $"crafted image: cr_hdr_pgarr, a page no VMA maps -> {(Design.RefusesPageOutsideVma ? "refused" : Design.ReturnsPageErrors ? "get_user_pages() -EFAULT: error" : "get_user_pages() -EFAULT, cr_read_pages_contents() returns 0")}",
        ImageRecord.PagesHugeCount => $"crafted image: cr_hdr_pgarr, nr_pages 2^40, few addresses follow -> {(Design.BoundsPageCount ? "refused before any address is read" : "page arrays allocated for every address read, until the stream fails")}",
        ImageRecord.PagesEnd => "image: cr_hdr_pgarr, nr_pages 0 -> the VMA's pages end",
        ImageRecord.Context => $"image: cr_hdr_mm_context -> done{(s.Live == RestoreState.LiveOriginal ? ": the staged mm replaces the live one" : "")}",
        ImageRecord.Truncated => "image: ends here -> the read fails",
        ImageRecord.ReadError => $"restoring a page fails (get_user_pages() -ENOMEM/-EFAULT, or its read) -> {(Design.ReturnsPageErrors ? "error" : "cr_read_pages_contents() returns 0, the page's contents unread")}",
        ImageRecord.HeaderGarbage => "the next header is read from the unread page contents: not a cr_hdr_pgarr -> -EINVAL",
        _ => "crafted image: the unread page contents are a valid cr_hdr_pgarr -> read as the next chunk",
    };

    public void Render(in RestoreState s, List<TraceVar> into)
    {
        into.Add(new("reading", TraceValue.Of(s.Phase switch
        {
            0 => "cr_hdr_mm", 1 => s.VmasLeft > 0 ? $"cr_hdr_vma ({s.VmasLeft} to go)" : "cr_hdr_mm_context", 2 => "cr_hdr_pgarr", 3 => "done: restored", 4 => s.Live == RestoreState.LiveOriginal ? "done: failed" : s.Killed != 0 ? "done: failed, the task killed" : "done: failed, the error returns to the task on the half-built mm",
            5 => "BUG: kmap_atomic() finds KM_USER1 still mapped", _ => "cr_hdr_pgarr, from the middle of the page contents",
        })));
        into.Add(new("live_mm", TraceValue.Of(s.Live switch { 0 => "as it was", 1 => "nuked, being rebuilt", _ => "the image's" })));
        into.Add(new("records", TraceValue.Of(s.Records)));
        into.Add(new("silently_wrong", TraceValue.Of(string.Join("; ", new[] { (s.Lost, "error lost"), (s.Corrupt, "restored mm differs"), (s.SharedMapped, "shared VMA mapped"), (s.OutsidePage, "page written into another VMA"), (s.Unbounded, "page arrays sized by the stream") }.Where(x => x.Item1 != 0).Select(x => x.Item2).DefaultIfEmpty("-")))));
        if (Bounds.Highmem) into.Add(new("km_user1_slot", TraceValue.Of(s.KmapStale != 0 ? "mapped (stale)" : "free")));
    }
}
