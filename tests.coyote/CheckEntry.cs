using Multikernel.Coyote.Balloon;
using Multikernel.Coyote.Ipi;
using Multikernel.Impl.Balloon;
using Multikernel.Coyote.Systematic;
using Multikernel.Impl.Ipi;

namespace Multikernel.Coyote;

/// <summary>
/// The systematic tests for <c>check</c> and <c>bench</c>, which load this (rewritten) assembly in a
/// context of its own: plain values across the boundary, one row per scenario.
/// </summary>
public static class CheckEntry
{
    /// <summary>Every scenario of <paramref name="mechanism"/>, on the implementation with <paramref name="defects"/> (0: the reference): (name, holds, detail, seconds, iterations).</summary>
    public static IReadOnlyList<(string Name, bool Holds, string Detail, double Seconds, uint Iterations)> Run(string mechanism, uint iterations, uint seed, int defects)
    {
        var rows = new List<(string, bool, string, double, uint)>();
        foreach (var (name, test) in Scenarios(mechanism, defects))
        {
            var r = SystematicRun.Run(name, test, iterations, seed);
            string detail = r.Found
                ? r.TraceText()
                : $"{r.Iterations} iterations (Coyote random, seed {seed}), {r.IterationsPerSecond:F0} iterations/s";
            rows.Add(($"systematic: {name}", !r.Found, detail, r.Seconds, r.Iterations));
        }
        return rows;
    }

    private static IEnumerable<(string, Func<Task>)> Scenarios(string mechanism, int defects) => mechanism switch
    {
        "ipi" => IpiScenarios.All.Select(s => (s.Name, s.Test((MkIpiDefects)defects))),
        "balloon" => BalloonScenarios.All.Select(s => (s.Name, s.Test((BalloonImplDefects)defects))),
        _ => throw new ArgumentException($"no systematic tests for {mechanism}", nameof(mechanism)),
    };
}
