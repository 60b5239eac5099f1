using FsCheck;
using FsCheck.Fluent;
using Multikernel.Model.Balloon;
using Multikernel.Proofs.Balloon;
using Multikernel.Properties.Checking;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Proofs;

public sealed class BalloonProofTests(ITestOutputHelper output) : IDisposable
{
    internal static IEnumerable<BalloonDesign> Designs => BalloonDesigns.Mutants.Prepend(BalloonDesigns.Reference).Prepend(BalloonDesigns.Rfc);

    [Fact]
    public void The_reference_is_proved_and_every_obligation_is_refuted_on_some_design()
    {
        var reference = BalloonProofs.For(BalloonDesigns.Reference).Select(o => Prover.Prove(o)).ToList();
        Assert.All(reference, r => Assert.True(r.Verdict == ProofVerdict.Proved, r.ToString()));
        var refuted = new HashSet<string>();
        Assert.All(BalloonProofs.For(BalloonDesigns.Reference, hostileHost: true).Select(o => Prover.Prove(o)), r => Assert.True(r.Verdict == ProofVerdict.Proved, r.ToString()));
        // With a hostile host (any GET_TARGET answer): target-check is refuted by the truncating designs.
        foreach (var d in Designs.Where(d => d != BalloonDesigns.Reference))
            foreach (var r in BalloonProofs.For(d, hostileHost: true).Select(o => Prover.Prove(o)))
            {
                output.WriteLine($"{d.Name}: {r}");
                if (r.Verdict == ProofVerdict.Refuted) refuted.Add(r.Obligation.Name);
            }
        Assert.Equal(reference.Select(r => r.Obligation.Name).Order(), refuted.Order());
    }

    [Fact]
    public void The_seed_is_refuted_with_the_values_that_break_it()
    {
        var r = BalloonProofs.For(BalloonDesigns.Rfc).ToDictionary(o => o.Name, o => Prover.Prove(o));
        // The seed clears reset_pending only after START returned SUCCESS, as 2.6.34 and mainline do.
        Assert.Equal(ProofVerdict.Proved, r["balloon.reset-gate"].Verdict);
        // Its truncation needs a PFN ≥ 2^32: ≥ 16 TiB of guest memory, and the counterexample says so.
        Assert.Equal(ProofVerdict.Refuted, r["balloon.pfn-check"].Verdict);
        Assert.Contains("≥ 16 TiB", r["balloon.pfn-check"].Detail);
        Assert.Equal(ProofVerdict.Refuted, r["balloon.pfn-injective"].Verdict);
        Assert.Equal(ProofVerdict.Refuted, r["balloon.features-exact"].Verdict);
        // A conforming host never answers GET_TARGET above the 32-bit limit: the seed's u32 store is then exact.
        Assert.Equal(ProofVerdict.Proved, r["balloon.target-check"].Verdict);
        Assert.Equal(ProofVerdict.Refuted, Prover.Prove(BalloonProofs.For(BalloonDesigns.Rfc, hostileHost: true).Single(o => o.Name == "balloon.target-check")).Verdict);
        Assert.False(r.ContainsKey("balloon.batch-roundtrip")); // the seed does not batch
    }

    [Fact]
    public void A_PFN_beyond_x86_64s_physical_limit_is_not_a_counterexample()
    {
        // The truncating batch mutant is refuted by a PFN in [2^32, 2^40); a PFN of 2^40 or more cannot exist.
        var o = BalloonProofs.For(BalloonDesigns.Mutants.Single(m => m.Name == "balloon-ref-truncate-pfn")).Single(o => o.Name == "balloon.batch-roundtrip");
        var r = Prover.Prove(o);
        Assert.Equal(ProofVerdict.Refuted, r.Verdict);
        output.WriteLine(r.Detail);
        using var z = new Z3Context();
        var pfn = z.BitVec("pfn", 64);
        Assert.True(z.Evaluate(BalloonEncoding.RealPfn(pfn), (pfn, (1UL << 40) - 1)));
        Assert.False(z.Evaluate(BalloonEncoding.RealPfn(pfn), (pfn, 1UL << 40)));
    }

    [Fact]
    public void A_subclass_is_not_lent_the_proofs()
    {
        Assert.Null(BalloonProofs.ForDesign(new Subclass()));
        Assert.NotNull(BalloonProofs.ForDesign(BalloonDesigns.Reference));
    }

    private sealed class Subclass() : BalloonDesign("my-balloon", "a subclass");

    /// <summary>The encoding computes what each design's C# computes, on random concrete inputs.</summary>
    [Property(Arbitrary = [typeof(BalloonCases)], MaxTest = 400, Replay = BalloonCases.Replay)]
    public bool Encoding_agrees_with_every_design(BalloonCase c) => Agrees(c, c.Design);

    /// <summary>The property can fail: the reference's encoding held to a mutant's C# (the PFN cut to 32 bits) disagrees.</summary>
    [Fact]
    public void The_encoding_held_to_another_design_s_code_disagrees()
    {
        var truncate = BalloonDesigns.Mutants.Single(m => m.Name == "balloon-ref-truncate-pfn");
        var r = FsRun.Run("balloon reference encoding = truncate-pfn's C#", Prop.ForAll(BalloonCases.Cases(), c => Agrees(c with { Design = BalloonDesigns.Reference }, truncate)), 400, 20261122);
        output.WriteLine(r.ToString());
        Assert.False(r.Holds);
    }

