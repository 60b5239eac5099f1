using FsCheck.Experimental;
using Multikernel.Impl.Balloon;
using BalloonDesigns = Multikernel.Model.Balloon.BalloonDesigns;
using Multikernel.Properties.Balloon;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

public class BalloonModelBasedTests(ITestOutputHelper output)
{
    private const ulong Seed = 77;

    private static FsCheck.Property Machine(BalloonImplDefects defects, Multikernel.Model.Balloon.BalloonDesign? design = null) =>
        new BalloonMachine(defects, 40, design).ToProperty();

    [Fact]
    public void The_driver_agrees_with_the_reference_design_call_by_call() =>
        PropertyRuns.Holds(output, "balloon model-based", Machine(BalloonImplDefects.None), 500, Seed);

    [Theory]
    [InlineData(BalloonImplDefects.TruncatePfn, "not a page the guest allocated")]
    [InlineData(BalloonImplDefects.KeepOnReset, "")]
    [InlineData(BalloonImplDefects.TruncateTarget, "target")]
    public void Each_implementation_defect_is_caught_and_shrunk(BalloonImplDefects d, string says) =>
        PropertyRuns.Caught(output, $"balloon model-based ({d})", Machine(d), 500, Seed, says);

    /// <summary>
    /// The model is the specification's design run one work item at a time, so a defect planted in
    /// the design (not in the driver, not in a second model) makes the check against the correct
    /// driver fail, at the call where they part, naming what the driver has and what the model has.
    /// </summary>
    [Theory]
    [InlineData("balloon-ref-keep-on-reset", "the model's host []")] // the design keeps its pages on RESET; the driver popped and locked them again
    [InlineData("balloon-ref-clear-on-failed-start", "the driver's reset required True, the model's False")] // the design leaves the reset after a START answered RESET
    [InlineData("balloon-ref-give-up", "the driver's size 3, the model's 1")] // the design stops inflating after a refusal
    [InlineData("balloon-ref-unlock-on-reset", "the model's host []")] // the design UNLOCKs on RESET, refused, and keeps the pages
    [InlineData("balloon-ref-truncate-pfn", "the driver's ballooned [")] // the design's batch entry carries PFN mod 2^32: the host locks another page
    [InlineData("balloon-ref-truncate-target", "the driver's size 0, the model's 1")] // the design acts on 2^32 + 1 cut to 1
    [InlineData("balloon-ref-no-lock", "backdoor commands, the model")] // without conf_sem the balloon thread asks for the target itself
    [InlineData("balloon-ref-token-twice", "the model's design breaks answered-once")] // no effect the driver shows: the design's own step breaks its property
    public void A_defect_planted_in_the_specification_is_caught(string mutant, string expect)
    {
        var design = BalloonDesigns.Mutants.Single(d => d.Name == mutant);
        PropertyRuns.Caught(output, $"balloon model-based against {mutant}", Machine(BalloonImplDefects.None, design), 500, Seed, expect);
    }

    [Fact]
    public void The_model_runs_the_specifications_steps()
    {
        // The first work item: the timer's reset (START, GUEST_ID) and GET_TARGET, then one batched LOCK, in the specification's own state.
        var m = Multikernel.Model.Balloon.BalloonApiModel.Start(3, highPfn: false, batching: true).SetHostTarget(2).Work();
        Assert.Equal(4, m.Commands);
        Assert.Equal(0b011, m.State.Ballooned);
        Assert.Equal(0b011, m.State.HostLocked);
        Assert.Equal(Multikernel.Model.Balloon.BalloonSpec.GIdle, m.State.GuestPc);
        // A refused first page is kept aside and released when the cycle ends; the next page is locked instead.
        var r = m.SetHostTarget(0).Work().SetHostTarget(2).RefuseNextLock().Work();
        Assert.Equal(0, r.RefuseLocks);
        Assert.Equal(0b110, r.State.Ballooned);
        Assert.Equal(0, r.State.Refused);
        Assert.Throws<ArgumentException>(() => Multikernel.Model.Balloon.BalloonApiModel.Start(3, false, true, new SubclassOfReference()));
    }

