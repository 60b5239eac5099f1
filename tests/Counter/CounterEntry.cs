using FsCheck;
using FsCheck.Fluent;
using Multikernel.Cli;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Fuzz;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;

namespace Multikernel.Tests.Counter;

/// <summary>The counter on the command line: its model, a fuzz target of its bounds parser, a command of its own.</summary>
internal sealed class CounterEntry : MechanismEntry, IFuzzed, IOwnCommands
{
    public override Mechanism Model => CounterMechanism.Instance;
    public override BenchPlan Bench => new("cpus=3 rounds=2", Mutant: "ref-plain-add");
    public IReadOnlyList<FuzzTarget> FuzzTargets(string scratch) => [new CounterBoundsFuzz()];
    public IReadOnlyList<CliCommand> Commands => [new CounterBoundsCommand()];
}

/// <summary>counter-bounds TEXT: the bounds as the counter reads them.</summary>
internal sealed class CounterBoundsCommand : CliCommand
{
    public override string Name => "counter-bounds";
    public override string Summary => "the counter's bounds text as it is read";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("TEXT", "bounds text, cpus=N rounds=R")];
    public override IEnumerable<OptionSpec> Options => [];

    public override int Run(Args a, TextWriter o)
    {
        try { o.WriteLine(CounterBounds.Parse(a.Positionals.FirstOrDefault() ?? "")); }
        catch (BoundsException e) { throw new UsageException($"counter-bounds: {e.Message}"); }
        return 0;
    }
}

/// <summary>Bounds text for the counter's parser: keys known and not, values huge and odd, repeated.</summary>
internal sealed class CounterBoundsFuzz : FuzzTarget
{
    public override string Name => "counter-bounds";
    public override string Summary => "the counter's bounds text";
    public override Gen<string> Inputs =>
        from parts in Gen.Elements("cpus=1", "cpus=3", "cpus=9", "rounds=2", "rounds=-1", "cpus", "=", "x=1", "cpus=99999999999999999999", "").ListOf()
        select string.Join(' ', parts.Take(6));

    protected override int Execute(string input, TextWriter o) => Multikernel.Cli.Program.Run(["counter-bounds", input], o, o);
}
