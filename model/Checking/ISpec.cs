namespace Multikernel.Model.Checking;

/// <summary>
/// One transition label: who acts (<see cref="Actor"/>) and an optional argument.
/// The specification gives it meaning; the explorer only stores its position in
/// the enabled list, so a trace is rebuilt by re-executing the specification.
/// </summary>
public readonly record struct Step(byte Actor, byte Arg = 0);

/// <summary>
/// An executable specification in the Stateright / TLA+ shape: initial states,
/// enabled steps, a deterministic next state, and properties. States are unmanaged
/// structs so that they can be fingerprinted by their bytes and copied cheaply.
/// </summary>
public interface ISpec<TState> where TState : unmanaged
{
    /// <summary>Short stable name, e.g. <c>ipi/reference</c>.</summary>
    string Name { get; }

    /// <summary>The properties, in a fixed order; bit i of the masks below is property i.</summary>
    IReadOnlyList<Property> Properties { get; }

    /// <summary>Appends the initial states, in a fixed order.</summary>
    void Initial(List<TState> into);

    /// <summary>Writes the enabled steps of <paramref name="s"/> in a fixed order and returns their number.</summary>
    int Enabled(in TState s, Span<Step> into);

    /// <summary>The state after <paramref name="step"/>; must be a pure function of its arguments.</summary>
    TState Next(in TState s, Step step);

    /// <summary>Bit i set when the <see cref="PropertyKind.Always"/> property i is false in <paramref name="s"/>.</summary>
    ulong Violated(in TState s);

    /// <summary>Bit i set when the <see cref="PropertyKind.Eventually"/> property i is still owed in <paramref name="s"/>.</summary>
    ulong Pending(in TState s);

    /// <summary>Who did what, in the kernel's words: "CPU1 sender0: memset(cpu_data[0])".</summary>
    string Describe(in TState before, Step step);

    /// <summary>The state as named variables, for traces (text, ITF JSON, DOT).</summary>
    void Render(in TState s, List<TraceVar> into);
}

/// <summary>The most steps any state of any specification may enable.</summary>
public static class SpecLimits
{
    public const int MaxEnabled = 128;
}
