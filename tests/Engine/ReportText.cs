using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

/// <summary>
/// Every design of every mechanism at its default bounds, and everything a report says as text (counts,
/// bound, and per property the verdict, reason and trace): what the thread-count, digest and cluster
/// tests compare.
/// </summary>
internal static class ReportText
{
    public static TheoryData<string> Designs(Func<ISpecHandle, bool>? keep = null)
    {
        var data = new TheoryData<string>();
        foreach (var m in Mechanisms.All)
            foreach (var d in m.Model.Designs.All)
                if (keep is null || keep(Spec(m.Model.Qualified(d)))) data.Add(m.Model.Qualified(d));
        return data;
    }

    public static ISpecHandle Spec(string qualified)
    {
        var (m, d) = Mechanisms.Resolve(qualified, "test");
        return m.Model.Specification(d, m.Model.ParseBounds(""))!;
    }

    /// <param name="shortest">Also whether each trace is known shortest (a cluster must say so too; the digests predate it).</param>
    public static string Summary(ExploreReport r, bool shortest = false)
    {
        var lines = new List<string> { $"{r.States} states, {r.Transitions} transitions, depth {r.Depth}, bound {r.Bound}, early {r.StoppedEarly}, first {r.StoppedAtFirst}" };
        foreach (var o in r.Outcomes)
        {
            string trace = o.Trace is { } t
                ? $"init {t.InitialIndex}, choices {string.Join(',', t.Choices)}, loop {t.LoopIndex}, {(shortest ? $"shortest {t.Shortest}, " : "")}why {t.Why}"
                : "no trace";
            lines.Add($"{o.Property.Name}: {o.Verdict} {o.Reason} / {trace}");
        }
        return string.Join('\n', lines);
    }
}
