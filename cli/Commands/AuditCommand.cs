using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using static Multikernel.Cli.Commands.ExplorationText;

namespace Multikernel.Cli.Commands;

/// <summary>audit DESIGN: every property of the design's mechanism, each violation with its shortest trace and its finding.</summary>
internal sealed class AuditCommand : CliCommand
{
    public override string Name => "audit";
    public override string Summary => "a design's properties; each violation with its shortest trace and its finding (seed line, consequence, preconditions), grouped by what it needs";
    public override IReadOnlyList<ArgumentSpec> Arguments =>
        [new("DESIGN", "mechanism/name (ipi/ipi-v2, uffd/uffd-v5), or a name only one mechanism has (see 'multikernel designs')", DesignNames)];

    public override IEnumerable<OptionSpec> Options =>
    [
        .. Limits.BoundOptions(),
        .. Limits.Options,
        .. OutputOptions,
        new("--junit", "JUnit XML: one test case per property, the findings in its properties", ValueName: "FILE"),
        .. Mechanisms.All.OfType<IDesignExports>().SelectMany(m => m.Exports).DistinctBy(x => x.Option).Select(x => new OptionSpec(x.Option, x.Help, ValueName: "FILE")),
        .. Mechanisms.All.OfType<ITraceArtifacts>().SelectMany(m => m.Artifacts).DistinctBy(x => x.Option).Select(x => new OptionSpec(x.Option, x.Help, ValueName: "FILE")),
        LoadOption,
        .. Cluster.ClusterRun.Options,
    ];

    /// <summary>--json, --dot, --html: where every exploring command writes its traces.</summary>
    public static readonly IReadOnlyList<OptionSpec> OutputOptions =
    [
        new("--json", "each counterexample as an ITF trace (several: FILE.<property>.itf.json; a directory: files in it)", ValueName: "FILE"),
        new("--dot", "each counterexample as a Graphviz graph (several: FILE.<property>.dot; a directory: files in it)", ValueName: "FILE"),
        new("--html", "each counterexample as one self-contained web page: a lane per actor, the states, keyboard navigation (several: FILE.<property>.html)", ValueName: "FILE"),
    ];

    public static readonly OptionSpec LoadOption = new("--load", "designs of your own: every public design class of the assembly", OptionKind.Repeated, "ASSEMBLY.dll");

