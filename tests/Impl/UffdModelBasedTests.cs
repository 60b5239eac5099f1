using FsCheck.Experimental;
using Multikernel.Impl.Uffd;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Uffd;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

public class UffdModelBasedTests(ITestOutputHelper output)
{
    private const ulong Seed = 20261121;

    private static FsCheck.Property Machine(UffdImplDefects defects) => new UffdMachine(defects, 40).ToProperty();

    [Fact]
    public void Implementation_agrees_with_the_reference_specification() =>
        PropertyRuns.Holds(output, "uffd model-based", Machine(UffdImplDefects.None), 1000, Seed);

    [Theory]
    [InlineData(UffdImplDefects.NoSplit, "VMAs [")]
    [InlineData(UffdImplDefects.NoMerge, "VMAs [")]
    [InlineData(UffdImplDefects.MinorAsMissing, "message flags")]
    public void Mutants_are_caught_and_shrunk(UffdImplDefects fault, string expect) =>
        PropertyRuns.Caught(output, $"uffd model-based ({fault})", Machine(fault), 1000, Seed, expect);

    [Fact]
    public void The_fault_path_allocates_nothing()
    {
        var mm = new MmStruct([(MemType.Anon, 2), (MemType.HugetlbShared, 2)]);
        int ctx = mm.UserfaultfdCreate();
        mm.Api(ctx, UffdConstants.UffdApi, 0);
        mm.Register(ctx, 0, 2 * UffdConstants.PageSize, UffdConstants.UffdioRegisterModeMissing);
        mm.HandleMmFault(3 * UffdConstants.PageSize, false); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        int blocked = 0;
        for (int i = 0; i < 1000; i++)
        {
            blocked += mm.HandleMmFault(0, true).Outcome == FaultOutcome.Blocked ? 1 : 0;
            blocked += mm.HandleMmFault(2 * UffdConstants.PageSize, false).Outcome == FaultOutcome.Normal ? 0 : 1;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, blocked);
        Assert.Equal(0, allocated);
    }
}
