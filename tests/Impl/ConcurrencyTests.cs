using Multikernel.Impl.Ipi;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Ipi;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

public class ConcurrencyTests(ITestOutputHelper output)
{
    private const ulong Seed = 20261121;

    private CheckResult Check(string name, FsCheck.Property property, int cases)
    {
        var r = FsRun.Run(name, property, cases, Seed);
        output.WriteLine(r.ToString());
        return r;
    }

    /// <summary>A deliberate defect: the property must fail, for the reason given.</summary>
    private void Caught(string name, FsCheck.Property property, int cases, string because)
    {
        var r = Check(name, property, cases);
        Assert.False(r.Holds);
        Assert.Contains(because, r.Detail);
    }

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
    public void Stress_catches_publishing_before_the_copy()
    {
        // The race needs the receiver to read a slot in the few nanoseconds between the early
        // publish and the copy; a run stops as soon as it is seen. Bounded by work: 20 attempts of
        // 200,000 messages a sender, each reported; the time limit only guards against a hang.
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var r = Stress.Run(2, 200_000, TimeSpan.FromMinutes(2), Seed + (ulong)attempt, MkIpiDefects.PublishBeforeCopy, ringSize: 4);
            output.WriteLine(r.ToString());
            if (!r.Holds) return;
        }
        Assert.Fail("publishing before the copy was never caught");
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

    [Fact]
    public void Destroy_waits_for_senders_before_the_region_is_reused()
    {
        Assert.Null(DestroyRace.Run());
    }

    [Fact]
    public void Destroy_without_waiting_for_senders_is_caught()
    {
        Assert.Equal("DestroyInstance returned while a sender was still inside SendIpiData on the instance", DestroyRace.Run(MkIpiDefects.NoRcuWait));
    }

    [Fact]
    public void Unregister_waits_for_a_running_drain()
    {
        Assert.Null(UnregisterRace.Run());
    }

    [Fact]
    public void Unregister_that_does_not_wait_is_caught()
    {
        // The catch needs the unregistering thread to run within the callback's patience; on a
        // loaded machine it may not, so a few attempts (each one a full, honest run).
        string? seen = null;
        for (int attempt = 0; attempt < 5 && seen == null; attempt++) seen = UnregisterRace.Run(MkIpiDefects.UnregisterNoWait);
        Assert.Equal("handler B's callback ran after UnregisterHandler(B) had returned", seen);
    }

    [Fact]
    public void Short_concurrent_histories_are_linearizable()
    {
        var r = Check("linearizability", Linearizability.Property(), 300);
        Assert.True(r.Holds, r.Detail);
    }

    [Fact]
    public void Linearizability_catches_a_ring_without_the_full_check()
    {
        Caught("linearizability (no full check)", Linearizability.Property(MkIpiDefects.NoFullCheck), 300,
            "no interleaving of the specification explains");
    }

    [Fact]
    public void Hostile_peer_never_breaks_the_receiver()
    {
        var r = Check("hostile peer", HostilePeer.Property(), 500);
        Assert.True(r.Holds, r.Detail);
    }

    [Fact]
    public void Hostile_peer_catches_a_receiver_that_never_repairs_the_ring()
    {
        Caught("hostile peer (no repair)", HostilePeer.Property(MkIpiDefects.NoRingRepair), 500,
            "after the peer stopped, an accepted message never arrived");
    }

    [Fact]
    public void Hostile_peer_catches_an_unmasked_index()
    {
        Caught("hostile peer (no mask)", HostilePeer.Property(MkIpiDefects.NoIndexMask), 500, "threw IndexOutOfRangeException");
    }
}
