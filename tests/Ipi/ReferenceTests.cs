using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Ipi;

public class ReferenceTests
{
    [Fact]
    public void Reference_holds_every_invariant_at_default_bounds_with_a_deterministic_state_count()
    {
        var spec = new IpiSpec(IpiDesigns.Reference);
        var a = Explorer.Run(spec);
        var b = Explorer.Run(spec);
        Assert.All(a.Outcomes, o => Assert.True(o.Verdict == Verdict.Holds, $"{o.Property.Name}: {o.Verdict} {o.Reason}"));
        Assert.Equal(Bound.None, a.Bound);
        Assert.True(a.CycleSearch); // "delivered" was judged on cycles too
        Assert.Equal(24_250, a.States);
        Assert.Equal(a.States, b.States);
        Assert.Equal(a.Transitions, b.Transitions);
    }

    [Fact]
    public void Reference_ring_of_two_fills_and_a_send_sees_ENOSPC()
    {
        // Explore with senders that keep going: some reachable state has a rejected message.
        var spec = new IpiSpec(IpiDesigns.Reference, new IpiBounds { Unregister = false, Destroy = false });
        var seen = Reachable(spec).Any(s => s.Rejected != 0);
        Assert.True(seen, "no send was ever refused: the ring never filled");
    }

    [Theory]
    [InlineData("ref-no-full-check", IpiInvariant.NoOverwrite)]
    [InlineData("ref-no-mask", IpiInvariant.IndexBounded)]
    [InlineData("ref-no-sync", IpiInvariant.UnregisterFinal)]
    [InlineData("ref-early-publish", IpiInvariant.Intact)]
    [InlineData("ref-no-rcu", IpiInvariant.NoUseAfterFree)]
    public void Each_mutant_of_the_reference_is_caught(string mutant, IpiInvariant invariant)
    {
        var t = SeedAuditTests.Violation(SeedAuditTests.Audit(mutant), invariant);
        Assert.True(t.Length > 0);
    }

    [Fact]
    public void A_drain_that_does_not_free_the_slot_delivers_a_message_twice()
    {
        var bounds = new IpiBounds { Senders = 1, Messages = 3, Ring = 2, Handlers = 2, Unregister = false, Destroy = false };
        var t = SeedAuditTests.Violation(SeedAuditTests.Audit("ref-no-clear", bounds), IpiInvariant.NoDuplicate);
        Assert.Contains("callback", t.States[^1].Step);
    }

    private static IEnumerable<IpiState> Reachable(IpiSpec spec)
    {
        var seen = new HashSet<ulong>();
        var queue = new Queue<IpiState>();
        var init = new List<IpiState>();
        spec.Initial(init);
        foreach (var s in init) { seen.Add(Fingerprint.Of(s)); queue.Enqueue(s); }
        var steps = new IpiAction[Model.Checking.SpecLimits.MaxEnabled];
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            yield return s;
            int n = spec.Enabled(s, steps);
            for (int i = 0; i < n; i++)
            {
                var t = spec.Next(s, steps[i]);
                if (seen.Add(Fingerprint.Of(t))) queue.Enqueue(t);
            }
        }
    }
}
