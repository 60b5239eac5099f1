using Multikernel.Model.Checking;

namespace Multikernel.Tests.Counter;

/// <summary>
/// A toy fifth mechanism, to show that a mechanism is its own folder plus one registration (internal, so
/// that --load of this assembly, which other tests do, does not offer its designs as a user's): a
/// shared counter that CPUs increment, as atomic_inc() or as a load and a store (the lost update).
/// </summary>
internal struct CounterState
{
    /// <summary>The shared counter.</summary>
    public byte Counter;
    /// <summary>Per CPU (2 bits each): 0 before its increment, 1 loaded (Tmp holds what it read), 2 done.</summary>
    public byte Pc;
    /// <summary>Per CPU (2 bits each): the value it loaded.</summary>
    public byte Tmp;
    /// <summary>Per CPU (2 bits each): rounds left after the current one.</summary>
    public byte Left;

    public readonly int PcOf(int cpu) => (Pc >> (2 * cpu)) & 3;
    public readonly int TmpOf(int cpu) => (Tmp >> (2 * cpu)) & 3;
    public readonly int LeftOf(int cpu) => (Left >> (2 * cpu)) & 3;
    public static void Set(ref byte field, int cpu, int value) => field = (byte)((field & ~(3 << (2 * cpu))) | (value << (2 * cpu)));
}

/// <summary>One step of a CPU.</summary>
internal struct CounterAction
{
    public byte Cpu;
    public override readonly string ToString() => $"CPU{Cpu}";
}

/// <summary>A counter design: how a CPU increments. A user overrides <see cref="Step"/>.</summary>
internal class CounterDesign(string name, string summary) : IDesign
{
    public string Name { get; } = name;
    public string Summary { get; } = summary;

    /// <summary>The reference: atomic_inc(), one step.</summary>
    public virtual void Step(ref CounterState s, int cpu)
    {
        s.Counter++;
        CounterState.Set(ref s.Pc, cpu, 2);
    }

    public virtual string Describe(in CounterState s, int cpu) => $"CPU{cpu}: atomic_inc(&counter)";
}

/// <summary>counter = counter + 1 in two steps: the load, then the store. Two CPUs interleaved lose an update.</summary>
internal sealed class RacyCounter(string name, string summary) : CounterDesign(name, summary)
{
    public override void Step(ref CounterState s, int cpu)
    {
        if (s.PcOf(cpu) == 0) { CounterState.Set(ref s.Tmp, cpu, s.Counter & 3); CounterState.Set(ref s.Pc, cpu, 1); }
        else { s.Counter = (byte)(s.TmpOf(cpu) + 1); CounterState.Set(ref s.Pc, cpu, 2); }
    }

    public override string Describe(in CounterState s, int cpu) => s.PcOf(cpu) == 0 ? $"CPU{cpu}: tmp = counter" : $"CPU{cpu}: counter = tmp + 1";
}

/// <summary>cpus=N rounds=R: N CPUs each increment R times.</summary>
internal sealed record CounterBounds(int Cpus = 2, int Rounds = 1) : IBounds
{
    public static readonly IReadOnlyList<BoundOption> Options =
    [
        new("cpus", "CPUs incrementing the counter, 1..3"),
        new("rounds", "increments each CPU makes, 1..2"),
    ];

    public static CounterBounds Parse(string text)
    {
        var b = new CounterBounds();
        foreach (var (k, v) in BoundsText.Pairs(text))
            b = k switch
            {
                "cpus" => b with { Cpus = BoundsText.Int(k, v, 1, 3) },
                "rounds" => b with { Rounds = BoundsText.Int(k, v, 1, 2) },
                _ => throw BoundsText.Unknown(k, Options),
            };
        return b;
    }

    public override string ToString() => $"cpus={Cpus} rounds={Rounds}";
}

/// <summary>The counter's specification: every interleaving of the CPUs' steps.</summary>
internal sealed class CounterSpec(CounterDesign design, CounterBounds bounds) : ISpec<CounterState, CounterAction>
{
    public string Name => $"counter/{design.Name}";

    public IReadOnlyList<Property> Properties { get; } =
    [
        new("no-lost-update", PropertyKind.Always, "once every CPU is done, the counter is the number of increments made", "counter++"),
        new("all-done", PropertyKind.Sometimes, "every CPU finishes its increments", "counter++"),
    ];

    public void Initial(List<CounterState> into)
    {
        var s = default(CounterState);
        for (int c = 0; c < bounds.Cpus; c++) CounterState.Set(ref s.Left, c, bounds.Rounds - 1);
        into.Add(s);
    }

    public int Enabled(in CounterState s, Span<CounterAction> into)
    {
        int k = 0;
        for (int c = 0; c < bounds.Cpus; c++)
            if (s.PcOf(c) != 2) into[k++] = new CounterAction { Cpu = (byte)c };
        return k;
    }

    public CounterState Next(in CounterState s, in CounterAction a)
    {
        var n = s;
        design.Step(ref n, a.Cpu);
        if (n.PcOf(a.Cpu) == 2 && n.LeftOf(a.Cpu) > 0) { CounterState.Set(ref n.Left, a.Cpu, n.LeftOf(a.Cpu) - 1); CounterState.Set(ref n.Pc, a.Cpu, 0); }
        return n;
    }

    private bool Done(in CounterState s)
    {
        for (int c = 0; c < bounds.Cpus; c++) if (s.PcOf(c) != 2) return false;
        return true;
    }

    public ulong Violated(in CounterState s) => Done(s) && s.Counter != bounds.Cpus * bounds.Rounds ? 1UL : 0;
    public ulong Reached(in CounterState s) => Done(s) ? 2UL : 0; // bit 1: all-done
    public string Describe(in CounterState before, in CounterAction a) => design.Describe(before, a.Cpu);

    public void Render(in CounterState s, List<TraceVar> into)
    {
        into.Add(new("counter", TraceValue.Of(s.Counter)));
        for (int c = 0; c < bounds.Cpus; c++)
            into.Add(new($"cpu{c}", TraceValue.Of(s.PcOf(c) switch { 0 => "before", 1 => $"loaded {s.TmpOf(c)}", _ => "done" })));
    }

    public string? Explain(in CounterState before, CounterAction? last, in CounterState after, int property) =>
        property == 0 ? $"counter is {after.Counter} after {bounds.Cpus * bounds.Rounds} increments" : null;
}

/// <summary>The counter in the registry's terms: its designs (a seed, the reference, a mutant), bounds and specification.</summary>
internal sealed class CounterMechanism : Mechanism<CounterDesign, CounterBounds>
{
    public static readonly CounterMechanism Instance = new();

    public override string Name => "counter";
    public override string Summary => "a toy: CPUs increment a shared counter (the fifth-mechanism test)";
    public override DesignCatalogue Designs { get; } = new(
        [new RacyCounter("counter-v1", "as posted: counter = counter + 1 without a lock")],
        new CounterDesign("reference", "atomic_inc()"),
        [new RacyCounter("ref-plain-add", "the reference with a plain load and store")]);
    public override IReadOnlyList<BoundOption> BoundOptions => CounterBounds.Options;
    public override IBounds ParseBounds(string text) => CounterBounds.Parse(text);
    protected override ISpecHandle Spec(CounterDesign design, CounterBounds bounds) => new CounterSpec(design, bounds);
}
