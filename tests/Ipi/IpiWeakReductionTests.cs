using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Ipi;

/// <summary>
/// The weak-memory layer's state merging (IpiWeakSpec.Normalise) is sound: on every IPI design, under tso and lkmm,
/// at small bounds, every property has the same verdict with and without it, and each counterexample the same length
/// (breadth-first: the shortest). And the comparison can fail: a merge that forgets what a CPU has not yet seen is caught.
/// </summary>
public class IpiWeakReductionTests
{
    /// <summary>Two senders of one message: one's IPI lets the drain run while the other's stores are in flight (MP).</summary>
    private static readonly IpiBounds Mp = new() { Senders = 2, Messages = 1, Ring = 2, Handlers = 1, Unregister = false, Destroy = false };
    /// <summary>One sender of two messages to a ring of one, two receiving CPUs where the design has them, a destroy racing.</summary>
    private static readonly IpiBounds Reuse = new() { Senders = 1, Messages = 2, Ring = 1, Handlers = 1, Receivers = 2, Unregister = false, Destroy = true };
    /// <summary>The seeds: two handlers, each with its one irq_work, queued from two receiving CPUs, and an unregister racing.</summary>
    private static readonly IpiBounds Works = new() { Senders = 2, Messages = 1, Handlers = 2, Receivers = 2, Unregister = true, Destroy = false };

    public static TheoryData<string, IpiMemoryModel> Cases()
    {
        var data = new TheoryData<string, IpiMemoryModel>();
        foreach (var d in IpiDesigns.All)
            foreach (var m in new[] { IpiMemoryModel.Tso, IpiMemoryModel.Lkmm })
                data.Add(d.Name, m);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Merging_equivalent_buffer_states_changes_no_verdict_and_no_counterexample_length(string design, IpiMemoryModel model)
    {
        var d = IpiDesigns.Find(design)!;
        foreach (var b in IpiDesigns.Seeds.Contains(d) ? new[] { Mp, Reuse, Works } : [Mp, Reuse])
        {
            var bounds = b with { MemoryModel = model };
            var merged = Run(new IpiWeakSpec(new IpiSpec(d, bounds)));
            var whole = Run(new IpiWeakSpec(new IpiSpec(d, bounds), reduce: false));
            Assert.True(merged.States <= whole.States, $"{design} {bounds}: {merged.States} states merged, {whole.States} without");
            Assert.Null(Difference(merged, whole));
        }
    }

    [Fact]
    public void The_merge_merges_under_lkmm()
    {
        // The reference at the MP bounds: stale fields equal to memory, and bytes no step reads, are what the merge removes.
        var bounds = Mp with { MemoryModel = IpiMemoryModel.Lkmm };
        var merged = Run(new IpiWeakSpec(new IpiSpec(IpiDesigns.Reference, bounds)));
        var whole = Run(new IpiWeakSpec(new IpiSpec(IpiDesigns.Reference, bounds), reduce: false));
        Assert.True(merged.States < whole.States, $"{merged.States} states merged, {whole.States} without");
    }

    [Fact]
    public void A_cpu_forgets_what_it_has_not_seen_only_where_it_next_reads_memory_as_it_is()
    {
        var running = new IpiState { RingWork = 1 };
        Assert.False(IpiDesigns.Reference.MayReadStale(running, 0)); // smp_load_acquire(&slot->state)
        Assert.True(IpiDesigns.Find("ref-drain-once")!.MayReadStale(running, 0)); // READ_ONCE, then plain loads of the slot
        Assert.False(IpiDesigns.Find("ref-drain-once")!.MayReadStale(default, 0)); // no work: the interrupt reads next
        var v2 = IpiDesigns.Find("ipi-v2")!;
        var queued = new IpiState();
        queued.Handlers[1] = new MkIpiHandler { Flags = MkIpiHandler.WorkPending, WorkCpu = 0 };
        Assert.False(v2.MayReadStale(default, 0));
        Assert.True(v2.MayReadStale(queued, 0)); // handler_work() will read the slot with plain loads
        Assert.False(v2.MayReadStale(queued, 1));
    }

    [Fact]
    public void The_comparison_catches_a_merge_that_forgets_a_stale_view()
    {
        // Unsound on purpose: forgetting what a receiving CPU has not yet seen hides ref-drain-once's torn copy.
        var bounds = Mp with { MemoryModel = IpiMemoryModel.Lkmm };
        var d = IpiDesigns.Find("ref-drain-once")!;
        var whole = Run(new IpiWeakSpec(new IpiSpec(d, bounds), reduce: false));
        var forgetful = Run(new Forgetful(new IpiWeakSpec(new IpiSpec(d, bounds))));
        Assert.Contains("intact", Difference(forgetful, whole), StringComparison.Ordinal);
    }

    /// <summary>The first property whose verdict or counterexample length differs, or null.</summary>
    private static string? Difference(ExploreReport a, ExploreReport b)
    {
        Assert.Equal(Bound.None, a.Bound);
        Assert.Equal(Bound.None, b.Bound);
        for (int i = 0; i < a.Outcomes.Count; i++)
        {
            var (x, y) = (a.Outcomes[i], b.Outcomes[i]);
            if (x.Verdict != y.Verdict) return $"{x.Property.Name}: {x.Verdict} against {y.Verdict}";
            if (x.Trace is { } tx && y.Trace is { } ty && tx.Shortest && ty.Shortest && tx.LoopIndex is null && ty.LoopIndex is null && tx.Length != ty.Length)
                return $"{x.Property.Name}: a counterexample of {tx.Length} steps against {ty.Length}";
        }
        return null;
    }

    private static ExploreReport Run<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
        Explorer.Run(spec, new ExploreOptions { StopWhenAllViolated = false });

    /// <summary>The layer, with every receiving CPU's stale view dropped after each step: a merge of states a later load tells apart.</summary>
    private sealed class Forgetful(IpiWeakSpec inner) : ISpec<IpiWeakState, IpiAction>
    {
        public string Name => inner.Name;
        public IReadOnlyList<Property> Properties => inner.Properties;
        public IReadOnlyList<string> FairActors => inner.FairActors;
        public void Initial(List<IpiWeakState> into) => inner.Initial(into);
        public int Enabled(in IpiWeakState s, Span<IpiAction> into) => inner.Enabled(s, into);
        public IpiWeakState Next(in IpiWeakState s, in IpiAction a)
        {
            var t = inner.Next(s, a);
            t.Stale = default;
            return t;
        }
        public ulong Violated(in IpiWeakState s) => inner.Violated(s);
        public ulong Pending(in IpiWeakState s) => inner.Pending(s);
        public ulong Reached(in IpiWeakState s) => inner.Reached(s);
        public int Actor(in IpiAction a) => inner.Actor(a);
    }
}
