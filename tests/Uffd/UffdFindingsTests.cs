using Multikernel.Model.Checking;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Explorer;
using Xunit;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Tests.Uffd;

/// <summary>The seed's declared findings are exactly what its audit violates, and each says where and what.</summary>
public class UffdFindingsTests
{
    [Fact]
    public void V5s_findings_are_exactly_the_properties_its_audit_violates()
    {
        var bounds = UffdBounds.Default;
        var r = Explorer.Run(new UffdSpec(UffdDesigns.V5, bounds), new ExploreOptions());
        var violated = r.Outcomes.Where(o => o.Verdict == Verdict.Violated).Select(o => o.Property.Name).ToHashSet();
        var declared = UffdDesigns.V5.Findings.Where(f => f.Applies(bounds.ToString())).Select(f => f.Property).ToHashSet();
        Assert.Equal(violated.Order(), declared.Order());
        Assert.Contains("no-kernel-bug", declared);
        Assert.DoesNotContain("registered-fault", declared);
    }

    [Fact]
    public void Each_finding_names_its_seed_function_and_line_and_the_bug_is_a_kernel_bug()
    {
        var names = UffdInvariants.All.Select(UffdInvariants.Name).ToHashSet();
        foreach (var f in UffdDesigns.V5.Findings)
        {
            Assert.Contains(f.Property, names);
            Assert.StartsWith("004 ", f.Function);
            Assert.False(string.IsNullOrWhiteSpace(f.Line));
            Assert.False(string.IsNullOrWhiteSpace(f.Effect));
        }
        Assert.All(UffdDesigns.V5.Findings.Where(f => f.Property == "no-kernel-bug"), f => Assert.Equal(Consequence.KernelBug, f.Consequence));
        Assert.Contains(UffdDesigns.V5.Findings, f => f.Property == "no-kernel-bug" && f.Needs.Length == 0); // close() after mlock: nothing more
        Assert.Empty(UffdDesigns.Reference.Findings);
        Assert.True(Model.Checking.ProofEncodedAttribute.On(UffdDesigns.V5)); // the findings subclass is still proved
    }

    [Fact]
    public void The_seeds_build_has_no_flag_above_bit_36_and_mainlines_reaches_bit_42()
    {
        Assert.Equal(0UL, Mask(VmFlags2021) >> 37);
        Assert.Equal(1UL << 42, Mask(VmFlagsMainline) & (1UL << 42));
        Assert.Equal("VM_LOCKED", UffdSpec.OverlappingFlag(UffdDesigns.V5));
        // Bit 41 was free in 2021 as it is now; bit 38 is arm64's VM_SHADOW_STACK today.
        Assert.Equal(0UL, Mask(VmFlagsMainline) & UffdDesigns.MainlineVmUffdMinor);
        Assert.NotEqual(0UL, Mask(VmFlagsMainline) & (1UL << 38));
    }
}
