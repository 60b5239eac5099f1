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

        o.WriteLine(Paint.Strong("1. specifications: every property over every interleaving, at the default bounds ('help' lists them)"));
        int properties = 0;
        foreach (var m in Mechanisms.All)
        {
            var bounds = m.Model.ParseBounds("");
            var spec = m.Model.Specification(m.Model.Designs.Reference, bounds);
            var r = Vacuity.AgainstReference(Explorer.Run(spec, options), isReference: true, () => spec, options);
            Print(o, spec.Name, BoundsText.Show(bounds), r);
            exit = ExitCodes.Worst(exit, ExplorationText.Exit(r));
            properties += r.Outcomes.Count;
            junit?.Exploration(spec.Name, BoundsText.Show(bounds), r);
        }

        o.WriteLine(Paint.Strong($"2. implementation against the specification (seed {seed}; replay with --seed {seed})"));
        var checks = new List<(MechanismEntry M, CheckResult C)>();
        foreach (var m in Mechanisms.All)
            if (m is IImplementationChecked run)
                foreach (var c in run.Checks(SuiteSize.Quick, seed)) checks.Add((m, c));
        int w = checks.Count == 0 ? 0 : checks.Max(c => c.C.Name.Length);
        foreach (var (m, c) in checks)
        {
            string left = $"  {c.Name.PadRight(w)}  ", right = $"  {c.Time.TotalSeconds,5:F2} s  ";
            string verdict = c.VerdictText.PadRight(10);
            verdict = c.Skipped is not null || c.BoundHit ? Paint.Warn(verdict) : c.Holds ? Paint.Good(verdict) : Paint.Bad(verdict);
            o.WriteLine(left + verdict + right + Clip(FirstLine(c.Detail), Screen - left.Length - 10 - right.Length));
            if (!c.Holds) o.WriteLine(Indent(c.Detail));
            exit = ExitCodes.Worst(exit, c.Exit);
            junit?.Check(m.Name, c);
        }

        o.WriteLine(Paint.Strong("3. proofs (Z3): each reference design's obligations, for all values"));
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
                {
                    string head = $"  {m.Model.Qualified(design)}: all {results.Count} proved ({results.Sum(r => r.Time.TotalMilliseconds):F0} ms): ";
                    o.WriteLine(Paint.Good(head.TrimEnd(' ', ':')) + ": " + Names(results.Select(r => r.Obligation.Name), Screen - head.Length));
                }
                else
                    ProveCommand.Print(results, o);
                exit = ExitCodes.Worst(exit, ProveCommand.Exit(results));
                proofCount += results.Count;
                junit?.Proofs(m.Name, results);
            }
        }

        o.WriteLine(exit switch
        {
            ExitCode.Holds => Paint.Good("everything holds") + $": {properties} properties, {checks.Count(c => c.C.Skipped is null)} implementation checks{(checks.Count(c => c.C.Skipped is not null) is var skipped and > 0 ? $" ({skipped} skipped)" : "")}, {proofCount} proofs ({clock.Elapsed.TotalSeconds:F1} s)",
            ExitCode.Violated => Paint.Bad("VIOLATED") + ": see above",
            _ => Paint.Warn("no verdict") + ": a bound was hit or a proof was not decided",
        });
        if (junit is not null) o.WriteLine($"wrote {junit.Save()}");
        return (int)exit;
    }

    /// <summary>The width check's summary is laid out for: one screen at 120 columns, whatever the terminal.</summary>
    internal const int Screen = 120;

    /// <summary>One exploration in one line (its statistics and "all N hold"), or the table and the traces when something did not hold.</summary>
    private static void Print(TextWriter o, string what, string bounds, ExploreReport r)
    {
        string stats = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"  {what}: {r.States:N0} distinct states, {r.Transitions:N0} transitions, depth {r.Depth}, {r.Seconds:F2} s");
        if (r.Verdict == Verdict.Holds)
        {
            string all = $"all {r.Outcomes.Count} hold";
            o.WriteLine($"{stats}; {Paint.Good(all)}: {Names(r.Outcomes.Select(x => x.Property.Name), Screen - stats.Length - all.Length - 4)}");
            return;
        }
        o.WriteLine($"  {what} ({bounds}): {ExplorationText.Statistics(r)}");
        o.Write(ExplorationText.Table(r));
        foreach (var v in r.Outcomes.Where(x => x.Trace is not null)) o.WriteLine(TraceText.Format(v.Trace!, $"spec: {what} ({bounds})"));
    }

    /// <summary>Names joined by ", " as far as <paramref name="room"/> columns go, then "…" ('audit DESIGN' lists them all).</summary>
    internal static string Names(IEnumerable<string> names, int room)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var n in names)
        {
            string next = sb.Length == 0 ? n : ", " + n;
            if (sb.Length + next.Length > room - 3) return sb.Append(sb.Length == 0 ? "…" : ", …").ToString();
            sb.Append(next);
        }
        return sb.ToString();
    }

    /// <summary>A detail cut at a word to <paramref name="room"/> columns, with "…" where it was cut.</summary>
    internal static string Clip(string s, int room)
    {
        if (s.Length <= room) return s;
        int cut = s.LastIndexOf(' ', Math.Max(0, room - 2));
        return (cut > 0 ? s[..cut].TrimEnd(',', ';', ':') : s[..Math.Max(0, room - 1)]) + " …";
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
    private static string Indent(string s) => string.Join('\n', s.Split('\n').Select(l => "      " + l.TrimEnd()));
}
