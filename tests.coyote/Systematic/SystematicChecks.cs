using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Coyote.Systematic;

/// <summary>
/// What the systematic tests of every implementation assert, over its scenarios (each with the
/// defects it must find): the reference holds for the whole budget; each defect is found with the
/// fixed seed within it, its trace is in the specification's words, and its schedule replays to the
/// same failure through the same steps.
/// </summary>
internal static class SystematicChecks
{
    public static TheoryData<int> Scenarios<TDefect>(IReadOnlyList<(string Name, Func<TDefect, Func<Task>> Test, TDefect[] Finds)> all) =>
        [.. Enumerable.Range(0, all.Count)];

    public static TheoryData<int, TDefect> Mutants<TDefect>(IReadOnlyList<(string Name, Func<TDefect, Func<Task>> Test, TDefect[] Finds)> all)
    {
        var data = new TheoryData<int, TDefect>();
        for (int i = 0; i < all.Count; i++)
            foreach (var d in all[i].Finds) data.Add(i, d);
        return data;
    }

    public static void ReferenceHolds<TDefect>(ITestOutputHelper output, (string Name, Func<TDefect, Func<Task>> Test, TDefect[] Finds) scenario, TDefect none, uint budget, uint seed)
    {
        var r = SystematicRun.Run(scenario.Name, scenario.Test(none), budget, seed);
        output.WriteLine($"{scenario.Name}: {r.Iterations} iterations, {r.IterationsPerSecond:F0}/s");
        Assert.False(r.Found, r.TraceText());
        Assert.Equal(budget, r.Iterations);
    }

    /// <param name="says">What the trace must contain: the specification's words for who acted.</param>
    public static void DefectFoundAndReplayed<TDefect>(ITestOutputHelper output, (string Name, Func<TDefect, Func<Task>> Test, TDefect[] Finds) scenario, TDefect defect, uint budget, uint seed, string says)
    {
        var r = SystematicRun.Run($"{scenario.Name} with {defect}", scenario.Test(defect), budget, seed);
        output.WriteLine($"{defect}: found in {r.Iterations} iterations ({r.Seconds:F2} s)");
        output.WriteLine(r.TraceText());
        Assert.True(r.Found, $"{defect} not found in {budget} iterations");
        Assert.Contains(says, r.TraceText());

        var (again, steps) = SystematicRun.Replay(scenario.Test(defect), r.Schedule);
        Assert.Equal(r.Failure, again);
        Assert.Equal(r.Steps, steps);
    }
}
