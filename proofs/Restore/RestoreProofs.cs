using Multikernel.Model.Restore;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;
using static Multikernel.Model.Restore.RestoreConstants;

namespace Multikernel.Proofs.Restore;

/// <summary>
/// Restore's obligations for a design, for all 64-bit field values: what its validation of the
/// image's fields guarantees the arithmetic, the pages and the mmap flags. Constants from the model.
/// "No overflow" is stated in 128 bits: the 64-bit result equals the true one.
/// </summary>
public static class RestoreProofs
{
    private const uint W = RestoreEncoding.Width, X = RestoreEncoding.Wide;

    private static string Source(RestoreInvariant i) => RestoreInvariants.Table.Properties()[(int)i].Source;

    /// <summary>The obligations of a restore design (its checks are what the encoding reads); null for any other mechanism's design.</summary>
    public static IReadOnlyList<Obligation>? ForDesign(Model.Checking.IDesign design) => design is RestoreDesign d && Model.Checking.ProofEncodedAttribute.On(d) ? For(d) : null;

    /// <summary>A VMA's fields as free 64-bit constants.</summary>
    private sealed class Vma(Z3Context z, string n)
    {
        public readonly BitVec Start = z.BitVec($"{n}start", W), End = z.BitVec($"{n}end", W), Flags = z.BitVec($"{n}vm_flags", W),
            Pgoff = z.BitVec($"{n}pgoff", W), Type = z.BitVec($"{n}type", W);
        public BoolTerm Accepted(RestoreEncoding e, BitVec prevEnd) => e.VmaAccepted(Start, End, Flags, Pgoff, Type, prevEnd);
        public (string, BitVec)[] Show => [($"{n}start", Start), ($"{n}end", End), ($"{n}vm_flags", Flags), ($"{n}pgoff", Pgoff), ($"{n}type", Type)];
    }

