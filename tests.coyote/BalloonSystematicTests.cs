using Multikernel.Coyote.Balloon;
using Multikernel.Coyote.Systematic;
using Multikernel.Impl.Balloon;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Coyote;

/// <summary>VmBalloon under Coyote: the reference holds for the whole budget; each defect of <see cref="BalloonImplDefects"/> is found with the fixed seed and replays exactly.</summary>
public sealed class BalloonSystematicTests(ITestOutputHelper output)
{
    public const uint Seed = IpiSystematicTests.Seed, Budget = 400;

    public static TheoryData<int> Scenarios() => [.. Enumerable.Range(0, BalloonScenarios.All.Count)];

    public static TheoryData<int, BalloonImplDefects> Mutants()
    {
        var data = new TheoryData<int, BalloonImplDefects>();
        for (int i = 0; i < BalloonScenarios.All.Count; i++)
            foreach (var d in BalloonScenarios.All[i].Finds) data.Add(i, d);
        return data;
    }

    [Theory, MemberData(nameof(Scenarios))]
    public void ReferenceHolds(int scenario)
    {
        var (name, test, _) = BalloonScenarios.All[scenario];
        var r = SystematicRun.Run(name, test(BalloonImplDefects.None), Budget, Seed);
        output.WriteLine($"{name}: {r.Iterations} iterations, {r.IterationsPerSecond:F0}/s");
        Assert.False(r.Found, r.TraceText());
        Assert.Equal(Budget, r.Iterations);
    }

    [Theory, MemberData(nameof(Mutants))]
    public void DefectFoundAndReplayed(int scenario, BalloonImplDefects defect)
    {
        var (name, test, _) = BalloonScenarios.All[scenario];
        var r = SystematicRun.Run($"{name} with {defect}", test(defect), Budget, Seed);
        output.WriteLine($"{defect}: found in {r.Iterations} iterations ({r.Seconds:F2} s)");
        output.WriteLine(r.TraceText());
        Assert.True(r.Found, $"{defect} not found in {Budget} iterations");
        Assert.Contains("CPU0 (worker): vmballoon_cmd(", r.TraceText());

        var (again, steps) = SystematicRun.Replay(test(defect), r.Schedule);
        Assert.Equal(r.Failure, again);
        Assert.Equal(r.Steps, steps);
    }
}
