using FsCheck.Experimental;
using Multikernel.Impl.Uffd;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Uffd;

/// <summary>The uffd implementation against the specification, for check.</summary>
public static class UffdSuite
{
    public static CheckResult Run(int cases, ulong seed, UffdImplFaults faults = UffdImplFaults.None) =>
        FsRun.Run("uffd model-based (FsCheck Machine)", new UffdMachine(faults, 40).ToProperty(), cases, seed);
}
