using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;

namespace Multikernel.Cli.Commands;

/// <summary>
/// prove [--design D]: every Z3 obligation of a design (default: every mechanism's reference),
/// with proved / refuted (values) / unknown and its time. A proof speaks only of the design it
/// encodes: a design the encoding does not describe gets "no encoding: not proved", exit 3, and
/// one that runs steps the obligations depend on but the encoding does not describe "proves only", exit 3.
/// </summary>
internal sealed class ProveCommand : CliCommand
{
    public override string Name => "prove";
    public override string Summary => "Z3 obligations: proved / refuted (values) / unknown; a design the proofs do not encode is \"not proved\" (exit 3)";
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--design", "one design (default: every mechanism's reference)", ValueName: "D"),
        new("--timeout", "milliseconds per obligation (default 10,000)", ValueName: "MS"),
        AuditCommand.LoadOption,
    ];

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        uint timeout = (uint)a.Int("--timeout", 10_000, 100, 600_000);
        var targets = a.Value("--design") is { } name
            ? [Mechanisms.Resolve(name, "prove")]
            : Mechanisms.All.Where(m => m is IProved).Select(m => (m, m.Model.Designs.Reference)).ToList();
        var sets = new List<(string Title, IReadOnlyList<Obligation>? Obligations)>();
        foreach (var (m, design) in targets)
            sets.Add(($"obligations of {m.Model.Qualified(design)}", (m as IProved)?.Proofs(design)));
        if (sets.Any(s => s.Obligations is not null) && Z3Context.Unavailable() is { } why) throw new UsageException(why);
        o.WriteLine($"multikernel prove: {(sets.Any(s => s.Obligations is not null) ? $"Z3 {Z3Context.Version}, " : "")}timeout {timeout} ms per obligation");
        var exit = ExitCode.Holds;
        foreach (var (title, obligations) in sets)
        {
            if (obligations is null)
            {
                o.WriteLine($"  {title}: no encoding: not proved (the proofs describe only the designs they encode; this one's steps are its own)");
                exit = ExitCodes.Worst(exit, ExitCode.NoVerdict);
                continue;
            }
            o.WriteLine($"  {title}:");
            if (ProofScope.Of(obligations) is { } scope) o.WriteLine($"  scope: {scope}");
            var results = obligations.Select(ob => Prover.Prove(ob, timeout)).ToList();
            Print(results, o);
            exit = ExitCodes.Worst(exit, Exit(results));
            if (ProofScope.Outside(obligations) is { } outside && Exit(results) != ExitCode.Violated)
            {
                o.WriteLine($"  proves only the scope above, not the design: {outside} (exit 3)");
                exit = ExitCodes.Worst(exit, ExitCode.NoVerdict);
            }
        }
        return (int)exit;
    }

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

    public static ExitCode Exit(IReadOnlyList<ProofResult> results) =>
        results.Any(r => r.Verdict == ProofVerdict.Refuted) ? ExitCode.Violated
        : results.Any(r => r.Verdict == ProofVerdict.Unknown) ? ExitCode.NoVerdict : ExitCode.Holds;
}
