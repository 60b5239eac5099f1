using FsCheck;
using FsCheck.Fluent;
using Multikernel.Model.Uffd;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Uffd;
using Multikernel.Properties.Checking;
using Multikernel.Proofs.Z3;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Tests.Proofs;

public sealed class UffdProofTests(ITestOutputHelper output) : IDisposable
{
    private Dictionary<string, ProofResult> Prove(UffdDesign d)
    {
        var r = UffdProofs.For(d).Select(o => Prover.Prove(o)).ToDictionary(x => x.Obligation.Name);
        foreach (var x in r.Values) output.WriteLine($"{d.Name}: {x}");
        return r;
    }

    [Fact]
    public void Reference_flag_obligations_are_proved()
    {
        Assert.All(Prove(UffdDesigns.Reference).Values, r => Assert.Equal(ProofVerdict.Proved, r.Verdict));
    }

    [Fact]
    public void V5_is_refuted_with_an_mlocked_vma_that_no_userfaultfd_registered()
    {
        var r = Prove(UffdDesigns.V5);
        // The environment never mlocks hugetlbfs, so no fault path reaches handle_userfault()
        // unregistered: the old counterexample (vm_flags = VM_LOCKED on a hugetlb VMA) is gone.
        Assert.Equal(ProofVerdict.Proved, r["uffd.fault-reason"].Verdict);
        var clean = r["uffd.unregistered-clean"];
        Assert.Equal(ProofVerdict.Refuted, clean.Verdict);
        Assert.Contains("vm_flags = 0x2000 (VM_LOCKED)", clean.Detail);
        Assert.DoesNotContain("hugetlb", clean.Detail);
        Assert.Equal(ProofVerdict.Refuted, r["uffd.bits-disjoint"].Verdict);
        Assert.Contains("shared_bit = 0x2000 (VM_LOCKED)", r["uffd.bits-disjoint"].Detail);
        Assert.Equal(ProofVerdict.Proved, r["uffd.modes-injective"].Verdict);
        Assert.Equal(ProofVerdict.Proved, r["uffd.message-flags"].Verdict);
    }

    [Fact]
    public void Without_the_hugetlb_constraint_the_fault_reason_would_be_refuted()
    {
        // The constraint is what proves v5's fault paths: drop it (a hugetlbfs VMA with VM_LOCKED,
        // which no kernel makes) and the obligation falls, so the constraint is not vacuous.
        using var z = new Z3Context();
        var e = new UffdEncoding(z, UffdDesigns.V5);
        var type = z.BitVec("t", 64);
        var flags = z.BitVec("f", 64);
        Assert.True(z.Evaluate(e.FaultReason(type, flags, z.True), [(type, (ulong)MemType.HugetlbShared), (flags, VmLocked)]) == 0x2000);
        Assert.False(z.Evaluate(e.EnvironmentFlags(flags, type), [(type, (ulong)MemType.HugetlbShared), (flags, VmLocked)]));
        Assert.True(z.Evaluate(e.EnvironmentFlags(flags, type), [(type, (ulong)MemType.Anon), (flags, VmLocked | VmLockonfault)]));
    }

    [Theory]
    [InlineData(37, "VM_MTE_ALLOWED (arm64)|VM_SHADOW_STACK (x86)")]  // 5.13's bit, on today's tree
    [InlineData(38, "VM_SHADOW_STACK (arm64 GCS)")]                  // 6.6's bit: the 2025 fix
    public void Mainlines_earlier_minor_bits_collide_in_todays_build(int bit, string with)
    {
        var d = new UffdDesign($"minor-bit-{bit}", "test: an earlier mainline VM_UFFD_MINOR_BIT", 1UL << bit, minorOnShmem: true, wpOnFileBacked: true);
        var r = Prove(d)["uffd.bits-disjoint"];
        Assert.Equal(ProofVerdict.Refuted, r.Verdict);
        Assert.Contains(with, r.Detail);
        Assert.NotNull(UffdSpec.OverlappingFlag(d));
        Assert.Null(UffdSpec.OverlappingFlag(UffdDesigns.Reference));
    }

    [Theory]
    [InlineData("uffd-ref-both-reasons", "uffd.fault-reason")]
    [InlineData("uffd-ref-no-minor-flag", "uffd.message-flags")]
    public void Mutants_are_refuted(string design, string obligation)
    {
        Assert.Equal(ProofVerdict.Refuted, Prove(UffdDesigns.Find(design)!)[obligation].Verdict);
    }

    [Fact]
    public void Modes_that_share_a_flag_are_refuted()
    {
        // No shipped design maps two modes to one flag, so this obligation's failing design is
        // written here: VM_UFFD_MINOR given VM_UFFD_MISSING's bit.
        var d = new UffdDesign("minor-is-missing", "test: VM_UFFD_MINOR = VM_UFFD_MISSING", VmUffdMissing, minorOnShmem: true, wpOnFileBacked: true);
        var r = Prove(d)["uffd.modes-injective"];
        Assert.Equal(ProofVerdict.Refuted, r.Verdict);
        Assert.Contains("vm_flags_a = 512", r.Detail);
    }

