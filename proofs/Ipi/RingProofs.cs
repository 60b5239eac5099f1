using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;

namespace Multikernel.Proofs.Ipi;

/// <summary>
/// The reference ring's obligations, for all states: 32-bit wrapping head and tail (every
/// one of the 2^64 pairs) and every ring size the implementation accepts, a power of two up
/// to MK_IPI_RING. Claim, publish and consume are the steps of <see cref="RingDesign"/>.
/// </summary>
public static class RingProofs
{
    public const uint Width = 32;
    private const string RingSource = "reference design: later multikernel revisions (seed README; not in mainline): a ring with a cmpxchg-claimed head, -ENOSPC when full";
    private const string MaskSource = "seed README: indices are masked before use because the other kernel can write them";

    /// <summary>A ring size term constrained to 2^r, r ≤ log2(MK_IPI_RING), read from the model.</summary>
    private static (BitVec Size, BoolTerm Valid) RingSize(Z3Context z)
    {
        var r = z.BitVec("log2_ring", Width);
        var size = z.Num(1, Width) << r;
        uint maxLog = (uint)System.Numerics.BitOperations.Log2((uint)IpiConstants.MkIpiRingMax);
        return (size, r.ULe(maxLog));
    }

    private static Goal State(Z3Context z, RingDesign.Defect m, Func<RingEncoding, BitVec, BitVec, BoolTerm> claim, params string[] extra)
    {
        var (size, valid) = RingSize(z);
        var ring = new RingEncoding(size, m);
        var head = z.BitVec("head", Width);
        var tail = z.BitVec("tail", Width);
        var show = new List<(string, BitVec)> { ("ring", size), ("head", head), ("tail", tail) };
        return new Goal(valid.Implies(claim(ring, head, tail)), show);
    }

    /// <summary>
    /// Head, tail, and one slot with its state, all symbolic: a claim over one arbitrary slot
    /// is a claim over every slot. The slot is a valid index (below the ring size).
    /// </summary>
    private static Goal Slots(Z3Context z, RingDesign.Defect m, Func<RingEncoding, BitVec, BitVec, BitVec, BitVec, BoolTerm> claim)
    {
        var slot = z.BitVec("slot", Width);
        var state = z.BitVec("slot_state", Width);
        var g = State(z, m, (r, h, t) =>
            (slot.ULt(r.Size) & state.ULe(IpiConstants.SlotReady)).Implies(claim(r, h, t, slot, state)));
        return g with { Show = [.. g.Show, ("slot", slot), ("slot_state", state)] };
    }

    /// <summary>
    /// The obligations of a design, when it declares that it runs the encoded ring operations
    /// (<see cref="Model.Checking.ProofEncodedAttribute"/>); null for any other design: not proved.
    /// </summary>
    public static IReadOnlyList<Obligation>? ForDesign(Model.Checking.IDesign design)
    {
        if (design is not RingDesign ring || !Model.Checking.ProofEncodedAttribute.On(design)) return null;
        var defects = ring.Defects;
        var outside = defects & Unencoded;
        var obligations = For(defects);
        var why = new List<string>();
        if (outside != RingDesign.Defect.None) why.Add($"the design's {outside} ({Describe(outside)}) is outside the encoding: the ring's index arithmetic says nothing of it");
        // A subclass that declares itself encoded is held to it: its own steps are not the encoded ones.
        if (ring.StepsOutsideEncoding() is { Count: > 0 } own) why.Add($"the design declares the encoded ring but {string.Join("; ", own)}");
        if (why.Count == 0) return obligations;
        string text = string.Join("; and ", why);
        return obligations.Select(o => o with { Outside = text }).ToArray();
    }

    /// <summary>What the encoding covers: the index arithmetic of the ring, not the order of the steps, nor unregister or the area's lifetime.</summary>
    public const string Scope = "ring index arithmetic: the claim, publish and drain of head/tail and the slot states, for every 32-bit head and tail and every ring size up to MK_IPI_RING (not the order of fill and publish, unregister, or the area's lifetime)";

