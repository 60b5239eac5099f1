using FsCheck;
using FsCheck.Fluent;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;
using Multikernel.Properties.Checking;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Proofs;

public class RingProofTests(ITestOutputHelper output)
{
    private ProofResult[] ProveAll(RingDesign.Defect m)
    {
        var results = RingProofs.For(m).Select(o => Prover.Prove(o)).ToArray();
        foreach (var r in results) output.WriteLine(r.ToString());
        return results;
    }

    [Fact]
    public void Reference_ring_obligations_are_proved()
    {
        Assert.All(ProveAll(RingDesign.Defect.None), r => Assert.Equal(ProofVerdict.Proved, r.Verdict));
    }

    [Fact]
    public void Claim_without_the_full_check_is_refuted_with_the_models_values()
    {
        var results = ProveAll(RingDesign.Defect.NoFullCheck).ToDictionary(r => r.Obligation.Name);
        var r = results["ring.claim-inductive"];
        Assert.Equal(ProofVerdict.Refuted, r.Verdict);
        Assert.Matches(@"^ring = \d+, head = \S+, tail = \S+, slot = \d+, slot_state = \d+$", r.Detail);
        Assert.Equal(ProofVerdict.Refuted, results["ring.enospc-iff-full"].Verdict);
        Assert.Equal(ProofVerdict.Proved, results["ring.consume-inductive"].Verdict);
    }

    [Fact]
    public void A_drain_that_does_not_free_the_slot_is_refuted()
    {
        var results = ProveAll(RingDesign.Defect.NoClear).ToDictionary(r => r.Obligation.Name);
        Assert.Equal(ProofVerdict.Refuted, results["ring.consume-inductive"].Verdict);
        Assert.Contains("slot_state = 2", results["ring.consume-inductive"].Detail); // READY, left behind the tail
        Assert.Equal(ProofVerdict.Proved, results["ring.publish-inductive"].Verdict);
    }

    [Fact]
    public void An_unmasked_index_is_refuted()
    {
        var r = ProveAll(RingDesign.Defect.NoMask).Single(x => x.Obligation.Name == "ring.slot-in-bounds");
        Assert.Equal(ProofVerdict.Refuted, r.Verdict);
        Assert.Contains("counter = ", r.Detail);
    }

    /// <summary>The Z3 encoding computes what the C# specification computes, on random concrete states.</summary>
    [Theory]
    [InlineData(32)]
    [InlineData(8)]
    public void Encoding_agrees_with_the_specification(int bits)
    {
        using var z = new Z3Context();
        uint w = (uint)bits;
        var head = z.BitVec("head", w);
        var tail = z.BitVec("tail", w);
        var size = z.BitVec("size", w);
        var enc = new RingEncoding(size);
        var occupancy = RingEncoding.Occupancy(head, tail);
        var full = enc.Full(head, tail);
        var guard = enc.ClaimGuard(head, tail);
        var next = RingEncoding.Advance(head);
        var slot = enc.Slot(head);
        var inv = enc.Invariant(head, tail);
        var slotVar = z.BitVec("slot", w);
        var window = enc.InWindow(slotVar, head, tail);

        ulong mask = bits == 32 ? uint.MaxValue : (1UL << bits) - 1;
        var counter = Gen.Choose(int.MinValue, int.MaxValue).Select(v => (uint)v & (uint)mask);
        var near = from t in counter from d in Gen.Choose(0, 70) select (Head: (uint)((t + (uint)d) & mask), Tail: t);
        var states = from ht in Gen.OneOf(near, from h in counter from t in counter select (Head: h, Tail: t))
                     from log in Gen.Choose(0, 6) select (ht.Head, ht.Tail, Size: 1u << log);
        var r = FsRun.Run($"ring encoding = MkRing ({bits}-bit)", Prop.ForAll(Arb.From(states), s =>
        {
            var spec = new MkRing(s.Size, bits);
            uint slotIndex = (s.Head * 7 + s.Tail) & (s.Size - 1);
            (BitVec, ulong)[] at = [(head, s.Head), (tail, s.Tail), (size, s.Size), (slotVar, slotIndex)];
            return z.Evaluate(occupancy, at) == spec.Occupancy(s.Head, s.Tail)
                && z.Evaluate(full, at) == spec.Full(s.Head, s.Tail)
                && z.Evaluate(guard, at) == !spec.Full(s.Head, s.Tail)
                && z.Evaluate(next, at) == spec.Advance(s.Head)
                && z.Evaluate(slot, at) == spec.Slot(s.Head)
                && z.Evaluate(inv, at) == (spec.Occupancy(s.Head, s.Tail) <= s.Size)
                && z.Evaluate(window, at) == spec.InWindow(slotIndex, s.Head, s.Tail);
        }), 300, 20261121);
        output.WriteLine(r.ToString());
        Assert.True(r.Holds, r.Detail);
    }
}
