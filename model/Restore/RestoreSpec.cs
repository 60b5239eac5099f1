using System.Runtime.InteropServices;
using Multikernel.Model.Checking;
using static Multikernel.Model.Checking.PropertyKind;

namespace Multikernel.Model.Restore;

/// <summary>The next record the image holds: the explorer chooses it, so the shortest counterexample is the shortest bad image.</summary>
public enum ImageRecord : byte
{
    /// <summary>cr_hdr_mm with map_count 1 (Arg 1) or 2 (Arg 2).</summary>
    Mm,
    Vma, VmaOverlapping, VmaShared, VmaUnaligned, VmaEmpty,
    /// <summary>A page of the current VMA not written yet (each VMA has two).</summary>
    PagesInside,
    /// <summary>A page of the current VMA written already.</summary>
    PagesRepeated,
    PagesOutside, PagesHugeCount, PagesEnd,
    Context,
    /// <summary>The image ends here.</summary>
    Truncated,
    /// <summary>Reading the next page's contents fails (an I/O error).</summary>
    ReadError,
}

public readonly record struct RestoreAction(ImageRecord Record, byte Arg = 0);

/// <summary>Restore as it goes: the records read, the live mm, and the ghost facts the invariants judge.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct RestoreState
{
    public const byte ExpectMm = 0, ExpectVmaOrContext = 1, ExpectPages = 2, Succeeded = 3, Failed = 4;
    public const byte LiveOriginal = 0, LiveNuked = 1, LiveImage = 2;

    public byte Phase;
    public byte VmasLeft, Vmas, Records, PagesInVma;
    /// <summary>The address space the process runs on: untouched, nuked (and partly rebuilt), or replaced by the image's.</summary>
    public byte Live;
    /// <summary>Ghost: what of the image went wrong silently (a lost error, an overlapped VMA, a shared one, a page outside, an unbounded allocation).</summary>
    public byte Lost, Corrupt, SharedMapped, OutsidePage, Unbounded;
    public ushort Broken;
}

public enum RestoreInvariant
{
    Atomic, EqualOnSuccess, PagesInsidePrivate, BoundedAllocation, FlagsNamespace, NoErrorLost, RestoreSucceeds, RestoreFails,
}

public static class RestoreInvariants
{
    public static readonly PropertyTable<RestoreInvariant> Table = new(
        (RestoreInvariant.Atomic, "atomic", Always, "a restore that fails leaves the address space exactly as it was (no half-restored mm)",
            "003 cr_read_mm(): the current mm is nuked before cr_hdr_mm and the VMAs are read"),
        (RestoreInvariant.EqualOnSuccess, "equal-on-success", Always, "a restore that succeeds gives the checkpointed address space: every VMA, every page",
            "003 cr_read_vma(): do_mmap_pgoff(file, vm_start, vm_size, vm_prot, MAP_FIXED …) over an earlier VMA"),
        (RestoreInvariant.PagesInsidePrivate, "pages-inside-private", Always, "every page written lies inside a private VMA of the image",
            "003 cr_read_pages_contents(): get_user_pages(current, mm, vaddrs[i], …) on any address the image gives"),
        (RestoreInvariant.BoundedAllocation, "bounded-allocation", Always, "no allocation is larger than the image justifies: counts are bounded before use",
            "003 cr_read_pages_vaddrs(ctx, nr_pages): page arrays allocated for any nr_pages"),
        (RestoreInvariant.FlagsNamespace, "flags-namespace", Always, "the private-mapping test reads vm_flags with VM_* masks, never MAP_* bits with VM_SHARED",
            "003 cr_read_vma(): vm_flags = cr_calc_map_flags_bits(hh->vm_flags); … if (vm_flags & VM_SHARED) goto err;"),
        (RestoreInvariant.NoErrorLost, "no-error-lost", Always, "every read or mapping error is reported; none is swallowed",
            "003 cr_read_pages_contents(): out: up_read(&mm->mmap_sem); kfree(buf); return 0;"),
        (RestoreInvariant.RestoreSucceeds, "restore-succeeds", Sometimes, "some image restores", "DESIGN.md invariant catalogue (restore)"),
        (RestoreInvariant.RestoreFails, "restore-fails", Sometimes, "some image is refused", "DESIGN.md invariant catalogue (restore)"));
}

/// <summary>
/// mm restore as a state machine whose adversary is the image: each step reads the record the
/// explorer chooses from a small alphabet (a valid VMA, an overlapping, shared, unaligned or empty
/// one, pages inside or outside, a huge count, the end, a truncation, a read error). The seed (v6)
/// nukes the mm first and maps and fills as it reads; the reference checks everything into a
/// staging mm and replaces the live one only at the end.
/// </summary>
public sealed class RestoreSpec(RestoreDesign design) : ISpec<RestoreState, RestoreAction>
{
    public const int MaxRecords = 10;

