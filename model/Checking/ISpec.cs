namespace Multikernel.Model.Checking;

/// <summary>
/// An executable specification in the Stateright / TLA+ shape: initial states, the
/// actions enabled in a state, a deterministic next state, and properties. States and
/// actions are unmanaged structs: a state is fingerprinted by its bytes and copied
/// cheaply; an action is a typed value (who acts, on what), and the explorer stores only
/// its position in the enabled list, so a trace is rebuilt by re-executing the spec.
/// Presentation (<see cref="Describe"/>, <see cref="Render"/>) has defaults and belongs
/// beside the transition code, not inside it.
/// </summary>
public interface ISpec<TState, TAction> : ISpecHandle
    where TState : unmanaged
    where TAction : unmanaged
{
    /// <summary>Appends the initial states, in a fixed order.</summary>
    void Initial(List<TState> into);

    /// <summary>Writes the enabled actions of <paramref name="s"/> in a fixed order and returns their number.</summary>
    int Enabled(in TState s, Span<TAction> into);

    /// <summary>The state after <paramref name="action"/>; a pure function of its arguments. It may throw: the explorer reports that as a counterexample.</summary>
    TState Next(in TState s, in TAction action);

    /// <summary>Bit i set when the <see cref="PropertyKind.Always"/> property i is false in <paramref name="s"/>.</summary>
    ulong Violated(in TState s);

    /// <summary>Bit i set when the <see cref="PropertyKind.Eventually"/> property i is still owed in <paramref name="s"/>.</summary>
    ulong Pending(in TState s) => 0;

    /// <summary>Bit i set when the <see cref="PropertyKind.Sometimes"/> property i is true in <paramref name="s"/>.</summary>
    ulong Reached(in TState s) => 0;

    /// <summary>Who did what, in the kernel's words: "CPU1 sender0: memset(cpu_data[0])".</summary>
    string Describe(in TState before, in TAction action) => action.ToString() ?? "";

    /// <summary>The state as named variables, for traces (text, ITF JSON, DOT). Default: the state's public fields.</summary>
    void Render(in TState s, List<TraceVar> into) => TraceValue.Fields(s, into);

    /// <summary>
    /// Why property <paramref name="property"/> fails at the end of a trace, in values
    /// ("handler0 (ipi_type 1) ran with m1 (type 0x100000001)"); <paramref name="last"/> is the
    /// step into <paramref name="after"/>, absent for a trace of no steps. Null when there is nothing to add.
    /// </summary>
    string? Explain(in TState before, TAction? last, in TState after, int property) => null;

    /// <summary>
    /// Which of <see cref="ISpecHandle.FairActors"/> takes <paramref name="action"/> (its index), or -1 for an
    /// actor owed nothing: a hostile host, an injected fault, the environment's choices.
    /// </summary>
    int Actor(in TAction action) => -1;

    /// <summary>
    /// Who takes <paramref name="action"/>, by name: the lane a trace viewer draws its step in ("sender CPU1",
    /// "the timer", "hypervisor"). Default: the fair actor's name, else "environment".
    /// </summary>
    string Lane(in TAction action)
    {
        int a = Actor(action);
        return a >= 0 && a < FairActors.Count ? FairActors[a] : "environment";
    }

    TResult ISpecHandle.Accept<TResult>(ISpecVisitor<TResult> visitor) => visitor.Visit(this);
}

/// <summary>A specification whose state and action types are not known to the caller (the command line, the registry).</summary>
public interface ISpecHandle
{
    /// <summary>Short stable name, e.g. <c>ipi/reference</c>.</summary>
    string Name { get; }

    /// <summary>The properties, in a fixed order; bit i of the spec's masks is property i.</summary>
    IReadOnlyList<Property> Properties { get; }

    /// <summary>
    /// The actors owed weak fairness, by name ("guest thread", "timer"): an eventually-property fails
    /// only on a cycle in which each of them takes a step or is disabled somewhere, since the kernel
    /// schedules CPUs, kernel threads and timers eventually. Empty: no fairness, any pending cycle fails.
    /// </summary>
    IReadOnlyList<string> FairActors => [];

    /// <summary>The memory model the exploration assumes, in words; null for sequential consistency (every step atomic).</summary>
    string? MemoryModel => null;

    /// <summary>After a search: a bound of the model itself (not of the search) that was reached, in words, or null. A run that reached one holds nothing: it is reported as a bound.</summary>
    string? ModelBoundReached => null;

    /// <summary>Calls <paramref name="visitor"/> with the typed specification.</summary>
    TResult Accept<TResult>(ISpecVisitor<TResult> visitor);
}

/// <summary>Something done with a specification of any state and action type (explore it, replay a trace on it).</summary>
public interface ISpecVisitor<out TResult>
{
    TResult Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged;
}

/// <summary>The most actions any state of any specification may enable.</summary>
public static class SpecLimits
{
    public const int MaxEnabled = 128;
}
