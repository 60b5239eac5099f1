using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Fuzz;
using Multikernel.Model.Checking;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Proofs.Obligations;

namespace Multikernel.Cli.Registry;

/// <summary>Settings of a benchmark run.</summary>
internal sealed record BenchSettings(int Runs, int MessagesPerRun);

/// <summary>
/// What bench runs for a mechanism: the explorer on its reference at <paramref name="Bounds"/> (and at
/// <paramref name="Large"/>, a configuration big enough to show scaling), --first on <paramref name="Mutant"/>,
/// and the implementation's own benchmark.
/// </summary>
internal sealed record BenchPlan(string Bounds = "", string? Mutant = null, string? Large = null, Action<TextWriter, BenchSettings>? Implementation = null)
{
    /// <summary>More configurations benchmarked with the same rows (ipi: the default bounds under each memory model), each a bounds text.</summary>
    public IReadOnlyList<string> Variants { get; init; } = [];
}

/// <summary>
/// A file a counterexample can be written as besides its trace, for the mechanism's own tools to
/// reproduce (restore's shortest bad image): the audit option that asks for it, the extension of
/// one file per property, and how a trace of the mechanism's spec becomes its bytes.
/// </summary>
internal abstract record TraceArtifact(string Option, string Extension, string Help)
{
    public abstract byte[] Bytes(ISpecHandle spec, Trace trace);
}

/// <summary>A trace artifact of specifications of type <typeparamref name="TSpec"/>: the mechanism's code sees its own spec type.</summary>
internal sealed record TraceArtifact<TSpec>(string Option, string Extension, string Help, Func<TSpec, Trace, byte[]> Of) : TraceArtifact(Option, Extension, Help)
    where TSpec : ISpecHandle
{
    public override byte[] Bytes(ISpecHandle spec, Trace trace) =>
        spec is TSpec s ? Of(s, trace) : throw new ArgumentException($"{Option}: not a {typeof(TSpec).Name}: {spec.Name}", nameof(spec));
}

/// <summary>soak MECHANISM: the implementation against its simulated peer for N operations from a seed; whether it held, and a summary.</summary>
internal delegate (bool Holds, string Summary) SoakRun(long operations, ulong seed);

/// <summary>differ MECHANISM: the reference against the running kernel (cases, seed, whether it may raise vm.nr_hugepages); the exit code.</summary>
internal delegate int KernelOracle(int cases, ulong seed, bool hugePages, TextWriter o);

/// <summary>
/// One mechanism with everything the command line does for it, declared beside the mechanism's own
/// folder (cli/Ipi, cli/Restore, …): what every mechanism has (the model: designs, bounds,
/// specification; what bench runs), and, for what only some have, one small interface each
/// (<see cref="IImplementationChecked"/>, <see cref="IProved"/>, <see cref="ISoaked"/>,
/// <see cref="IKernelOracled"/>, <see cref="ITraceArtifacts"/>, <see cref="IFuzzed"/>,
/// <see cref="IOwnCommands"/>): an entry implements the ones it has, whole, and commands walk the
/// entries that implement theirs. Registering a mechanism is one line in <see cref="Mechanisms"/>.
/// </summary>
internal abstract class MechanismEntry
{
    /// <summary>Designs, bounds (with their help) and the specification.</summary>
    public abstract Mechanism Model { get; }
    public string Name => Model.Name;

    /// <summary>What bench runs for it: the explorer on its reference at least.</summary>
    public abstract BenchPlan Bench { get; }

    public override string ToString() => Name;
}

/// <summary>A mechanism whose implementation is checked against its specification (check's section 2).</summary>
internal interface IImplementationChecked
{
    ImplementationChecks Checks { get; }
}

/// <summary>A mechanism whose designs the Z3 proofs encode (prove, check); the encoding answers null for a design it does not encode.</summary>
internal interface IProved
{
    ProofEncoding Proofs { get; }
}

/// <summary>soak MECHANISM.</summary>
internal interface ISoaked
{
    SoakRun Soak { get; }
}

/// <summary>differ MECHANISM: the running kernel as an oracle.</summary>
internal interface IKernelOracled
{
    KernelOracle KernelOracle { get; }
}

/// <summary>Files audit can write a counterexample as, besides --json and --dot (restore: --image).</summary>
internal interface ITraceArtifacts
{
    IReadOnlyList<TraceArtifact> Artifacts { get; }
}

/// <summary>Files audit can write of the design itself, whatever the search finds (ipi: --litmus).</summary>
internal interface IDesignExports
{
    IReadOnlyList<DesignExport> Exports { get; }
}

/// <summary>
/// One such file (or set of files): <see cref="Plan"/> names the paths and texts from the design and the
/// option's value, checked with the other outputs before any work, and refuses a design it cannot write (exit 2).
/// </summary>
internal sealed record DesignExport(string Option, string Help, Func<IDesign, string, OutputPlan, IReadOnlyList<(string Path, string Text)>> Plan);

/// <summary>Fuzz targets of the mechanism's parsers of untrusted input (files under <c>scratch</c> if they need any).</summary>
internal interface IFuzzed
{
    IReadOnlyList<FuzzTarget> FuzzTargets(string scratch);
}

/// <summary>Commands of the mechanism's own (restore: restore, checkpoint).</summary>
internal interface IOwnCommands
{
    IReadOnlyList<CliCommand> Commands { get; }
}
