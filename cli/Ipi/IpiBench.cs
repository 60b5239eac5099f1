using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Multikernel.Impl.Ipi;

namespace Multikernel.Cli.Ipi;

/// <summary>
/// Messages per second of the implementation against a System.Threading.Channels bounded
/// channel doing the same hand-off: N sender threads, one receiver, 64-byte payloads, a
/// 64-entry buffer, a full buffer waited out by the sender. The receiver touches every
/// payload so neither side can skip the copy. Best of several runs.
/// </summary>
internal static class IpiBench
{
    private const int PayloadSize = 64, Capacity = MkIpiLayout.MaxRing; // MK_IPI_RING: both buffers hold as many
    private const ulong Type = 42;

    [InlineArray(PayloadSize)] private struct Payload64 { private byte _e; }
    private struct ChannelMessage { public int SenderCpu; public ulong Type; public Payload64 Data; }

    /// <summary>The IPI implementation's benchmark, as the registry runs it.</summary>
    public static void Run(TextWriter o, Registry.BenchSettings b) => Run(o, b.Runs, b.MessagesPerRun);

    public static void Run(TextWriter o, int runs, int messages)
    {
        o.WriteLine($"  implementation vs bounded Channel<T>: {messages:N0} messages of {PayloadSize} bytes per run, buffer {Capacity}, best of {runs}");
        foreach (int senders in new[] { 1, 2 })
        {
            // Alternate the two, so that a noisy neighbour on the machine hurts both alike.
            double mk = 0, ch = 0;
            for (int i = 0; i < runs; i++)
            {
                GC.Collect();
                mk = Math.Max(mk, MkIpiRun(senders, messages));
                GC.Collect();
                ch = Math.Max(ch, ChannelRun(senders, messages));
            }
            o.WriteLine($"    {senders} -> 1:  MkIpi {mk / 1e6,6:F2} M msg/s   Channel {ch / 1e6,6:F2} M msg/s   ratio {mk / ch:F2}x");
        }
    }

    private static double MkIpiRun(int senders, int messages)
    {
        using var ipi = new MkIpi(Capacity, cpuThreads: true);
        ipi.CreateInstance(0);
        long received = 0, checksum = 0;
        ipi.RegisterHandler((in MkIpiMessage m, object? _) =>
        {
            checksum += m.Data[0] + m.Data[PayloadSize - 1];
            Volatile.Write(ref received, received + 1); // one receiver: a plain increment, published
        }, null, Type);
        int per = messages / senders;
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, senders).Select(s => new Thread(() =>
        {
            MkIpi.BindThreadToCpu(s + 1);
            Span<byte> payload = stackalloc byte[PayloadSize];
            payload.Fill((byte)s);
            var spin = new SpinWait();
            for (int k = 0; k < per; k++)
            {
                while (ipi.SendIpiData(0, payload, Type) != 0) spin.SpinOnce(sleep1Threshold: -1);
                spin.Reset();
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var wait = new SpinWait();
        while (Volatile.Read(ref received) < (long)per * senders) wait.SpinOnce();
        return per * senders / clock.Elapsed.TotalSeconds;
    }

    private static double ChannelRun(int senders, int messages)
    {
        var channel = Channel.CreateBounded<ChannelMessage>(new BoundedChannelOptions(Capacity)
        {
            SingleReader = true,
            SingleWriter = senders == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        int per = messages / senders;
        long checksum = 0;
        var clock = Stopwatch.StartNew();
        var reader = Task.Run(async () =>
        {
            long n = 0;
            while (await channel.Reader.WaitToReadAsync())
                while (channel.Reader.TryRead(out var m)) { checksum += m.Data[0] + m.Data[PayloadSize - 1]; n++; }
            return n;
        });
        var writers = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            var m = new ChannelMessage { SenderCpu = s + 1, Type = Type };
            ((Span<byte>)m.Data).Fill((byte)s);
            for (int k = 0; k < per; k++)
                if (!channel.Writer.TryWrite(m)) await channel.Writer.WriteAsync(m);
        })).ToArray();
        Task.WaitAll(writers);
        channel.Writer.Complete();
        long got = reader.Result;
        if (got != (long)per * senders) throw new InvalidOperationException("the channel lost messages");
        return got / clock.Elapsed.TotalSeconds;
    }
}
