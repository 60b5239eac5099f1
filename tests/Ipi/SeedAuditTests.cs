using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Ipi;

/// <summary>
/// Auditing the seeds as posted must reproduce their known defects, each as a
/// shortest trace of a pinned length at the default bounds (senders=2 messages=2
/// ring=2 handlers=2, with unregister and destroy racing).
/// </summary>
public class SeedAuditTests
{
    private static readonly Lazy<ExploreReport> V1 = new(() => Audit("ipi-v1"));
    private static readonly Lazy<ExploreReport> V2 = new(() => Audit("ipi-v2"));

    internal static ExploreReport Audit(string design, IpiBounds? bounds = null) =>
        Explorer.Run(new IpiSpec(IpiDesigns.Find(design)!, bounds), new ExploreOptions { StopWhenAllViolated = true });

    internal static Trace Violation(ExploreReport r, IpiInvariant i)
    {
        var o = r.Outcomes.Single(x => x.Property.Name == IpiInvariants.Name(i));
        Assert.True(o.Verdict == Verdict.Violated, $"{r.Spec}: {o.Property.Name} is {o.Verdict}, expected a violation");
        return o.Trace!;
    }

    private static Verdict VerdictOf(ExploreReport r, IpiInvariant i) => r.Outcomes.Single(x => x.Property.Name == IpiInvariants.Name(i)).Verdict;

    [Theory]
    [InlineData("ipi-v1", IpiInvariant.NoOverwrite, 3)]
    [InlineData("ipi-v2", IpiInvariant.NoOverwrite, 6)]
    [InlineData("ipi-v1", IpiInvariant.Delivered, 15)]
    [InlineData("ipi-v2", IpiInvariant.Delivered, 22)]
    [InlineData("ipi-v1", IpiInvariant.NoCoalescedWork, 8)]
    [InlineData("ipi-v2", IpiInvariant.NoCoalescedWork, 12)]
    [InlineData("ipi-v2", IpiInvariant.NoSilentDrop, 6)]
    [InlineData("ipi-v2", IpiInvariant.HandlerType, 7)]
    [InlineData("ipi-v1", IpiInvariant.Intact, 6)]
    [InlineData("ipi-v2", IpiInvariant.Intact, 9)]
    [InlineData("ipi-v2", IpiInvariant.NoUseAfterFree, 4)]
    public void Seed_defect_is_found_with_its_shortest_trace(string design, IpiInvariant invariant, int length)
    {
        var t = Violation(design == "ipi-v1" ? V1.Value : V2.Value, invariant);
        Assert.Equal(length, t.Length);
        Assert.StartsWith(design == "ipi-v1" ? "001 " : "000 ", t.Property.Source); // cites the seed line
    }

    [Fact]
    public void Defect1_a_second_send_overwrites_an_unconsumed_slot_and_the_message_is_lost()
    {
        var t = Violation(V2.Value, IpiInvariant.NoOverwrite);
        // m1 is written in full by CPU1 (lookup, memset, header, copy); CPU2's memset destroys it
        // before the receiver has run: CPU1 will still return 0 for it.
        Assert.Contains("CPU1 send m1", t.States[4].Step);
        Assert.Contains("memcpy", t.States[4].Step);
        Assert.StartsWith("CPU2", t.States[6].Step);
        Assert.Contains("memset", t.States[6].Step);
        Assert.DoesNotContain(t.States.Skip(1), s => s.Step!.StartsWith("CPU0", StringComparison.Ordinal));
        var lost = Violation(V2.Value, IpiInvariant.Delivered);
        Assert.Equal(lost.Length, lost.LoopIndex); // ends in a terminal state with a message owed
    }

    [Fact]
    public void Defect2_two_ipis_before_irq_work_runs_give_one_callback_for_two_messages()
    {
        var t = Violation(V1.Value, IpiInvariant.NoCoalescedWork);
        var interrupts = t.States.Count(s => s.Step?.StartsWith("CPU0 interrupt", StringComparison.Ordinal) == true);
        Assert.Equal(2, interrupts);
        Assert.DoesNotContain(t.States, s => s.Step?.Contains("irq_work:") == true);
    }

    [Fact]
    public void Defect3_a_zero_length_send_succeeds_and_the_v2_receiver_drops_it()
    {
        var t = Violation(V2.Value, IpiInvariant.NoSilentDrop);
        Assert.Contains("0 B", t.States[1].Step);
        Assert.Contains("return 0", t.States[5].Step);
        Assert.Contains("data_size == 0", t.States[6].Step);
        Assert.Equal(Verdict.Holds, VerdictOf(V1.Value, IpiInvariant.NoSilentDrop)); // v1 does not check data_size
    }

    [Fact]
    public void Defect4_a_type_above_2_pow_32_is_truncated_and_reaches_another_handler()
    {
        var t = Violation(V2.Value, IpiInvariant.HandlerType);
        Assert.Contains("type 0x100000001", t.States[1].Step);
        Assert.Contains("handler0->callback", t.States[^1].Step); // handler0 is registered for type 1
    }

    [Fact]
    public void Defect5_a_callback_reads_the_slot_between_memset_and_the_end_of_the_copy()
    {
        var t = Violation(V2.Value, IpiInvariant.Intact);
        int memset = t.States.ToList().FindLastIndex(s => s.Step?.Contains("memset") == true);
        int copy = t.States.ToList().FindLastIndex(s => s.Step?.Contains("memcpy") == true);
        Assert.True(memset > copy, "the last memset has no copy after it");
        Assert.Contains("callback", t.States[^1].Step);
    }

    [Fact]
    public void Seeds_wait_for_irq_work_on_unregister_and_use_masked_cpu_slots()
    {
        Assert.Equal(Verdict.Holds, VerdictOf(V2.Value, IpiInvariant.UnregisterFinal));
        Assert.Equal(Verdict.Holds, VerdictOf(V2.Value, IpiInvariant.IndexBounded));
    }
}
