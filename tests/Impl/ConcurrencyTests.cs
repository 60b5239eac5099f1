using Multikernel.Impl.Ipi;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Ipi;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

public class ConcurrencyTests(ITestOutputHelper output)
{
    private const ulong Seed = 20261121;


    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Stress_every_accepted_message_arrives_once_intact(int senders)
    {
        var r = Stress.Run(senders, 50_000, TimeSpan.FromMinutes(5), Seed); // bounded by work; the limit only guards against a hang
        output.WriteLine(r.ToString());
        Assert.True(r.Holds, r.ToString());
        Assert.False(r.HitTimeLimit, r.ToString());
        Assert.Equal(senders * 50_000L, r.Accepted);
    }

    [Fact]
    public void A_sleeping_cpu_is_woken_by_every_burst()
    {
        // Between bursts the CPU stops polling and sleeps; every burst must wake it (no lost
        // wake-up between its last look at the ring and its sleep). The CPU's sleep has no timeout,
        // so a lost wake-up never delivers: the wait below is a hang guard, not a deadline.
        using var ipi = new MkIpi(8, cpuThreads: true);
        ipi.CreateInstance(0);
        long delivered = 0;
        ipi.RegisterHandler((in MkIpiMessage _, object? __) => Interlocked.Increment(ref delivered), null, 1);
        var rng = new Random(20261121);
        long sent = 0;
        for (int burst = 0; burst < 150; burst++)
        {
            int n = rng.Next(1, 4);
            for (int k = 0; k < n; k++) { Assert.Equal(0, ipi.SendIpiData(0, [1, 2], 1)); sent++; }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Interlocked.Read(ref delivered) < sent && clock.ElapsedMilliseconds < 30_000) Thread.Yield();
            Assert.True(Interlocked.Read(ref delivered) == sent, $"burst {burst}: {sent - Interlocked.Read(ref delivered)} message(s) never delivered (30 s hang guard)");
            Thread.Sleep(rng.Next(0, 12)); // long enough, often, for the CPU to stop polling and sleep
        }
    }

    /// <summary>
    /// A smoke test on real threads: a drain held in a callback for 250 ms while another thread
    /// unregisters. The verdict on unregister's race (and destroy's, and the defects that break them)
    /// is the systematic tests' (tests.coyote, and the systematic checks below).
    /// </summary>
    [Fact]
    public void Unregister_waits_for_a_running_drain_smoke()
    {
        Assert.Null(UnregisterRace.Run());
    }

    [Fact]
    public void Systematic_checks_are_registered_with_iterations_and_seed()
    {
        var rows = IpiSuite.Checks(SuiteSize.Quick, Seed).Where(c => c.Name.StartsWith("systematic: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, rows.Count);
        foreach (var c in rows)
        {
            output.WriteLine($"{c.Name}: {c.Detail}");
            Assert.True(c.Holds, c.Detail);
            Assert.Contains($"{Systematic.Iterations(SuiteSize.Quick)} iterations (Coyote random, seed {Systematic.Seed(Seed)})", c.Detail);
        }
    }

    [Theory]
    [InlineData(MkIpiDefects.UnregisterNoWait, "unregister during the drain", "unregister-final: handler 2's callback runs after multikernel_unregister_handler(2) returned")]
    [InlineData(MkIpiDefects.NoRcuWait, "destroy during the sends", "no-use-after-free:")]
    [InlineData(MkIpiDefects.PublishBeforeCopy, "2 senders x 2 messages", "found in iteration")]
    [InlineData(MkIpiDefects.NoRingRepair, "the other kernel writes ring->head", "the other kernel: ring->head += ")]
    [InlineData(MkIpiDefects.RepairKeepsSlots, "the other kernel writes ring->head", "the other kernel: ring->head += ")]
    public void Systematic_checks_catch_the_race_defects(MkIpiDefects defect, string scenario, string because)
    {
        var c = Systematic.Checks("ipi", SuiteSize.Quick, Seed, (int)defect).Single(c => c.Name.Contains(scenario, StringComparison.Ordinal));
        output.WriteLine(c.Detail);
        Assert.False(c.Holds);
        Assert.False(c.BoundHit);
        Assert.Contains(because, c.Detail);
        Assert.Contains("CPU", c.Detail);
    }

    private static FsCheck.Property Property(string kind, MkIpiDefects defects) => kind switch
    {
        "linearizability" => Linearizability.Property(defects),
        _ => HostilePeer.Property(defects),
    };

    /// <summary>Short concurrent histories are linearizable; the hostile peer never breaks the receiver.</summary>
    [Theory]
    [InlineData("linearizability", 300)]
    [InlineData("hostile peer", 500)]
    public void The_reference_holds(string kind, int cases) => PropertyRuns.Holds(output, kind, Property(kind, MkIpiDefects.None), cases, Seed);

    [Theory]
    [InlineData("linearizability", MkIpiDefects.NoFullCheck, 300, "no interleaving of the specification explains")]
    [InlineData("hostile peer", MkIpiDefects.NoRingRepair, 500, "after the peer stopped, an accepted message never arrived")]
    [InlineData("hostile peer", MkIpiDefects.NoIndexMask, 500, "threw IndexOutOfRangeException")]
    public void Each_defect_is_caught(string kind, MkIpiDefects defect, int cases, string because) =>
        PropertyRuns.Caught(output, $"{kind} ({defect})", Property(kind, defect), cases, Seed, because);
}
