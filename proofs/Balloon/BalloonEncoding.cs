using Multikernel.Model.Balloon;
using Multikernel.Proofs.Z3;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Proofs.Balloon;

/// <summary>
/// A balloon design's rules as Z3 terms, one for one with <see cref="BalloonDesign"/>'s functions
/// (<see cref="BalloonDesign.SendsPfn"/>, <see cref="BalloonDesign.WirePfn"/>,
/// <see cref="BalloonDesign.StoredTarget"/>, <see cref="BalloonDesign.ClearsReset"/>) and the batch
/// entry format of <see cref="BalloonConstants"/>, over 64-bit values. A test evaluates both on
/// random concrete values, so a proof cannot be about a different machine.
/// </summary>
public sealed class BalloonEncoding(Z3Context z, BalloonDesign d)
{
    public const uint Width = 64;

    private BitVec Num(ulong v) => z.Num(v, Width);
    private static BitVec Low32(BitVec x) => x & 0xffff_ffffUL;
    public static BoolTerm Fits32(BitVec x) => Low32(x).Eq(x);

    public BoolTerm SendsPfn(BitVec pfn, bool batched) =>
        batched ? pfn.ULe(BatchMaxPfn) : d.Pfn == PfnPath.TruncatedArray ? z.True : Fits32(pfn);

    public BitVec WirePfn(BitVec pfn, bool batched) =>
        (batched ? d.Has(BalloonDesign.Defect.TruncatePfn) : d.Pfn == PfnPath.TruncatedArray) ? Low32(pfn) : pfn;

    /// <summary>StoredTarget: whether the answer is taken, and the value stored.</summary>
    public (BoolTerm Taken, BitVec Stored) StoredTarget(BitVec answer) =>
        (d.TargetChecked ? Fits32(answer) : z.True, Low32(answer));

    /// <summary>ClearsReset(status): whether the reset sequence clears the reset after START answered this status.</summary>
    public BoolTerm ClearsReset(BitVec status) =>
        d.Has(BalloonDesign.Defect.ClearOnFailedStart) ? z.True
        : d.Reset == ResetStyle.DriverPops ? status.Eq(Success) | status.Eq(SuccessWithCapabilities)
        : status.Eq(Success);

    // ---- the environment: what a real machine and a conforming host can give ----

    /// <summary>x86-64 addresses at most 2^52 bytes of physical memory (MAX_PHYSMEM_BITS with 5-level paging): a 4 KiB page's PFN is below 2^40.</summary>
    public const int MaxPfnBits = 52 - PageShift;
    public static BoolTerm RealPfn(BitVec pfn) => pfn.ULt(1UL << MaxPfnBits);

    /// <summary>
    /// A conforming host's GET_TARGET answer: no more than the limit the guest sent, which the guest
    /// checked to fit 32 bits (002 vmballoon_send_get_target(): limit32 = (u32)limit; if (limit != limit32) return false;).
    /// </summary>
    public static BoolTerm ConformingTarget(BitVec answer, BitVec limit) => Fits32(limit) & answer.ULe(limit);

    public BitVec BatchEntry(BitVec pfn, BitVec status) => (pfn << Num(PageShift)) | (status & BatchStatusMask);
    public BitVec BatchPfn(BitVec entry) => entry >> Num(PageShift);
    public static BitVec BatchStatus(BitVec entry) => entry & BatchStatusMask;

    /// <summary>The features get_features() returns: the design's bits, over whatever an uninitialised word held.</summary>
    public BitVec Features(BitVec garbage) => d.FeaturesInitialised ? Num(d.FeaturesSet) : garbage | d.FeaturesSet;

    /// <summary>|set| for a 64-bit set of page slots (the SWAR popcount: shifts, masks and adds, which Z3 bit-blasts cheaply).</summary>
    public BitVec PopCount(BitVec set)
    {
        uint w = set.Width;
        ulong Mask(ulong m) => w == 64 ? m : m & ((1UL << (int)w) - 1);
        BitVec N(ulong v) => z.Num(v, w);
        var x = set - ((set >> N(1)) & Mask(0x5555_5555_5555_5555UL));
        x = (x & Mask(0x3333_3333_3333_3333UL)) + ((x >> N(2)) & Mask(0x3333_3333_3333_3333UL));
        x = (x + (x >> N(4))) & Mask(0x0f0f_0f0f_0f0f_0f0fUL);
        x += x >> N(8);
        if (w > 16) x += x >> N(16);
        if (w > 32) x += x >> N(32);
        return x & 0x7fUL;
    }

    /// <summary>What RESET leaves: the host forgets every page; the guest pops its own (unless the design keeps them).</summary>
    public (BitVec Size, BitVec Locked) AfterReset(BitVec size) =>
        (d.Has(BalloonDesign.Defect.KeepOnReset) ? size : z.Num(0, size.Width), z.Num(0, size.Width));
}
