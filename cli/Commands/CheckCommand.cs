using System.Diagnostics;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;

namespace Multikernel.Cli.Commands;

/// <summary>
/// check: the main job, in one screen, over every registered mechanism. Each reference
/// design's properties over every interleaving (exploration), the implementation against
/// the specification (FsCheck properties, stress, linearizability, hostile peer, at quick
/// sizes), and the Z3 proofs. Exit 0 only when all of it holds.
/// </summary>
internal sealed class CheckCommand : CliCommand
{
    public override string Name => "check";
    public override string Summary => "the main job: every mechanism's reference design, its properties over every interleaving, its implementation against the specification, its Z3 proofs";
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--seed", "the seed of the implementation checks (printed; replays them)"),
        new("--junit", "JUnit XML: one test case per property, implementation check and proof", ValueName: "FILE"),
        .. Limits.Options,
    ];

    public override int Run(Args a, TextWriter o)
    {
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();
        var junit = a.Value("--junit") is { } jf ? JUnit.Open(jf) : null;
        var options = Limits.Explore(a, stopWhenAllDecided: false);
        var clock = Stopwatch.StartNew();
        var exit = ExitCode.Holds;
        o.WriteLine($"multikernel check: the reference design of {string.Join(", ", Mechanisms.All.Select(m => m.Name))}");

        o.WriteLine("1. specifications: every property over every interleaving");
        int properties = 0;
        foreach (var m in Mechanisms.All)
        {
            var bounds = m.Model.ParseBounds("");
            var spec = m.Model.Specification(m.Model.Designs.Reference, bounds);
            var r = Vacuity.AgainstReference(Explorer.Run(spec, options), isReference: true, () => spec, options);
            Print(o, $"{spec.Name} ({BoundsText.Show(bounds)})", r);
            exit = ExitCodes.Worst(exit, ExplorationText.Exit(r));
            properties += r.Outcomes.Count;
            junit?.Exploration(spec.Name, BoundsText.Show(bounds), r);
        }

        o.WriteLine($"2. implementation against the specification (seed {seed}; replay with --seed {seed})");
        var checks = new List<(MechanismEntry M, CheckResult C)>();
        foreach (var m in Mechanisms.All)
            if (m is IImplementationChecked run)
                foreach (var c in run.Checks(SuiteSize.Quick, seed)) checks.Add((m, c));
        int w = checks.Count == 0 ? 0 : checks.Max(c => c.C.Name.Length);
        foreach (var (m, c) in checks)
        {
            o.WriteLine($"  {c.Name.PadRight(w)}  {c.VerdictText,-10}  {c.Time.TotalSeconds,5:F2} s  {FirstLine(c.Detail)}");
            if (!c.Holds) o.WriteLine(Indent(c.Detail));
            exit = ExitCodes.Worst(exit, c.Exit);
            junit?.Check(m.Name, c);
        }

        o.WriteLine("3. proofs (Z3): each reference design's obligations, for all values");
        int proofCount = 0;
        if (Z3Context.Unavailable() is { } why)
        {
            o.WriteLine($"  {why}");
            exit = ExitCodes.Worst(exit, ExitCode.NoVerdict);
        }
        else
        {
            foreach (var m in Mechanisms.All)
            {
                if (m is not IProved { Proofs: var encode }) continue;
                var design = m.Model.Designs.Reference;
                var obligations = encode(design);
                if (obligations is null)
                {
                    o.WriteLine($"  {m.Model.Qualified(design)}: no encoding: not proved");
                    exit = ExitCodes.Worst(exit, ExitCode.NoVerdict);
                    continue;
                }
                var results = obligations.Select(ob => Prover.Prove(ob)).ToList();
                // All proved: one line, as the specifications' "all N hold"; anything else: every obligation with its values.
                if (results.All(r => r.Verdict == ProofVerdict.Proved))
                    o.WriteLine($"  {m.Model.Qualified(design)}: all {results.Count} proved ({results.Sum(r => r.Time.TotalMilliseconds):F0} ms): {string.Join(", ", results.Select(r => r.Obligation.Name))}");
                else
                    ProveCommand.Print(results, o);
                exit = ExitCodes.Worst(exit, ProveCommand.Exit(results));
                proofCount += results.Count;
                junit?.Proofs(m.Name, results);
            }
        }

        o.WriteLine(exit switch
        {
            ExitCode.Holds => $"everything holds: {properties} properties, {checks.Count(c => c.C.Skipped is null)} implementation checks{(checks.Count(c => c.C.Skipped is not null) is var skipped and > 0 ? $" ({skipped} skipped)" : "")}, {proofCount} proofs ({clock.Elapsed.TotalSeconds:F1} s)",
            ExitCode.Violated => "VIOLATED: see above",
            _ => "no verdict: a bound was hit or a proof was not decided",
        });
        if (junit is not null) o.WriteLine($"wrote {junit.Save()}");
        return (int)exit;
    }

    /// <summary>One exploration in a few lines: statistics, then the table only if something did not hold, with its traces.</summary>
    private static void Print(TextWriter o, string what, ExploreReport r)
    {
        o.WriteLine($"  {what}: {ExplorationText.Statistics(r)}");
        if (r.Verdict == Verdict.Holds)
        {
            o.WriteLine($"    all {r.Outcomes.Count} hold: {string.Join(", ", r.Outcomes.Select(x => x.Property.Name))}");
            return;
        }
        o.Write(ExplorationText.Table(r));
        foreach (var v in r.Outcomes.Where(x => x.Trace is not null)) o.WriteLine(TraceText.Format(v.Trace!, $"spec: {what}"));
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
    private static string Indent(string s) => string.Join('\n', s.Split('\n').Select(l => "      " + l.TrimEnd()));
}
