using Multikernel.Coyote.Ipi;
using Multikernel.Coyote.Systematic;
using Multikernel.Impl.Ipi;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Coyote;

/// <summary>
/// MkIpi under Coyote: the reference implementation holds in every scenario for the whole budget,
/// and each concurrency defect of <see cref="MkIpiDefects"/> is found with a fixed seed within it,
/// its schedule replays to the same failure through the same steps, and the trace names CPUs and
/// the specification's steps.
/// </summary>
public sealed class IpiSystematicTests(ITestOutputHelper output)
{
    public const uint Seed = 20261202, Budget = 1000;

    public static TheoryData<int> Scenarios() => [.. Enumerable.Range(0, IpiScenarios.All.Count)];

    public static TheoryData<int, MkIpiDefects> Mutants()
    {
        var data = new TheoryData<int, MkIpiDefects>();
        for (int i = 0; i < IpiScenarios.All.Count; i++)
            foreach (var d in IpiScenarios.All[i].Finds) data.Add(i, d);
        return data;
    }

    [Theory, MemberData(nameof(Scenarios))]
    public void ReferenceHolds(int scenario)
    {
        var (name, test, _) = IpiScenarios.All[scenario];
        var r = SystematicRun.Run(name, test(MkIpiDefects.None), Budget, Seed);
        output.WriteLine($"{name}: {r.Iterations} iterations, {r.IterationsPerSecond:F0}/s");
        Assert.False(r.Found, r.TraceText());
        Assert.Equal(Budget, r.Iterations);
    }

    [Theory, MemberData(nameof(Mutants))]
    public void DefectFoundAndReplayed(int scenario, MkIpiDefects defect)
    {
        var (name, test, _) = IpiScenarios.All[scenario];
        var r = SystematicRun.Run($"{name} with {defect}", test(defect), Budget, Seed);
        output.WriteLine($"{defect}: found in {r.Iterations} iterations ({r.Seconds:F2} s)");
        output.WriteLine(r.TraceText());
        Assert.True(r.Found, $"{defect} not found in {Budget} iterations");
        Assert.Contains("CPU", r.TraceText());

        var (again, steps) = SystematicRun.Replay(test(defect), r.Schedule);
        Assert.Equal(r.Failure, again);
        Assert.Equal(r.Steps, steps);
    }
}