    private sealed class SubclassOfReference() : Multikernel.Model.Balloon.BalloonDesign("sub", "a subclass");

    [Fact]
    public void A_short_soak_keeps_the_views_equal_and_a_driver_that_keeps_its_pages_on_reset_diverges()
    {
        var ok = BalloonSoak.Run(30_000, Seed);
        output.WriteLine(ok.ToString());
        Assert.True(ok.Holds, ok.ToString());
        Assert.True(ok.Resets > 0 && ok.Refusals > 0 && ok.Busy > 0, "the faults were injected");
        var bad = BalloonSoak.Run(30_000, Seed, BalloonImplDefects.KeepOnReset);
        Assert.False(bad.Holds);
        Assert.True(bad.Divergences > 0);
    }

    [Fact]
    public void A_pfn_above_4_gib_is_refused_unbatched_and_sent_whole_in_a_batch()
    {
        foreach (bool batching in new[] { false, true })
        {
            var mem = GuestMemory.Range(0x100, 6, highEvery: 2); // 0x100, 0x1_0000_0101, 0x102, …
            var host = new SimulatedHypervisor(mem) { TargetPages = 6 };
            var b = new VmBalloon(host, mem, batching);
            b.Work();
            Assert.Equal(0, host.Violations);
            Assert.Equal(batching ? 6u : 3u, b.Size);
            Assert.All(host.Locked, pfn => Assert.True(batching || pfn >> 32 == 0));
            Assert.Equal(b.Pages.ToArray().Order(), host.Locked.Order());
        }
    }

    [Fact]
    public void A_reset_pops_every_page_without_telling_the_host_and_restarts_with_start_then_guest_id()
    {
        var mem = GuestMemory.Range(0x100, 8);
        var host = new SimulatedHypervisor(mem) { TargetPages = 5 };
        var b = new VmBalloon(host, mem);
        b.Work();
        Assert.Equal(5u, b.Size);
        host.ResetAtCommand = host.Commands; // the next command answers RESET
        b.Work();
        Assert.True(b.ResetRequired);
        Assert.Empty(host.Locked);
        b.Work();                            // pop, START, GUEST_ID, GET_TARGET, inflate again
        Assert.Equal(0, host.Violations);
        Assert.Equal(5u, b.Size);
        Assert.Equal(b.Pages.ToArray().Order(), host.Locked.Order());
    }

    /// <summary>The simulated host as the model's: after RESET it refuses everything but START (RESET again), and runs on after START without waiting for GUEST_ID.</summary>
    [Fact]
    public void The_simulated_host_refuses_everything_but_START_after_RESET_and_does_not_wait_for_GUEST_ID()
    {
        var host = new SimulatedHypervisor(GuestMemory.Range(0x100, 4)) { ResetAtCommand = 0, TargetPages = 3 };
        Assert.Equal(BalloonConstants.ErrorReset, host.Command(BalloonConstants.CmdGetTarget, 4, 0, out _));
        Assert.Equal(BalloonConstants.ErrorReset, host.Command(BalloonConstants.CmdGetTarget, 4, 0, out _));
        Assert.Equal(BalloonConstants.ErrorReset, host.Command(BalloonConstants.CmdGuestId, BalloonConstants.GuestIdLinux, 0, out _));
        Assert.True(host.AwaitingStart);
        Assert.Equal(2, host.Violations);
        Assert.Equal(BalloonConstants.SuccessWithCapabilities, host.Command(BalloonConstants.CmdStart, BalloonConstants.CapBasicCmds, 0, out _));
        Assert.False(host.AwaitingStart);
        Assert.Equal(BalloonConstants.Success, host.Command(BalloonConstants.CmdGetTarget, 4, 0, out ulong target));
        Assert.Equal(3UL, target);
        Assert.Equal(2, host.Violations);
    }
}