    /// <summary>The encoding computes what each design's C# computes, on random concrete inputs.</summary>
    [Property(Arbitrary = [typeof(UffdCases)], MaxTest = 500, Replay = UffdCases.Replay)]
    public bool Encoding_agrees_with_every_design(UffdCase x) => Agrees(x, x.Design);

    /// <summary>The property can fail: every design's encoding held to the C# of a design whose VM_UFFD_MINOR is VM_UFFD_MISSING's bit disagrees.</summary>
    [Fact]
    public void The_encoding_held_to_another_design_s_code_disagrees()
    {
        var minorIsMissing = new UffdDesign("minor-is-missing", "test: VM_UFFD_MINOR = VM_UFFD_MISSING", VmUffdMissing, minorOnShmem: true, wpOnFileBacked: true);
        var r = FsRun.Run("uffd encodings = minor-is-missing's C#", Prop.ForAll(UffdCases.Cases(), x => Agrees(x, minorIsMissing)), 500, 20261121);
        output.WriteLine(r.ToString());
        Assert.False(r.Holds);
    }

    /// <summary>The encoding of the case's design against <paramref name="d"/>'s C#.</summary>
    private bool Agrees(UffdCase x, UffdDesign d)
    {
        var o = _oracle ??= new UffdOracle();
        var (_, f, m, t, c, r, w) = x;
        var e = o.Terms[x.Design.Name];
        (BitVec, ulong)[] at = [(o.Vm, f), (o.Mode, m), (o.Type, (ulong)t), (o.Cached, (ulong)c), (o.Reason, r), (o.Write, (ulong)w)];
        return o.Z.Evaluate(e.Of, at) == d.VmFlagsOf(m)
            && o.Z.Evaluate(e.Reason, at) == d.FaultReason(t, f, c == 1)
            && o.Z.Evaluate(e.Msg, at) == d.MessageFlags(r, w == 1);
    }

    private UffdOracle? _oracle;

    public void Dispose() => _oracle?.Dispose();

    /// <summary>Every design's encoding over one Z3 context, built once per property run.</summary>
    private sealed class UffdOracle : IDisposable
    {
        public readonly Z3Context Z = new();
        public readonly BitVec Vm, Mode, Type, Cached, Reason, Write;
        public readonly Dictionary<string, (BitVec Of, BitVec Reason, BitVec Msg)> Terms;

        public UffdOracle()
        {
            (Vm, Mode, Type, Cached, Reason, Write) = (Z.BitVec("vm", 64), Z.BitVec("mode", 64), Z.BitVec("type", 64), Z.BitVec("cached", 64), Z.BitVec("reason", 64), Z.BitVec("write", 64));
            var encodings = UffdDesigns.All.ToDictionary(d => d.Name, d => new UffdEncoding(Z, d));
            Terms = encodings.ToDictionary(e => e.Key, e => (e.Value.VmFlagsOf(Mode), e.Value.FaultReason(Type, Vm, Cached.Eq(1)), e.Value.MessageFlags(Reason, Write.Eq(1))));
        }

        public void Dispose() => Z.Dispose();
    }
}

/// <summary>One concrete input to the uffd encoding: a design, vm_flags, a mode, a memory type, cached or not, a fault reason, a write or not.</summary>
public readonly record struct UffdCase(UffdDesign Design, ulong VmFlags, ulong Mode, MemType Type, int Cached, ulong Reason, int Write);

/// <summary>vm_flags as unions of the flags both eras define; every design, mode, memory type and reason.</summary>
internal static class UffdCases
{
    public const string Replay = "(20261121," + Replays.Gamma + ")";

    public static Arbitrary<UffdCase> Cases()
    {
        var flagBits = Gen.Elements(VmFlags2021.Concat(VmFlagsMainline).Select(f => f.Value).Concat([VmUffdMissing, VmUffdWp, UffdDesigns.MainlineVmUffdMinor, 0UL]).ToArray());
        var vmFlags = flagBits.ArrayOf().Select(bits => bits.Aggregate(0UL, (a, b) => a | b));
        return Arb.From(from d in Gen.Elements(UffdDesigns.All.ToArray())
                        from f in vmFlags
                        from m in Gen.Choose(0, 7)
                        from t in Gen.Elements(MemTypes.All)
                        from c in Gen.Elements(0, 1)
                        from r in Gen.Elements(VmUffdMissing, VmUffdWp, 0x2000UL, UffdDesigns.MainlineVmUffdMinor, 0UL)
                        from w in Gen.Elements(0, 1)
                        select new UffdCase(d, f, (ulong)m, t, c, r, w));
    }
}
