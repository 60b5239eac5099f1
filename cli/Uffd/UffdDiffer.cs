using System.Globalization;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Uffd;

namespace Multikernel.Cli.Uffd;

/// <summary>
/// differ uffd: the reference specification against the running kernel (real syscalls,
/// /proc/self/smaps). Exit 0 they agree, 1 a divergence (shrunk, the model's answer beside the
/// kernel's), 3 the kernel offers no userfaultfd here (the reason, one line). vm.nr_hugepages is
/// raised for the run when it is writable and too low, and restored.
/// </summary>
internal static class UffdDiffer
{
    /// <summary>uffd's oracle: uffd/reference against the running kernel's userfaultfd, mmap and mlock.</summary>
    public static int Run(int cases, ulong seed, bool hugePages, TextWriter o)
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
        o.WriteLine($"faults:   {r.Faults.Normal} normal, {r.Faults.Copied} blocked and resolved with UFFDIO_COPY, {r.Faults.Continued} with UFFDIO_CONTINUE, {r.Faults.Unprotected} write-protect faults with UFFDIO_WRITEPROTECT (hugetlbfs ones a huge page at a time)");
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
}
