using FsCheck;
using FsCheck.Fluent;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;
using Multikernel.Properties.Checking;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Proofs;

public sealed class RingProofTests(ITestOutputHelper output) : IDisposable
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

    /// <summary>The Z3 encoding computes what the C# specification computes, on random concrete states (32-bit counters).</summary>
    [Property(Arbitrary = [typeof(RingStates)], MaxTest = 300, Replay = RingStates.Replay)]
    public bool Encoding_agrees_with_the_specification_32_bit(RingState s) => Agrees(32, s);

    /// <summary>The same on 8-bit counters, where wrapping is reached: the case's counters cut to 8 bits.</summary>
    [Property(Arbitrary = [typeof(RingStates)], MaxTest = 300, Replay = RingStates.Replay)]
    public bool Encoding_agrees_with_the_specification_8_bit(RingState s) => Agrees(8, s);

    private RingOracle? _oracle;

    public void Dispose() => _oracle?.Dispose();

    /// <summary>The property can fail: the 8-bit encoding held to a 32-bit ring's C# disagrees where the counters wrap.</summary>
    [Fact]
    public void The_encoding_held_to_another_width_disagrees()
    {
        var r = FsRun.Run("ring encoding (8-bit) = MkRing (32-bit)", Prop.ForAll(RingStates.States(), s => Agrees(8, s, specBits: 32)), 300, 20261121);
        output.WriteLine(r.ToString());
        Assert.False(r.Holds);
    }

    private bool Agrees(int bits, RingState s, int? specBits = null)
    {
        _oracle ??= new RingOracle(bits);
        uint mask = bits == 32 ? uint.MaxValue : (1u << bits) - 1;
        return _oracle.Agrees(s.Head & mask, s.Tail & mask, s.Size, specBits ?? bits);
    }

    /// <summary>The ring's encoding over one Z3 context, built once per property and evaluated on each case.</summary>
    private sealed class RingOracle : IDisposable
    {
        private readonly Z3Context _z = new();
        private readonly BitVec _head, _tail, _size, _slotVar, _occupancy, _next, _slot;
        private readonly BoolTerm _full, _guard, _inv, _window;

        public RingOracle(int bits)
        {
            uint w = (uint)bits;
            _head = _z.BitVec("head", w);
            _tail = _z.BitVec("tail", w);
            _size = _z.BitVec("size", w);
            var enc = new RingEncoding(_size);
            _occupancy = RingEncoding.Occupancy(_head, _tail);
            _full = enc.Full(_head, _tail);
            _guard = enc.ClaimGuard(_head, _tail);
            _next = RingEncoding.Advance(_head);
            _slot = enc.Slot(_head);
            _inv = enc.Invariant(_head, _tail);
            _slotVar = _z.BitVec("slot", w);
            _window = enc.InWindow(_slotVar, _head, _tail);
        }

        /// <summary>The encoding against the C# ring of <paramref name="specBits"/>-bit counters (the encoding's own width, but for the test that it can fail).</summary>
        public bool Agrees(uint h, uint t, uint size, int specBits)
        {
            var spec = new MkRing(size, specBits);
            uint slotIndex = (h * 7 + t) & (size - 1);
            (BitVec, ulong)[] at = [(_head, h), (_tail, t), (_size, size), (_slotVar, slotIndex)];
            return _z.Evaluate(_occupancy, at) == spec.Occupancy(h, t)
                && _z.Evaluate(_full, at) == spec.Full(h, t)
                && _z.Evaluate(_guard, at) == !spec.Full(h, t)
                && _z.Evaluate(_next, at) == spec.Advance(h)
                && _z.Evaluate(_slot, at) == spec.Slot(h)
                && _z.Evaluate(_inv, at) == (spec.Occupancy(h, t) <= size)
                && _z.Evaluate(_window, at) == spec.InWindow(slotIndex, h, t);
        }

        public void Dispose() => _z.Dispose();
    }
}

/// <summary>A concrete ring state: 32-bit counters (cut to the ring's width by the property) and a power-of-two size.</summary>
public readonly record struct RingState(uint Head, uint Tail, uint Size);

/// <summary>Ring states: counters anywhere, or a head up to 70 past the tail so that fullness and wrapping are hit.</summary>
internal static class RingStates
{
    public const string Replay = "(20261121," + Replays.Gamma + ")";

    public static Arbitrary<RingState> States()
    {
        var counter = Gen.Choose(int.MinValue, int.MaxValue).Select(v => (uint)v);
        var near = from t in counter from d in Gen.Choose(0, 70) select (Head: t + (uint)d, Tail: t);
        var states = from ht in Gen.OneOf(near, from h in counter from t in counter select (Head: h, Tail: t))
                     from log in Gen.Choose(0, 6) select new RingState(ht.Head, ht.Tail, 1u << log);
        return Arb.From(states);
    }
}
