using System.Diagnostics;

namespace Multikernel.Cli.Balloon;

/// <summary>The balloon implementation's benchmark.</summary>
internal static class BalloonBench
{
    /// <summary>
    /// The balloon driver through the simulated port: pages per second inflated and deflated, and
    /// backdoor commands per page, batched against one LOCK / UNLOCK per page, in one run.
    /// </summary>
    public static void Run(TextWriter o, Registry.BenchSettings b)
    {
        const int Frames = 262_144; // 1 GiB of 4 KiB pages
        o.WriteLine($"  balloon driver through the simulated hypervisor: {Frames:N0} pages (1 GiB) inflated then deflated, best of {b.Runs}");
        foreach (bool batching in new[] { true, false })
        {
            double inflate = 0, deflate = 0, perPage = 0;
            for (int r = 0; r < b.Runs; r++)
            {
                var mem = Impl.Balloon.GuestMemory.Range(0x1000, Frames);
                var host = new Impl.Balloon.SimulatedHypervisor(mem) { TargetPages = 0 };
                var drv = new Impl.Balloon.VmBalloon(host, mem, batching);
                drv.Work(); // START, GUEST_ID, GET_TARGET: nothing to do yet
                host.TargetPages = Frames;
                long before = host.Commands;
                var clock = Stopwatch.StartNew();
                while (drv.Size < Frames) drv.Work();
                inflate = Math.Max(inflate, Frames / clock.Elapsed.TotalSeconds);
                perPage = (double)(host.Commands - before - 1) / Frames; // less the GET_TARGET
                host.TargetPages = 0;
                clock.Restart();
                while (drv.Size > 0) drv.Work();
                deflate = Math.Max(deflate, Frames / clock.Elapsed.TotalSeconds);
                if (host.Violations != 0) throw new InvalidOperationException(host.FirstViolation);
            }
            o.WriteLine($"    {(batching ? "batched (512 per command)" : "one LOCK / UNLOCK per page")}: inflate {inflate / 1e6:F2} M pages/s, deflate {deflate / 1e6:F2} M pages/s, {perPage:F4} commands per page");
        }
    }
}
