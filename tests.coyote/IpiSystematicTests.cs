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

    public static TheoryData<int> Scenarios() => SystematicChecks.Scenarios(IpiScenarios.All);

    public static TheoryData<int, MkIpiDefects> Mutants() => SystematicChecks.Mutants(IpiScenarios.All);

    [Theory, MemberData(nameof(Scenarios))]
    public void ReferenceHolds(int scenario) => SystematicChecks.ReferenceHolds(output, IpiScenarios.All[scenario], MkIpiDefects.None, Budget, Seed);

    [Theory, MemberData(nameof(Mutants))]
    public void DefectFoundAndReplayed(int scenario, MkIpiDefects defect) =>
        SystematicChecks.DefectFoundAndReplayed(output, IpiScenarios.All[scenario], defect, Budget, Seed, "CPU");
}
