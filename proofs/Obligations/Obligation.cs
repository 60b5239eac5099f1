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
public sealed record Obligation(string Name, string Statement, string Source, Func<Z3Context, Goal> Build);

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
