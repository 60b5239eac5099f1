using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Counter;

/// <summary>
/// A fifth mechanism is its own folder (this one: CounterModel.cs, CounterEntry.cs) plus one
/// registration line: every command finds it through the registry, with nothing else touched.
/// </summary>
public class CounterMechanismTests
{
    [Fact]
    public void A_fifth_mechanism_registered_with_one_line_is_listed_audited_explored_and_helped()
    {
        using var registered = Mechanisms.Register(new CounterEntry()); // the one line

        var (d, designs, _) = Run("designs");
        Assert.Equal(0, d);
        Assert.Contains("counter: a toy", designs);
        Assert.Matches(@"counter/counter-v1 +seed", designs);
        Assert.Matches(@"counter/ref-plain-add +mutant", designs);

        // The reference holds; the seed and the mutant lose an update, with a trace that says so.
        var (okRef, refText, _) = Run("audit", "counter/reference");
        Assert.True(okRef == 0, refText);
        var (bad, audit, _) = Run("audit", "counter-v1", "--cpus", "2");
        Assert.Equal(1, bad);
        Assert.Contains("VIOLATED no-lost-update (counter/counter-v1)", audit);
        Assert.Contains("counter is 1 after 2 increments", audit);
        Assert.Contains("all-done", audit);
        Assert.Equal(1, Run("audit", "counter/ref-plain-add").Code);
        Assert.Equal(0, Run("audit", "counter/counter-v1", "--cpus", "1").Code); // one CPU cannot race

        var (e, explore, _) = Run("explore", "counter", "--cpus", "3", "--rounds", "2");
        Assert.Equal(0, e);
        Assert.Contains("explore counter/reference (cpus=3 rounds=2)", explore);
        Assert.Contains("verdict: holds", explore);

        // Its bounds are checked by its own parser and belong to it alone.
        Assert.Equal(2, Run("explore", "counter", "--cpus", "9").Code);
        Assert.Contains("--cpus is not a bound of ipi", Run("audit", "ipi/reference", "--cpus", "2").Err);
        Assert.Contains("--senders is not a bound of counter", Run("audit", "counter/reference", "--senders", "2").Err);

        // help and --help say what it declares: its bounds with their help, its command.
        var (h, help, _) = Run("help");
        Assert.Equal(0, h);
        Assert.Contains("  counter:", help);
        Assert.Contains("--cpus N", help);
        Assert.Contains("CPUs incrementing the counter, 1..3", help);
        Assert.Contains("counter-bounds TEXT", help);
        Assert.Contains("counter: CPUs incrementing the counter", Run("audit", "--help").Out);
        Assert.Contains("(did you mean --cpus?)", Run("explore", "counter", "--cpu", "2").Err);
        Assert.Equal("cpus=3 rounds=1\n", Run("counter-bounds", "cpus=3").Out);

        // It has no proofs: prove says so rather than passing.
        var (p, prove, _) = Run("prove", "--design", "counter/reference");
        Assert.Equal(3, p);
        Assert.Contains("no encoding: not proved", prove);

        // Its fuzz target runs with the others.
        var target = FuzzCommand.Targets(Path.GetTempPath()).Single(t => t.Name == "counter-bounds");
        var s = FuzzCommand.Run(target, 200, 5);
        Assert.True(s.Result.Holds, s.Result.Detail);
        Assert.True(s.ByExit[0] > 0 && s.ByExit[2] > 0);
    }

    [Fact]
    public void The_registration_is_the_tests_alone()
    {
        Assert.DoesNotContain(Mechanisms.All, m => m.Name == "counter");
        using (Mechanisms.Register(new CounterEntry())) Assert.Contains(Mechanisms.All, m => m.Name == "counter");
        Assert.DoesNotContain(Mechanisms.All, m => m.Name == "counter");
        Assert.Equal(2, Run("audit", "counter/reference").Code);
    }
}
