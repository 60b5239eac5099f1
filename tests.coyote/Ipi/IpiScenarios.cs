using System.Buffers.Binary;
using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;
using Multikernel.Coyote.Systematic;
using Multikernel.Impl.Ipi;
using Multikernel.Impl.Kernel;

namespace Multikernel.Coyote.Ipi;

/// <summary>
/// MkIpi's CPUs as Coyote-controlled operations: senders CPU1.. in SendIpiData, the instance's
/// CPU0 taking its interrupt and draining (as MkCpu does while awake and polling), a CPU in
/// UnregisterHandler and one in DestroyInstance, and the other kernel writing ring->head out of
/// protocol (what the receiver's ring repair is for). Each scenario checks the specification's
/// properties on what the CPUs saw: every message a send accepted reaches its handler once,
/// intact and in order (delivered, intact, no-duplicate, no-silent-drop), no callback after
/// unregister returns (unregister-final), no write into a freed region (no-use-after-free), and a
/// ring the other kernel stopped writing works again (recovery).
/// </summary>
public static class IpiScenarios
{
    public const int Ring = 2;
    private const ulong Type = 1;

    /// <summary>The scenarios, by name: each finds the defects listed with it.</summary>
    public static readonly IReadOnlyList<(string Name, Func<MkIpiDefects, Func<Task>> Test, MkIpiDefects[] Finds)> All =
    [
        ("2 senders x 2 messages -> CPU0 (ring 2)", d => () => SendAndDrain(d), [MkIpiDefects.PublishBeforeCopy, MkIpiDefects.NoFullCheck, MkIpiDefects.NoIndexMask]),
        ("unregister during the drain", d => () => UnregisterDuringDrain(d), [MkIpiDefects.UnregisterNoWait]),
        ("destroy during the sends", d => () => DestroyDuringSends(d), [MkIpiDefects.NoRcuWait]),
        ("the other kernel writes ring->head during the sends", d => () => PeerWritesHead(d), [MkIpiDefects.NoRingRepair, MkIpiDefects.RepairKeepsSlots]),
    ];

    /// <summary>
    /// What the other kernel adds to ring->head: a position no sender fills (1), a ring that looks full
    /// (Ring), head beyond any claim (Ring + 1), head moved back (-1). The damage RepairIfDamaged repairs.
    /// </summary>
    private static readonly uint[] HeadDamage = [1, Ring, Ring + 1, uint.MaxValue];

    /// <summary>Message k of CPU c: its bytes say who sent it and which it is, so a torn copy shows.</summary>
    public static byte[] Payload(int cpu, int k)
    {
        var b = new byte[3 + 5 * k];
        b[0] = (byte)cpu;
        b[1] = (byte)k;
        for (int i = 2; i < b.Length; i++) b[i] = (byte)(0xA5 ^ cpu ^ (k << 4) ^ i);
        return b;
    }

    /// <summary>The message a callback received, checked whole: (sender CPU, k).</summary>
    private static (int Cpu, int K) Intact(in MkIpiMessage m, int handler)
    {
        var d = m.Data;
        bool whole = d.Length >= 2 && d[0] == m.SenderCpu && m.Type == Type && d.SequenceEqual(Payload(d[0], d[1]));
        Steps.Check(whole, $"intact: handler {handler} is handed {d.Length} bytes from CPU{m.SenderCpu} (type 0x{m.Type:x}), not a message any CPU sent");
        return (d[0], d[1]);
    }

    /// <summary>CPU <paramref name="cpu"/> sends its messages <paramref name="first"/>.. up to <paramref name="messages"/> (exclusive).</summary>
    private static Task Sender(MkIpi ipi, int cpu, int messages, List<(int Cpu, int K)> accepted, Action? done = null, int first = 0) => Steps.Run($"CPU{cpu}", () =>
    {
        MkIpi.BindThreadToCpu(cpu);
        for (int k = first; k < messages; k++)
        {
            int rc = ipi.SendIpiData(0, Payload(cpu, k), Type);
            Steps.Check(rc is 0 or -Errno.ENOSPC or -Errno.ENODEV, $"CPU{cpu}'s send of m{k} returned {rc}");
            if (rc == 0) lock (accepted) accepted.Add((cpu, k));
        }
        done?.Invoke();
    });

