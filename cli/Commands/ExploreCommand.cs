using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using static Multikernel.Cli.Commands.ExplorationText;

namespace Multikernel.Cli.Commands;

/// <summary>explore MECHANISM [--design D]: statistics and the verdict of one exploration.</summary>
internal sealed class ExploreCommand : CliCommand
{
    public override string Name => "explore";
    public override string Summary => "statistics and verdict of one exploration of a mechanism's design (default: its reference)";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("MECHANISM", "the mechanism to explore", () => Mechanisms.All.Select(m => m.Name))];

    public override IEnumerable<OptionSpec> Options =>
    [
        new("--design", "the design (default: the mechanism's reference)", ValueName: "D"),
        new("--graph-out", $"the whole state graph as GraphML or DOT (at most {StateGraph.MaxStates:N0} states), by the name's extension", ValueName: "FILE.graphml|FILE.dot"),
        .. Limits.BoundOptions(),
        .. Limits.Options,
        .. AuditCommand.OutputOptions,
        AuditCommand.LoadOption,
        .. Cluster.ClusterRun.Options,
    ];

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        string mech = a.Positionals.FirstOrDefault() ?? throw new UsageException($"explore: which mechanism? ({Mechanisms.Names})");
        var m = Mechanisms.Find(mech) ?? throw new UsageException($"explore: unknown mechanism '{BoundsText.Clip(mech)}' (known: {Mechanisms.Names})");
        var design = a.Value("--design") is { } dn
            ? m.Model.Designs.Find(dn.StartsWith(m.Name + "/", StringComparison.Ordinal) ? dn[(m.Name.Length + 1)..] : dn)
              ?? throw new UsageException($"explore: unknown {m.Name} design '{BoundsText.Clip(dn)}'; one of: {string.Join(", ", m.Model.Designs.All.Select(d => d.Name))}")
            : m.Model.Designs.Reference;
        var bounds = Limits.Bounds(a, m.Model);
        var outputs = new OutputPlan("explore");
        var files = TraceFiles.Plan(a, outputs);
        string? graphPath = a.Value("--graph-out") is { } gf ? GraphPath(gf, outputs) : null;
        var options = Limits.Explore(a, stopWhenAllDecided: false);
        var spec = Spec(m, design, bounds, "explore");
        var graph = graphPath is null ? null : StateGraph.Build(spec) ?? throw new UsageException(
            $"explore: --graph-out: {spec.Name} has more than {StateGraph.MaxStates:N0} states at these bounds; export a smaller configuration");
        var (found, cluster) = Cluster.ClusterRun.Nodes(a) is > 0 and var nodes
            ? Cluster.ClusterRun.Explore(a, nodes, spec, Cluster.ClusterRun.SpecName(m, design, bounds), options)
            : (Explorer.Run(spec, options), null);
        var r = Vacuity.AgainstReference(found, ReferenceEquals(design, m.Model.Designs.Reference),
            () => Spec(m, m.Model.Designs.Reference, bounds, "reference"), options);
        ProgressLine.Done();
        o.WriteLine($"explore {spec.Name} ({BoundsText.Show(bounds)}), memory model: {MemoryModelOf(spec)}");
        if (Fairness(spec, options.Unfair) is { } fairness) o.WriteLine($"  liveness: {fairness}");
        o.WriteLine($"  {Statistics(r)}");
        if (cluster is not null) o.WriteLine(Cluster.ClusterRun.Line(cluster, r.States));
        o.Write(Table(r));
        files.Write(r, design, bounds.ToString()!, spec, o);
        if (graph is not null)
        {
            try { OutputFile.Write(graphPath!, graphPath!.EndsWith(".dot", StringComparison.OrdinalIgnoreCase) ? graph.ToDot() : graph.ToGraphMl()); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new UsageException($"explore: --graph-out: cannot write '{BoundsText.Clip(graphPath!)}': {e.Message}"); }
            o.WriteLine($"wrote {graphPath} ({graph.Graph.VertexCount:N0} states)");
        }
        var code = ModelBound(spec, Exit(r), o);
        string verdict = code == ExitCode.NoVerdict ? "unknown" : r.Verdict.ToString().ToLowerInvariant(); // a model bound makes "holds" unknown
        o.WriteLine("verdict: " + (code == ExitCode.Holds ? Paint.Good(verdict) : code == ExitCode.Violated ? Paint.Bad(verdict) : Paint.Warn(verdict)));
        return (int)code;
    }

    /// <summary>--graph-out's file: .graphml or .dot, checked with the other outputs before any work.</summary>
    private static string GraphPath(string file, OutputPlan outputs)
    {
        string ext = Path.GetExtension(file).ToLowerInvariant();
        if (ext is not (".graphml" or ".dot")) throw new UsageException($"explore: --graph-out '{BoundsText.Clip(file)}': the name must end in .graphml or .dot");
        return outputs.Add("--graph-out", file, "states" + ext);
    }
}
