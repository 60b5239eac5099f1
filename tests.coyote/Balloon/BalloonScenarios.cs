using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;
using Multikernel.Coyote.Systematic;
using Multikernel.Impl.Balloon;
using static Multikernel.Impl.Balloon.BalloonConstants;

namespace Multikernel.Coyote.Balloon;

/// <summary>
/// VmBalloon under Coyote: its work item on a worker (vmballoon_work on the workqueue), the poll
/// timer that queues it (a queued work item runs once; queueing it again while pending changes
/// nothing), and the hypervisor, which between any two backdoor commands changes its target (past
/// 32 bits too), answers the next command with RESET, or refuses a page: its choices are Coyote's
/// controlled random values, so a schedule replays them. Checked: the host never sees a breach of
/// the protocol; the guest's target is one the host gave that fits 32 bits (target-check); and once
/// the host has stopped and a last work item has run, the guest's ballooned pages are the host's
/// locked pages (balloon-consistent, size-matches).
/// </summary>
public static class BalloonScenarios
{
    private static readonly ulong[] Targets = [0, 2, 4, (1UL << 32) + 1];

    public static readonly IReadOnlyList<(string Name, Func<BalloonImplDefects, Func<Task>> Test, BalloonImplDefects[] Finds)> All =
    [
        ("worker, timer and host (unbatched, PFNs above 4 GiB)", d => () => WorkerTimerHost(d, batching: false),
            [BalloonImplDefects.KeepOnReset, BalloonImplDefects.TruncatePfn, BalloonImplDefects.TruncateTarget]),
        ("worker, timer and host (batched)", d => () => WorkerTimerHost(d, batching: true),
            [BalloonImplDefects.KeepOnReset, BalloonImplDefects.TruncateTarget]),
    ];

    public static async Task WorkerTimerHost(BalloonImplDefects defects, bool batching)
    {
        var mem = GuestMemory.Range(0x100, 6, highEvery: 3);
        var host = new SimulatedHypervisor(mem) { TargetPages = 3 };
        var driver = new VmBalloon(host, mem, batching, batchPages: 2, defects);
        var given = new HashSet<uint> { 0, 3 };
        int queued = 0, timerDone = 0, hostDone = 0;
        var random = Generator.Create();

        var timer = Steps.Run("CPU1 (poll timer)", () =>
        {
            for (int i = 0; i < 3; i++)
            {
                Steps.Record("mod_delayed_work(&b->dwork): vmballoon_work queued");
                Volatile.Write(ref queued, 1);
                SchedulingPoint.Interleave();
            }
            Volatile.Write(ref timerDone, 1);
        });
        var hypervisor = Steps.Run("host", () =>
        {
            for (int i = 0; i < 3; i++)
            {
                switch (random.NextInteger(3))
                {
                    case 0:
                        ulong t = Targets[random.NextInteger(Targets.Length)];
                        Steps.Record($"the host sets its target to {t}");
                        host.TargetPages = t;
                        if (Fits32(t)) given.Add((uint)t);
                        break;
                    case 1:
                        Steps.Record("the host answers the next command with RESET");
                        host.ResetAtCommand = host.Commands;
                        break;
                    default:
                        ulong pfn = 0x100UL + (ulong)random.NextInteger(2);
                        Steps.Record($"the host refuses PFN 0x{pfn:x}");
                        host.Refuse.Add(pfn);
                        break;
                }
                SchedulingPoint.Interleave();
            }
            Volatile.Write(ref hostDone, 1);
        });
        var worker = Steps.Run("CPU0 (worker)", () =>
        {
            while (true)
            {
                bool last = Volatile.Read(ref timerDone) != 0 && Volatile.Read(ref hostDone) != 0;
                if (Interlocked.Exchange(ref queued, 0) != 0 || last)
                {
                    driver.Work();
                    Steps.Check(host.Violations == 0, $"protocol: {host.FirstViolation}");
                    Steps.Check(given.Contains(driver.Target), $"target-check: the guest's target is {driver.Target}, a value the host never gave (it gave {string.Join(", ", given.Order())}, and {string.Join(", ", Targets.Where(t => !Fits32(t)))})");
                }
                if (last) return;
                SchedulingPoint.Yield();
            }
        });
        await Task.WhenAll(timer, hypervisor, worker);

        // The host has stopped: one more work item (the timer fires again), then the views must agree.
        if (driver.ResetRequired) driver.Work();
        Steps.Check(host.Violations == 0, $"protocol: {host.FirstViolation}");
        Steps.Check(!driver.ResetRequired, "a RESET is still pending after a quiet work item");
        var pages = driver.Pages.ToArray().Order().ToArray();
        Steps.Check(pages.SequenceEqual(host.Locked.Order()),
            $"balloon-consistent: the guest holds [{Hex(pages)}] ({driver.Size} pages), the host has locked [{Hex(host.Locked.Order())}]");
    }

    private static string Hex(IEnumerable<ulong> xs) => string.Join(" ", xs.Select(x => $"0x{x:x}"));
}
