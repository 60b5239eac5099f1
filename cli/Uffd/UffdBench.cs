using System.Diagnostics;

namespace Multikernel.Cli.Uffd;

/// <summary>The uffd implementation's benchmark.</summary>
internal static class UffdBench
{
    /// <summary>The uffd fault dispatcher: faults per second on a registered range (blocked) and on a mapped page (normal).</summary>
    public static void Run(TextWriter o, Registry.BenchSettings b)
    {
        const int N = 5_000_000;
        var mm = new Impl.Uffd.MmStruct([(Impl.Uffd.MemType.Anon, 32), (Impl.Uffd.MemType.HugetlbShared, 32)]);
        int ctx = mm.UserfaultfdCreate();
        mm.Api(ctx, Impl.Uffd.UffdConstants.UffdApi, 0);
        mm.Register(ctx, 0, 16 * Impl.Uffd.UffdConstants.PageSize, Impl.Uffd.UffdConstants.UffdioRegisterModeMissing);
        double best = 0;
        long blocked = 0;
        for (int r = 0; r < b.Runs; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < N; i++)
                blocked += mm.HandleMmFault((ulong)(i & 63) * Impl.Uffd.UffdConstants.PageSize, (i & 1) != 0).Outcome == Impl.Uffd.FaultOutcome.Blocked ? 1 : 0;
            best = Math.Max(best, N / clock.Elapsed.TotalSeconds);
        }
        o.WriteLine($"  uffd fault dispatcher (64 pages in 3 VMAs: waiting, blocked and mapped faults; no allocation): {best / 1e6:F1} M faults/s (best of {b.Runs})");
    }
}