    public static IReadOnlyList<Obligation> For(RestoreDesign d) =>
    [
        new("restore.vma-arith", "an accepted VMA that do_mmap_pgoff() maps (its own refusals are the environment: len 0, an unaligned MAP_FIXED start, past TASK_SIZE) is mapped exactly: a whole, positive number of pages, end - start does not wrap, pages x PAGE_SIZE gives it back, start + length stays below TASK_SIZE, and do_mmap_pgoff()'s PAGE_ALIGN(len) ends at vm_end",
            Source(RestoreInvariant.EqualOnSuccess), z =>
            {
                var e = new RestoreEncoding(z, d);
                var v = new Vma(z, "");
                var prev = z.BitVec("prev_end", W);
                var len = v.End - v.Start;
                var pages = RestoreEncoding.PageCount(v.Start, v.End);
                var claim = (v.Accepted(e, prev) & e.MmapAccepts(v.Start, v.End, v.Pgoff)).Implies(
                    len.Widen(X).Eq(v.End.Widen(X) - v.Start.Widen(X)) & !len.Eq(0)
                    & (pages << pages.Z3Num(PageShift)).Eq(len)
                    & (v.Start.Widen(X) + len.Widen(X)).ULe(TaskSize)
                    & e.MappedEnd(v.Start, v.End).Eq(v.End));
                return new Goal(claim, [.. v.Show, ("prev_end", prev), ("mapped_end", e.MappedEnd(v.Start, v.End))]);
            }),
        new("restore.pgoff-fits", "an accepted file VMA that do_mmap_pgoff() maps has pgoff + pages within a file offset (do_mmap_pgoff() refuses only a 64-bit wrap)",
            Source(RestoreInvariant.EqualOnSuccess), z =>
            {
                var e = new RestoreEncoding(z, d);
                var v = new Vma(z, "");
                var prev = z.BitVec("prev_end", W);
                var pages = RestoreEncoding.PageCount(v.Start, v.End);
                var claim = (v.Accepted(e, prev) & e.MmapAccepts(v.Start, v.End, v.Pgoff) & v.Type.Eq(VmaTypeFile)).Implies(
                    (v.Pgoff.Widen(X) + pages.Widen(X)).ULe(ulong.MaxValue >> PageShift));
                return new Goal(claim, [.. v.Show, ("prev_end", prev)]);
            }),
        new("restore.chunk-bounded", "an accepted page-array header's count is at most its VMA's pages (and a chunk) before any address is read, and its record length is exactly what the count takes (nr x (8 + PAGE_SIZE) + 8, no product wraps)",
            Source(RestoreInvariant.BoundedAllocation), z =>
            {
                var e = new RestoreEncoding(z, d);
                var nr = z.BitVec("nr_pages", W);
                var vmaPages = z.BitVec("vma_pages", W);
                var len = z.BitVec("len", W);
                var claim = (len.ULe(MaxRecordLength) & vmaPages.ULe(TaskSize >> PageShift) & e.ChunkAccepted(nr, vmaPages, len)).Implies(
                    nr.ULe(vmaPages) & (nr.Widen(X) * PgarrPerPage + PgarrFixed).Eq(len.Widen(X)));
                return new Goal(claim, [("nr_pages", nr), ("vma_pages", vmaPages), ("len", len)]);
            }),
        new("restore.page-inside", "every page address accepted for an accepted VMA that do_mmap_pgoff() maps is page-aligned and its whole page lies inside that VMA",
            Source(RestoreInvariant.PagesInside), z =>
            {
                var e = new RestoreEncoding(z, d);
                var v = new Vma(z, "");
                var prev = z.BitVec("prev_end", W);
                var addr = z.BitVec("page", W);
                var next = z.BitVec("next", W);
                var claim = (v.Accepted(e, prev) & e.MmapAccepts(v.Start, v.End, v.Pgoff) & next.UGe(v.Start) & e.PageAccepted(addr, v.Start, v.End, next)).Implies(
                    (addr & (PageSize - 1)).Eq(0) & v.Start.ULe(addr) & (addr.Widen(X) + PageSize).ULe(v.End.Widen(X)));
                return new Goal(claim, [.. v.Show, ("page", addr)]);
            }),
        new("restore.vmas-disjoint", "a page accepted for a VMA is inside no earlier accepted VMA (both mapped by do_mmap_pgoff()): two VMAs never claim one page",
            Source(RestoreInvariant.EqualOnSuccess), z =>
            {
                var e = new RestoreEncoding(z, d);
                var a = new Vma(z, "a.");
                var b = new Vma(z, "b.");
                var prev = z.BitVec("prev_end", W);
                var addr = z.BitVec("page", W);
                var claim = (a.Accepted(e, prev) & e.MmapAccepts(a.Start, a.End, a.Pgoff) & b.Accepted(e, a.End) & e.MmapAccepts(b.Start, b.End, b.Pgoff) & e.PageAccepted(addr, b.Start, b.End, b.Start)).Implies(
                    !(a.Start.ULe(addr) & addr.ULt(a.End)));
                return new Goal(claim, [.. a.Show, .. b.Show, ("page", addr)]);
            }),
        new("restore.shared-refused", "a VMA is refused as shared exactly when its vm_flags has VM_SHARED or VM_MAYSHARE: vm_flags is tested with VM_* masks, never the MAP_* value built from it",
            Source(RestoreInvariant.FlagsNamespace), z =>
            {
                var e = new RestoreEncoding(z, d);
                var f = z.BitVec("vm_flags", W);
                return new Goal(e.RefusedAsShared(f).Iff(!(f & SharedVmFlags).Eq(0)), [("vm_flags", f), ("map_flags", e.MapFlags(f))]);
            }),
        new("restore.mmap-private", "an accepted VMA is mapped MAP_FIXED | MAP_PRIVATE, never MAP_SHARED, with PROT_* only from VM_READ, VM_WRITE and VM_EXEC (never vm_flags & PROT_SEM)",
            Source(RestoreInvariant.FlagsNamespace), z =>
            {
                var e = new RestoreEncoding(z, d);
                var f = z.BitVec("vm_flags", W);
                var prot = e.MapProt(f);
                var map = e.MapFlags(f);
                var claim = (!e.RefusedAsShared(f)).Implies(
                    (prot & ~(ProtRead | ProtWrite | ProtExec)).Eq(0) & (map & (MapFixed | MapPrivate | MapShared)).Eq(MapFixed | MapPrivate));
                return new Goal(claim, [("vm_flags", f), ("prot", prot), ("map_flags", map)]);
            }),
        new("restore.flags-injective", "two accepted VMAs whose vm_flags differ in a bit mmap can carry get different (prot, flags): the translation loses nothing restore must give back",
            Source(RestoreInvariant.EqualOnSuccess), z =>
            {
                var e = new RestoreEncoding(z, d);
                var f = z.BitVec("vm_flags_a", W);
                var g = z.BitVec("vm_flags_b", W);
                var claim = (!e.RefusedAsShared(f) & !e.RefusedAsShared(g) & e.MapProt(f).Eq(e.MapProt(g)) & e.MapFlags(f).Eq(e.MapFlags(g)))
                    .Implies((f & TranslatedVmFlags).Eq(g & TranslatedVmFlags));
                return new Goal(claim, [("vm_flags_a", f), ("vm_flags_b", g), ("prot", e.MapProt(f)), ("map_flags", e.MapFlags(f))]);
            }),
    ];
}