    /// <summary>CPU0: takes its interrupt and drains until the senders are done, then once more; stops when the instance is gone.</summary>
    private static Task Receiver(MkIpi ipi, Func<bool> sendersDone) => Steps.Run("CPU0", () =>
    {
        while (true)
        {
            bool last = sendersDone();
            if (ipi.HandleInterrupt(0) == -Errno.ENODEV || last) return;
            SchedulingPoint.Yield();
        }
    });

    public static async Task SendAndDrain(MkIpiDefects defects)
    {
        var ghost = IpiGhost.Begin();
        var ipi = new MkIpi(Ring, cpuThreads: false, defects); // no CPU threads: nothing to dispose
        ipi.CreateInstance(0);
        var got = new List<(int Cpu, int K)>();
        ipi.RegisterHandler((in MkIpiMessage m, object? _) => got.Add(Intact(m, 1)), null, Type);
        var accepted = new List<(int Cpu, int K)>();
        int done = 0;
        var senders = new[] { Sender(ipi, 1, 2, accepted, () => Interlocked.Increment(ref done)), Sender(ipi, 2, 2, accepted, () => Interlocked.Increment(ref done)) };
        var cpu = Receiver(ipi, () => Volatile.Read(ref done) == senders.Length);
        await Task.WhenAll([.. senders, cpu]);

        EachAcceptedOnce(ipi, accepted, got, senders.Length, "");
    }

    /// <summary>
    /// delivered, no-duplicate, fifo: each message a send accepted (<paramref name="when"/>) reached handler 1
    /// once, each CPU's in order; and handler 1 got nothing else.
    /// </summary>
    private static void EachAcceptedOnce(MkIpi ipi, List<(int Cpu, int K)> accepted, List<(int Cpu, int K)> got, int senders, string when)
    {
        var stats = ipi.Stats(0);
        foreach (var m in accepted)
        {
            int n = got.Count(g => g == m);
            Steps.Check(n == 1, n == 0
                ? $"delivered: CPU{m.Cpu}'s m{m.K} was accepted (send returned 0){when} and never reached handler 1 ({stats.Dropped} dropped, {stats.Resets} ring resets)"
                : $"no-duplicate: CPU{m.Cpu}'s m{m.K} reached handler 1 {n} times");
        }
        foreach (var g in got)
            Steps.Check(accepted.Contains(g), $"handler 1 got CPU{g.Cpu}'s m{g.K}, which no send accepted{when} (a stale slot)");
        for (int c = 1; c <= senders; c++)
        {
            var order = got.Where(g => g.Cpu == c).Select(g => g.K).ToArray();
            Steps.Check(order.SequenceEqual(order.Order()), $"fifo: CPU{c}'s messages reached handler 1 in the order {string.Join(", ", order.Select(k => $"m{k}"))}");
        }
    }

    public static async Task UnregisterDuringDrain(MkIpiDefects defects)
    {
        var ghost = IpiGhost.Begin();
        var ipi = new MkIpi(Ring, cpuThreads: false, defects); // no CPU threads: nothing to dispose
        ipi.CreateInstance(0);
        ipi.RegisterHandler((in MkIpiMessage m, object? _) => Intact(m, 1), null, Type);
        int b = ipi.RegisterHandler((in MkIpiMessage m, object? _) =>
            Steps.Check(!ghost.Unregistered, "unregister-final: handler 2's callback runs after multikernel_unregister_handler(2) returned"), null, Type);
        var accepted = new List<(int Cpu, int K)>();
        int done = 0;
        var sender = Sender(ipi, 1, 1, accepted, () => Interlocked.Increment(ref done));
        var unregister = Steps.Run("CPU2", () =>
        {
            // As the specification's unregister: it races with a message in flight, so it is called once the send is accepted.
            while (Volatile.Read(ref done) == 0) SchedulingPoint.Yield();
            int rc = ipi.UnregisterHandler(b);
            Steps.Check(rc == 0, $"multikernel_unregister_handler({b}) returned {rc}");
            ghost.Unregistered = true;
        });
        var cpu = Receiver(ipi, () => Volatile.Read(ref done) == 1);
        await Task.WhenAll(sender, unregister, cpu);
    }

