using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>
/// Where --json, --dot and --html write, decided before any work so a bad path never costs a verdict.
/// One trace goes to FILE; several to FILE's stem + "." + property + extension; a directory
/// means "the files inside it", named after the design.
/// </summary>
internal sealed class TraceFiles
{
    private readonly List<(string Option, string Path, Func<Trace, IDesign, string, ISpecHandle, string> Render)> _targets = new();

    public static TraceFiles Plan(Args a, OutputPlan outputs)
    {
        var f = new TraceFiles();
        foreach (var (option, render, inDirectory) in new (string, Func<Trace, IDesign, string, ISpecHandle, string>, string)[]
                 {
                     ("--json", (t, d, b, _) => Itf.Write(t, d.Name, b, Findings.Of(d, t.Property.Name, b), ExplorationText.MemoryModelName(b)), "trace.itf.json"),
                     ("--dot", (t, _, _, _) => Dot.Write(t), "trace.dot"),
                     ("--html", (t, d, b, spec) => Html.Write(t, Walk.LanesOf(spec, t), new TracePageInfo(t.Spec, b.Length > 0 ? b : "none", ExplorationText.MemoryModelOf(spec), Findings.Of(d, t.Property.Name, b))), "trace.html"),
                 })
        {
            if (a.Value(option) is not { } file) continue;
            string full = outputs.Add(option, file, inDirectory);
            f._targets.Add((option, full, render));
        }
        return f;
    }

    public void Write(ExploreReport r, IDesign design, string bounds, ISpecHandle spec, TextWriter log)
    {
        var traces = r.Outcomes.Where(o => o.Trace is not null).Select(o => o.Trace!).ToList();
        foreach (var (option, file, render) in _targets)
        {
            if (traces.Count == 0) { log.WriteLine($"{option}: no counterexample to write"); continue; }
            foreach (var t in traces)
            {
                string path = traces.Count == 1 ? file : PathFor(file, t.Property.Name);
                try { OutputFile.Write(path, render(t, design, bounds, spec)); }
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
