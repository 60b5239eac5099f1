using Multikernel.Properties.Checking;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

/// <summary>
/// A property run the implementation tests make (model-based, linearizability, hostile peer): it
/// holds, or, on a deliberate defect (of the implementation or planted in the specification), it
/// fails and its detail names why. The result is printed either way.
/// </summary>
internal static class PropertyRuns
{
    public static CheckResult Run(ITestOutputHelper output, string name, FsCheck.Property property, int cases, ulong seed)
    {
        var r = FsRun.Run(name, property, cases, seed);
        output.WriteLine(r.ToString());
        return r;
    }

    public static CheckResult Holds(ITestOutputHelper output, string name, FsCheck.Property property, int cases, ulong seed)
    {
        var r = Run(output, name, property, cases, seed);
        Assert.True(r.Holds, r.Detail);
        return r;
    }

    /// <param name="because">What the failure's detail must name.</param>
    public static CheckResult Caught(ITestOutputHelper output, string name, FsCheck.Property property, int cases, ulong seed, string because)
    {
        var r = Run(output, name, property, cases, seed);
        Assert.False(r.Holds, $"{name}: the check did not notice the defect");
        Assert.Contains(because, r.Detail);
        return r;
    }
}
