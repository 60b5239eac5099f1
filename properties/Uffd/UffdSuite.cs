using FsCheck.Experimental;
using Multikernel.Impl.Uffd;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Uffd;

/// <summary>The uffd implementation against the specification, for check.</summary>
public static class UffdSuite
{
    /// <summary>The registry's entry point: the reference implementation's checks.</summary>
    public static IEnumerable<CheckResult> Checks(SuiteSize size, ulong seed)
    {
        yield return Run(size.ModelCases, seed);
        // Where the kernel offers userfaultfd: a small budget of `differ uffd` (no hugetlbfs: check
        // leaves vm.nr_hugepages alone and may run beside the tests that use the huge pages).
        // Elsewhere the line says it was skipped, and why.
        var kernel = Impl.Uffd.Linux.Userfaultfd.Availability();
        yield return kernel.Ok
            ? UffdDiff.Run(Math.Max(20, size.ModelCases / 10), seed, kernel.Answer.Features, hugetlb: false).Result
            : CheckResult.Skip(UffdDiff.CheckName, kernel.Reason);
    }

    public static CheckResult Run(int cases, ulong seed, UffdImplDefects defects = UffdImplDefects.None) =>
        FsRun.Run("uffd model-based (FsCheck Machine)", new UffdMachine(defects, 40).ToProperty(), cases, seed);
}