    /// <summary>The encoding of the case's design against <paramref name="d"/>'s C#.</summary>
    private bool Agrees(BalloonCase c, BalloonDesign d)
    {
        var (z, x, y) = _z ??= Z3();
        var (_, a, b, batched) = c;
        var e = new BalloonEncoding(z, c.Design);
        (BitVec, ulong)[] at = [(x, a), (y, b & 31)];
        var (taken, stored) = e.StoredTarget(x);
        var entry = e.BatchEntry(x, y);
        return z.Evaluate(e.SendsPfn(x, batched), at) == d.SendsPfn(a, batched)
            && z.Evaluate(e.WirePfn(x, batched), at) == d.WirePfn(a, batched)
            && z.Evaluate(taken, at) == d.StoredTarget(a).HasValue
            && (!d.StoredTarget(a).HasValue || z.Evaluate(stored, at) == d.StoredTarget(a)!.Value)
            && z.Evaluate(entry, at) == BalloonConstants.BatchEntry(a, (uint)(b & 31))
            && z.Evaluate(e.BatchPfn(x), at) == BalloonConstants.BatchPfn(a)
            && z.Evaluate(e.ClearsReset(z.Num(Status(b), 64)), at) == d.ClearsReset(Status(b))
            && (d.FeaturesInitialised ? z.Evaluate(e.Features(y), at) == d.FeaturesSet : z.Evaluate(e.Features(y), at) == ((b & 31) | d.FeaturesSet));
    }

    // One Z3 context per property run (xunit makes one instance per test), built on first use.
    private (Z3Context Z, BitVec X, BitVec Y)? _z;

    private static (Z3Context, BitVec, BitVec) Z3()
    {
        var z = new Z3Context();
        return (z, z.BitVec("x", 64), z.BitVec("y", 64));
    }

    public void Dispose() => _z?.Z.Dispose();

    private static ulong Status(ulong b) => (b % 4) switch { 0 => BalloonConstants.Success, 1 => BalloonConstants.ErrorReset, 2 => BalloonConstants.SuccessWithCapabilities, _ => b };

    /// <summary>
    /// The reset gate the proof encodes is the one the specification runs: a step that clears the
    /// guest's reset leaves the host owing START exactly for the designs whose ClearsReset accepts a
    /// failed START, and such a design is caught by reset-order.
    /// </summary>
    [Fact]
    public void The_encoded_reset_gate_is_what_the_specification_does()
    {
        foreach (var d in Designs)
        {
            var spec = new BalloonSpec(d);
            var init = new List<BalloonState>();
            spec.Initial(init);
            var rng = new Random(7);
            var actions = new BalloonAction[Model.Checking.SpecLimits.MaxEnabled];
            bool clearedWhileOwed = false;
            for (int walk = 0; walk < 300; walk++)
            {
                var s = init[rng.Next(init.Count)];
                for (int step = 0; step < 60; step++)
                {
                    int n = spec.Enabled(s, actions);
                    if (n == 0) break;
                    var t = spec.Next(s, actions[rng.Next(n)]);
                    if (s.Has(BalloonState.ResetPending) && !t.Has(BalloonState.ResetPending) && t.HostPhase != 0)
                    {
                        clearedWhileOwed = true;
                        Assert.True((spec.Violated(t) & Model.Checking.PropertyTable<BalloonInvariant>.Bit(BalloonInvariant.ResetOrder)) != 0, $"{d.Name}: cleared while START is owed, and reset-order did not see it");
                    }
                    s = t;
                }
            }
            Assert.True(clearedWhileOwed == d.ClearsReset(BalloonConstants.ErrorReset), $"{d.Name}: cleared while START owed: {clearedWhileOwed}");
        }
    }
}

/// <summary>One concrete input to the balloon encoding: a design, two 64-bit words, and whether the transfer is batched.</summary>
public readonly record struct BalloonCase(BalloonDesign Design, ulong A, ulong B, bool Batched);

/// <summary>Words near the PFN and batch limits, small ones, and noise across 64 bits; every design.</summary>
internal static class BalloonCases
{
    public const string Replay = "(20261122," + Replays.Gamma + ")";

    public static Arbitrary<BalloonCase> Cases()
    {
        var values = Gen.OneOf(Gen.Choose(0, 1000).Select(v => (ulong)v), Gen.Elements(0xffff_ffffUL, 1UL << 32, (1UL << 32) + 0x102, BalloonConstants.BatchMaxPfn, BalloonConstants.BatchMaxPfn + 1, ulong.MaxValue),
            from hi in Gen.Choose(0, int.MaxValue) from lo in Gen.Choose(0, int.MaxValue) select ((ulong)(uint)hi << 33) ^ (uint)lo);
        return Arb.From(from d in Gen.Elements(BalloonProofTests.Designs.ToArray()) from a in values from b in values from batched in Gen.Elements(true, false) select new BalloonCase(d, a, b, batched));
    }
}
