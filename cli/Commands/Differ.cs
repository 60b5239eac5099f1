using System.Globalization;
using Multikernel.Cli.Registry;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Restore;
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
    /// <summary>differ MECHANISM: the mechanism's kernel oracle from the registry (<see cref="MechanismEntry.KernelOracle"/>).</summary>
    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("differ", argv, ["--cases", "--seed"], ["--no-hugepages"]);
        a.NoMorePositionals(1);
        string known = string.Join(", ", Mechanisms.All.Where(m => m.KernelOracle is not null).Select(m => m.Name));
        string what = a.Positionals.FirstOrDefault() ?? throw new UsageException($"differ: which mechanism? (one of: {known})");
        var oracle = Mechanisms.Find(what)?.KernelOracle
            ?? throw new UsageException($"differ: no kernel oracle for '{Model.Checking.BoundsText.Clip(what)}' (known: {known})");
        int cases = a.Int("--cases", 200, 1, 10_000_000);
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();
        return oracle(cases, seed, !a.Flag("--no-hugepages"), o);
    }

    /// <summary>uffd's oracle: uffd/reference against the running kernel's userfaultfd, mmap and mlock.</summary>
    public static int Uffd(int cases, ulong seed, bool hugePages, TextWriter o)
    {
        var (ok, reason, answer) = Userfaultfd.Availability();
        if (!ok)
        {
            o.WriteLine($"differ uffd: no verdict: {reason}");
            return (int)Model.Checking.ExitCode.NoVerdict;
        }
        o.WriteLine($"kernel:   {UffdDiff.KernelVersion()}");
        o.WriteLine($"features: {Userfaultfd.FeatureNames(answer.Features)} (UFFDIO_API answer)");

        using var pages = hugePages ? HugePageReservation.Ensure() : null;
        if (pages?.Note is { } note) o.WriteLine($"hugetlb:  {note}");
        var r = UffdDiff.Run(cases, seed, answer.Features);
        o.WriteLine($"memory:   {string.Join(", ", r.Types.Select(MemTypes.Name))}");
        if (r.HugetlbSkipped != null) o.WriteLine($"          {r.HugetlbSkipped}");
        o.WriteLine($"seed:     {seed} (replay with --seed {seed})");
        o.WriteLine($"cases:    {cases} sequences of up to {UffdDiff.MaxOps} steps in {r.Time.TotalSeconds:F1} s, {r.CasesPerSecond.ToString("F0", CultureInfo.InvariantCulture)} cases/s");
        o.WriteLine($"steps:    {string.Join(", ", r.Steps.Select(kv => $"{kv.Key} {kv.Value}"))} (on the kernel, shrinking's included); {r.OtherEvents} UNMAP events read, not compared (the model has none)");
        o.WriteLine($"faults:   {r.Faults.Normal} normal, {r.Faults.Copied} blocked and resolved with UFFDIO_COPY, {r.Faults.Continued} with UFFDIO_CONTINUE, {r.Faults.Unprotected} write-protect faults with UFFDIO_WRITEPROTECT (anonymous and shmem)");
        if (r.Result.Holds)
        {
            o.WriteLine("verdict:  the model agrees with the kernel (return codes, fault messages, mremap and fork events; um, uw, ui, lo of every VMA after every step, and of the child's after fork)");
            return 0;
        }
        if (r.Result.BoundHit)
        {
            o.WriteLine($"verdict:  {r.Result.Detail}");
            return (int)Model.Checking.ExitCode.NoVerdict;
        }
        o.WriteLine("verdict:  DIVERGENCE (the shortest sequence found; the model's answer beside the kernel's):");
        o.WriteLine(r.Result.Detail);
        return 1;
    }

    /// <summary>restore's oracle: do_mmap_pgoff()'s refusals in the restore model against real mmap() calls.</summary>
    public static int Restore(int cases, ulong seed, bool hugePages, TextWriter o)
    {
        if (MmapDiffer.Unavailable() is { } why)
        {
            o.WriteLine($"differ restore: no verdict: {why}");
            return (int)Model.Checking.ExitCode.NoVerdict;
        }
        o.WriteLine($"kernel:   {UffdDiff.KernelVersion()}");
        o.WriteLine($"model:    do_mmap_pgoff()'s refusals (restore's environment), TASK_SIZE 0x{Model.Restore.RestoreConstants.TaskSize:x}");
        var r = MmapDiffer.Run(cases, seed);
        o.WriteLine($"seed:     {seed} (replay with --seed {seed})");
        o.WriteLine($"cases:    {cases} mmap() calls in {r.Time.TotalSeconds:F1} s, {r.CasesPerSecond.ToString("F0", CultureInfo.InvariantCulture)} cases/s");
        o.WriteLine($"kernel:   {string.Join(", ", r.Answers.Select(kv => $"{kv.Key} {kv.Value}"))} (shrinking's included; -EEXIST counts as accepted)");
        if (r.Result.Holds)
        {
            o.WriteLine("verdict:  the model agrees with the kernel (the errno of every call, or that it was accepted)");
            return 0;
        }
        o.WriteLine("verdict:  DIVERGENCE (the smallest call found; the model's answer beside the kernel's):");
        o.WriteLine(r.Result.Detail);
        return 1;
    }
}
