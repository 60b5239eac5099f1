using System.Globalization;
using System.Text;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>audit and explore, over any mechanism; and printing an exploration: statistics, verdicts, traces, trace files.</summary>
internal static class Report
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Statistics(ExploreReport r) => string.Format(C,
        "{0:N0} distinct states, {1:N0} transitions, depth {2}, {3:F2} s on {9} thread{10}, {4:N0} states/s, {5:F1} bytes/state stored{6} (+{7:N1} MB peak frontier and buffers){8}",
        r.States, r.Transitions, r.Depth, r.Seconds, r.StatesPerSecond, r.BytesPerState,
        r.Graph ? " incl. graph" : r.CycleSearch ? " incl. cycle-search entries" : r.MissProbability is { } miss ? string.Create(CultureInfo.InvariantCulture, $" (bitstate, lossy: miss probability {miss:G3})") : "", r.PeakFrontierBytes / 1e6,
        r.Bound != Bound.None ? $" — BOUND HIT: {r.Bound.ToString().ToLowerInvariant()}" :
        r.StoppedAtFirst ? " — stopped at the first violation (--first)" :
        r.StoppedEarly ? " — stopped once every property was decided" : "",
        r.Threads, r.Threads == 1 ? "" : "s");

    public static string Table(ExploreReport r)
    {
        var sb = new StringBuilder();
        int w = r.Outcomes.Max(o => o.Property.Name.Length);
        foreach (var o in r.Outcomes)
        {
            string verdict = (o.Verdict, o.Property.Kind) switch
            {
                (Verdict.Holds, PropertyKind.Sometimes) => o.Reason!,
                (Verdict.Holds, _) => "holds",
                (Verdict.Violated, _) when o.Trace is null => $"VIOLATED: {o.Reason}",
                (Verdict.Violated, _) => $"VIOLATED ({o.Trace!.Length} steps)",
                _ => $"unknown: {o.Reason}",
            };
            string kind = o.Property.Kind switch { PropertyKind.Eventually => " [eventually]", PropertyKind.Sometimes => " [sometimes]", _ => "" };
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {o.Property.Name.PadRight(w)}  {verdict}{kind}");
        }
        return sb.ToString();
    }

    public static ExitCode Exit(ExploreReport r) => r.Verdict switch
    {
        Verdict.Holds => ExitCode.Holds,
        Verdict.Violated => ExitCode.Violated,
        _ => ExitCode.NoVerdict,
    };

    /// <summary>The options audit and explore take for mechanism <paramref name="m"/>.</summary>
    private static Args Parse(string command, IEnumerable<string> argv, MechanismEntry m, params string[] extraValued)
    {
        var (valued, flags) = Limits.BoundOptions(m.Model);
        string[] artifact = command == "audit" && m.Artifact is { } art ? [art.Option] : [];
        string[] junit = command == "audit" ? ["--junit"] : [];
        return new Args(command, argv, [.. Limits.Valued, .. valued, .. extraValued, "--json", "--dot", "--load", .. artifact, .. junit], [.. Limits.Flags, .. flags]);
    }

    /// <summary>audit DESIGN: every property of the design's mechanism, each violation with its shortest trace.</summary>
    public static int Audit(IReadOnlyList<string> argv, TextWriter o)
    {
        Mechanisms.LoadFrom(argv, "audit");
        string? name = argv.FirstOrDefault(x => !x.StartsWith("--", StringComparison.Ordinal));
        if (name is null || argv.Count == 0 || argv[0] != name) throw new UsageException("audit: which design? name it first, e.g. audit ipi/ipi-v2 (see 'multikernel designs')");
        var (m, design) = Mechanisms.Resolve(name, "audit");
        if (!m.Model.Explorable) throw new UsageException($"audit: {m.Name} has no explorer model yet (its implementation checks run in check)");
        var a = Parse("audit", argv, m);
        a.NoMorePositionals(1);
        var bounds = Limits.Bounds(a, m.Model);
        var files = TraceFiles.Plan(a);
        var junit = a.Value("--junit") is { } jf ? JUnit.Open(jf, "audit") : null;
        var options = Limits.Explore(a, stopWhenAllDecided: true);
        var spec = Spec(m, design, bounds, "audit");
        string boundsText = bounds.ToString()!;
        o.WriteLine($"multikernel audit {spec.Name}: {design.Summary}");
        o.WriteLine($"  bounds: {BoundsText.Show(bounds)}");
        o.WriteLine($"  memory model: {MemoryModel}");
        if (Fairness(spec, options.Unfair) is { } fairness) o.WriteLine($"  liveness: {fairness}");
        var r = Explorer.Run(spec, options);
        ProgressLine.Done();
        o.WriteLine($"  explored {Statistics(r)}");
        o.Write(Table(r));
        o.Write(FindingsSection(r, design, boundsText));
        foreach (var v in r.Outcomes.Where(x => x.Trace is not null))
        {
            o.WriteLine();
            o.Write(TraceText.Format(v.Trace!, TraceHeader(m.Model.Qualified(design), bounds, Findings.Of(design, v.Property.Name, boundsText))));
        }
        files.Write(r, design, boundsText, o);
        if (m.Artifact is { } artifact && a.Value(artifact.Option) is { } target) WriteArtifacts(artifact, target, spec, r, o);
        if (junit is not null)
        {
            junit.Exploration(spec.Name, BoundsText.Show(bounds), r, (design, boundsText));
            o.WriteLine($"wrote {junit.Save()}");
        }
        return (int)Exit(r);
    }

    /// <summary>What every specification assumes of memory today; the README says what that cannot see.</summary>
    public const string MemoryModel = "sequential consistency (each step is atomic and seen by every CPU at once: missing barriers and reordered stores are not visible)";

    /// <summary>The fairness eventually-properties are judged under; null for a spec without them.</summary>
    public static string? Fairness(ISpecHandle spec, bool unfair = false) =>
        !spec.Properties.Any(p => p.Kind == PropertyKind.Eventually) ? null
        : spec.FairActors.Count == 0 ? "no fairness declared: any cycle with the obligation pending fails"
        : unfair ? $"no fairness (--unfair): any cycle with the obligation pending fails, even one that never runs {string.Join(" or ", spec.FairActors)}"
        : $"weak fairness for {string.Join(", ", spec.FairActors)} (each runs or is disabled on any cycle that fails; every other actor is owed nothing)";

    /// <summary>The line under a trace's title: design and bounds, then each finding's seed line, consequence and preconditions.</summary>
    private static string TraceHeader(string design, IBounds bounds, IReadOnlyList<Finding> findings)
    {
        var sb = new StringBuilder($"design: {design}, bounds: {BoundsText.Show(bounds)}");
        foreach (var f in findings)
        {
            sb.Append(C, $"\n  seed:  {f.Function}: {f.Line}");
            sb.Append(C, $"\n  consequence: {Finding.Show(f.Consequence)}: {f.Effect}");
            sb.Append(C, $"\n  needs: {Needs(f)}");
        }
        if (findings.Count == 0) sb.Append("\n  consequence: unclassified (the design declares no finding for this violation)");
        return sb.ToString();
    }

    /// <summary>The effect's first sentence, for the one-line summary (the trace's header has it whole).</summary>
    private static string FirstSentence(string effect)
    {
        for (int i = effect.IndexOf(". ", StringComparison.Ordinal); i > 0; i = effect.IndexOf(". ", i + 1, StringComparison.Ordinal))
            if (i + 2 < effect.Length && char.IsUpper(effect[i + 2]) && !(i >= 2 && effect[i - 2] == '.')) return effect[..(i + 1)]; // not after "i.e." or "e.g."
        return effect;
    }

    private static string Needs(Finding f) => f.Needs.Length == 0
        ? "nothing beyond a real machine, a conforming peer and the callers as posted"
        : string.Join("; ", f.Needs.Select(n => $"{n.Name} ({n.Meaning})"));

    /// <summary>
    /// The violations as findings, grouped by what they need, so the reader sees first what breaks on a
    /// real machine with a conforming peer. A violation without a declared finding is "unclassified".
    /// </summary>
    public static string FindingsSection(ExploreReport r, IDesign design, string bounds)
    {
        var violated = r.Outcomes.Where(x => x.Verdict == Verdict.Violated).ToList();
        if (violated.Count == 0) return "";
        var rows = new List<(string Group, int Rank, string Property, Finding? Finding)>();
        foreach (var v in violated)
        {
            var fs = Findings.Of(design, v.Property.Name, bounds);
            if (fs.Count == 0) rows.Add(("unclassified: the design declares no finding for these (consequence unknown)", 2, v.Property.Name, null));
            foreach (var f in fs)
                rows.Add((f.Needs.Length == 0 ? "on a real machine, with a conforming peer and the callers as posted" : "needs " + string.Join(" + ", f.Needs.Select(n => n.Name)), f.Needs.Length == 0 ? 0 : 1, v.Property.Name, f));
        }
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine(C, $"findings: {violated.Count} violation{(violated.Count == 1 ? "" : "s")}, by what they need");
        int w = rows.Max(x => x.Property.Length);
        foreach (var g in rows.GroupBy(x => (x.Rank, x.Group)).OrderBy(g => g.Key.Rank).ThenBy(g => g.Key.Group, StringComparer.Ordinal))
        {
            sb.AppendLine(C, $"  {g.Key.Group}:");
            foreach (var x in g.OrderBy(x => x.Finding is { } f ? (int)f.Consequence : 99))
                sb.AppendLine(x.Finding is { } f
                    ? $"    {x.Property.PadRight(w)}  {Finding.Show(f.Consequence),-10}  {f.Function}: {FirstSentence(f.Effect)}"
                    : $"    {x.Property.PadRight(w)}  ?");
        }
        // Each precondition's meaning once, under the groups that name it.
        var needs = rows.Where(x => x.Finding is not null).SelectMany(x => x.Finding!.Needs).DistinctBy(n => n.Name).ToList();
        if (needs.Count > 0)
        {
            sb.AppendLine("  where:");
            foreach (var n in needs) sb.AppendLine(C, $"    {n.Name}: {n.Meaning}{(n.Bound is { } b ? $" (bound {b})" : "")}");
        }
        return sb.ToString();
    }

    /// <summary>--image FILE and the like: each counterexample as the mechanism's own file (several: FILE.property.ext).</summary>
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

    /// <summary>explore MECHANISM [--design D]: statistics and the verdict of one exploration.</summary>
    public static int Explore(IReadOnlyList<string> argv, TextWriter o)
    {
        Mechanisms.LoadFrom(argv, "explore");
        string? mech = argv.Count > 0 && !argv[0].StartsWith("--", StringComparison.Ordinal) ? argv[0] : null;
        if (mech is null) throw new UsageException($"explore: which mechanism? ({Mechanisms.Names})");
        var m = Mechanisms.Find(mech) ?? throw new UsageException($"explore: unknown mechanism '{BoundsText.Clip(mech)}' (known: {Mechanisms.Names})");
        if (!m.Model.Explorable) throw new UsageException($"explore: {m.Name} has no explorer model yet");
        var a = Parse("explore", argv, m, "--design", "--graph-out");
        a.NoMorePositionals(1);
        var design = a.Value("--design") is { } dn
            ? m.Model.Designs.Find(dn.StartsWith(m.Name + "/", StringComparison.Ordinal) ? dn[(m.Name.Length + 1)..] : dn)
              ?? throw new UsageException($"explore: unknown {m.Name} design '{BoundsText.Clip(dn)}'; one of: {string.Join(", ", m.Model.Designs.All.Select(d => d.Name))}")
            : m.Model.Designs.Reference;
        var bounds = Limits.Bounds(a, m.Model);
        var files = TraceFiles.Plan(a);
        var options = Limits.Explore(a, stopWhenAllDecided: false);
        var spec = Spec(m, design, bounds, "explore");
        var graph = GraphOut(a, spec);
        var r = Explorer.Run(spec, options);
        ProgressLine.Done();
        o.WriteLine($"explore {spec.Name} ({BoundsText.Show(bounds)}), memory model: {MemoryModel}");
        if (Fairness(spec, options.Unfair) is { } fairness) o.WriteLine($"  liveness: {fairness}");
        o.WriteLine($"  {Statistics(r)}");
        o.Write(Table(r));
        files.Write(r, design, bounds.ToString()!, o);
        if (graph is { } g)
        {
            try { OutputFile.Write(g.Path, g.Text); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new UsageException($"explore: --graph-out: cannot write '{BoundsText.Clip(g.Path)}': {e.Message}"); }
            o.WriteLine($"wrote {g.Path} ({g.States:N0} states)");
        }
        o.WriteLine($"verdict: {r.Verdict.ToString().ToLowerInvariant()}");
        return (int)Exit(r);
    }

    /// <summary>--graph-out FILE.graphml|FILE.dot: the whole state graph, built (and refused above its limit) before the exploration.</summary>
    private static (string Path, string Text, int States)? GraphOut(Args a, ISpecHandle spec)
    {
        if (a.Value("--graph-out") is not { } file) return null;
        string ext = Path.GetExtension(file).ToLowerInvariant();
        if (ext is not (".graphml" or ".dot")) throw new UsageException($"explore: --graph-out '{BoundsText.Clip(file)}': the name must end in .graphml or .dot");
        string full = Path.GetFullPath(file);
        if (Directory.Exists(full) || Path.GetDirectoryName(full) is not { } dir || !Directory.Exists(dir))
            throw new UsageException($"explore: --graph-out '{BoundsText.Clip(file)}': not a file in an existing directory");
        var g = StateGraph.Build(spec) ?? throw new UsageException(
            $"explore: --graph-out: {spec.Name} has more than {StateGraph.MaxStates:N0} states at these bounds; export a smaller configuration");
        return (full, ext == ".dot" ? g.ToDot() : g.ToGraphMl(), g.Graph.VertexCount);
    }

    public static ISpecHandle Spec(MechanismEntry m, IDesign design, IBounds bounds, string command)
    {
        try
        {
            return m.Model.Specification(design, bounds)
                   ?? throw new UsageException($"{command}: {m.Name} has no explorer model");
        }
        catch (ArgumentException e) { throw new UsageException($"{command}: {m.Model.Qualified(design)}: {e.Message}"); }
    }
}