    /// <summary>Every design's qualified name, for completion.</summary>
    public static IEnumerable<string> DesignNames() => Mechanisms.All.SelectMany(m => m.Model.Designs.All.Select(m.Model.Qualified));

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        string name = a.Positionals.FirstOrDefault() ?? throw new UsageException("audit: which design? e.g. audit ipi/ipi-v2 (see 'multikernel designs')");
        var (m, design) = Mechanisms.Resolve(name, "audit");
        var bounds = Limits.Bounds(a, m.Model);
        foreach (var x in Mechanisms.All.OfType<ITraceArtifacts>().SelectMany(e => e.Artifacts).Select(x => x.Option).Distinct())
            if (a.Given(x) && Artifacts(m).All(y => y.Option != x)) throw new UsageException($"audit: {x} is not a file {m.Name} writes");
        foreach (var x in Mechanisms.All.OfType<IDesignExports>().SelectMany(e => e.Exports).Select(x => x.Option).Distinct())
            if (a.Given(x) && Exports(m).All(y => y.Option != x)) throw new UsageException($"audit: {x} is not a file {m.Name} writes");
        var outputs = new OutputPlan("audit");
        var files = TraceFiles.Plan(a, outputs);
        var junit = a.Value("--junit") is { } jf ? JUnit.Open(jf, "audit", outputs) : null;
        var artifacts = Artifacts(m).Where(x => a.Value(x.Option) is not null)
            .Select(x => (Artifact: x, Path: outputs.Add(x.Option, a.Value(x.Option)!, "counterexample" + x.Extension))).ToList();
        var exports = Exports(m).Where(x => a.Value(x.Option) is not null).Select(x => (x.Option, Files: x.Plan(design, a.Value(x.Option)!, outputs))).ToList();
        var options = Limits.Explore(a, stopWhenAllDecided: true);
        var spec = Spec(m, design, bounds, "audit");
        string boundsText = bounds.ToString()!;
        o.WriteLine($"multikernel audit {spec.Name}: {design.Summary}");
        o.WriteLine($"  bounds: {BoundsText.Show(bounds)}");
        o.WriteLine($"  memory model: {MemoryModelOf(spec)}");
        if (Fairness(spec, options.Unfair) is { } fairness) o.WriteLine($"  liveness: {fairness}");
        var (found, cluster) = Cluster.ClusterRun.Nodes(a) is > 0 and var nodes
            ? Cluster.ClusterRun.Explore(a, nodes, spec, Cluster.ClusterRun.SpecName(m, design, bounds), options)
            : (Explorer.Run(spec, options), null);
        var r = Vacuity.AgainstReference(found, ReferenceEquals(design, m.Model.Designs.Reference),
            () => Spec(m, m.Model.Designs.Reference, bounds, "reference"), options);
        ProgressLine.Done();
        o.WriteLine($"  explored {Statistics(r)}");
        if (cluster is not null) o.WriteLine(Cluster.ClusterRun.Line(cluster, r.States));
        o.Write(Table(r));
        o.Write(FindingsSection(r, design, boundsText));
        var traces = r.Outcomes.Where(x => x.Trace is not null)
            .Select(v => TraceText.Format(v.Trace!, TraceHeader(m.Model.Qualified(design), bounds, Findings.Of(design, v.Property.Name, boundsText)))).ToList();
        if (traces.Count > 0) o.Write($"\n{TraceText.Legend(traces)}\n");
        foreach (var trace in traces)
        {
            o.WriteLine();
            o.Write(trace.StartsWith("VIOLATED ", StringComparison.Ordinal) ? Paint.Bad("VIOLATED") + trace["VIOLATED".Length..] : trace);
        }
        files.Write(r, design, boundsText, spec, o);
        foreach (var (artifact, target) in artifacts) WriteArtifacts(artifact, target, spec, r, o);
        foreach (var (option, exported) in exports) WriteExports(option, exported, o);
        if (junit is not null)
        {
            junit.Exploration(spec.Name, BoundsText.Show(bounds), r, (design, boundsText));
            o.WriteLine($"wrote {junit.Save()}");
        }
        var code = ModelBound(spec, Exit(r), o);
        o.Write(Closing(r, spec, $"audit {m.Model.Qualified(design)}", a.Given("--json")));
        return (int)code;
    }

    /// <summary>--image FILE and the like: each counterexample as the mechanism's own file (several: FILE.property.ext).</summary>
    private static IReadOnlyList<TraceArtifact> Artifacts(MechanismEntry m) => m is ITraceArtifacts w ? w.Artifacts : [];

    private static IReadOnlyList<DesignExport> Exports(MechanismEntry m) => m is IDesignExports x ? x.Exports : [];

    /// <summary>A design export's files, each whole (<see cref="OutputFile.Write(string, string)"/>).</summary>
    private static void WriteExports(string option, IReadOnlyList<(string Path, string Text)> files, TextWriter o)
    {
        foreach (var (path, text) in files)
        {
            try { OutputFile.Write(path, text); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            { throw new UsageException($"audit: {option}: cannot write '{path}': {e.Message}"); }
            o.WriteLine($"wrote {path}");
        }
    }

    private static void WriteArtifacts(TraceArtifact artifact, string file, ISpecHandle spec, ExploreReport r, TextWriter o)
    {
        var traces = r.Outcomes.Where(x => x.Trace is not null).Select(x => x.Trace!).ToList();
        if (traces.Count == 0) { o.WriteLine($"{artifact.Option}: no counterexample to write"); return; }
        string stem = file.EndsWith(artifact.Extension, StringComparison.Ordinal) ? file[..^artifact.Extension.Length] : file;
        foreach (var t in traces)
        {
            string path = traces.Count == 1 ? file : $"{stem}.{t.Property.Name}{artifact.Extension}";
            try { OutputFile.Write(path, artifact.Bytes(spec, t)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            { throw new UsageException($"{artifact.Option}: cannot write '{path}': {e.Message}"); }
            o.WriteLine($"wrote {path}");
        }
    }
}
