using System.Globalization;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Uffd;

namespace Multikernel.Cli.Commands;

/// <summary>
/// differ uffd --cases N --seed S: the reference specification against the running kernel
/// (real syscalls, /proc/self/smaps). Exit 0 they agree, 1 a divergence (shrunk, the model's
/// answer beside the kernel's), 3 the kernel offers no userfaultfd here (the reason, one line).
/// vm.nr_hugepages is raised for the run when it is writable and too low, and restored.
/// </summary>
internal static class Differ
{
    private const string NrHugepages = "/proc/sys/vm/nr_hugepages";

    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("differ", argv, ["--cases", "--seed"], ["--no-hugepages"]);
        a.NoMorePositionals(1);
        string what = a.Positionals.FirstOrDefault() ?? throw new UsageException("differ: which mechanism? (differ uffd)");
        if (what != "uffd") throw new UsageException($"differ: no kernel oracle for '{Model.Checking.BoundsText.Clip(what)}' (known: uffd)");
        int cases = a.Int("--cases", 200, 1, 10_000_000);
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();

        var (ok, reason, answer) = Userfaultfd.Availability();
        if (!ok)
        {
            o.WriteLine($"differ uffd: no verdict: {reason}");
            return (int)Model.Checking.ExitCode.NoVerdict;
        }
        o.WriteLine($"kernel:   {UffdDiff.KernelVersion()}");
        o.WriteLine($"features: {Userfaultfd.FeatureNames(answer.Features)} (UFFDIO_API answer)");

        string? restore = null;
        ConsoleCancelEventHandler? onCancel = null;
        EventHandler? onExit = null;
        try
        {
            if (!a.Flag("--no-hugepages")) restore = RaiseHugePages(o);
            if (restore != null)
            {
                string value = restore;
                onCancel = (_, _) => Restore(value);
                onExit = (_, _) => Restore(value);
                Console.CancelKeyPress += onCancel;
                AppDomain.CurrentDomain.ProcessExit += onExit;
            }
            var r = UffdDiff.Run(cases, seed, answer.Features);
            o.WriteLine($"memory:   {string.Join(", ", r.Types.Select(MemTypes.Name))}");
            if (r.HugetlbSkipped != null) o.WriteLine($"          {r.HugetlbSkipped}");
            o.WriteLine($"seed:     {seed} (replay with --seed {seed})");
            o.WriteLine($"cases:    {cases} sequences of up to {UffdDiff.MaxOps} steps in {r.Time.TotalSeconds:F1} s, {r.CasesPerSecond.ToString("F0", CultureInfo.InvariantCulture)} cases/s");
            o.WriteLine($"faults:   {r.Faults.Normal} normal, {r.Faults.Copied} blocked and resolved with UFFDIO_COPY, {r.Faults.Continued} with UFFDIO_CONTINUE (anonymous and shmem)");
            if (r.Result.Holds)
            {
                o.WriteLine("verdict:  the model agrees with the kernel (return codes, fault messages; um, uw, ui, lo of every VMA after every step)");
                return 0;
            }
            o.WriteLine("verdict:  DIVERGENCE (the shortest sequence found; the model's answer beside the kernel's):");
            o.WriteLine(r.Result.Detail);
            return 1;
        }
        finally
        {
            if (restore != null) Restore(restore);
            if (onCancel != null) Console.CancelKeyPress -= onCancel;
            if (onExit != null) AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
    }

    /// <summary>Raises vm.nr_hugepages so that two huge pages are free, when it may: returns the value to restore, or null.</summary>
    private static string? RaiseHugePages(TextWriter o)
    {
        var (free, _) = UffdDiff.HugePages();
        if (free >= UffdDiff.HugePagesNeeded) return null;
        try
        {
            string before = File.ReadAllText(NrHugepages).Trim();
            long want = long.Parse(before, CultureInfo.InvariantCulture) + UffdDiff.HugePagesNeeded - free;
            File.WriteAllText(NrHugepages, want.ToString(CultureInfo.InvariantCulture));
            o.WriteLine($"hugetlb:  vm.nr_hugepages {before} -> {want} for this run (restored after)");
            return before;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            o.WriteLine($"hugetlb:  vm.nr_hugepages not raised ({e.GetType().Name}): hugetlbfs cases will be skipped");
            return null;
        }
    }

    private static void Restore(string value)
    {
        try { File.WriteAllText(NrHugepages, value); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* nothing more can be done; reported by the value left */ }
    }
}
