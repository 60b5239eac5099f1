using System.Globalization;
using System.Text;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>An exploration as text, for audit, explore, check and replay: statistics, the verdict table, fairness, findings.</summary>
internal static class ExplorationText
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Statistics(ExploreReport r) => string.Format(C,
        "{0:N0} distinct states, {1:N0} transitions, depth {2}, {3:F2} s on {9} thread{10}, {4:N0} states/s, {5:F1} bytes/state stored{6} (+{7:N1} MB peak frontier and buffers){8}",
        r.States, r.Transitions, r.Depth, r.Seconds, r.StatesPerSecond, r.BytesPerState,
        r.Graph ? " incl. graph" : r.CycleSearch ? " incl. cycle-search entries" : r.MissProbability is { } miss ? string.Create(CultureInfo.InvariantCulture, $" (bitstate, lossy: miss probability {miss:G3})") : "", r.PeakFrontierBytes / 1e6,
        r.Bound != Bound.None ? $" — {Paint.Warn("BOUND HIT")}: {r.Bound.ToString().ToLowerInvariant()}" :
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
                (Verdict.Holds, PropertyKind.Sometimes) => Paint.Good(o.Reason!),
                (Verdict.Holds, _) => Paint.Good("holds"),
                (Verdict.Violated, _) when o.Trace is null => $"{Paint.Bad("VIOLATED")}: {o.Reason}",
                (Verdict.Violated, _) => $"{Paint.Bad("VIOLATED")} ({TraceText.Steps(o.Trace!.Length)})",
                _ => $"{Paint.Warn("unknown")}: {o.Reason}",
            };
            string kind = o.Property.Kind switch { PropertyKind.Eventually => " [eventually]", PropertyKind.Sometimes => " [sometimes]", _ => "" };
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {o.Property.Name.PadRight(w)}  {verdict}{kind}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The closing lines of audit and explore: the verdict in one line (what a reader who scrolled past the traces
    /// needs), then what to run next for a counterexample.
    /// </summary>
    public static string Closing(ExploreReport r, ISpecHandle spec, string command, bool wroteJson)
    {
        var violated = r.Outcomes.Where(x => x.Verdict == Verdict.Violated).Select(x => x.Property.Name).ToList();
        int held = r.Outcomes.Count(x => x.Verdict == Verdict.Holds);
        var sb = new StringBuilder();
        sb.AppendLine();
        switch (r.Verdict)
        {
            case Verdict.Holds when spec.ModelBoundReached is { } bound:
                sb.AppendLine(C, $"{Paint.Warn("verdict: no verdict")} (bound hit: {bound}): {held} hold in what was explored; raise the bound");
                return sb.ToString();
            case Verdict.Holds:
                sb.AppendLine(C, $"{Paint.Good("verdict: all " + r.Outcomes.Count + " hold")} ({r.States:N0} distinct states at these bounds; larger bounds: 'help' lists them)");
                return sb.ToString();
            case Verdict.Violated:
                sb.AppendLine(C, $"{Paint.Bad($"verdict: {violated.Count} VIOLATED")} ({string.Join(", ", violated)}); {held} hold{(r.Outcomes.Count - held - violated.Count is var u and > 0 ? $", {u} undecided" : "")}");
                break;
            default:
                sb.AppendLine(C, $"{Paint.Warn("verdict: no verdict")} ({(r.Bound != Bound.None ? "bound hit: " + r.Bound.ToString().ToLowerInvariant() : "undecided")}): " +
                    $"{violated.Count} violated, {held} hold; raise the bound or narrow the configuration");
                if (violated.Count == 0) return sb.ToString();
                break;
        }
        sb.AppendLine("next:");
        if (!r.StoppedAtFirst) sb.AppendLine($"  {command} --first: stop at the first violation (quicker at large bounds)");
        sb.AppendLine(wroteJson
            ? "  replay FILE: re-run a written trace against the design as it is now (after an edit)"
            : $"  {command} --json DIR, then replay DIR/FILE: each trace as ITF JSON; replay re-runs it against the design after an edit");
        sb.AppendLine($"  {command} --dot DIR: each trace as a Graphviz graph (dot -Tsvg FILE)");
        return sb.ToString();
    }

    public static ExitCode Exit(ExploreReport r) => r.Verdict switch
    {
        Verdict.Holds => ExitCode.Holds,
        Verdict.Violated => ExitCode.Violated,
        _ => ExitCode.NoVerdict,
    };

    /// <summary>What every specification assumes of memory today; the README says what that cannot see.</summary>
    public const string MemoryModel = "sc: sequential consistency (each step is atomic and seen by every CPU at once: missing barriers and reordered stores are not visible here; ipi explores tso and lkmm with --memory-model)";

    /// <summary>The memory model line of a run: the specification's own, or sequential consistency.</summary>
    public static string MemoryModelOf(ISpecHandle spec) => spec.MemoryModel ?? MemoryModel;

    /// <summary>A bound of the model (the store buffers under --memory-model) reached in the search: printed, and a run that held is a bound (exit 3), never a pass.</summary>
    public static ExitCode ModelBound(ISpecHandle spec, ExitCode code, TextWriter o)
    {
        if (spec.ModelBoundReached is not { } bound) return code;
        o.WriteLine($"bound: {bound}");
        return code == ExitCode.Holds ? ExitCode.NoVerdict : code;
    }

    /// <summary>The memory model's name in a bounds text (memory-model=tso or lkmm; sc when it says none), for the JSON trace.</summary>
    public static string MemoryModelName(string bounds)
    {
        foreach (var part in bounds.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (part.StartsWith("memory-model=", StringComparison.Ordinal)) return part["memory-model=".Length..];
        return "sc";
    }

    /// <summary>The fairness eventually-properties are judged under; null for a spec without them.</summary>
    public static string? Fairness(ISpecHandle spec, bool unfair = false) =>
        !spec.Properties.Any(p => p.Kind == PropertyKind.Eventually) ? null
        : spec.FairActors.Count == 0 ? "no fairness declared: any cycle with the obligation pending fails"
        : unfair ? $"no fairness (--unfair): any cycle with the obligation pending fails, even one that never runs {string.Join(" or ", spec.FairActors)}"
        : $"weak fairness for {string.Join(", ", spec.FairActors)} (each runs or is disabled on any cycle that fails; every other actor is owed nothing)";

    /// <summary>The line under a trace's title: design and bounds, then each finding's seed line, consequence and preconditions.</summary>
    public static string TraceHeader(string design, IBounds bounds, IReadOnlyList<Finding> findings)
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

    public static ISpecHandle Spec(MechanismEntry m, IDesign design, IBounds bounds, string command)
    {
        try
        {
            return m.Model.Specification(design, bounds);
        }
        catch (ArgumentException e) { throw new UsageException($"{command}: {m.Model.Qualified(design)}: {e.Message}"); }
        // A loaded design's getters (its names, its sizes) are user code: whatever they throw is one line.
        catch (Exception e) when (e is not (OutOfMemoryException or UsageException))
        { throw new UsageException($"{command}: {m.Model.Qualified(design)}: the design threw {UserCode.Describe(e)}"); }
    }
}
