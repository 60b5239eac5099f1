using Multikernel.Model.Checking;

namespace Multikernel.Tests.Engine;

/// <summary>
/// A small spec with a known shape for testing the engine on its own: two counters
/// x, y in 0..N, actor 0 increments x, actor 1 increments y. Optionally actor 2
/// resets (x, y) from (N, N) back to (0, 0), which makes the whole graph one cycle
/// family. Always-property "sum": x + y != Forbidden. Eventually-property "x-done":
/// x reaches N.
/// </summary>
public struct Counters { public byte X, Y; }

public enum CounterAction : byte { IncX, IncY, Reset, ZeroY }

public sealed class CounterSpec(int n, int forbidden = -1, bool reset = false, bool yOnlyLoop = false) : ISpec<Counters, CounterAction>
{
    public string Name => "test/counters";
    public IReadOnlyList<Property> Properties { get; } =
    [
        new("sum", PropertyKind.Always, "x + y is never the forbidden value", "test"),
        new("x-done", PropertyKind.Eventually, "x eventually reaches N", "test"),
    ];

    public void Initial(List<Counters> into) => into.Add(default);

    public int Enabled(in Counters s, Span<CounterAction> into)
    {
        int k = 0;
        if (s.X < n && !yOnlyLoop) into[k++] = CounterAction.IncX;
        if (s.Y < n) into[k++] = CounterAction.IncY;
        if (yOnlyLoop && s.Y == n) into[k++] = CounterAction.ZeroY;
        if (reset && s.X == n && s.Y == n) into[k++] = CounterAction.Reset;
        return k;
    }

    public Counters Next(in Counters s, in CounterAction a) => a switch
    {
        CounterAction.IncX => new Counters { X = (byte)(s.X + 1), Y = s.Y },
        CounterAction.IncY => new Counters { X = s.X, Y = (byte)(s.Y + 1) },
        CounterAction.ZeroY => new Counters { X = s.X, Y = 0 },
        _ => default,
    };

    public ulong Violated(in Counters s) => s.X + s.Y == forbidden ? 1UL : 0;
    public ulong Pending(in Counters s) => s.X < n ? 2UL : 0;
    public string Describe(in Counters s, in CounterAction a) => a switch { CounterAction.IncX => "x++", CounterAction.IncY => "y++", CounterAction.ZeroY => "y = 0", _ => "reset" };
    public void Render(in Counters s, List<TraceVar> into)
    {
        into.Add(new("x", TraceValue.Of(s.X)));
        into.Add(new("y", TraceValue.Of(s.Y)));
    }
}
