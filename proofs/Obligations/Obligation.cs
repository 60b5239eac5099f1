using System.Diagnostics;
using Multikernel.Proofs.Z3;

namespace Multikernel.Proofs.Obligations;

/// <summary>
/// What an obligation asks Z3: a claim over free constants, the terms to show if it fails,
/// and how to name a shown value (a flag's name, a memory type) where a number says little.
/// </summary>
public sealed record Goal(BoolTerm Claim, IReadOnlyList<(string Name, BitVec Term)> Show)
{
    public IReadOnlyDictionary<string, Func<ulong, string>> Names { get; init; } = new Dictionary<string, Func<ulong, string>>();
}

/// <summary>An invariant stated over all states: its name, the invariant in words, the seed line it protects.</summary>
public sealed record Obligation(string Name, string Statement, string Source, Func<Z3Context, Goal> Build)
{
    /// <summary>What the encoding this obligation belongs to covers, in words ("ring index arithmetic: claim, publish and drain of head/tail").</summary>
    public string Scope { get; init; } = "";

    /// <summary>
    /// Set when the design runs steps the obligation depends on that the encoding does not describe
    /// (a publish moved before the fill): the obligation still holds of the encoded steps, but the design
    /// is not proved, only "proves only" the scope.
    /// </summary>
    public string? Outside { get; init; }
}

/// <summary>What a set of proof results says of a design: proved only when nothing it depends on is outside the encoding.</summary>
public static class ProofScope
{
    /// <summary>The scope of a set of obligations (one line), or null when they do not state it.</summary>
    public static string? Of(IReadOnlyList<Obligation> obligations) =>
        obligations.Select(o => o.Scope).Where(s => s.Length > 0).Distinct().ToArray() is { Length: > 0 } scopes ? string.Join("; ", scopes) : null;

    /// <summary>Why the design is not proved although its obligations may be: the steps outside the encoding; null when there are none.</summary>
    public static string? Outside(IReadOnlyList<Obligation> obligations) =>
        obligations.Select(o => o.Outside).OfType<string>().Distinct().ToArray() is { Length: > 0 } outside ? string.Join("; ", outside) : null;
}

/// <summary>
/// A mechanism's proofs: the obligations of a design, encoded for Z3, or null when the encoding
/// does not describe that design (a proof speaks only of the design it encodes).
/// </summary>
public delegate IReadOnlyList<Obligation>? ProofEncoding(Model.Checking.IDesign design);

public enum ProofVerdict { Proved, Refuted, Unknown }

public sealed record ProofResult(Obligation Obligation, ProofVerdict Verdict, string Detail, TimeSpan Time)
{
    public override string ToString() => Verdict switch
    {
        ProofVerdict.Proved => $"{Obligation.Name}: proved ({Time.TotalMilliseconds:F0} ms)",
        ProofVerdict.Refuted => $"{Obligation.Name}: REFUTED, counterexample {Detail} ({Time.TotalMilliseconds:F0} ms)",
        _ => $"{Obligation.Name}: unknown ({Detail}) ({Time.TotalMilliseconds:F0} ms)",
    };
}

/// <summary>Proves an obligation by asking Z3 for a state that breaks it: none (unsat) is a proof.</summary>
public static class Prover
{
    public static ProofResult Prove(Obligation o, uint timeoutMs = 10_000)
    {
        var clock = Stopwatch.StartNew();
        using var z = new Z3Context();
        var goal = o.Build(z);
        using var solver = z.Solver(timeoutMs);
        solver.Assert(!goal.Claim);
        switch (solver.Check())
        {
            case Z3Status.Unsat:
                return new ProofResult(o, ProofVerdict.Proved, "", clock.Elapsed);
            case Z3Status.Sat:
                var values = solver.Values(goal.Show.Select(s => s.Term).ToArray());
                string detail = string.Join(", ", goal.Show.Select((s, i) =>
                    $"{s.Name} = {Format(values[i])}" + (goal.Names.TryGetValue(s.Name, out var name) && name(values[i]) is { Length: > 0 } n ? $" ({n})" : "")));
                return new ProofResult(o, ProofVerdict.Refuted, detail, clock.Elapsed);
            default:
                return new ProofResult(o, ProofVerdict.Unknown, solver.ReasonUnknown, clock.Elapsed);
        }
    }

    private static string Format(ulong v) => v < 1024 ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"0x{v:x}";
}
