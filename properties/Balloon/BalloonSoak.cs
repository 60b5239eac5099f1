using System.Diagnostics;
using Multikernel.Impl.Balloon;

namespace Multikernel.Properties.Balloon;

/// <summary>What a soak run saw.</summary>
public sealed record SoakReport(long Commands, long WorkItems, long Resets, long Refusals, long Busy, long TargetChanges,
    long Divergences, long ProtocolBreaches, string? First, double Seconds, ulong Seed)
{
    public bool Holds => Divergences == 0 && ProtocolBreaches == 0;

    public override string ToString() =>
        $"{Commands:N0} backdoor commands in {WorkItems:N0} work items ({Commands / Math.Max(Seconds, 1e-9):N0} commands/s): " +
        $"{Resets:N0} RESETs, {Refusals:N0} refusals, {Busy:N0} BUSY, {TargetChanges:N0} target changes; " +
        $"{Divergences} divergences of the guest's and the host's views, {ProtocolBreaches} protocol breaches{(First is null ? "" : $"; first: {First}")}; seed {Seed}";
}

/// <summary>
/// The driver against the simulated hypervisor for a number of backdoor commands, with random
/// RESETs, BUSY answers, refused pages and target changes (targets past 32 bits too). After every
/// work item that leaves no reset pending, the guest's ballooned pages must be the host's locked
/// pages and the size their number; the hypervisor counts every breach of the protocol.
/// </summary>
public static class BalloonSoak
{
    public static SoakReport Run(long commands, ulong seed, BalloonImplDefects defects = BalloonImplDefects.None)
    {
        var rng = new Random((int)(seed ^ (seed >> 32)));
        var mem = GuestMemory.Range(0x1000, 4096, highEvery: 7);
        var host = new SimulatedHypervisor(mem) { ResetPpm = 2_000, BusyPpm = 5_000, RefusePpm = 10_000, TargetPages = 1000 };
        host.Seed(seed);
        var drv = new VmBalloon(host, mem, batching: true, batchPages: 64, defects);
        long work = 0, resets = 0, refusals = 0, changes = 0, divergences = 0;
        string? first = null;
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<ulong>();
        while (host.Commands < commands)
        {
            if (rng.Next(8) == 0)
            {
                host.TargetPages = rng.Next(50) == 0 ? (1UL << 32) + (ulong)rng.Next(100) : (ulong)rng.Next(0, 4200);
                changes++;
            }
            bool wasReset = drv.ResetRequired;
            drv.Work();
            work++;
            if (!wasReset && drv.ResetRequired) resets++;
            if (drv.ResetRequired) continue;
            seen.Clear();
            foreach (ulong p in drv.Pages) seen.Add(p);
            if (drv.Size != host.Locked.Count || !seen.SetEquals(host.Locked))
            {
                divergences++;
                first ??= $"after work item {work}: the guest holds {drv.Size} pages, the host {host.Locked.Count}";
            }
        }
        refusals = drv.Refusals;
        return new SoakReport(host.Commands, work, resets, refusals, host.BusyAnswers, changes, divergences, host.Violations,
            first ?? host.FirstViolation, clock.Elapsed.TotalSeconds, seed);
    }
}
