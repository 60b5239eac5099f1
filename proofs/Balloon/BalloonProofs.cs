using Multikernel.Model.Balloon;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Proofs.Balloon;

/// <summary>
/// The balloon's obligations for a design, for all 64-bit values a real machine and a conforming host
/// can give (a PFN below 2^40, x86-64's physical limit; a GET_TARGET answer no larger than the
/// 32-bit limit the guest sent); with <c>hostileHost</c>, any GET_TARGET answer. Constants from the model.
/// </summary>
public static class BalloonProofs
{
    private const uint W = BalloonEncoding.Width;

    private static string Source(BalloonInvariant i) => BalloonInvariants.Table.Properties()[(int)i].Source;

    /// <summary>The obligations of a design the encoding describes (<see cref="Model.Checking.ProofEncodedAttribute"/>); null for any other: not proved.</summary>
    public static IReadOnlyList<Obligation>? ForDesign(Model.Checking.IDesign design) =>
        design is BalloonDesign d && Model.Checking.ProofEncodedAttribute.On(d) ? For(d) : null;

    /// <summary>A PFN ≥ 2^32 needs ≥ 16 TiB of guest memory (4 KiB pages): named in a counterexample.</summary>
    private static readonly Dictionary<string, Func<ulong, string>> PfnNames = new()
    {
        ["pfn"] = Huge, ["pfn_a"] = Huge, ["pfn_b"] = Huge,
    };

    private static string Huge(ulong pfn) => pfn >> 32 != 0 ? "≥ 2^32: a guest with ≥ 16 TiB of memory" : "";

    public static IReadOnlyList<Obligation> For(BalloonDesign d, bool hostileHost = false)
    {
        var list = new List<Obligation>
        {
            new("balloon.size-inductive", "size = |locked| is kept by LOCK of a page not locked, UNLOCK of a locked page, and RESET (16 page slots: the lemma is about counting)",
                Source(BalloonInvariant.SizeMatches), z =>
                {
                    const uint Slots = 16;
                    var e = new BalloonEncoding(z, d);
                    var size = z.BitVec("size", Slots);
                    var locked = z.BitVec("locked", Slots);
                    var slot = z.BitVec("slot", Slots);
                    var bit = z.Num(1, Slots) << slot;
                    var (resetSize, resetLocked) = e.AfterReset(size);
                    var claim = (slot.ULt(Slots) & size.Eq(e.PopCount(locked))).Implies(
                        (locked & bit).Eq(0).Implies((size + 1).Eq(e.PopCount(locked | bit))) &
                        (!(locked & bit).Eq(0)).Implies((size - 1).Eq(e.PopCount(locked & ~bit))) &
                        resetSize.Eq(e.PopCount(resetLocked)));
                    return new Goal(claim, [("size", size), ("locked", locked), ("slot", slot)]);
                }),
            new("balloon.pfn-injective", "two different pages the guest sends never reach the host as the same PFN (the host locks the page the guest counts)",
                Source(BalloonInvariant.PfnFits), z =>
                {
                    var e = new BalloonEncoding(z, d);
                    var p = z.BitVec("pfn_a", W);
                    var q = z.BitVec("pfn_b", W);
                    bool batched = d.Batched;
                    var claim = (BalloonEncoding.RealPfn(p) & BalloonEncoding.RealPfn(q) & e.SendsPfn(p, batched) & e.SendsPfn(q, batched) & !p.Eq(q))
                        .Implies(!e.WirePfn(p, batched).Eq(e.WirePfn(q, batched)));
                    return new Goal(claim, [("pfn_a", p), ("pfn_b", q), ("wire", e.WirePfn(p, batched))]) { Names = PfnNames };
                }),
            new("balloon.pfn-check", "the PFN check never accepts a value it truncates: a sent page's PFN arrives whole (LOCK / UNLOCK: 32 bits)",
                Source(BalloonInvariant.PfnFits), z =>
                {
                    var e = new BalloonEncoding(z, d);
                    var pfn = z.BitVec("pfn", W);
                    var claim = (BalloonEncoding.RealPfn(pfn) & e.SendsPfn(pfn, batched: false)).Implies(e.WirePfn(pfn, batched: false).Eq(pfn));
                    return new Goal(claim, [("pfn", pfn), ("wire", e.WirePfn(pfn, batched: false))]) { Names = PfnNames };
                }),
            new("balloon.target-check", hostileHost
                    ? "the GET_TARGET check never accepts an answer it truncates, whatever the host answers (hostile host)"
                    : "the target acted on is the host's, for every answer a conforming host gives (at most the 32-bit limit the guest sent)",
                Source(BalloonInvariant.TargetGiven), z =>
                {
                    var e = new BalloonEncoding(z, d);
                    var answer = z.BitVec("answer", W);
                    var limit = z.BitVec("limit", W);
                    var (taken, stored) = e.StoredTarget(answer);
                    var host = hostileHost ? z.True : BalloonEncoding.ConformingTarget(answer, limit);
                    return new Goal((host & taken).Implies(stored.Eq(answer)), [("answer", answer), ("limit", limit), ("stored", stored)]);
                }),
            new("balloon.reset-gate", "the guest leaves reset handling only after a START the host accepted (until then the host refuses everything else)",
                Source(BalloonInvariant.ResetOrder), z =>
                {
                    var e = new BalloonEncoding(z, d);
                    var status = z.BitVec("start_status", W);
                    var claim = e.ClearsReset(status).Implies(status.Eq(Success) | status.Eq(SuccessWithCapabilities));
                    return new Goal(claim, [("start_status", status)])
                    {
                        Names = new Dictionary<string, Func<ulong, string>> { ["start_status"] = v => v == ErrorReset ? "VMW_BALLOON_ERROR_RESET" : v == Success ? "VMW_BALLOON_SUCCESS" : "" },
                    };
                }),
            new("balloon.features-exact", "get_features() returns exactly MUST_TELL_HOST | HOST_MAY_REFUSE, whatever the word held before",
                Source(BalloonInvariant.FeaturesExact), z =>
                {
                    var e = new BalloonEncoding(z, d);
                    var garbage = z.BitVec("stack_garbage", W);
                    var f = e.Features(garbage);
                    return new Goal(f.Eq(OfferedFeatures), [("stack_garbage", garbage), ("features", f)]);
                }),
        };
        if (d.Batched)
            list.Add(new("balloon.batch-roundtrip", "a batch entry gives back the PFN and the status it was built from, for every PFN the batch sends and every status",
                "mainline struct vmballoon_batch_entry { u64 status : 5; u64 reserved : PAGE_SHIFT - 5; u64 pfn : 52; }", z =>
                {
                    var e = new BalloonEncoding(z, d);
                    var pfn = z.BitVec("pfn", W);
                    var status = z.BitVec("status", W);
                    var entry = e.BatchEntry(e.WirePfn(pfn, batched: true), status);
                    var claim = (BalloonEncoding.RealPfn(pfn) & e.SendsPfn(pfn, batched: true) & status.ULe(BatchStatusMask))
                        .Implies(e.BatchPfn(entry).Eq(pfn) & BalloonEncoding.BatchStatus(entry).Eq(status));
                    return new Goal(claim, [("pfn", pfn), ("status", status), ("entry", entry)]) { Names = PfnNames };
                }));
        return list;
    }
}
