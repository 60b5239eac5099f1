using Multikernel.Cli.Commands;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Cli;

/// <summary>
/// The fuzz harness of every parser of untrusted input, with a fixed seed and a fixed budget of
/// cases (the `fuzz` command runs it longer, with any seed). Every case must end in exit 0-3,
/// with no exception, allocation and output linear in the input.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private const ulong Seed = 20261122;

    [Theory]
    [InlineData("headers", 300)]
    [InlineData("traces", 300)]
    [InlineData("args", 2000)]
    [InlineData("images", 1000)]
    [InlineData("litmus", 400)]
    public void Every_input_ends_in_a_verdict_or_one_line_and_costs_linear_memory(string target, int cases)
    {
        string scratch = Directory.CreateTempSubdirectory("mk-fuzz").FullName;
        try
        {
            Multikernel.Cli.Fuzz.ArgsFuzz.Prepare(scratch);
            var t = FuzzCommand.Targets(scratch).Single(x => x.Name == target);
            var s = FuzzCommand.Run(t, cases, Seed);
            output.WriteLine(s.Summary);
            Assert.True(s.Result.Holds, s.Result.Detail);
            Assert.Equal(0, s.Crashes);
            // The generator reaches every outcome worth reaching: verdicts and input errors both.
            Assert.True(s.ByExit[2] > 0, "no input error was generated");
            Assert.True(s.ByExit[0] + s.ByExit[1] + s.ByExit[3] > 0, "no input got as far as a verdict");
        }
        finally { Directory.Delete(scratch, true); }
    }

    [Fact]
    public void The_args_harness_reaches_the_parsers_grammar()
    {
        // Derived from what the generator produces: suggestions, response files (missing, self-naming),
        // values refused as more than one token, options repeated or without a value.
        string scratch = Directory.CreateTempSubdirectory("mk-fuzz").FullName;
        try
        {
            Multikernel.Cli.Fuzz.ArgsFuzz.Prepare(scratch);
            var s = FuzzCommand.Run(FuzzCommand.Targets(scratch).Single(x => x.Name == "args"), 2000, Seed);
            output.WriteLine(s.Summary);
            Assert.True(s.Result.Holds, s.Result.Detail);
            output.WriteLine(string.Join("\n", s.Kinds.Keys));
            foreach (var kind in new[] { "(did you mean #?)", "response files nested deeper than", "response file: # no such file", "is not one value", "is given twice", "needs a value", "unknown command" })
                Assert.True(s.Kinds.Keys.Any(k => k.Contains(kind, StringComparison.Ordinal)), $"no error of kind '{kind}' was generated");
        }
        finally { Directory.Delete(scratch, true); }
    }

    [Fact]
    public void A_harness_that_lets_a_crash_through_fails()
    {
        // The property is able to fail: a target whose parser throws is caught and shrunk.
        var s = FuzzCommand.Run(new Throwing(), 50, Seed);
        Assert.False(s.Result.Holds);
        Assert.Contains("threw InvalidOperationException", s.Result.Detail);
    }

    [Fact]
    public void A_refusal_with_a_partial_effect_is_counted_and_fails()
    {
        var s = FuzzCommand.Run(new Partial(), 50, Seed);
        Assert.False(s.Result.Holds);
        Assert.Contains("partial effect: refused, yet the state changed", s.Result.Detail);
        Assert.True(s.Partial > 0);
    }

    [Fact]
    public void Image_errors_are_counted_by_kind()
    {
        var t = FuzzCommand.Targets(Path.GetTempPath()).Single(x => x.Name == "images");
        var s = FuzzCommand.Run(t, 300, Seed);
        output.WriteLine(s.Summary);
        Assert.Equal(0, s.Partial);
        Assert.Equal(s.ByExit[2], s.Kinds.Values.Sum()); // every refusal has a kind
        Assert.True(s.Kinds.Count > 3, "the corruptions reach several kinds of error");
        Assert.All(s.Kinds.Keys, k => Assert.DoesNotMatch(@"\d", k)); // a kind has no numbers: one kind, not one per value
        Assert.Contains("errors by kind", s.Summary);
        Assert.Contains("(partial effects: 0)", s.Summary);
    }

    private sealed class Partial : Multikernel.Cli.Fuzz.FuzzTarget
    {
        public override string Name => "partial";
        public override string Summary => "a parser that refuses '#' after changing its state";
        public override FsCheck.Gen<string> Inputs => FsCheck.Fluent.Gen.Elements("a", "b#c", "#");
        protected override int Execute(string input, TextWriter o) =>
            input.Contains('#', StringComparison.Ordinal) ? throw new Multikernel.Cli.Fuzz.PartialEffectException("refused, yet the state changed") : 0;
    }

    private sealed class Throwing : Multikernel.Cli.Fuzz.FuzzTarget
    {
        public override string Name => "throwing";
        public override string Summary => "a parser that throws on a '#'";
        public override FsCheck.Gen<string> Inputs => FsCheck.Fluent.Gen.Elements("a", "b#c", "#");
        protected override int Execute(string input, TextWriter o) =>
            input.Contains('#', StringComparison.Ordinal) ? throw new InvalidOperationException("boom") : 0;
    }
}
