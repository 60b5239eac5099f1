using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Multikernel.Impl.Ipi;

namespace Multikernel.Cli.Commands;

/// <summary>
/// Messages per second of the implementation against a System.Threading.Channels bounded
/// channel doing the same hand-off: N sender threads, one receiver, 64-byte payloads, a
/// 64-entry buffer, a full buffer waited out by the sender. The receiver touches every
/// payload so neither side can skip the copy. Best of several runs.
/// </summary>
internal static class ImplBench
{
    private const int PayloadSize = 64, Capacity = MkIpiLayout.MaxRing; // MK_IPI_RING: both buffers hold as many
    private const ulong Type = 42;

    [InlineArray(PayloadSize)] private struct Payload64 { private byte _e; }
    private struct ChannelMessage { public int SenderCpu; public ulong Type; public Payload64 Data; }

    /// <summary>The IPI implementation's benchmark, as the registry runs it.</summary>
    public static void Ipi(TextWriter o, Registry.BenchSettings b) => Run(o, b.Runs, b.MessagesPerRun);

    /// <summary>
    /// The balloon driver through the simulated port: pages per second inflated and deflated, and
    /// backdoor commands per page, batched against one LOCK / UNLOCK per page, in one run.
    /// </summary>
    public static void Balloon(TextWriter o, Registry.BenchSettings b)
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

    /// <summary>
    /// Restore speed: a 1 GiB image (262,144 pages) generated as it is read (streamed, never held
    /// whole), restored into a fresh address space, beside a plain copy of the same bytes into
    /// page buffers; MB/s of each in one run, and the managed memory in use after the restore.
    /// </summary>
    public static void Restore(TextWriter o, Registry.BenchSettings b)
    {
        const int Pages = 262_144;
        var mm = new Impl.Restore.AddressSpace();
        var vmas = new List<Impl.Restore.VmaInfo>();
        for (int v = 0; v < 64; v++) vmas.Add(new(0x10000000UL + (ulong)v * 0x10000000, 0x10000000UL + (ulong)v * 0x10000000 + Pages / 64 * 4096UL, 0x73, 0, Impl.Restore.VmaKind.Anon, null));
        // One page of contents, shared by every page of the source: the image is generated, not stored.
        var content = new byte[4096];
        new Random(1).NextBytes(content);
        var pages = new Dictionary<ulong, byte[]>(Pages);
        foreach (var v in vmas) for (ulong p = v.Start; p < v.End; p += 4096) pages[p] = content;
        mm.Set(default, vmas, pages, []);
        string path = Path.Combine(Path.GetTempPath(), $"multikernel-bench-{Environment.ProcessId}.img");
        using (var w = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20)) Impl.Restore.Checkpoint.Write(mm, w);
        mm = null;
        pages = null;
        using var image = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.DeleteOnClose | FileOptions.SequentialScan);
        double bytes = image.Length;
        double restore = 0, copy = 0;
        long used = 0;
        for (int r = 0; r < Math.Max(1, b.Runs); r++)
        {
            image.Position = 0;
            GC.Collect();
            var clock = Stopwatch.StartNew();
            var target = new Impl.Restore.AddressSpace(); // the stream is read as it comes: the image is never held whole
            Impl.Restore.Restore.Run(image, target, new Impl.Restore.FileTable());
            restore = Math.Max(restore, bytes / clock.Elapsed.TotalSeconds);
            used = GC.GetTotalMemory(false);
            image.Position = 0;
            clock.Restart();
            var sink = new byte[4096][];
            var buf = new byte[1 << 16];
            int n, k = 0;
            while ((n = image.Read(buf, 0, buf.Length)) > 0)
                for (int i = 0; i + 4096 <= n; i += 4096) { var page = new byte[4096]; buf.AsSpan(i, 4096).CopyTo(page); sink[k++ & 4095] = page; }
            copy = Math.Max(copy, bytes / clock.Elapsed.TotalSeconds);
            GC.KeepAlive(target);
        }
        o.WriteLine($"  restore of a {bytes / (1 << 30):F2} GiB image ({Pages:N0} pages): {restore / 1e6:F0} MB/s; a plain copy of the same bytes into page buffers: {copy / 1e6:F0} MB/s ({restore / copy:P0}); {used / 1e6:N0} MB managed memory after the restore (the pages themselves: {Pages * 4096.0 / 1e6:N0} MB)");
    }

    /// <summary>The uffd implementation's benchmark, as the registry runs it.</summary>
    public static void Uffd(TextWriter o, Registry.BenchSettings b) => Faults(o, b.Runs);

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

    /// <summary>The uffd fault dispatcher: faults per second on a registered range (blocked) and on a mapped page (normal).</summary>
    public static void Faults(TextWriter o, int runs)
    {
        const int N = 5_000_000;
        var mm = new Impl.Uffd.MmStruct([(Impl.Uffd.MemType.Anon, 32), (Impl.Uffd.MemType.HugetlbShared, 32)]);
        int ctx = mm.UserfaultfdCreate();
        mm.Api(ctx, Impl.Uffd.UffdConstants.UffdApi, 0);
        mm.Register(ctx, 0, 16 * Impl.Uffd.UffdConstants.PageSize, Impl.Uffd.UffdConstants.UffdioRegisterModeMissing);
        double best = 0;
        long blocked = 0;
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < N; i++)
                blocked += mm.HandleMmFault((ulong)(i & 63) * Impl.Uffd.UffdConstants.PageSize, (i & 1) != 0).Outcome == Impl.Uffd.FaultOutcome.Blocked ? 1 : 0;
            best = Math.Max(best, N / clock.Elapsed.TotalSeconds);
        }
        o.WriteLine($"  uffd fault dispatcher (64 pages in 3 VMAs: waiting, blocked and mapped faults; no allocation): {best / 1e6:F1} M faults/s (best of {runs})");
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
