using System.Globalization;
using System.Text;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>Printing an exploration: the statistics, a verdict per property, traces and trace files.</summary>
internal static class Report
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Statistics(ExploreReport r) => string.Format(C,
        "{0:N0} distinct states, {1:N0} transitions, depth {2}, {3:F2} s, {4:N0} states/s, {5:F1} bytes/state stored{6} (+{7:N1} MB peak queue){8}",
        r.States, r.Transitions, r.Depth, r.Seconds, r.StatesPerSecond, r.BytesPerState,
        r.Graph ? " incl. graph" : "", r.PeakFrontierBytes / 1e6,
        r.Bound != Bound.None ? $" — BOUND HIT: {r.Bound.ToString().ToLowerInvariant()}" :
        r.StoppedEarly ? " — stopped once every property was violated" : "");

    public static string Table(ExploreReport r)
    {
        var sb = new StringBuilder();
        int w = r.Outcomes.Max(o => o.Property.Name.Length);
        foreach (var o in r.Outcomes)
        {
            string verdict = o.Verdict switch
            {
                Verdict.Holds => "holds",
                Verdict.Violated => $"VIOLATED ({o.Trace!.Length} steps)",
                _ => $"unknown: {o.Reason}",
            };
            string kind = o.Property.Kind == Model.Checking.PropertyKind.Eventually ? " [eventually]" : "";
            sb.AppendLine($"  {o.Property.Name.PadRight(w)}  {verdict}{kind}");
        }
        return sb.ToString();
    }

    public static int ExitCode(ExploreReport r) => r.Verdict switch
    {
        Verdict.Holds => 0,
        Verdict.Violated => 1,
        _ => 3,
    };

    /// <summary>audit: explores <paramref name="spec"/> until every property is decided; prints each violation's shortest trace.</summary>
    public static int Audit<TState>(Args a, Model.Checking.ISpec<TState> spec, string design, string summary, string bounds, TextWriter o)
        where TState : unmanaged
    {
        o.WriteLine($"multikernel audit {spec.Name}: {summary}");
        o.WriteLine($"  bounds: {bounds}");
        var r = Explorer.Run(spec, IpiOptions.Explore(a, stopWhenAllViolated: true));
        o.WriteLine($"  explored {Statistics(r)}");
        o.Write(Table(r));
        foreach (var v in r.Outcomes.Where(x => x.Trace is not null))
        {
            o.WriteLine();
            o.Write(TraceText.Format(v.Trace!, $"design: {design}, bounds: {bounds}"));
        }
        WriteFiles(a, r, design, bounds, o);
        return ExitCode(r);
    }

    /// <summary>explore: statistics, the table and the verdict of one exploration.</summary>
    public static int Explore<TState>(Args a, Model.Checking.ISpec<TState> spec, string design, string bounds, TextWriter o)
        where TState : unmanaged
    {
        var r = Explorer.Run(spec, IpiOptions.Explore(a, stopWhenAllViolated: false));
        o.WriteLine($"explore {spec.Name} ({bounds})");
        o.WriteLine($"  {Statistics(r)}");
        o.Write(Table(r));
        WriteFiles(a, r, design, bounds, o);
        o.WriteLine($"verdict: {r.Verdict.ToString().ToLowerInvariant()}");
        return ExitCode(r);
    }

    /// <summary>Writes each trace as ITF JSON / DOT. One trace goes to FILE; several to FILE's name + "." + property + extension.</summary>
    public static void WriteFiles(Args a, ExploreReport r, string design, string bounds, TextWriter log)
    {
        var traces = r.Outcomes.Where(o => o.Trace is not null).Select(o => o.Trace!).ToList();
        foreach (var (option, render) in new (string, Func<Trace, string>)[]
                 {
                     ("--json", t => Itf.Write(t, design, bounds)),
                     ("--dot", Dot.Write),
                 })
        {
            if (a.Value(option) is not { } file) continue;
            if (traces.Count == 0) { log.WriteLine($"{option}: no counterexample to write"); continue; }
            foreach (var t in traces)
            {
                string path = traces.Count == 1 ? file : PathFor(file, t.Property.Name);
                try { File.WriteAllText(path, render(t)); }
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
