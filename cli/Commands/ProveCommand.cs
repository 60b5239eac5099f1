using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;

namespace Multikernel.Cli.Commands;

/// <summary>prove: every Z3 obligation, with proved / refuted (values) / unknown and its time.</summary>
internal static class ProveCommand
{
    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("prove", argv, ["--design", "--timeout"], []);
        a.NoMorePositionals(0);
        var design = IpiOptions.Design(a.Value("--design") ?? "reference", "prove");
        if (design is not RingDesign ring)
            throw new UsageException($"prove: the ring obligations are about ring designs; '{design.Name}' is not one (try reference or ref-no-full-check)");
        uint timeout = (uint)a.Int("--timeout", 10_000, 100, 600_000);
        if (Z3Context.Unavailable() is { } why) throw new UsageException(why);
        o.WriteLine($"multikernel prove: ring obligations of design '{design.Name}', Z3 {Z3Context.Version}, timeout {timeout} ms");
        var results = Prove(ring, timeout);
        Print(results, o);
        return ExitCode(results);
    }

    public static IReadOnlyList<ProofResult> Prove(RingDesign ring, uint timeout = 10_000) =>
        RingProofs.For(ring.Mutations).Select(ob => Prover.Prove(ob, timeout)).ToList();

    public static void Print(IReadOnlyList<ProofResult> results, TextWriter o)
    {
        int w = results.Max(r => r.Obligation.Name.Length);
        foreach (var r in results)
        {
            string verdict = r.Verdict switch { ProofVerdict.Proved => "proved", ProofVerdict.Refuted => "REFUTED", _ => "unknown" };
            o.WriteLine($"  {r.Obligation.Name.PadRight(w)}  {verdict,-7} {r.Time.TotalMilliseconds,5:F0} ms  {r.Obligation.Statement}");
            if (r.Verdict == ProofVerdict.Refuted) o.WriteLine($"  {"".PadRight(w)}  counterexample: {r.Detail}");
            if (r.Verdict == ProofVerdict.Unknown) o.WriteLine($"  {"".PadRight(w)}  Z3: {r.Detail}");
        }
    }

    public static int ExitCode(IReadOnlyList<ProofResult> results) =>
        results.Any(r => r.Verdict == ProofVerdict.Refuted) ? 1 : results.Any(r => r.Verdict == ProofVerdict.Unknown) ? 3 : 0;
}
