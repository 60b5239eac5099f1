using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Cli;

/// <summary>
/// A design is user code: whatever it does at run time (throw from its initial state, throw an
/// exception whose Message throws too, throw from a getter, never return from a step) ends as one
/// line and exit 2, or as the time bound (exit 3), never a stack trace or a hang. Each case ended
/// in exit 134 or ignored --time-limit before. The designs are private here, so no --load sees them;
/// each is added to the registry under its own name.
/// </summary>
public sealed class ContainmentTests
{
    private sealed class ThrowingInit() : RingDesign("contain-init-throws")
    {
        public override void Init(ref IpiState s, IpiKernel k) => throw new InvalidOperationException("boom\u001b[2J\nsecond line");
    }

    private sealed class MessageThrows : Exception
    {
        public override string Message => throw new InvalidOperationException("the message itself throws");
    }

    private sealed class ThrowingMessage() : RingDesign("contain-message-throws")
    {
        public override void Init(ref IpiState s, IpiKernel k) => throw new MessageThrows();
    }

    private sealed class ThrowingNames() : RingDesign("contain-names-throw")
    {
        public override IReadOnlyList<string> SharedNames => throw new NotSupportedException("no names today");
    }

    private sealed class StuckStep() : RingDesign("contain-stuck-step")
    {
        public static readonly ManualResetEventSlim Release = new(false);

        public override void RunWork(ref IpiState s, int work, IpiKernel k)
        {
            Release.Wait(); // never returns while the test holds it
            base.RunWork(ref s, work, k);
        }
    }

    private static string Register(IDesign design)
    {
        var ipi = IpiMechanism.Instance;
        if (ipi.Designs.Find(design.Name) is null) ipi.Designs.Add(design, DesignOrigin.User);
        return ipi.Qualified(design);
    }

    private static void OneLine(int code, string e, int expected, string mentions)
    {
        Assert.Equal(expected, code);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("multikernel: ", e);
        Assert.Contains(mentions, e);
        Assert.DoesNotContain('\u001b', e);
    }

    [Fact]
    public void Initial_states_that_throw_are_one_line_exit_2()
    {
        var (code, _, e) = Run("audit", Register(new ThrowingInit()));
        OneLine(code, e, 2, @"the initial states threw InvalidOperationException: boom\x1b[2J\nsecond line");
    }

    [Fact]
    public void An_exception_whose_message_throws_is_still_one_line()
    {
        var (code, _, e) = Run("explore", "ipi", "--design", Register(new ThrowingMessage()));
        OneLine(code, e, 2, "MessageThrows: (its Message threw InvalidOperationException)");
    }

    [Fact]
    public void A_getter_that_throws_is_one_line_exit_2()
    {
        var (code, _, e) = Run("audit", Register(new ThrowingNames()));
        OneLine(code, e, 2, "the design threw NotSupportedException: no names today");
    }

    [Fact]
    public void A_step_that_never_returns_stops_the_run_at_the_time_limit()
    {
        try
        {
            var (code, o, e) = Run("explore", "ipi", "--design", Register(new StuckStep()), "--time-limit", "1", "--threads", "1");
            Assert.True(code == 3, $"exit {code}: {o}{e}");
            Assert.Contains("a step of the design had not returned", o, StringComparison.Ordinal);
            Assert.Contains("verdict: unknown", o, StringComparison.Ordinal);
        }
        finally { StuckStep.Release.Set(); }
    }
}

/// <summary>Bounds too small for a sometimes-property are "not decided" (exit 3), never a violation of the reference.</summary>
public sealed class VacuityTests
{
    [Fact]
    public void The_reference_under_bounds_too_small_to_deliver_is_not_decided_not_violated()
    {
        var (code, o, _) = Run("explore", "ipi", "--senders", "1", "--messages", "1");
        Assert.Equal(3, code);
        Assert.Contains("some-delivery       unknown: not decided: the reference does not reach it under these bounds either", o, StringComparison.Ordinal);
        Assert.Contains("verdict: unknown", o, StringComparison.Ordinal);
    }

    [Fact]
    public void A_design_that_never_delivers_where_the_reference_does_is_still_violated()
    {
        // ipi/ref-silent (or any design whose delivery is off) fails some-delivery at default bounds, where the reference reaches it.
        var r = Multikernel.Properties.Explorer.Explorer.Run(
            IpiMechanism.Instance.Specification(new Multikernel.Tests.Designs.Silent(), IpiMechanism.Instance.ParseBounds(""))!,
            new Multikernel.Properties.Explorer.ExploreOptions { Threads = 1 });
        var judged = Multikernel.Properties.Explorer.Vacuity.AgainstReference(r, isReference: false,
            () => IpiMechanism.Instance.Specification(IpiMechanism.Instance.Designs.Reference, IpiMechanism.Instance.ParseBounds(""))!,
            new Multikernel.Properties.Explorer.ExploreOptions { Threads = 1 });
        var delivery = judged.Outcomes.Single(x => x.Property.Name == "some-delivery");
        Assert.Equal(Multikernel.Properties.Explorer.Verdict.Violated, delivery.Verdict);
    }
}

/// <summary>A design's text in JUnit XML: control characters (illegal in XML 1.0) are escaped, so the file is written and parses.</summary>
public sealed class JUnitEscapingTests
{
    private sealed class Loud() : RingDesign("contain-junit", Defect.NoFullCheck)
    {
        public override string Summary => "summary with ESC \u001b[2J and BEL \u0007";
        public override IReadOnlyList<Finding> Findings =>
            [new("no-overwrite", "ring_claim()", "head++ \u001b[2J", Consequence.LostData, "an effect with BEL \u0007")];
    }

    [Fact]
    public void A_design_with_control_characters_still_gives_valid_junit()
    {
        var ipi = IpiMechanism.Instance;
        var design = ipi.Designs.Find("contain-junit") ?? new Loud();
        if (ipi.Designs.Find(design.Name) is null) ipi.Designs.Add(design, DesignOrigin.User);
        string dir = Directory.CreateTempSubdirectory("mk-junit").FullName;
        try
        {
            string file = Path.Combine(dir, "a.xml");
            var (code, o, e) = Run("audit", "ipi/contain-junit", "--junit", file);
            Assert.True(code == 1, o + e);
            var xml = System.Xml.Linq.XDocument.Load(file);
            Assert.DoesNotContain('\u001b', xml.ToString());
            Assert.Contains(@"\x1b[2J", xml.ToString(), StringComparison.Ordinal);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