/// <summary>
/// Where --json and --dot write, decided before any work so a bad path never costs a verdict.
/// One trace goes to FILE; several to FILE's stem + "." + property + extension; a directory
/// means "the files inside it", named after the design.
/// </summary>
internal sealed class TraceFiles
{
    private readonly List<(string Option, string Path, Func<Trace, IDesign, string, string> Render)> _targets = new();

    public static TraceFiles Plan(Args a)
    {
        var f = new TraceFiles();
        foreach (var (option, render) in new (string, Func<Trace, IDesign, string, string>)[]
                 {
                     ("--json", (t, d, b) => Itf.Write(t, d.Name, b, Findings.Of(d, t.Property.Name, b))),
                     ("--dot", (t, _, _) => Dot.Write(t)),
                 })
        {
            if (a.Value(option) is not { } file) continue;
            if (file.Length == 0) throw new UsageException($"{a.Command}: {option} needs a file or directory name");
            string full;
            try { full = Path.GetFullPath(file); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            { throw new UsageException($"{a.Command}: {option} '{BoundsText.Clip(file)}': {e.Message}"); }
            if (Directory.Exists(full)) full = Path.Combine(full, option == "--json" ? "trace.itf.json" : "trace.dot");
            else if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
                throw new UsageException($"{a.Command}: {option} '{BoundsText.Clip(file)}': directory {dir} does not exist");
            if (f._targets.Any(t => t.Path == full)) throw new UsageException($"{a.Command}: --json and --dot name the same file '{BoundsText.Clip(file)}'");
            f._targets.Add((option, full, render));
        }
        return f;
    }

    public void Write(ExploreReport r, IDesign design, string bounds, TextWriter log)
    {
        var traces = r.Outcomes.Where(o => o.Trace is not null).Select(o => o.Trace!).ToList();
        foreach (var (option, file, render) in _targets)
        {
            if (traces.Count == 0) { log.WriteLine($"{option}: no counterexample to write"); continue; }
            foreach (var t in traces)
            {
                string path = traces.Count == 1 ? file : PathFor(file, t.Property.Name);
                try { OutputFile.Write(path, render(t, design, bounds)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                { throw new UsageException($"{option}: cannot write '{path}': {e.Message}"); }
                log.WriteLine($"wrote {path}");
            }
        }
    }

    private static string PathFor(string file, string property)
    {
        string ext = Path.GetExtension(file);
        string stem = ext.Length > 0 ? file[..^ext.Length] : file;
        if (stem.EndsWith(".itf", StringComparison.Ordinal)) { stem = stem[..^4]; ext = ".itf" + ext; }
        return $"{stem}.{property}{ext}";
    }
}
