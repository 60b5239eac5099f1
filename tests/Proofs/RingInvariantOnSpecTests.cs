using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Proofs;

/// <summary>
/// The ring invariants Z3 proves for all states (head - tail ≤ ring; a READY slot lies in
/// [tail, head)) hold on the states the reference design actually reaches in the explorer's
/// specification (8-bit counters): random walks over its enabled steps, seed printed. And
/// the design Z3 refutes (ref-no-clear) does reach a state that breaks them.
/// </summary>
public class RingInvariantOnSpecTests(ITestOutputHelper output)
{
    private static string? Broken(in IpiState s, IpiBounds b)
    {
        var ring = new MkRing((uint)b.Ring, CounterBits: 8);
        if (ring.Occupancy(s.Head, s.Tail) > (uint)b.Ring) return $"head - tail = {ring.Occupancy(s.Head, s.Tail)} > {b.Ring}";
        for (int i = 0; i < b.Ring; i++)
            if (s.Slots[i].State == IpiConstants.SlotReady && !ring.InWindow((uint)i, s.Head, s.Tail))
                return $"slot {i} is READY outside [tail {s.Tail}, head {s.Head})";
        return null;
    }

    private string? Walk(IpiDesign design, int walks, int seed)
    {
        var b = new IpiBounds { Senders = 3, Messages = 3, Ring = 2 };
        var spec = new IpiSpec(design, b);
        var rng = new Random(seed);
        var init = new List<IpiState>();
        spec.Initial(init);
        Span<IpiAction> steps = stackalloc IpiAction[SpecLimits.MaxEnabled];
        for (int w = 0; w < walks; w++)
        {
            var s = init[0];
            for (int k = 0; k < 200; k++)
            {
                if (Broken(s, b) is { } why) return $"walk {w}, step {k}: {why}";
                int n = spec.Enabled(s, steps);
                if (n == 0) break;
                s = spec.Next(s, steps[rng.Next(n)]);
            }
        }
        return null;
    }

    [Fact]
    public void The_reference_reaches_no_state_that_breaks_the_proved_invariants()
    {
        const int seed = 20261121;
        output.WriteLine($"seed {seed}");
        Assert.Null(Walk(IpiDesigns.Reference, 3000, seed));
    }

    [Fact]
    public void The_design_z3_refutes_reaches_such_a_state()
    {
        string? why = Walk(IpiDesigns.Find("ref-no-clear")!, 3000, 20261121);
        output.WriteLine(why ?? "none");
        Assert.NotNull(why);
    }
}