    public RestoreDesign Design { get; } = design;
    public string Name => $"restore/{Design.Name}";
    public IReadOnlyList<Property> Properties { get; } = RestoreInvariants.Table.Properties();

    public void Initial(List<RestoreState> into) => into.Add(default);

    public int Enabled(in RestoreState s, Span<RestoreAction> into)
    {
        int n = 0;
        if (s.Phase >= RestoreState.Succeeded || s.Records >= MaxRecords) return 0;
        into[n++] = new(ImageRecord.Truncated);
        switch (s.Phase)
        {
            case RestoreState.ExpectMm:
                into[n++] = new(ImageRecord.Mm, 1);
                into[n++] = new(ImageRecord.Mm, 2);
                break;
            case RestoreState.ExpectVmaOrContext when s.VmasLeft > 0:
                foreach (var r in new[] { ImageRecord.Vma, ImageRecord.VmaShared, ImageRecord.VmaUnaligned, ImageRecord.VmaEmpty })
                    into[n++] = new(r);
                if (s.Vmas > 0) into[n++] = new(ImageRecord.VmaOverlapping);
                break;
            case RestoreState.ExpectVmaOrContext:
                into[n++] = new(ImageRecord.Context);
                break;
            case RestoreState.ExpectPages:
                if (s.PagesInVma < 2) into[n++] = new(ImageRecord.PagesInside);
                if (s.PagesInVma > 0) into[n++] = new(ImageRecord.PagesRepeated);
                foreach (var r in new[] { ImageRecord.PagesOutside, ImageRecord.PagesHugeCount, ImageRecord.PagesEnd, ImageRecord.ReadError })
                    into[n++] = new(r);
                break;
        }
        return n;
    }

    private static void Fail(ref RestoreState s) => s.Phase = RestoreState.Failed;

    public RestoreState Next(in RestoreState s0, in RestoreAction a)
    {
        var s = s0;
        s.Records++;
        bool v6 = !Design.ValidatesBeforeReplacing;
        switch (a.Record)
        {
            case ImageRecord.Truncated: // the reader's error is returned (both designs): the restore fails
                Fail(ref s);
                break;
            case ImageRecord.Mm:
                if (v6) s.Live = RestoreState.LiveNuked; // the seed nukes the mm before it reads anything
                s.VmasLeft = a.Arg;
                s.Phase = RestoreState.ExpectVmaOrContext;
                break;
            case ImageRecord.Vma:
                s.PagesInVma = 0;
                s.VmasLeft--; s.Vmas++;
                s.Phase = RestoreState.ExpectPages;
                break;
            case ImageRecord.VmaOverlapping:
                if (!v6) { Fail(ref s); break; }                    // sorted and disjoint, or refused
                s.Corrupt = 1;                                       // MAP_FIXED maps over the earlier VMA
                s.PagesInVma = 0;
                s.VmasLeft--; s.Vmas++;
                s.Phase = RestoreState.ExpectPages;
                break;
            case ImageRecord.VmaShared:
                if (Design.VmFlagsNamespace) { Fail(ref s); break; } // VM_SHARED | VM_MAYSHARE on vm_flags: refused
                s.SharedMapped = 1;                                  // MAP_* bits & VM_SHARED is 0: a shared mapping slips in
                s.PagesInVma = 0;
                s.VmasLeft--; s.Vmas++;
                s.Phase = RestoreState.ExpectPages;
                break;
            case ImageRecord.VmaUnaligned or ImageRecord.VmaEmpty:
                Fail(ref s);                                         // refused by the check, or by do_mmap_pgoff's -EINVAL
                break;
            case ImageRecord.PagesInside:
                if (v6 && s.SharedMapped != 0) s.OutsidePage = 1;    // written into the shared VMA that slipped in
                if (v6) s.Live = RestoreState.LiveNuked;
                s.PagesInVma++;
                break;
            case ImageRecord.PagesRepeated:
                if (!v6) { Fail(ref s); break; }                     // each page once, in ascending order
                s.Corrupt = 1;                                        // the later contents overwrite the earlier
                break;
            case ImageRecord.PagesOutside:
                if (Design.ChecksPagesInVmas) { Fail(ref s); break; }
                // get_user_pages() fails on an unmapped address; cr_read_pages_contents() returns 0.
                if (!Design.ReportsReadErrors) { s.Lost = 1; s.Corrupt = 1; } else Fail(ref s);
                break;
            case ImageRecord.PagesHugeCount:
                if (!v6) { Fail(ref s); break; }                     // nr_pages bounded before any allocation
                s.Unbounded = 1;                                      // page arrays allocated for nr_pages, then the read fails
                Fail(ref s);
                break;
            case ImageRecord.ReadError:
                if (Design.ReportsReadErrors) { Fail(ref s); break; }
                s.Lost = 1; s.Corrupt = 1;                            // return 0: the page keeps whatever it held
                break;
            case ImageRecord.PagesEnd:
                s.Phase = RestoreState.ExpectVmaOrContext;
                break;
            case ImageRecord.Context:
                s.Phase = RestoreState.Succeeded;
                s.Live = RestoreState.LiveImage;                        // the reference replaces the live mm here, in one step
                break;
        }
        return s;
    }

