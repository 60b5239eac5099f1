using Multikernel.Model.Ipi;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Designs;

/// <summary>The design hooks each change what the spec does, and a design sizes its own state.</summary>
public class DesignHooksTests
{
    private static readonly string Dll = typeof(LazyInitRing).Assembly.Location;

    /// <summary>Each uffd walk's hook is called by its walk: overriding it to keep the bits without the context is caught.</summary>
    [Theory]
    [InlineData("uffd/my-release-keeps-bits")]
    [InlineData("uffd/my-register-without-ctx")]
    [InlineData("uffd/my-mremap-keeps-bits")]
    public void A_uffd_walk_hook_that_leaves_a_bit_without_its_context_is_caught(string design)
    {
        var (code, o, e) = Run("audit", design, "--load", Dll);
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Matches(@"ctx-iff-uffd-bit +VIOLATED", o);
        Assert.Matches(@"uffd-bits-disjoint +holds", o);
        Assert.Matches(@"no-crash +holds", o);
    }

    /// <summary>k.Return() zeroes a CPU's locals unless the design keeps them across sends.</summary>
    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public void Return_keeps_the_locals_only_when_the_design_says_so(bool keep, int after)
    {
        var spec = new IpiSpec(new CountsSends($"counts-{keep}", keep));
        var states = new List<IpiState>();
        spec.Initial(states);
        var s = states[0];
        var step = new IpiAction(IpiActor.Sender, 0);
        for (int i = 0; i < 6 && s.Senders[0].K == 0; i++) s = spec.Next(s, step); // this_cpu_inc, lookup, claim, fill, publish, IPI
        Assert.Equal(1, s.Senders[0].K);
        Assert.Equal(after, s.Vars[0]); // sender 0's local 0: no shared variables come before it
        s = spec.Next(s, step);          // the next send's this_cpu_inc
        Assert.Equal(after + 1, s.Vars[0]);
    }

    /// <summary>A design whose variables fit no bounds (not even one sender) is refused when it is added, as --load skips it: never truncated.</summary>
    [Fact]
    public void A_design_that_fits_no_bounds_is_refused_when_added()
    {
        var catalogue = IpiMechanism.Instance.Designs;
        int before = catalogue.All.Count;
        var e = Assert.Throws<ArgumentException>(() => catalogue.Add(new TooManyShared(), Multikernel.Model.Checking.DesignOrigin.User));
        int n = IpiState.MaxDesignBytes + 1;
        Assert.Equal($"my-too-many-shared: {n} shared variables and 0 locals on each of 1 sender need {n} bytes; a design has at most {IpiState.MaxDesignBytes}, so it fits no bounds", e.Message);
        Assert.Equal(before, catalogue.All.Count);
        Assert.Null(catalogue.Find("my-too-many-shared"));
    }

    /// <summary>Not public: --load of this assembly does not see it.</summary>
    private sealed class TooManyShared : Multikernel.Model.Ipi.Designs.RingDesign
    {
        public TooManyShared() : base("my-too-many-shared") { }
        public override string Summary => "257 shared variables: one more byte than a design may have";
        public override IReadOnlyList<string> SharedNames => [.. Enumerable.Range(0, IpiState.MaxDesignBytes + 1).Select(i => $"v{i}")];
    }

    /// <summary>
    /// The timer's reset sends the design's command sequence: GUEST_ID before START holds everything
    /// (GUEST_ID is informative: refused while START is owed, it only makes the reset pending again), and
    /// the trace shows that order; taking GUEST_ID's answer for the handshake breaks reset-order, alone.
    /// </summary>
    [Fact]
    public void A_balloon_design_orders_the_resets_commands_and_the_verdict_follows()
    {
        var (ok, o, e) = Run("audit", "balloon/my-guest-id-before-start", "--load", Dll, "--resets", "2");
        Assert.Equal(0, ok);
        Assert.Empty(e);
        var spec = new Multikernel.Model.Balloon.BalloonSpec(new GuestIdBeforeStart());
        var states = new List<Multikernel.Model.Balloon.BalloonState>();
        spec.Initial(states);
        var s = states[0];
        s = spec.Next(s, new(Multikernel.Model.Balloon.BalloonActor.Init));
        var timer = new Multikernel.Model.Balloon.BalloonAction(Multikernel.Model.Balloon.BalloonActor.Timer);
        Assert.Contains("vmballoon_pop()", spec.Describe(s, timer));
        s = spec.Next(s, timer);
        Assert.Equal(Multikernel.Model.Balloon.BalloonConstants.CmdGuestId, spec.Command(s, Multikernel.Model.Balloon.BalloonActor.Timer));
        Assert.Equal("timer: GUEST_ID (a failure is only logged)", spec.Describe(s, timer));
        s = spec.Next(s, timer);
        Assert.True(s.Has(Multikernel.Model.Balloon.BalloonState.ResetPending)); // refused: START is still owed
        Assert.Equal("timer: START; if it succeeds: reset_required = false", spec.Describe(s, timer));
        s = spec.Next(s, timer);
        Assert.False(s.Has(Multikernel.Model.Balloon.BalloonState.ResetPending));

        var (bad, b, _) = Run("audit", "balloon/my-clears-on-guest-id", "--load", Dll);
        Assert.Equal(1, bad);
        Assert.Equal(["reset-order"], System.Text.RegularExpressions.Regex.Matches(b, @"^  ([a-z-]+) +VIOLATED", System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        Assert.Throws<ArgumentException>(() => new Multikernel.Model.Balloon.BalloonSpec(new NoResetCommands()));
    }

    private sealed class NoResetCommands() : Multikernel.Model.Balloon.BalloonDesign("no-reset-commands", "sends nothing on reset")
    {
        public override IReadOnlyList<uint> ResetCommands => [];
    }
}