    /// <summary>The reference's safeguards that the encoding does not describe: a design without them is not proved by the ring obligations.</summary>
    private const RingDesign.Defect Unencoded = RingDesign.Defect.EarlyPublish | RingDesign.Defect.NoSync | RingDesign.Defect.NoRcu;

    private static string Describe(RingDesign.Defect d) => string.Join(", ", new[]
    {
        (RingDesign.Defect.EarlyPublish, "the slot is published before it is filled"),
        (RingDesign.Defect.NoSync, "unregister does not wait with irq_work_sync"),
        (RingDesign.Defect.NoRcu, "destroy frees the area without synchronize_rcu"),
    }.Where(x => (d & x.Item1) != 0).Select(x => x.Item2));

    /// <summary>The obligations for the reference design, or for the reference with defects (which should fail some).</summary>
    public static IReadOnlyList<Obligation> For(RingDesign.Defect m = RingDesign.Defect.None) =>
        Obligations(m).Select(o => o with { Scope = Scope }).ToArray();

    private static IReadOnlyList<Obligation> Obligations(RingDesign.Defect m) =>
    [
        new("ring.init", "the empty ring (head = tail = 0) satisfies head - tail <= ring", RingSource,
            z => State(z, m, (r, h, t) => r.Invariant(z.Num(0, Width), z.Num(0, Width)))),

        new("ring.claim-inductive", "claim keeps head - tail <= ring, and every READY slot inside [tail, head)", RingSource,
            z => Slots(z, m, (r, h, t, i, st) =>
                (r.Invariant(h, t) & r.ClaimGuard(h, t) & r.ReadyInWindow(i, st, h, t))
                    .Implies(r.Invariant(RingEncoding.Advance(h), t) & r.ReadyInWindow(i, st, RingEncoding.Advance(h), t)))),

        new("ring.publish-inductive", "publishing a claimed position's slot keeps every READY slot inside [tail, head)", RingSource,
            z =>
            {
                var pos = z.BitVec("published_position", Width);
                var g = Slots(z, m, (r, h, t, i, st) =>
                    (r.Invariant(h, t) & r.ReadyInWindow(i, st, h, t) & (pos - t).ULt(RingEncoding.Occupancy(h, t)))
                        .Implies(r.ReadyInWindow(i, r.AfterPublish(i, st, pos), h, t)));
                return g with { Show = [.. g.Show, ("published_position", pos)] };
            }),

        new("ring.consume-inductive", "consuming the READY slot at tail keeps both invariants (it was claimed: tail != head)", RingSource,
            z => Slots(z, m, (r, h, t, i, st) =>
                (r.Invariant(h, t) & r.ReadyInWindow(i, st, h, t) & r.ReadyInWindow(r.Slot(t), st.Z3Num(IpiConstants.SlotReady), h, t))
                    .Implies(r.Invariant(h, RingEncoding.Advance(t)) & r.ReadyInWindow(i, r.AfterConsume(i, st, t), h, RingEncoding.Advance(t))))),

        new("ring.claim-fresh", "a claim never takes a slot that a claimed, unconsumed position still holds", RingSource,
            z =>
            {
                var k = z.BitVec("k", Width);
                var g = State(z, m, (r, h, t) =>
                    (r.Invariant(h, t) & r.ClaimGuard(h, t) & k.ULt(RingEncoding.Occupancy(h, t))).Implies(!r.Slot(t + k).Eq(r.Slot(h))));
                return g with { Show = [.. g.Show, ("k", k)] };
            }),

        new("ring.slot-in-bounds", "a masked index is always inside the ring, whatever value the counter holds", MaskSource,
            z =>
            {
                var c = z.BitVec("counter", Width);
                var g = State(z, m, (r, h, t) => r.Slot(c).ULt(r.Size));
                return g with { Show = [.. g.Show, ("counter", c)] };
            }),

        new("ring.enospc-iff-full", "under the invariant, send returns -ENOSPC exactly when all ring slots are claimed", RingSource,
            z => State(z, m, (r, h, t) => r.Invariant(h, t).Implies((!r.ClaimGuard(h, t)).Iff(RingEncoding.Occupancy(h, t).Eq(r.Size))))),
    ];
}