    private static ulong Bit(RestoreInvariant i) => PropertyTable<RestoreInvariant>.Bit(i);

    public ulong Violated(in RestoreState s)
    {
        ulong v = s.Broken;
        if (s.Phase == RestoreState.Failed && s.Live != RestoreState.LiveOriginal) v |= Bit(RestoreInvariant.Atomic);
        if (s.Phase == RestoreState.Succeeded && s.Corrupt != 0) v |= Bit(RestoreInvariant.EqualOnSuccess);
        if (s.OutsidePage != 0) v |= Bit(RestoreInvariant.PagesInsidePrivate);
        if (s.Unbounded != 0) v |= Bit(RestoreInvariant.BoundedAllocation);
        if (s.SharedMapped != 0) v |= Bit(RestoreInvariant.FlagsNamespace);
        if (s.Lost != 0) v |= Bit(RestoreInvariant.NoErrorLost);
        return v;
    }

    public ulong Reached(in RestoreState s) =>
        (s.Phase == RestoreState.Succeeded ? Bit(RestoreInvariant.RestoreSucceeds) : 0) |
        (s.Phase == RestoreState.Failed ? Bit(RestoreInvariant.RestoreFails) : 0);

    public string Describe(in RestoreState s, in RestoreAction a) => a.Record switch
    {
        ImageRecord.Mm => $"image: cr_hdr_mm, map_count {a.Arg}{(Design.ValidatesBeforeReplacing ? "" : " -> the current mm is nuked")}",
        ImageRecord.Vma => "image: cr_hdr_vma, a private anonymous VMA after the last one -> mapped",
        ImageRecord.VmaOverlapping => $"image: cr_hdr_vma overlapping the previous VMA -> {(Design.ValidatesBeforeReplacing ? "refused" : "do_mmap_pgoff(MAP_FIXED) maps over it")}",
        ImageRecord.VmaShared => $"image: cr_hdr_vma with VM_SHARED -> {(Design.VmFlagsNamespace ? "refused (VM_SHARED tested on vm_flags)" : "accepted (VM_SHARED tested on MAP_* bits)")}",
        ImageRecord.VmaUnaligned => "image: cr_hdr_vma with an unaligned vm_start -> refused",
        ImageRecord.VmaEmpty => "image: cr_hdr_vma with vm_end == vm_start -> refused",
        ImageRecord.PagesInside => "image: cr_hdr_pgarr, a page inside the VMA -> written",
        ImageRecord.PagesRepeated => $"image: cr_hdr_pgarr, a page written already -> {(Design.ValidatesBeforeReplacing ? "refused" : "written again")}",
        ImageRecord.PagesOutside => $"image: cr_hdr_pgarr, a page outside every VMA -> {(Design.ChecksPagesInVmas ? "refused" : Design.ReportsReadErrors ? "get_user_pages() fails: error" : "get_user_pages() fails, cr_read_pages_contents() returns 0")}",
        ImageRecord.PagesHugeCount => $"image: cr_hdr_pgarr, nr_pages 2^40 -> {(Design.ValidatesBeforeReplacing ? "refused before any allocation" : "page arrays allocated for it")}",
        ImageRecord.PagesEnd => "image: cr_hdr_pgarr, nr_pages 0 -> the VMA's pages end",
        ImageRecord.Context => $"image: cr_hdr_mm_context -> done{(Design.ValidatesBeforeReplacing ? ": the staged mm replaces the live one" : "")}",
        ImageRecord.Truncated => "image: ends here -> the read fails",
        _ => $"reading page contents fails -> {(Design.ReportsReadErrors ? "error" : "cr_read_pages_contents() returns 0")}",
    };

    public void Render(in RestoreState s, List<TraceVar> into)
    {
        into.Add(new("reading", TraceValue.Of(s.Phase switch { 0 => "cr_hdr_mm", 1 => s.VmasLeft > 0 ? $"cr_hdr_vma ({s.VmasLeft} to go)" : "cr_hdr_mm_context", 2 => "cr_hdr_pgarr", 3 => "done: restored", _ => "done: failed" })));
        into.Add(new("live_mm", TraceValue.Of(s.Live switch { 0 => "as it was", 1 => "nuked, being rebuilt", _ => "the image's" })));
        into.Add(new("records", TraceValue.Of(s.Records)));
        into.Add(new("silently_wrong", TraceValue.Of(string.Join(" ", new[] { (s.Lost, "error lost"), (s.Corrupt, "restored mm differs"), (s.SharedMapped, "shared VMA mapped"), (s.OutsidePage, "page outside a private VMA"), (s.Unbounded, "unbounded allocation") }.Where(x => x.Item1 != 0).Select(x => x.Item2).DefaultIfEmpty("-")))));
    }
}
