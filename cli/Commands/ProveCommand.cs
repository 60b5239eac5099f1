using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Uffd;
using Multikernel.Proofs.Z3;

namespace Multikernel.Cli.Commands;

/// <summary>prove: every Z3 obligation, with proved / refuted (values) / unknown and its time.</summary>
internal static class ProveCommand
{
    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("prove", argv, ["--design", "--timeout"], []);
        a.NoMorePositionals(0);
        uint timeout = (uint)a.Int("--timeout", 10_000, 100, 600_000);
        string? name = a.Value("--design");
        var sets = new List<(string Title, IReadOnlyList<Obligation> Obligations)>();
        if (name == null || !UffdCommands.Names(name))
        {
            var design = IpiOptions.Design(name ?? "reference", "prove");
            if (design is not RingDesign ring)
                throw new UsageException($"prove: the IPI obligations are about ring designs; '{design.Name}' is not one (try reference, ref-no-full-check or uffd-v5)");
            sets.Add(($"ring obligations of ipi/{design.Name}", RingProofs.For(ring.Mutations)));
        }
        if (name == null || UffdCommands.Names(name))
        {
            var design = UffdCommands.Design(name ?? "uffd/reference", "prove");
            sets.Add(($"flag obligations of uffd/{design.Name}", UffdProofs.For(design)));
        }
        if (Z3Context.Unavailable() is { } why) throw new UsageException(why);
        o.WriteLine($"multikernel prove: Z3 {Z3Context.Version}, timeout {timeout} ms per obligation");
        var all = new List<ProofResult>();
        foreach (var (title, obligations) in sets)
        {
            o.WriteLine($"  {title}:");
            var results = obligations.Select(ob => Prover.Prove(ob, timeout)).ToList();
            Print(results, o);
            all.AddRange(results);
        }
        return ExitCode(all);
    }

    /// <summary>The reference designs' obligations: the IPI ring, then the uffd flags.</summary>
    public static IReadOnlyList<ProofResult> ProveReferences(uint timeout = 10_000) =>
        RingProofs.For(RingDesign.Mutation.None).Concat(UffdProofs.For(Model.Uffd.UffdDesigns.Reference))
            .Select(ob => Prover.Prove(ob, timeout)).ToList();

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
