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

    private CheckResult Run(MkIpiFaults faults, int cases = 300)
    {
        var r = FsRun.Run($"ipi model-based ({faults})", new ApiMachine(4, faults, 40).ToProperty(), cases, Seed);
        output.WriteLine(r.ToString());
        return r;
    }

    [Fact]
    public void Implementation_agrees_with_the_model()
    {
        var r = Run(MkIpiFaults.None);
        Assert.True(r.Holds, r.Detail);
    }

    [Theory]
    [InlineData(MkIpiFaults.NoFullCheck, "the model returns -ENOSPC")]
    [InlineData(MkIpiFaults.NoIndexMask, "IndexOutOfRange")]
    public void Sequential_mutants_are_caught_and_shrunk(MkIpiFaults fault, string expect)
    {
        var r = Run(fault);
        Assert.False(r.Holds);
        Assert.Contains(expect, r.Detail);
    }
}
