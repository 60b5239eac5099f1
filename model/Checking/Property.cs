namespace Multikernel.Model.Checking;

public enum PropertyKind
{
    /// <summary>A safety invariant, checked on every reachable state.</summary>
    Always,
    /// <summary>An obligation that must be discharged: no reachable terminal state or cycle keeps it pending.</summary>
    Eventually,
}

/// <summary>
/// A named property of a specification: what it says in words and the seed line
/// it protects, so that a counterexample can say why it matters.
/// </summary>
public sealed record Property(string Name, PropertyKind Kind, string Statement, string Source);
