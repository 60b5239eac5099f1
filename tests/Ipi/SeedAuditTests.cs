using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Multikernel.Model.Checking;
using Xunit;

namespace Multikernel.Tests.Ipi;

/// <summary>
/// Auditing the seeds as posted must reproduce their known defects, each as a
/// shortest trace of a pinned length at the default bounds (senders=2 messages=2
/// ring=2 handlers=2 receivers=2, with unregister and destroy racing), and every
/// violation must be one the seed design declares as a finding.
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
    [InlineData("ipi-v1", IpiInvariant.NoOverwrite, 2)]   // a 0-byte message is whole once its header is written
    [InlineData("ipi-v2", IpiInvariant.NoOverwrite, 5)]
    [InlineData("ipi-v1", IpiInvariant.Delivered, 18)]
    [InlineData("ipi-v2", IpiInvariant.Delivered, 23)]
    [InlineData("ipi-v1", IpiInvariant.NoCoalescedWork, 8)]
    [InlineData("ipi-v2", IpiInvariant.NoSilentDrop, 6)]
    [InlineData("ipi-v2", IpiInvariant.HandlerType, 8)]
    [InlineData("ipi-v1", IpiInvariant.Intact, 7)]
    [InlineData("ipi-v2", IpiInvariant.Intact, 10)]
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
        // m3 (0 bytes) is whole in the slot once CPU2 has written its header (lookup, memset, header);
        // CPU1's memset destroys it before the receiver has run: CPU2 will still return 0 for it.
        Assert.Contains("CPU2 send m3", t.States[4].Step);
        Assert.Contains("target->data_size = data_size", t.States[4].Step);
        Assert.StartsWith("CPU1", t.States[5].Step);
        Assert.Contains("memset", t.States[5].Step);
        Assert.DoesNotContain(t.States.Skip(1), s => s.Step!.StartsWith("CPU0", StringComparison.Ordinal));
        var lost = Violation(V2.Value, IpiInvariant.Delivered);
        Assert.Equal(lost.Length, lost.LoopIndex); // ends in a terminal state with a message owed
    }

    [Fact]
    public void Defect2_v1_ipis_on_two_cpus_before_irq_work_runs_lose_the_first_cpus_message()
    {
        var t = Violation(V1.Value, IpiInvariant.NoCoalescedWork);
        // One interrupt on each receiving CPU, no callback in between: the second redirects saved_data.
        Assert.Single(t.States, s => s.Step?.StartsWith("CPU0 interrupt", StringComparison.Ordinal) == true);
        Assert.Single(t.States, s => s.Step?.StartsWith("CPU1 interrupt", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(t.States, s => s.Step?.Contains("irq_work:") == true);
        Assert.Contains("irq_work_queue() returns false", t.Why);
    }

    /// <summary>v1 at default bounds with handler0's work between irq_work_run()'s two steps on CPU0: m1 whole in slot0, m2 whole in slot1, CPU1's IPI pending.</summary>
    private static (IpiSpec Spec, IpiState State) RunningOnCpu0()
    {
        var spec = new IpiSpec(IpiDesigns.Find("ipi-v1")!);
        var init = new List<IpiState>();
        spec.Initial(init);
        var s = init[0];
        s.Slots[0] = new MkIpiData { SenderCpu = 1, DataSize = 16, Type = 1, Payload = 1 };
        s.Slots[1] = new MkIpiData { SenderCpu = 1, DataSize = 8, Type = 1, Payload = 2 };
        s.Handlers[0].Flags |= MkIpiHandler.Running;
        (s.Handlers[0].RunCpu, s.Handlers[0].RunDispatched, s.Handlers[0].SavedData) = (0, 1, 1);
        s.IpiPending = 0b11;
        return (spec, s);
    }

    [Fact]
    public void A_cpu_inside_its_irq_work_takes_no_interrupt_and_the_callback_loads_saved_data_in_a_step_of_its_own()
    {
        var (spec, s) = RunningOnCpu0();
        var acts = new IpiAction[SpecLimits.MaxEnabled];
        var enabled = acts.AsSpan(0, spec.Enabled(s, acts)).ToArray();
        Assert.DoesNotContain(new IpiAction(IpiActor.Interrupt, 0), enabled); // hard interrupt context on CPU0
        Assert.Contains(new IpiAction(IpiActor.Interrupt, 1), enabled);
        // CPU1's dispatch finds the work no longer pending: it queues it again and redirects saved_data
        // while CPU0's handler_work() has not loaded it yet: m1, whole in slot0, reaches no callback.
        var t = spec.Next(s, new IpiAction(IpiActor.Interrupt, 1));
        Assert.NotEqual(0UL, spec.Violated(t) & (1UL << spec.Properties.ToList().FindIndex(p => p.Name == "no-coalesced-work")));
        Assert.NotEqual(0, t.Handlers[0].Flags & MkIpiHandler.WorkPending);
        var u = spec.Next(t, new IpiAction(IpiActor.Work, 0)); // CPU0's callback now reads slot1
        Assert.Equal(0, u.Handlers[0].Flags & MkIpiHandler.Running);
        Assert.NotEqual(0UL, spec.Violated(u) & (1UL << spec.Properties.ToList().FindIndex(p => p.Name == "intact")));
    }

    [Fact]
    public void With_one_receiving_cpu_coalescing_loses_nothing_beyond_the_overwrite()
    {
        // The pending callback reads the current slot: a second dispatch needs a second message
        // in that slot, which overwrote the first (no-overwrite's finding), so nothing else is lost.
        var one = Audit("ipi-v1", new IpiBounds { Receivers = 1 });
        Assert.Equal(Verdict.Holds, VerdictOf(one, IpiInvariant.NoCoalescedWork));
        Assert.Equal(Verdict.Violated, VerdictOf(one, IpiInvariant.NoOverwrite));
        Assert.Equal(Verdict.Holds, VerdictOf(V2.Value, IpiInvariant.NoCoalescedWork)); // v2: cpumask_first(), one receiving CPU
    }

    [Fact]
    public void V1_handlers_have_no_type_so_handler_type_is_left_out_and_traces_show_no_ipi_type()
    {
        Assert.DoesNotContain(V1.Value.Outcomes, o => o.Property.Name == IpiInvariants.Name(IpiInvariant.HandlerType));
        Assert.Contains("handler-type: not applicable", IpiDesigns.Find("ipi-v1")!.Summary);
        foreach (var o in V1.Value.Outcomes.Where(o => o.Trace is not null))
            foreach (var st in o.Trace!.States)
                Assert.DoesNotContain(st.Vars, v => v.Value.ToString()!.Contains("ipi_type", StringComparison.Ordinal));
        Assert.Contains(V2.Value.Outcomes, o => o.Property.Name == IpiInvariants.Name(IpiInvariant.HandlerType));
    }

    [Fact]
    public void A_design_without_handler_types_that_skips_a_handler_fails_delivered()
    {
        var r = Explorer.Run(new IpiSpec(new UntypedButFiltering()), new ExploreOptions { StopWhenAllViolated = true });
        Assert.Equal(Verdict.Violated, VerdictOf(r, IpiInvariant.Delivered));
    }

    /// <summary>Declares no handler types (as v1) but queues only handler 0: declaring it must not hide the skipped handler.</summary>
    private sealed class UntypedButFiltering : Model.Ipi.Designs.IrqWorkDesign
    {
        public override string Name => "untyped-but-filtering";
        public override string Summary => "test: no handler types, but handler1 is never queued";
        public override bool HandlerTypes => false;
        public override bool HasInstances => false;
        public override IReadOnlyList<string> SendSteps => ["fill", "ipi"];
        public override void SendIpiData(ref IpiState s, int cpu, IpiKernel k)
        {
            if (s.Senders[cpu].Pc == 0)
            {
                if (k.RejectOversize(ref s, cpu)) return;
                k.WriteHeader(ref s, cpu, 0); k.CopyPayload(ref s, cpu, 0); k.Complete(ref s, cpu, 0);
                s.Senders[cpu].Pc++;
                return;
            }
            IpiKernel.RaiseIpi(ref s);
            k.Return(ref s, cpu, 0);
        }
        public override string InterruptLine => "queue handler0 only";
        protected override bool Matches(int h, in MkIpiData data) => h == 0;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_violation_of_a_seed_is_a_declared_finding_and_every_finding_is_violated(bool hostilePeer)
    {
        var bounds = IpiBounds.Default with { HostilePeer = hostilePeer };
        foreach (var design in new[] { "ipi-v1", "ipi-v2" })
        {
            var r = hostilePeer ? Audit(design, bounds) : design == "ipi-v1" ? V1.Value : V2.Value;
            var d = IpiDesigns.Find(design)!;
            var violated = r.Outcomes.Where(o => o.Verdict == Verdict.Violated).Select(o => o.Property.Name).Order().ToArray();
            var declared = d.Findings.Where(f => f.Applies(bounds.ToString())).Select(f => f.Property).Distinct().Order().ToArray();
            Assert.Equal(declared, violated);
            Assert.All(d.Findings, f => Assert.StartsWith(design == "ipi-v1" ? "001 " : "000 ", f.Function));
        }
    }

    [Fact]
    public void The_hostile_peer_is_off_by_default_named_in_the_trace_and_the_reference_checks_the_size()
    {
        Assert.False(IpiBounds.Default.HostilePeer);
        Assert.DoesNotContain(V2.Value.Outcomes, o => o.Property.Name == IpiInvariants.Name(IpiInvariant.SizeChecked));
        var peer = IpiBounds.Default with { HostilePeer = true };
        Assert.Equal(peer, IpiBounds.Parse(peer.ToString()));
        var t = Violation(Audit("ipi-v2", peer), IpiInvariant.SizeChecked);
        // v2 checks data_size in the interrupt; the peer rewrites it before the irq_work's callback reads it.
        int check = t.States.ToList().FindIndex(s => s.Step?.Contains("interrupt") == true);
        int write = t.States.ToList().FindIndex(s => s.Step?.StartsWith("hostile peer", StringComparison.Ordinal) == true);
        Assert.True(check >= 0 && write > check, "the peer writes after the interrupt's check");
        Assert.Contains("callback", t.States[^1].Step);
        var f = IpiDesigns.Find("ipi-v2")!.Findings.Single(x => x.Property == "size-checked");
        Assert.Equal("area-created, hostile-peer", f.NeedsText);
        Assert.False(f.Applies(IpiBounds.Default.ToString()));
        var reference = Explorer.Run(new IpiSpec(IpiDesigns.Reference, peer), new ExploreOptions());
        Assert.All(reference.Outcomes, o => Assert.NotEqual(Verdict.Violated, o.Verdict));
        Assert.Equal(Verdict.Holds, VerdictOf(reference, IpiInvariant.SizeChecked));
    }

    [Fact]
    public void V2_use_after_free_needs_the_destroy_nothing_calls_and_goes_with_it()
    {
        var f = IpiDesigns.Find("ipi-v2")!.Findings.Single(x => x.Property == IpiInvariants.Name(IpiInvariant.NoUseAfterFree));
        Assert.Equal("area-created, no-caller-yet", f.NeedsText); // and, as every v2 finding, an area patch 13 never creates
        var noDestroy = IpiBounds.Default with { Destroy = false };
        Assert.False(f.Applies(noDestroy.ToString()));
        Assert.Equal(Verdict.Holds, VerdictOf(Audit("ipi-v2", noDestroy), IpiInvariant.NoUseAfterFree));
        Assert.DoesNotContain(IpiDesigns.Find("ipi-v2")!.Findings, x => x.Property == IpiInvariants.Name(IpiInvariant.NoCoalescedWork));
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
