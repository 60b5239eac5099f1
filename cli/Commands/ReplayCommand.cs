using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>
/// replay FILE: re-executes an ITF trace written by audit/check/explore against the
/// specification of the design it names, checks that every step and state still reads as
/// recorded (a trace speaks only of the design that wrote it), and judges its property again.
/// </summary>
internal sealed class ReplayCommand : CliCommand
{
    public override string Name => "replay";
    public override string Summary => "re-execute an ITF trace written with --json; it must still describe its design (a difference: exit 2)";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("FILE", "the trace file")];
    public override IEnumerable<OptionSpec> Options => [AuditCommand.LoadOption];

    /// <summary>A trace of <see cref="MaxSteps"/> steps of the largest state is well under this.</summary>
    private const long MaxFileBytes = 32L << 20;
    /// <summary>Counterexamples are shortest traces: tens of steps. A longer trace is refused before it is replayed.</summary>
    public const int MaxSteps = 10_000;

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("replay: which trace file?");
        string json = InputFile.ReadText(file, MaxFileBytes, "replay");
        return Judge(json, file, o);
    }

    /// <summary>Replays a trace's text (the command's core, which the fuzz harness drives directly).</summary>
    internal static int Judge(string json, string file, TextWriter o)
    {
        Itf.Header h;
        try { h = Itf.Read(json, MaxSteps); }
        catch (FormatException e) { throw new UsageException($"replay: {file}: {e.Message}"); }
        int slash = h.Source.IndexOf('/', StringComparison.Ordinal);
        var m = (slash > 0 ? Mechanisms.Find(h.Source[..slash]) : null)
                ?? throw new UsageException($"replay: {file}: #meta.source: unknown specification '{BoundsText.Clip(h.Source)}' (known: {Mechanisms.Names})");
        var design = m.Model.Designs.Find(h.Design)
                     ?? throw new UsageException($"replay: {file}: #meta.design: unknown {m.Name} design '{BoundsText.Clip(h.Design)}'");
        if (h.Source != m.Model.Qualified(design)) throw new UsageException($"replay: {file}: #meta.source '{BoundsText.Clip(h.Source)}' and #meta.design '{BoundsText.Clip(h.Design)}' disagree");
        IBounds bounds;
        try { bounds = m.Model.ParseBounds(h.Bounds); }
        catch (BoundsException e) { throw new UsageException($"replay: {file}: #meta.bounds: {e.Message}"); }
        var spec = ExplorationText.Spec(m, design, bounds, "replay");

        if (h.StateCount != h.Choices.Count + 1) throw new UsageException($"replay: {file}: {h.StateCount} states for {h.Choices.Count} steps");
        int loop = h.Loop ?? h.Choices.Count;
        if (loop > h.Choices.Count) throw new UsageException($"replay: {file}: loop: index {loop} is past the last state");
        if (h.Property != Explorer.NoCrash.Name && h.Property != StepContractException.Property.Name && spec.Properties.All(p => p.Name != h.Property))
            throw new UsageException($"replay: {file}: #meta.property: unknown property '{BoundsText.Clip(h.Property)}' of {spec.Name}");

        var (trace, reproduced) = Explorer.ReplayAndJudge(spec, h.Property, h.Initial, h.Choices.Take(loop).ToList(),
            loop < h.Choices.Count ? h.Choices.Skip(loop).ToList() : null);
        if (trace is null) throw new UsageException($"replay: {file}: does not replay on {spec.Name}: {reproduced.Reason}");
        string context = $"design: {m.Model.Qualified(design)}, bounds: {BoundsText.Show(bounds)}";
        string? differs;
        try { differs = Itf.FirstDifference(json, trace, design.Name, bounds.ToString()!); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
        { throw new UsageException($"replay: {file}: {e.Message}"); }
        if (differs is not null)
            throw new UsageException($"replay: {file}: the trace no longer describes {spec.Name}: {differs}");
        if (reproduced.Holds)
        {
            o.Write(TraceText.Format(trace, $"replayed from {file}; {context}"));
            return (int)ExitCode.Violated;
        }
        o.WriteLine($"replay {file}: the trace runs on {spec.Name} but no longer violates {h.Property}: {reproduced.Reason}");
        return (int)ExitCode.Holds;
    }
}
