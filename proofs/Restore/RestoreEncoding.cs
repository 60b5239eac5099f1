using Multikernel.Model.Restore;
using Multikernel.Proofs.Z3;
using static Multikernel.Model.Restore.RestoreConstants;

namespace Multikernel.Proofs.Restore;

/// <summary>
/// A restore design's checks as Z3 terms over 64-bit fields, one for one with
/// <see cref="RestoreValidation"/> (CheckVma, CheckChunk, CheckPage, MapProt, MapFlags) under the
/// design's <see cref="RestoreDesign.Checks"/>. A test evaluates both on random headers, so a proof
/// cannot be about a different validator.
/// </summary>
public sealed class RestoreEncoding(Z3Context z, RestoreDesign d)
{
    public const uint Width = 64;
    /// <summary>Wide enough that no sum or product of two 64-bit fields wraps: where "no overflow" is stated.</summary>
    public const uint Wide = 128;

    private bool On(RestoreCheck c) => (d.Checks & c) != 0;
    private BitVec N(ulong v) => z.Num(v, Width);
    private static BitVec Pages(BitVec start, BitVec end) => (end - start) >> start.Z3Num(PageShift);
    private static BoolTerm Aligned(BitVec x) => (x & (PageSize - 1)).Eq(0);

    /// <summary>CheckVma(...) == None.</summary>
    public BoolTerm VmaAccepted(BitVec start, BitVec end, BitVec vmFlags, BitVec pgoff, BitVec type, BitVec prevEnd)
    {
        var ok = z.True;
        if (On(RestoreCheck.VmaAligned)) ok &= Aligned(start) & Aligned(end);
        if (On(RestoreCheck.VmaNotReversed)) ok &= start.ULe(end);
        if (On(RestoreCheck.VmaNonEmpty)) ok &= start.ULt(end);
        if (On(RestoreCheck.VmaInTaskSize)) ok &= end.ULe(TaskSize);
        if (On(RestoreCheck.VmaSorted)) ok &= prevEnd.ULe(start);
        ok &= !RefusedAsShared(vmFlags);
        ok &= type.Eq(VmaTypeAnon) | type.Eq(VmaTypeFile);
        if (On(RestoreCheck.PgoffFits)) ok &= type.Eq(VmaTypeFile).Implies(pgoff.ULe(N(ulong.MaxValue >> PageShift) - Pages(start, end)));
        return ok;
    }

    /// <summary>The environment: DoMmapPgoff(start, end, pgoff) == None, do_mmap_pgoff()'s own refusals (2.6.27).</summary>
    public BoolTerm MmapAccepts(BitVec start, BitVec end, BitVec pgoff)
    {
        var len = end - start;
        var aligned = (len + (PageSize - 1)) & ~N(PageSize - 1);
        return !len.Eq(0) & !aligned.Eq(0) & aligned.ULe(TaskSize) & (pgoff + (aligned >> start.Z3Num(PageShift))).UGe(pgoff)
            & start.ULe(N(TaskSize) - aligned) & Aligned(start);
    }

    /// <summary>MappedEnd(start, end): start + PAGE_ALIGN(end - start).</summary>
    public BitVec MappedEnd(BitVec start, BitVec end) => start + ((end - start + (PageSize - 1)) & ~N(PageSize - 1));

    public BoolTerm RefusedAsShared(BitVec vmFlags) =>
        On(RestoreCheck.SharedByVmFlags) ? !(vmFlags & SharedVmFlags).Eq(0) : !(MapFlags(vmFlags) & VmShared).Eq(0);

    public BitVec MapProt(BitVec vmFlags) =>
        Translate(ProtRows, vmFlags) | (On(RestoreCheck.ProtFromVmFlags) ? N(0) : BitVec.Ite((vmFlags & ProtSem).Eq(0), N(0), N(ProtSem)));

    public BitVec MapFlags(BitVec vmFlags) =>
        N(MapFixed) | Translate(MapRows, vmFlags) | BitVec.Ite((vmFlags & VmMayshare).Eq(0), N(MapPrivate), N(MapShared));

    private BitVec Translate((ulong Vm, ulong To)[] rows, BitVec vmFlags)
    {
        var to = N(0);
        foreach (var (vm, bit) in rows)
            to |= BitVec.Ite((vmFlags & (vm & ~d.Untranslated)).Eq(0), N(0), N(bit));
        return to;
    }

    /// <summary>CheckChunk(...) == None.</summary>
    public BoolTerm ChunkAccepted(BitVec nr, BitVec vmaPages, BitVec len)
    {
        var ok = z.True;
        if (On(RestoreCheck.ChunkBounded)) ok &= nr.ULe(MaxChunkPages) & nr.ULe(vmaPages);
        if (On(RestoreCheck.ChunkLength)) ok &= len.Eq(nr * PgarrPerPage + PgarrFixed);
        return ok;
    }

    /// <summary>CheckPage(...) == None.</summary>
    public BoolTerm PageAccepted(BitVec addr, BitVec start, BitVec end, BitVec next)
    {
        var ok = z.True;
        if (On(RestoreCheck.PageInVma)) ok &= Aligned(addr) & start.ULe(addr) & addr.ULt(end);
        if (On(RestoreCheck.PageAscending)) ok &= next.ULe(addr);
        return ok;
    }

    /// <summary>The VMA's page count as restore computes it, (end - start) &gt;&gt; PAGE_SHIFT.</summary>
    public static BitVec PageCount(BitVec start, BitVec end) => Pages(start, end);
}
