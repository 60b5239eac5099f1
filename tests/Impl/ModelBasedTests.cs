using FsCheck.Experimental;
using Multikernel.Impl.Ipi;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Ipi;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

public class ModelBasedTests(ITestOutputHelper output)
{
    private const ulong Seed = 20261121;

    private CheckResult Run(MkIpiDefects defects, int cases = 300)
    {
        var r = FsRun.Run($"ipi model-based ({defects})", new ApiMachine(4, defects, 40).ToProperty(), cases, Seed);
        output.WriteLine(r.ToString());
        return r;
    }

    [Fact]
    public void Implementation_agrees_with_the_model()
    {
        var r = Run(MkIpiDefects.None);
        Assert.True(r.Holds, r.Detail);
    }

    [Theory]
    [InlineData(MkIpiDefects.NoFullCheck, "the model returns -ENOSPC")]
    [InlineData(MkIpiDefects.NoIndexMask, "IndexOutOfRange")]
    public void Sequential_mutants_are_caught_and_shrunk(MkIpiDefects fault, string expect)
    {
        var r = Run(fault);
        Assert.False(r.Holds);
        Assert.Contains(expect, r.Detail);
    }
}
