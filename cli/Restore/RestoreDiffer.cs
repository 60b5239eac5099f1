using System.Globalization;
using Multikernel.Properties.Restore;
using Multikernel.Properties.Uffd;

namespace Multikernel.Cli.Restore;

/// <summary>
/// differ restore: the environment restore's mapping step assumes (do_mmap_pgoff()'s refusals: an
/// unaligned MAP_FIXED start, a zero length, a range past TASK_SIZE, …) against real mmap() calls
/// on a scratch range. Exit 0 they agree, 1 a divergence (the smallest call, the model's answer
/// beside the kernel's), 3 the kernel cannot be asked here (the reason, one line).
/// </summary>
internal static class RestoreDiffer
{
    public static int Run(int cases, ulong seed, bool hugePages, TextWriter o)
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
