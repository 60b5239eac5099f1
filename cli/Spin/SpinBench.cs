using System.Globalization;
using Multikernel.Cli.Commands;
using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Spin;

/// <summary>
/// bench --spin: Spin's exhaustive search of the Promela twin against the explorer's safety search on
/// ipi/reference at the same bounds, without --max-states, back to back and interleaved (Spin, explorer,
/// explorer, Spin, …), each pair's times, their ratio and each one's peak RSS, and the load average.
/// </summary>
internal static class SpinBench
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Returns false when it could not compare (Spin missing or counts that differ).</summary>
    public static bool Run(TextWriter o, IpiBounds bounds, int pairs, int threads)
    {
        o.WriteLine($"  ipi/reference ({bounds}) against Spin on its Promela twin (cli/Spin/ipi-reference.pml), {pairs} interleaved pair{(pairs == 1 ? "" : "s")}:");
        if (SpinRun.Missing() is { } why)
        {
            o.WriteLine($"    skipped: {why}");
            return false;
        }
        string dir = Path.Combine(Path.GetTempPath(), $"multikernel-spin-{Environment.ProcessId}");
        try
        {
            var spin = SpinRun.Compile(dir, bounds);
            o.WriteLine(string.Format(C, "    Spin: spin -a; gcc {0} (compiled in {1:F1} s, not counted); pan {2}, one core", SpinRun.CompileFlags, spin.CompileSeconds, SpinRun.PanFlags));
            o.WriteLine($"    explorer: safety search (explore --safety-only), {threads} thread{(threads == 1 ? "" : "s")}, the visited set grown as it goes (no --max-states)");
            o.WriteLine("    pair  load    Spin s  (CPU s)  Spin peak RSS MB   explorer s  (CPU s)  explorer peak RSS MB   explorer/Spin        states");
            var ipi = Registry.Mechanisms.Find("ipi")!.Model;
            var spec = ipi.Specification(ipi.Designs.Reference, bounds);
            double best = double.MaxValue;
            for (int i = 1; i <= pairs; i++)
            {
                string load = Load();
                // Odd pairs run Spin first, even pairs the explorer: a machine whose load drifts favours neither.
                SpinResult? s = i % 2 == 1 ? spin.Search() : null;
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                bool reset = PeakRss.Reset();
                var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                var r = Explorer.Run(spec, new ExploreOptions { Liveness = Liveness.None, Threads = threads });
                long? rss = reset ? PeakRss.Read() : null;
                double cpuSeconds = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                s ??= spin.Search();
                if (s.Errors != 0)
                {
                    o.WriteLine($"    Spin found {s.Errors} error(s) on the twin of a design the explorer finds correct: not a benchmark\n{s.Output}");
                    return false;
                }
                if (r.Outcomes.Any(x => x.Property.Kind == PropertyKind.Always && x.Verdict == Verdict.Violated) || r.Bound != Bound.None)
                {
                    o.WriteLine($"    the explorer's run ended {(r.Bound != Bound.None ? $"at a bound ({r.Bound})" : "with a safety violation")}: not a benchmark");
                    return false;
                }
                double ratio = r.Seconds / s.Seconds;
                best = Math.Min(best, ratio);
                o.WriteLine(string.Format(C, "    {0,4}  {1,-6} {2,8:F2} {9,8:F1} {3,17:N0} {4,12:F2} {10,8:F1} {5,21} {6,15:F3}x {7,13:N0}{8}",
                    i, load, s.Seconds, s.PeakRss / 1e6, r.Seconds, rss is { } p ? (p / 1e6).ToString("N0", C) : "n/a", ratio, r.States,
                    s.States == r.States ? "" : $"  DIFFER: Spin stored {s.States:N0}", s.CpuSeconds, cpuSeconds));
                if (s.States != r.States) return false;
            }
            o.WriteLine(string.Format(C, "    states equal in every pair; best ratio {0:F3}x (target: at most 1/3); the ratio is of wall times, each pair run back to back; CPU s is user + system", best));
            return true;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The one-minute load average (/proc/loadavg), or "n/a".</summary>
    private static string Load()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "n/a"; }
    }
}
