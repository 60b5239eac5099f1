using Multikernel.Model.Balloon;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Balloon;

/// <summary>
/// The balloon audit: the seed as posted (002) reproduces its defects as shortest traces of
/// pinned lengths, the reference holds every property, and every property fails on a mutant.
/// </summary>
public class BalloonAuditTests(ITestOutputHelper output)
{
    private static readonly Lazy<ExploreReport> Rfc = new(() => Explore(BalloonDesigns.Rfc));

    private static ExploreReport Explore(BalloonDesign d, BalloonBounds? b = null) =>
        Explorer.Run(new BalloonSpec(d, b), new ExploreOptions { StopWhenAllViolated = false });

    private static PropertyOutcome Outcome(ExploreReport r, BalloonInvariant i) => r.Outcomes.Single(o => o.Property.Name == BalloonInvariants.Name(i));

    [Theory]
    [InlineData(BalloonInvariant.FeaturesExact, 0)]   // the uninitialised features word
    [InlineData(BalloonInvariant.TargetGiven, 3)]     // GET_TARGET's 2^32 + 1 stored in a u32
    [InlineData(BalloonInvariant.PfnFits, 4)]         // page 0's PFN through the u32 pfns[] array
    [InlineData(BalloonInvariant.ResetOrder, 5)]      // reset_pending cleared between START and GUEST_ID
    [InlineData(BalloonInvariant.TargetFresh, 6)]     // the timer and the config read race on num_pages
    [InlineData(BalloonInvariant.AnsweredOnce, 7)]    // get_buf returns the same token forever
    [InlineData(BalloonInvariant.BalloonConsistent, 8)]
    [InlineData(BalloonInvariant.LockOnce, 20)]
    [InlineData(BalloonInvariant.ReachesTarget, 22)]
    public void The_seed_as_posted_breaks_it_with_a_shortest_trace(BalloonInvariant i, int length)
    {
        var o = Outcome(Rfc.Value, i);
        Assert.Equal(Verdict.Violated, o.Verdict);
        output.WriteLine(TraceText.Format(o.Trace!));
        Assert.Equal(length, o.Trace!.Length);
        Assert.NotNull(o.Trace.Why);
    }

    [Fact]
    public void The_reference_holds_every_property_and_reaches_every_sometimes()
    {
        foreach (var b in new[] { BalloonBounds.Default, BalloonBounds.Default with { Batch = false }, BalloonBounds.Default with { Resets = 2, Changes = 2 } })
        {
            var r = Explore(BalloonDesigns.Reference, b);
            output.WriteLine($"{b}: {r.States:N0} states");
            Assert.Equal(Bound.None, r.Bound);
            Assert.All(r.Outcomes, o => Assert.True(o.Verdict == Verdict.Holds, $"{b}: {o.Property.Name}: {o.Verdict} {o.Reason}"));
        }
    }

    [Theory]
    [InlineData("balloon-ref-no-lock", BalloonInvariant.TargetFresh)]
    [InlineData("balloon-ref-no-lock", BalloonInvariant.SizeMatches)]
    [InlineData("balloon-ref-truncate-pfn", BalloonInvariant.PfnFits)]
    [InlineData("balloon-ref-token-twice", BalloonInvariant.AnsweredOnce)]
    [InlineData("balloon-ref-unlock-on-reset", BalloonInvariant.LockOnce)]
    [InlineData("balloon-ref-unlock-on-reset", BalloonInvariant.ResetOrder)]
    [InlineData("balloon-ref-keep-on-reset", BalloonInvariant.BalloonConsistent)]
    [InlineData("balloon-ref-extra-feature", BalloonInvariant.FeaturesExact)]
    [InlineData("balloon-ref-truncate-target", BalloonInvariant.TargetGiven)]
    [InlineData("balloon-ref-give-up", BalloonInvariant.ReachesTarget)]
    public void Each_mutant_is_caught(string design, BalloonInvariant i)
    {
        var d = BalloonDesigns.Mutants.Single(m => m.Name == design);
        Assert.Equal(Verdict.Violated, Outcome(Explore(d), i).Verdict);
    }

    [Fact]
    public void Without_resets_refusals_or_a_huge_target_the_sometimes_properties_say_so()
    {
        var r = Explore(BalloonDesigns.Reference, BalloonBounds.Default with { Resets = 0, Refusals = 0 });
        Assert.StartsWith("never reached", Outcome(r, BalloonInvariant.ResetHandled).Reason);
        Assert.StartsWith("never reached", Outcome(r, BalloonInvariant.PageRefused).Reason);
        Assert.Equal(Verdict.Holds, Outcome(r, BalloonInvariant.TargetReached).Verdict);
    }
}
