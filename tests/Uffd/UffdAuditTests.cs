using Multikernel.Model.Uffd;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Uffd;

public class UffdAuditTests(ITestOutputHelper output)
{
    private ExploreReport Explore(UffdDesign d, bool stopEarly = false)
    {
        var r = Explorer.Run(new UffdSpec(d), new ExploreOptions { StopWhenAllViolated = stopEarly });
        output.WriteLine($"{d.Name}: {r.States:N0} states, {r.Transitions:N0} transitions, depth {r.Depth}, {r.Seconds:F2} s");
        foreach (var o in r.Outcomes.Where(o => o.Trace != null)) output.WriteLine(TraceText.Format(o.Trace!, $"design: {d.Name}"));
        return r;
    }

    private static int? Length(ExploreReport r, UffdInvariant i) =>
        r.Outcomes.Single(o => o.Property.Name == UffdInvariants.Name(i)).Trace?.Length;

    [Fact]
    public void A_design_that_registers_nothing_holds_vacuously_and_its_sometimes_properties_say_so()
    {
        var r = Explore(new Designs.NoRegisterUffd());
        foreach (var i in new[] { UffdInvariant.MissingFaultQueued, UffdInvariant.MinorFaultQueued, UffdInvariant.WpFaultQueued })
        {
            var o = r.Outcomes.Single(x => x.Property.Name == UffdInvariants.Name(i));
            Assert.Equal(Verdict.Violated, o.Verdict);
            Assert.StartsWith("never reached", o.Reason);
        }
        Assert.All(r.Outcomes.Where(o => o.Property.Kind == Model.Checking.PropertyKind.Always), o => Assert.Equal(Verdict.Holds, o.Verdict));
    }

    [Fact]
    public void Reference_holds_every_invariant_at_default_bounds()
    {
        var r = Explore(UffdDesigns.Reference);
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(Bound.None, r.Bound);
    }

    [Fact]
    public void V5_audit_finds_the_vm_locked_collision_and_the_kernel_bug_it_causes()
    {
        var r = Explore(UffdDesigns.V5);
        Assert.Equal(0, Length(r, UffdInvariant.UffdBitsDisjoint));  // the headers alone
        Assert.Equal(1, Length(r, UffdInvariant.CtxIffUffdBit));     // mlock2: a uffd bit, no context
        Assert.Equal(2, Length(r, UffdInvariant.NoKernelBug));       // mlock2, close(uffd): BUG_ON in userfaultfd_release()
        Assert.Equal(2, Length(r, UffdInvariant.MlockSurvives));     // API, register MINOR on hugetlbfs: now "mlocked"
        Assert.Equal(3, Length(r, UffdInvariant.NoPageLeak));        // API, register MINOR, a minor fault: the page reference leaks
        // mlock never locks hugetlbfs, so no fault reaches handle_userfault() unregistered.
        Assert.Null(Length(r, UffdInvariant.RegisteredFault));
        Assert.Null(Length(r, UffdInvariant.OneReasonBit));
        Assert.Null(Length(r, UffdInvariant.MessageFlags));
        Assert.Null(Length(r, UffdInvariant.NoStrandedFault));
        var bug = r.Outcomes.Single(o => o.Property.Name == "no-kernel-bug").Trace!;
        string text = TraceText.Format(bug, "design: uffd-v5");
        Assert.Matches(@"1\. mlock2\(0x[0-9a-f]{4}, 0x2000, MLOCK_ONFAULT\) = 0", text);
        Assert.Contains("2. close(uffd1): userfaultfd_release(): BUG_ON(!!ctx ^ !!(vm_flags & __VM_UFFD_FLAGS)) on page 0's VMA: kernel BUG", text);
        Assert.Contains("kernel BUG", text);
        Assert.DoesNotContain("type: hugetlb", text.Split("2. close")[0]); // the layout it mlocks is not hugetlbfs
    }

    [Theory]
    [InlineData("uffd-ref-both-reasons", UffdInvariant.OneReasonBit)]
    [InlineData("uffd-ref-no-minor-flag", UffdInvariant.MessageFlags)]
    [InlineData("uffd-ref-no-wake", UffdInvariant.NoStrandedFault)]
    public void Each_remaining_invariant_fails_on_a_mutant(string design, UffdInvariant broken)
    {
        var r = Explore(UffdDesigns.Find(design)!, stopEarly: true);
        Assert.NotNull(Length(r, broken));
        foreach (var o in r.Outcomes.Where(o => o.Property.Name != UffdInvariants.Name(broken)))
            Assert.NotEqual(Verdict.Violated, o.Verdict);
    }
}
