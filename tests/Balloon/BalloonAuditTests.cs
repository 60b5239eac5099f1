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

    private static readonly BalloonBounds HighPfn = BalloonBounds.Default with { HighPfn = true };
    private static readonly BalloonBounds HugeTarget = BalloonBounds.Default with { HugeTarget = true };
    private static readonly Lazy<ExploreReport> RfcHighPfn = new(() => Explore(BalloonDesigns.Rfc, HighPfn));
    private static readonly Lazy<ExploreReport> RfcHugeTarget = new(() => Explore(BalloonDesigns.Rfc, HugeTarget));

    private static ExploreReport Report(string bound) => bound switch { "high-pfn" => RfcHighPfn.Value, "huge-target" => RfcHugeTarget.Value, _ => Rfc.Value };

    [Theory]
    [InlineData("", BalloonInvariant.DevicePut, 1)]                  // register_virtio_device() fails; kfree(), not put_device()
    [InlineData("", BalloonInvariant.FeaturesExact, 1)]              // the uninitialised features word, read at probe
    [InlineData("", BalloonInvariant.TimerLifetime, 4)]              // kthread_run() fails after find_vqs() armed the timer
    [InlineData("", BalloonInvariant.TargetFresh, 10)]               // the timer and the config read race on num_pages
    [InlineData("high-pfn", BalloonInvariant.PfnFits, 8)]            // a PFN ≥ 2^32 through virtio_balloon's u32 pfns[]
    [InlineData("high-pfn", BalloonInvariant.BalloonConsistent, 11)]
    [InlineData("high-pfn", BalloonInvariant.LockOnce, 22)]
    [InlineData("high-pfn", BalloonInvariant.ReachesTarget, 24)]     // a terminal state: the views never agree
    [InlineData("huge-target", BalloonInvariant.TargetGiven, 7)]     // a hostile host's 2^32 + 1 stored in a u32
    public void The_seed_as_posted_breaks_it_with_a_shortest_trace(string bound, BalloonInvariant i, int length)
    {
        var o = Outcome(Report(bound), i);
        Assert.Equal(Verdict.Violated, o.Verdict);
        output.WriteLine(TraceText.Format(o.Trace!));
        Assert.Equal(length, o.Trace!.Length);
        Assert.NotNull(o.Trace.Why);
    }

    /// <summary>At the default bounds (a real machine below 16 TiB, a conforming host) the seed keeps these.</summary>
    [Theory]
    [InlineData(BalloonInvariant.PfnFits)]
    [InlineData(BalloonInvariant.BalloonConsistent)]
    [InlineData(BalloonInvariant.LockOnce)]
    [InlineData(BalloonInvariant.TargetGiven)]
    [InlineData(BalloonInvariant.ResetOrder)]     // it clears reset_pending only after START succeeded, as 2.6.34 does
    [InlineData(BalloonInvariant.AnsweredOnce)]   // balloon_ack() calls get_buf() once
    [InlineData(BalloonInvariant.SizeMatches)]
    public void The_seed_holds_it_on_a_real_machine_with_a_conforming_host(BalloonInvariant i) =>
        Assert.Equal(Verdict.Holds, Outcome(Rfc.Value, i).Verdict);

    [Fact]
    public void The_bounds_outside_the_protocol_are_off_by_default_and_named_in_the_trace()
    {
        Assert.False(BalloonBounds.Default.HighPfn);
        Assert.False(BalloonBounds.Default.HugeTarget);
        Assert.Contains("high-pfn=no huge-target=no", BalloonBounds.Default.ToString());
        Assert.True(BalloonBounds.Parse("high-pfn=yes").HighPfn);
        var pfn = Outcome(RfcHighPfn.Value, BalloonInvariant.PfnFits);
        Assert.Contains("high-pfn", pfn.Trace!.Why);
        Assert.Contains("16 TiB", pfn.Trace.Why);
        Assert.Contains("huge-target", Outcome(RfcHugeTarget.Value, BalloonInvariant.TargetGiven).Trace!.Why);
    }

    /// <summary>The properties the seed's audit violates are exactly those of its findings that apply, at the default bounds and with each precondition's bound on.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("high-pfn")]
    [InlineData("huge-target")]
    public void Every_violation_of_the_seed_is_a_declared_finding_and_every_applying_finding_is_violated(string bound)
    {
        var r = Report(bound);
        string text = bound.Length == 0 ? BalloonBounds.Default.ToString() : (bound == "high-pfn" ? HighPfn : HugeTarget).ToString();
        var violated = r.Outcomes.Where(o => o.Verdict == Verdict.Violated).Select(o => o.Property.Name).Order().ToList();
        var declared = BalloonDesigns.Rfc.Findings.Where(f => f.Applies(text)).Select(f => f.Property).Distinct().Order().ToList();
        Assert.Equal(declared, violated);
    }

    /// <summary>
    /// At the default bounds reaches-target holds under the fairness the spec declares; judged --unfair,
    /// its only lasso keeps the balloon thread retrying while the timer, enabled in every state of the
    /// cycle, never runs the reset: a schedule the kernel's timer softirq never produces, so no finding.
    /// </summary>
    [Fact]
    public void The_seeds_reaches_target_holds_under_fairness_and_its_unfair_lasso_starves_the_timer()
    {
        Assert.Equal(Verdict.Holds, Outcome(Rfc.Value, BalloonInvariant.ReachesTarget).Verdict);
        var spec = new BalloonSpec(BalloonDesigns.Rfc);
        var unfair = Explorer.Run(spec, new ExploreOptions { Unfair = true, StopWhenAllViolated = false });
        var t = Outcome(unfair, BalloonInvariant.ReachesTarget).Trace!;
        Assert.True(t.LoopIndex < t.Length, "a lasso, not a terminal state");
        var init = new List<BalloonState>();
        spec.Initial(init);
        var actions = new BalloonAction[Model.Checking.SpecLimits.MaxEnabled];
        var s = init[t.InitialIndex];
        for (int k = 0; k < t.Choices.Count; k++)
        {
            int n = spec.Enabled(s, actions);
            var a = actions[t.Choices[k]];
            if (k >= t.LoopIndex)
            {
                Assert.Contains(actions[..n], x => x.Actor == BalloonActor.Timer);
                Assert.NotEqual(BalloonActor.Timer, a.Actor);
            }
            s = spec.Next(s, a);
        }
        Assert.DoesNotContain(BalloonDesigns.Rfc.Findings, f => f.Property == "reaches-target" && f.Applies(BalloonBounds.Default.ToString()));
    }

    [Fact]
    public void The_host_refuses_everything_but_START_while_START_is_owed()
    {
        var s = default(BalloonState);
        s.HostPhase = 1;
        s.HostLocked = 1;
        foreach (uint cmd in new[] { BalloonConstants.CmdGetTarget, BalloonConstants.CmdLock, BalloonConstants.CmdUnlock, BalloonConstants.CmdGuestId, BalloonConstants.CmdBatchedLock })
        {
            Assert.Equal(BalloonConstants.ErrorReset, BalloonKernel.Receive(ref s, cmd, HostFault.None));
            Assert.Equal(1, s.HostPhase);
        }
        Assert.Equal(BalloonConstants.Success, BalloonKernel.Receive(ref s, BalloonConstants.CmdStart, HostFault.None));
        Assert.Equal(0, s.HostPhase);
        // GUEST_ID is informative: the host runs without it.
        Assert.Equal(BalloonConstants.Success, BalloonKernel.Receive(ref s, BalloonConstants.CmdGetTarget, HostFault.None));
    }

    [Fact]
    public void The_seed_starts_with_its_probe_START_and_its_thread_waits_for_find_vqs()
    {
        var spec = new BalloonSpec(BalloonDesigns.Rfc);
        var init = new List<BalloonState>();
        spec.Initial(init);
        // Two initial states: the features word exact, or with the stack's STATS_VQ bit (one virtio_balloon keeps).
        Assert.Equal([BalloonConstants.OfferedFeatures, BalloonConstants.OfferedFeatures | 2u], init.Select(s => (uint)s.Features).Order());
        var actions = new BalloonAction[Model.Checking.SpecLimits.MaxEnabled];
        // Module init first: register_virtio_device() succeeds or fails, nothing else.
        int n = spec.Enabled(init[0], actions);
        Assert.Equal([new(BalloonActor.Init), new(BalloonActor.Init, Arg: 1)], actions[..n].ToArray());
        Assert.Equal(0, spec.Enabled(spec.Next(init[0], actions[1]), actions)); // a failed registration: the module is not loaded
        // With the stack's STATS_VQ bit the probe stops in find_vqs() (-EINVAL): nothing runs after it.
        var garbage = init.Single(s => (s.Features & 2) != 0);
        var noBind = spec.Next(garbage, new BalloonAction(BalloonActor.Init));
        Assert.Equal(BalloonState.DevNoBind, noBind.Device);
        Assert.Equal(0, spec.Enabled(noBind, actions));
        var probed = spec.Next(init[0], actions[0]);
        n = spec.Enabled(probed, actions);
        Assert.DoesNotContain(actions[..n], a => a.Actor == BalloonActor.Init); // kthread_run() only once find_vqs() has returned
        Assert.DoesNotContain(actions[..n], a => a.Actor == BalloonActor.Guest); // no balloon thread before find_vqs() returns
        Assert.Contains(actions[..n], a => a.Fault == HostFault.Reset);        // the first START may fail
        // A failed probe START is ignored: the timer is armed, reset_pending stays false.
        var failed = spec.Next(probed, actions[..n].First(a => a.Fault == HostFault.Reset));
        Assert.Equal(BalloonSpec.TPoll, failed.TimerPc);
        Assert.False(failed.Has(BalloonState.ResetPending));
        Assert.Equal(1, failed.HostPhase);
    }

    [Fact]
    public void After_a_failed_probe_no_balloon_thread_runs_and_only_the_seeds_timer_does()
    {
        var actions = new BalloonAction[Model.Checking.SpecLimits.MaxEnabled];
        foreach (var d in new[] { BalloonDesigns.Rfc, BalloonDesigns.Reference })
        {
            var spec = new BalloonSpec(d);
            var init = new List<BalloonState>();
            spec.Initial(init);
            var s = init[0];
            // Register, run the probe's commands (if any), then fail kthread_run().
            for (int guard = 0; guard < 10 && s.Device != BalloonState.DevProbeFailed; guard++)
            {
                int k = spec.Enabled(s, actions);
                var next = s.Device == BalloonState.DevNew ? new BalloonAction(BalloonActor.Init)
                    : actions[..k].ToArray().FirstOrDefault(a => a.Actor == BalloonActor.Init && a.Arg == 3, actions[0]);
                s = spec.Next(s, next);
            }
            Assert.Equal(BalloonState.DevProbeFailed, s.Device);
            int n = spec.Enabled(s, actions);
            Assert.DoesNotContain(actions[..n], a => a.Actor == BalloonActor.Guest);
            Assert.Equal(!d.DisarmsOnProbeFailure, actions[..n].ToArray().Any(a => a.Actor == BalloonActor.Timer));
        }
    }

    [Fact]
    public void The_seeds_balloon_thread_calls_get_buf_once_and_the_draining_mutant_twice()
    {
        Assert.DoesNotContain("get_buf() again", TraceText.Format(Outcome(Rfc.Value, BalloonInvariant.TargetFresh).Trace!));
        Assert.DoesNotContain("get_buf() again", TraceText.Format(Outcome(RfcHighPfn.Value, BalloonInvariant.ReachesTarget).Trace!));
        var token = Explore(BalloonDesigns.Mutants.Single(m => m.Name == "balloon-ref-token-twice"));
        var o = Outcome(token, BalloonInvariant.AnsweredOnce);
        Assert.Equal(Verdict.Violated, o.Verdict);
        Assert.Contains("second time", o.Trace!.Why);
    }

    [Fact]
    public void The_reference_holds_every_property_and_reaches_every_sometimes()
    {
        foreach (var b in new[] { BalloonBounds.Default, BalloonBounds.Default with { Batch = false }, BalloonBounds.Default with { Resets = 2, Changes = 2 },
                     BalloonBounds.Default with { HighPfn = true, HugeTarget = true }, BalloonBounds.Default with { HighPfn = true, HugeTarget = true, Batch = false } })
        {
            var r = Explore(BalloonDesigns.Reference, b);
            output.WriteLine($"{b}: {r.States:N0} states");
            Assert.Equal(Bound.None, r.Bound);
            Assert.All(r.Outcomes, o => Assert.True(o.Verdict == Verdict.Holds, $"{b}: {o.Property.Name}: {o.Verdict} {o.Reason}"));
        }
    }

    [Theory]
    [InlineData("balloon-ref-no-lock", BalloonInvariant.TargetFresh, "")]
    [InlineData("balloon-ref-no-lock", BalloonInvariant.SizeMatches, "")]
    [InlineData("balloon-ref-truncate-pfn", BalloonInvariant.PfnFits, "high-pfn=yes")]
    [InlineData("balloon-ref-truncate-pfn", BalloonInvariant.LockOnce, "high-pfn=yes")]
    [InlineData("balloon-ref-token-twice", BalloonInvariant.AnsweredOnce, "")]
    [InlineData("balloon-ref-unlock-on-reset", BalloonInvariant.BalloonConsistent, "")]
    [InlineData("balloon-ref-keep-on-reset", BalloonInvariant.BalloonConsistent, "")]
    [InlineData("balloon-ref-extra-feature", BalloonInvariant.FeaturesExact, "")]
    [InlineData("balloon-ref-truncate-target", BalloonInvariant.TargetGiven, "huge-target=yes")]
    [InlineData("balloon-ref-give-up", BalloonInvariant.ReachesTarget, "")]
    [InlineData("balloon-ref-clear-on-failed-start", BalloonInvariant.ResetOrder, "")]
    [InlineData("balloon-ref-kfree-device", BalloonInvariant.DevicePut, "")]
    [InlineData("balloon-ref-timer-outlives-probe", BalloonInvariant.TimerLifetime, "")]
    public void Each_mutant_is_caught(string design, BalloonInvariant i, string bounds)
    {
        var d = BalloonDesigns.Mutants.Single(m => m.Name == design);
        Assert.Equal(Verdict.Violated, Outcome(Explore(d, BalloonBounds.Parse(bounds)), i).Verdict);
    }

    /// <summary>Outside the protocol's environment the truncating mutants are not reachable: their bounds are what catch them.</summary>
    [Theory]
    [InlineData("balloon-ref-truncate-pfn")]
    [InlineData("balloon-ref-truncate-target")]
    public void The_truncating_mutants_need_their_bound(string design)
    {
        var r = Explore(BalloonDesigns.Mutants.Single(m => m.Name == design));
        Assert.All(r.Outcomes, o => Assert.NotEqual(Verdict.Violated, o.Verdict));
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
