using System.Diagnostics;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Ipi;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>check, audit, explore and bench over the IPI specification.</summary>
internal static class IpiCommands
{
    /// <summary>
    /// check: the main job, in one screen. Every IPI invariant on the reference design
    /// (exploration), the implementation against the specification (FsCheck properties,
    /// stress, linearizability, hostile peer, at quick sizes), and the ring's Z3 proofs.
    /// Exit 0 only when all of it holds.
    /// </summary>
    public static int Check(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("check", argv, [.. IpiOptions.Valued, "--seed"], IpiOptions.Flags);
        a.NoMorePositionals(0);
        var bounds = IpiOptions.Bounds(a);
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();
        var design = IpiDesigns.Reference;
        var clock = Stopwatch.StartNew();
        o.WriteLine($"multikernel check: design '{design.Name}'");

        o.WriteLine($"1. specifications: every invariant over every interleaving");
        var r = Explorer.Run(new IpiSpec(design, bounds), IpiOptions.Explore(a, stopWhenAllViolated: false));
        Summary(o, $"ipi/{design.Name} ({bounds})", r);
        Report.WriteFiles(a, r, design.Name, bounds.ToString(), o);
        int exit = Report.ExitCode(r), proofCount = 0;
        var uffd = Explorer.Run(new Model.Uffd.UffdSpec(Model.Uffd.UffdDesigns.Reference), IpiOptions.Explore(a, stopWhenAllViolated: false));
        Summary(o, $"uffd/reference (contexts=1, {Model.Uffd.UffdBounds.Default.Layouts.Count} layouts)", uffd);
        exit = Worst(exit, Report.ExitCode(uffd));

        o.WriteLine($"2. implementation against the specification (seed {seed}; replay with --seed {seed})");
        var checks = IpiSuite.Run(SuiteSize.Quick, seed).ToList();
        checks.Add(Properties.Uffd.UffdSuite.Run(SuiteSize.Quick.ModelCases, seed));
        int w = checks.Max(c => c.Name.Length);
        foreach (var c in checks)
        {
            o.WriteLine($"  {c.Name.PadRight(w)}  {(c.Holds ? "holds" : "FAILS")}  {c.Time.TotalSeconds,5:F2} s  {FirstLine(c.Detail)}");
            if (!c.Holds) o.WriteLine(Indent(c.Detail));
        }
        if (checks.Any(c => !c.Holds)) exit = Worst(exit, 1);

        o.WriteLine($"3. proofs (Z3): the IPI ring for all 32-bit head/tail values and ring sizes up to MK_IPI_RING ({IpiConstants.MkIpiRingMax}); the uffd flags for all vm_flags");
        if (Proofs.Z3.Z3Context.Unavailable() is { } why)
        {
            o.WriteLine($"  {why}");
            exit = Worst(exit, 3);
        }
        else
        {
            var proofs = ProveCommand.ProveReferences();
            ProveCommand.Print(proofs, o);
            exit = Worst(exit, ProveCommand.ExitCode(proofs));
            proofCount = proofs.Count;
        }

        o.WriteLine(exit switch
        {
            0 => $"everything holds: {r.Outcomes.Count + uffd.Outcomes.Count} invariants, {checks.Count} implementation checks, {proofCount} proofs ({clock.Elapsed.TotalSeconds:F1} s)",
            1 => "VIOLATED: see above",
            _ => "no verdict: a bound was hit or a proof was not decided",
        });
        return exit;
    }

    /// <summary>A violation (1) outranks no verdict (3), which outranks success (0).</summary>
    private static int Worst(int a, int b) => a == 1 || b == 1 ? 1 : Math.Max(a, b);

    /// <summary>One exploration in a few lines: statistics, then the table only if something did not hold, with its traces.</summary>
    private static void Summary(TextWriter o, string what, ExploreReport r)
    {
        o.WriteLine($"  {what}: {Report.Statistics(r)}");
        if (r.Verdict == Verdict.Holds)
        {
            o.WriteLine($"    all {r.Outcomes.Count} hold: {string.Join(", ", r.Outcomes.Select(x => x.Property.Name))}");
            return;
        }
        o.Write(Report.Table(r));
        foreach (var v in r.Outcomes.Where(x => x.Trace is not null)) o.WriteLine(TraceText.Format(v.Trace!, $"spec: {what}"));
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
    private static string Indent(string s) => string.Join('\n', s.Split('\n').Select(l => "      " + l.TrimEnd()));

    /// <summary>audit DESIGN: the same invariants on any design; every violation with its shortest trace.</summary>
    public static int Audit(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("audit", argv, IpiOptions.Valued, IpiOptions.Flags);
        a.NoMorePositionals(1);
        var design = IpiOptions.Design(a.Positionals.FirstOrDefault(), "audit");
        var bounds = IpiOptions.Bounds(a);
        return Report.Audit(a, new IpiSpec(design, bounds), design.Name, design.Summary, bounds.ToString(), o);
    }

    /// <summary>explore SPEC --design D: statistics and the verdict.</summary>
    public static int Explore(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("explore", argv, [.. IpiOptions.Valued, "--design"], IpiOptions.Flags);
        a.NoMorePositionals(1);
        string spec = a.Positionals.FirstOrDefault() ?? throw new UsageException("explore: which specification? (ipi)");
        if (spec != "ipi") throw new UsageException($"explore: unknown specification '{spec}' (known: ipi)");
        var design = IpiOptions.Design(a.Value("--design") ?? "reference", "explore");
        var bounds = IpiOptions.Bounds(a);
        return Report.Explore(a, new IpiSpec(design, bounds), design.Name, bounds.ToString(), o);
    }

    /// <summary>
    /// bench: the explorer's speed and memory on the reference design at a large
    /// configuration, safety-only (fingerprint set) and with the graph kept; then the
    /// implementation's messages per second against a bounded channel.
    /// </summary>
    public static int Bench(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("bench", argv, [.. IpiOptions.Valued, "--runs", "--messages-per-run"], IpiOptions.Flags);
        a.NoMorePositionals(0);
        var bounds = IpiOptions.Bounds(a, new IpiBounds { Senders = 3, Messages = 2, Ring = 2, Handlers = 2 });
        int runs = a.Int("--runs", 3, 1, 20);
        var spec = new IpiSpec(IpiDesigns.Reference, bounds);
        o.WriteLine($"bench: explorer on ipi/reference ({bounds}), {runs} runs each, best run shown");
        o.WriteLine($"  machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, one exploring thread");
        foreach (bool graph in new[] { false, true })
        {
            ExploreReport? best = null;
            for (int i = 0; i < runs; i++)
            {
                GC.Collect();
                var r = Explorer.Run(spec, new ExploreOptions { KeepGraph = graph, StopWhenAllViolated = false });
                if (r.Verdict == Verdict.Violated) { o.WriteLine("  the reference design violates an invariant: not a benchmark"); return 1; }
                if (best is null || r.Seconds < best.Seconds) best = r;
            }
            o.WriteLine($"  {(graph ? "graph kept (eventually on cycles)" : "safety only (fingerprint set)    ")}: {Report.Statistics(best!)}");
        }
        var uffd = Explorer.Run(new Model.Uffd.UffdSpec(Model.Uffd.UffdDesigns.Reference), new ExploreOptions { KeepGraph = false, StopWhenAllViolated = false });
        o.WriteLine($"  uffd/reference, safety only       : {Report.Statistics(uffd)}");
        ImplBench.Run(o, runs, a.Int("--messages-per-run", 2_000_000, 1000, 100_000_000));
        ImplBench.Faults(o, runs);
        return 0;
    }
}
