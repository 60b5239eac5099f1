using System.Buffers.Binary;
using System.Diagnostics;
using Multikernel.Impl.Ipi;

namespace Multikernel.Properties.Ipi;

/// <summary>What a stress run saw. It holds when every accepted message arrived exactly once, intact.</summary>
public sealed record StressReport(int Senders, long Accepted, long Full, long Delivered, long Duplicated, long Torn, long Lost,
    long Dropped, bool HitTimeLimit, TimeSpan Time, ulong Seed)
{
    public bool Holds => Duplicated == 0 && Torn == 0 && Lost == 0;
    public override string ToString() =>
        $"{Senders} sender{(Senders == 1 ? "" : "s")} -> 1 receiver: {Accepted:N0} accepted ({Full:N0} -ENOSPC retries), {Delivered:N0} delivered, " +
        $"{Duplicated} duplicated, {Torn} torn, {Lost} lost, {Dropped} dropped by the receiver" +
        $"{(HitTimeLimit ? ", stopped at the time limit" : "")}, {Time.TotalSeconds:F2} s, seed {Seed}";
}

/// <summary>
/// Concurrent stress: sender threads hammer one instance whose CPU thread drains it and
/// calls a handler that checks every message. Each message says who sent it and its
/// number, its size and bytes follow from those and the seed, so a torn, stale or
/// duplicated message is recognised. Bounded by a message count and a time limit.
/// </summary>
public static class Stress
{
    private const ulong Type = 0x1_0000_0007; // above 2^32 on purpose
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(60);

    public static StressReport Run(int senders, int messagesPerSender, TimeSpan limit, ulong seed,
        MkIpiDefects defects = MkIpiDefects.None, int ringSize = 8)
    {
        using var ipi = new MkIpi(ringSize, cpuThreads: true, defects);
        ipi.CreateInstance(0);
        var counts = new int[senders * messagesPerSender];   // deliveries of each message, by the receiver
        var sent = new bool[senders * messagesPerSender];    // accepted by SendIpiData, by its sender
        long torn = 0;
        ipi.RegisterHandler((in MkIpiMessage m, object? _) =>
        {
            if (!Decode(m, seed, senders, messagesPerSender, out int index)) { Interlocked.Increment(ref torn); return; }
            Interlocked.Increment(ref counts[index]);
        }, null, Type);

        var clock = Stopwatch.StartNew();
        long accepted = 0, full = 0;
        bool timedOut = false;
        var threads = new Thread[senders];
        for (int s = 0; s < senders; s++)
        {
            int cpu = s;
            threads[s] = new Thread(() =>
            {
                MkIpi.BindThreadToCpu(cpu + 1);
                Span<byte> buf = stackalloc byte[MkIpi.MaxDataSize];
                var spin = new SpinWait();
                for (int k = 0; k < messagesPerSender; k++)
                {
                    var msg = Encode(buf, seed, cpu, k);
                    int rc;
                    while ((rc = ipi.SendIpiData(0, msg, Type)) != 0)
                    {
                        Interlocked.Increment(ref full);
                        if (clock.Elapsed > limit) { Volatile.Write(ref timedOut, true); return; }
                        spin.SpinOnce(sleep1Threshold: -1);
                    }
                    spin.Reset();
                    Interlocked.Increment(ref accepted);
                    sent[cpu * messagesPerSender + k] = true;
                    if ((k & 1023) == 0 && clock.Elapsed > limit) { Volatile.Write(ref timedOut, true); return; }
                }
            }) { IsBackground = true };
        }
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();

        // Let the receiver finish what is in the ring: until everything accepted is accounted for, or its
        // CPU sleeps with no IPI pending (then nothing more arrives: what is missing is lost). A load that
        // keeps the CPU from getting there within SettleLimit is the time limit (a bound), never a loss.
        var settle = Stopwatch.StartNew();
        bool unsettled = false;
        while (Delivered(counts) + Volatile.Read(ref torn) + ipi.Stats(0).Dropped < Volatile.Read(ref accepted) && !ipi.CpuAsleep(0))
        {
            if (settle.Elapsed > SettleLimit) { timedOut = unsettled = true; break; }
            Thread.Sleep(1);
        }
        long delivered = 0, duplicated = 0, lost = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            int n = Volatile.Read(ref counts[i]);
            delivered += n;
            if (n > 1) duplicated += n - 1;
            if (sent[i] && n == 0 && !unsettled) lost++; // unsettled: not yet known lost
        }
        if (ipi.CpuFault(0) != null) torn++; // the handler threw on the CPU thread: count it, never hide it
        return new StressReport(senders, accepted, full, delivered, duplicated, Volatile.Read(ref torn), lost,
            ipi.Stats(0).Dropped, timedOut, clock.Elapsed, seed);
    }

    private static long Delivered(int[] counts)
    {
        long n = 0;
        foreach (int c in counts) n += c;
        return n;
    }

    private static int Size(ulong seed, int cpu, int k) => (int)((seed + (ulong)cpu * 977 + (ulong)k * 131) % (MkIpi.MaxDataSize - 7)) + 8;

    private static ReadOnlySpan<byte> Encode(Span<byte> buf, ulong seed, int cpu, int k)
    {
        int size = Size(seed, cpu, k);
        BinaryPrimitives.WriteInt32LittleEndian(buf, cpu);
        BinaryPrimitives.WriteInt32LittleEndian(buf[4..], k);
        for (int i = 8; i < size; i++) buf[i] = (byte)(seed + (ulong)(cpu * 7 + k + i));
        return buf[..size];
    }

    private static bool Decode(in MkIpiMessage m, ulong seed, int senders, int perSender, out int index)
    {
        index = -1;
        var d = m.Data;
        if (d.Length < 8) return false;
        int cpu = BinaryPrimitives.ReadInt32LittleEndian(d), k = BinaryPrimitives.ReadInt32LittleEndian(d[4..]);
        if ((uint)cpu >= (uint)senders || (uint)k >= (uint)perSender || m.SenderCpu != cpu + 1 || d.Length != Size(seed, cpu, k)) return false;
        for (int i = 8; i < d.Length; i++) if (d[i] != (byte)(seed + (ulong)(cpu * 7 + k + i))) return false;
        index = cpu * perSender + k;
        return true;
    }
}
