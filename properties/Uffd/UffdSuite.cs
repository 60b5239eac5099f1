using FsCheck.Experimental;
using Multikernel.Impl.Uffd;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Uffd;

/// <summary>The uffd implementation against the specification, for check.</summary>
public static class UffdSuite
{
    /// <summary>The registry's entry point: the reference implementation's checks.</summary>
    public static IEnumerable<CheckResult> Checks(SuiteSize size, ulong seed) => [Run(size.ModelCases, seed)];

    public static CheckResult Run(int cases, ulong seed, UffdImplDefects defects = UffdImplDefects.None) =>
        FsRun.Run("uffd model-based (FsCheck Machine)", new UffdMachine(defects, 40).ToProperty(), cases, seed);
}
