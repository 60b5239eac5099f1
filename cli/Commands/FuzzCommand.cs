using System.Globalization;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Fuzz;
using Multikernel.Cli.Registry;
using Multikernel.Properties.Checking;

namespace Multikernel.Cli.Commands;

/// <summary>
/// fuzz [TARGET]: the grammar-aware fuzz harness of every parser of untrusted input, run for
/// --cases N from --seed S (printed, so a run can be replayed). Prints cases/s, outcomes by exit
/// code, crashes, and the peak allocation per input character. Exit 1 on a crash or an input
/// whose cost is not linear; the failing input, shrunk, is printed.
/// </summary>
internal sealed class FuzzCommand : CliCommand
{
    public override string Name => "fuzz";
    public override string Summary => "the fuzz harness of every parser of untrusted input (headers, traces, args, and each mechanism's: images); cases/s and outcomes";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("[TARGET]", "one target (default: all)", () => Targets(Path.GetTempPath()).Select(t => t.Name))];
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--cases", "cases per target (default 100,000)"),
        new("--seed", "the random seed (printed; replays a run)"),
    ];

    /// <summary>The program's own targets, then each mechanism's.</summary>
    public static IReadOnlyList<FuzzTarget> Targets(string scratch) =>
        [new HeaderFuzz(), new TraceFuzz(), new ArgsFuzz(scratch), new LitmusFuzz(), .. Mechanisms.All.OfType<IFuzzed>().SelectMany(m => m.FuzzTargets(scratch))];

    public override int Run(Args a, TextWriter o)
    {
        int cases = a.Int("--cases", 100_000, 1, 100_000_000);
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();
        ProgressLine.Disable();
        string scratch = Path.Combine(Path.GetTempPath(), $"multikernel-fuzz-{Environment.ProcessId}");
        ArgsFuzz.Prepare(scratch);
        var all = Targets(scratch);
        string? only = a.Positionals.FirstOrDefault();
        var chosen = only is null ? all : all.Where(t => t.Name == only).ToList();
        if (chosen.Count == 0) throw new UsageException($"fuzz: unknown target '{Model.Checking.BoundsText.Clip(only!)}' (targets: {string.Join(", ", all.Select(t => t.Name))})");
        o.WriteLine($"multikernel fuzz: {cases:N0} cases per target, seed {seed} (replay with --seed {seed})");
        bool failed = false;
        try
        {
            foreach (var t in chosen)
            {
                var s = Run(t, cases, seed);
                o.WriteLine($"  {t.Name,-8} {s.Summary}");
                if (!s.Result.Holds) { failed = true; o.WriteLine($"    FAILS: {s.Result.Detail.Split('\n').FirstOrDefault()}"); o.WriteLine(Indent(s.Result.Detail)); }
            }
        }
        finally { try { Directory.Delete(scratch, true); } catch (IOException) { } }
        return failed ? 1 : 0;
    }

    /// <summary>What a run of one target saw.</summary>
    internal sealed class Stats
    {
        public long Cases, Bytes;
        public readonly long[] ByExit = new long[4];
        public long Crashes, Partial;
        public readonly Dictionary<string, long> Kinds = new(StringComparer.Ordinal);
        public double PeakAllocPerChar, Seconds, SlowestMsPerKb;
        public CheckResult Result = null!;

        public void Observe(FuzzOutcome r)
        {
            Cases++;
            Bytes += r.Size;
            Seconds += r.Seconds;
            if (r.Partial) Partial++;
            if (r.Kind is { } kind) Kinds[kind] = Kinds.GetValueOrDefault(kind) + 1;
            if (r.Crash is not null) Crashes++;
            else if (r.Exit is >= 0 and <= 3) ByExit[r.Exit]++;
            // Per-character figures for inputs of 1 KB and more: a tiny input's cost is the fixed part.
            if (r.Size < 1024) return;
            PeakAllocPerChar = Math.Max(PeakAllocPerChar, (double)r.Allocated / r.Size);
            SlowestMsPerKb = Math.Max(SlowestMsPerKb, r.Seconds * 1000 / (r.Size / 1024.0));
        }

        public string Summary => string.Format(CultureInfo.InvariantCulture,
            "{0}: {1:N0} cases, {2:N0} cases/s, {3:N1} MB of input; exit 0: {4:N0}, 1: {5:N0}, 2: {6:N0}, 3: {7:N0}; crashes: {8}{11}; inputs of 1 KB and more: peak {9:N1} bytes allocated per input byte, slowest {10:F2} ms per input KB{12}",
            Result.Holds ? "holds" : "FAILS", Cases, Cases / Math.Max(Seconds, 1e-9), Bytes / 1e6, ByExit[0], ByExit[1], ByExit[2], ByExit[3], Crashes, PeakAllocPerChar, SlowestMsPerKb,
            Kinds.Count > 0 ? $" (partial effects: {Partial})" : "", KindsText);

        /// <summary>The error kinds seen, most frequent first (ties by name, so a seed gives one text).</summary>
        private string KindsText => Kinds.Count == 0 ? "" :
            $"\n    errors by kind ({Kinds.Count} kinds):\n" + string.Join('\n', Kinds.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Take(12)
                .Select(k => string.Format(CultureInfo.InvariantCulture, "      {0,9:N0}  {1}", k.Value, k.Key))) + (Kinds.Count > 12 ? $"\n      … {Kinds.Count - 12} more kinds" : "");
    }

    internal static Stats Run(FuzzTarget t, int cases, ulong seed)
    {
        var s = new Stats();
        s.Result = FsRun.Run($"fuzz {t.Name}", t.Property(s.Observe), cases, seed);
        return s;
    }

    private static string Indent(string s) => string.Join('\n', s.Split('\n').Take(30).Select(l => "      " + (l.Length > 300 ? l[..300] + "…" : l)));
}
