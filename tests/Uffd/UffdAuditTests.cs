using Multikernel.Model.Uffd;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Uffd;

public class UffdAuditTests(ITestOutputHelper output)
{
    private ExploreReport Explore(UffdDesign d, UffdBounds? b = null)
    {
        var r = Explorer.Run(new UffdSpec(d, b), new ExploreOptions { StopWhenAllViolated = false });
        output.WriteLine($"{d.Name}: {r.States:N0} states, {r.Transitions:N0} transitions, depth {r.Depth}, {r.Seconds:F2} s");
        foreach (var o in r.Outcomes)
        {
            output.WriteLine($"  {o.Property.Name}: {o.Verdict}{(o.Trace is { } t ? $" ({t.Length} steps)" : "")}");
            if (o.Trace is { } tr) output.WriteLine(TraceText.Format(tr, $"design: {d.Name}"));
        }
        return r;
    }

    [Fact]
    public void Reference_holds_every_invariant()
    {
        var r = Explore(UffdDesigns.Reference);
        Assert.Equal(Verdict.Holds, r.Verdict);
    }

    [Fact]
    public void V5_shows_the_vm_locked_collision()
    {
        var r = Explore(UffdDesigns.V5);
        Assert.Equal(Verdict.Violated, r.Verdict);
    }
}
