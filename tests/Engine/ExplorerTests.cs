using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

public class ExplorerTests
{
    private static PropertyOutcome Outcome(ExploreReport r, string name) => r.Outcomes.Single(o => o.Property.Name == name);

    [Fact]
    public void Counts_states_transitions_and_depth_of_a_known_grid()
    {
        const int n = 20;
        var r = Explorer.Run(new CounterSpec(n), new() { Liveness = Liveness.None });
        Assert.Equal((n + 1) * (n + 1), r.States);
        Assert.Equal(2 * n * (n + 1), r.Transitions);
        Assert.Equal(2 * n, r.Depth);
        Assert.Equal(Verdict.Holds, Outcome(r, "sum").Verdict);
        // x-done holds on every terminal state, but without the graph cycles are unchecked: no verdict.
        Assert.Equal(Verdict.Unknown, Outcome(r, "x-done").Verdict);
        Assert.Equal(Bound.None, r.Bound);
    }

    [Fact]
    public void Finds_the_shortest_counterexample_and_rebuilds_it_by_re_execution()
    {
        var r = Explorer.Run(new CounterSpec(10, forbidden: 7), new() { Liveness = Liveness.None, StopWhenAllViolated = false });
        var t = Outcome(r, "sum").Trace!;
        Assert.Equal(7, t.Length);
        var last = t.States[^1].Vars;
        Assert.Equal(7, last.Sum(v => (int)((Model.Checking.TraceValue.Int)v.Value).Value));
        Assert.All(t.States.Skip(1), s => Assert.Contains(s.Step, new[] { "x++", "y++" }));
    }

    [Fact]
    public void Same_spec_gives_the_same_counts_and_the_same_trace()
    {
        var a = Explorer.Run(new CounterSpec(30, forbidden: 33), new() { Liveness = Liveness.Graph, StopWhenAllViolated = false });
        var b = Explorer.Run(new CounterSpec(30, forbidden: 33), new() { Liveness = Liveness.Graph, StopWhenAllViolated = false });
        Assert.Equal(a.States, b.States);
        Assert.Equal(a.Transitions, b.Transitions);
        Assert.Equal(Outcome(a, "sum").Trace!.Choices, Outcome(b, "sum").Trace!.Choices);
    }

    [Fact]
    public void A_cycle_on_which_the_obligation_stays_pending_is_a_lasso()
    {
        // x never moves; y counts to 3 and is reset to 0 forever: x-done is pending on the whole cycle.
        var r = Explorer.Run(new CounterSpec(3, yOnlyLoop: true), new() { StopWhenAllViolated = false });
        var o = Outcome(r, "x-done");
        Assert.Equal(Verdict.Violated, o.Verdict);
        var t = o.Trace!;
        Assert.NotNull(t.LoopIndex);
        Assert.True(t.LoopIndex < t.Length, "a lasso loops back to an earlier state");
        Assert.Equal(t.States[t.LoopIndex!.Value].Vars, t.States[^1].Vars);
        Assert.Equal(4, t.Length - t.LoopIndex.Value); // y: 0 -> 1 -> 2 -> 3 -> 0
    }

    [Fact]
    public void A_cycle_after_the_obligation_is_discharged_is_not_a_violation()
    {
        // Reset from (N, N) to (0, 0) closes a cycle through states where x < N, but every
        // cycle also passes x = N: no cycle stays pending. Terminal states: none.
        var r = Explorer.Run(new CounterSpec(3, reset: true), new() { StopWhenAllViolated = false });
        Assert.Equal(Verdict.Holds, Outcome(r, "x-done").Verdict);
    }

    [Fact]
    public void A_terminal_state_with_the_obligation_pending_is_a_violation()
    {
        var r = Explorer.Run(new CounterSpec(3), new() { Liveness = Liveness.Graph });
        Assert.Equal(Verdict.Holds, Outcome(r, "x-done").Verdict); // every terminal state has x = N
        var stuck = Explorer.Run(new StuckSpec(), new() { Liveness = Liveness.Graph });
        var o = Outcome(stuck, "x-done");
        Assert.Equal(Verdict.Violated, o.Verdict);
        Assert.Equal(o.Trace!.Length, o.Trace.LoopIndex); // stutters in its last state
    }

    [Fact]
    public void A_state_bound_that_is_hit_is_reported_as_a_bound_not_a_pass()
    {
        var r = Explorer.Run(new CounterSpec(50), new() { MaxStates = 100, Liveness = Liveness.Graph });
        Assert.Equal(Bound.States, r.Bound);
        Assert.Equal(100, r.States);
        Assert.All(r.Outcomes, o => Assert.Equal(Verdict.Unknown, o.Verdict));
        Assert.Equal(Verdict.Unknown, r.Verdict);
    }

    [Fact]
    public void A_depth_bound_that_is_hit_is_reported_as_a_bound()
    {
        var r = Explorer.Run(new CounterSpec(50), new() { MaxDepth = 5, Liveness = Liveness.None });
        Assert.Equal(Bound.Depth, r.Bound);
        Assert.Equal(Verdict.Unknown, r.Verdict);
    }

    [Fact]
    public void The_fingerprint_store_grows_without_losing_or_duplicating_entries()
    {
        var set = new FingerprintSet(16);
        var map = new FingerprintSet(16);
        var mapIds = new StateIds(map);
        var rng = new Random(12345);
        var seen = new HashSet<ulong>();
        var ids = new Dictionary<ulong, uint>();
        for (uint i = 0; i < 200_000; i++)
        {
            // Fingerprints are uniform over all 64 bits (the home slot comes from the high bits).
            ulong fp = ((ulong)rng.NextInt64() << 1 ^ (ulong)rng.Next(2) << 63 ^ (ulong)rng.Next()) | 1;
            bool fresh = seen.Add(fp);
            Assert.Equal(fresh, set.Add(fp));
            if (fresh) { map.Add(fp); mapIds.At(map.Find(fp)) = i; ids[fp] = i; }
        }
        Assert.Equal(seen.Count, set.Count);
        foreach (ulong fp in seen) { Assert.True(set.Contains(fp)); Assert.Equal(ids[fp], mapIds.Of(fp)); }
        Assert.False(set.Contains(2)); // even numbers were never added
    }
}

/// <summary>Two states: 0 -> 1, and state 1 is terminal with the obligation pending. Presentation: the defaults.</summary>
internal sealed class StuckSpec : Model.Checking.ISpec<Counters, CounterAction>
{
    public string Name => "test/stuck";
    public IReadOnlyList<Model.Checking.Property> Properties { get; } =
        [new("x-done", Model.Checking.PropertyKind.Eventually, "never discharged", "test")];
    public void Initial(List<Counters> into) => into.Add(default);
    public int Enabled(in Counters s, Span<CounterAction> into) { if (s.Y == 0) { into[0] = CounterAction.IncY; return 1; } return 0; }
    public Counters Next(in Counters s, in CounterAction a) => new() { Y = 1 };
    public ulong Violated(in Counters s) => 0;
    public ulong Pending(in Counters s) => 1;
}
