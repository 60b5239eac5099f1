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

    public static TheoryData<int> Scenarios() => SystematicChecks.Scenarios(BalloonScenarios.All);

    public static TheoryData<int, BalloonImplDefects> Mutants() => SystematicChecks.Mutants(BalloonScenarios.All);

    [Theory, MemberData(nameof(Scenarios))]
    public void ReferenceHolds(int scenario) => SystematicChecks.ReferenceHolds(output, BalloonScenarios.All[scenario], BalloonImplDefects.None, Budget, Seed);

    [Theory, MemberData(nameof(Mutants))]
    public void DefectFoundAndReplayed(int scenario, BalloonImplDefects defect) =>
        SystematicChecks.DefectFoundAndReplayed(output, BalloonScenarios.All[scenario], defect, Budget, Seed, "CPU0 (worker): vmballoon_cmd(");
}