    public static async Task DestroyDuringSends(MkIpiDefects defects)
    {
        var ghost = IpiGhost.Begin();
        var ipi = new MkIpi(Ring, cpuThreads: false, defects); // no CPU threads: nothing to dispose
        ipi.CreateInstance(0);
        ipi.RegisterHandler((in MkIpiMessage m, object? _) => Intact(m, 1), null, Type);
        var accepted = new List<(int Cpu, int K)>();
        int done = 0;
        var senders = new[] { Sender(ipi, 1, 1, accepted, () => Interlocked.Increment(ref done)), Sender(ipi, 2, 1, accepted, () => Interlocked.Increment(ref done)) };
        var destroy = Steps.Run("CPU3", () =>
        {
            int rc = ipi.DestroyInstance(0);
            Steps.Check(rc == 0, $"mk_instance_ipi_destroy(0) returned {rc}");
        });
        var cpu = Receiver(ipi, () => Volatile.Read(ref done) == senders.Length);
        await Task.WhenAll([.. senders, destroy, cpu]);
    }

    /// <summary>
    /// The other kernel, out of protocol, writes ring->head once while CPU1 and CPU2 send and CPU0
    /// drains (how far, and when, are Coyote's choices). While it writes nothing is owed but no-crash.
    /// Once it has stopped and CPU0 has taken its interrupt twice with no sender inside (as its CPU
    /// does while polling), the ring must have recovered: CPU1's and CPU2's next sends are accepted
    /// (the ring of 2 is empty), each reaches the handler once and intact, and nothing else does.
    /// </summary>
    public static async Task PeerWritesHead(MkIpiDefects defects)
    {
        IpiGhost.Begin();
        var ipi = new MkIpi(Ring, cpuThreads: false, defects); // no CPU threads: nothing to dispose
        ipi.CreateInstance(0);
        var got = new List<(int Cpu, int K)>();
        bool peerStopped = false;
        ipi.RegisterHandler((in MkIpiMessage m, object? _) => { if (Volatile.Read(ref peerStopped)) got.Add(Intact(m, 1)); }, null, Type);
        int done = 0;
        var senders = new[] { Sender(ipi, 1, 1, [], () => Interlocked.Increment(ref done)), Sender(ipi, 2, 1, [], () => Interlocked.Increment(ref done)) };
        var random = Generator.Create();
        var peer = Steps.Run("the other kernel", () =>
        {
            uint add = HeadDamage[random.NextInteger(HeadDamage.Length)];
            Steps.Record($"ring->head += {(int)add} (out of protocol)");
            SchedulingPoint.Interleave();
            var head = ipi.SharedMemory(0)[MkIpiLayout.Head..];
            BinaryPrimitives.WriteUInt32LittleEndian(head, BinaryPrimitives.ReadUInt32LittleEndian(head) + add);
        });
        var cpu = Receiver(ipi, () => Volatile.Read(ref done) == senders.Length);
        await Task.WhenAll([.. senders, peer, cpu]);

        Volatile.Write(ref peerStopped, true);
        var recovery = Steps.Run("CPU0", () => { ipi.HandleInterrupt(0); ipi.HandleInterrupt(0); });
        await recovery;
        var accepted = new List<(int Cpu, int K)>();
        done = 0;
        senders = [Sender(ipi, 1, 2, accepted, () => Interlocked.Increment(ref done), first: 1), Sender(ipi, 2, 2, accepted, () => Interlocked.Increment(ref done), first: 1)];
        cpu = Receiver(ipi, () => Volatile.Read(ref done) == senders.Length);
        await Task.WhenAll([.. senders, cpu]);

        for (int c = 1; c <= senders.Length; c++)
            Steps.Check(accepted.Contains((c, 1)), $"recovery: the other kernel has stopped writing and CPU0 has drained the ring twice, yet CPU{c}'s send of m1 returned -ENOSPC (the ring of {Ring} should be empty)");
        EachAcceptedOnce(ipi, accepted, got, senders.Length, " after the other kernel stopped writing");
    }
}
