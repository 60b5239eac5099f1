using System.Diagnostics;

namespace Multikernel.Cli.Restore;

/// <summary>The restore implementation's benchmark.</summary>
internal static class RestoreBench
{
    /// <summary>
    /// Restore speed: a 1 GiB image (262,144 pages) generated as it is read (streamed, never held
    /// whole), restored into a fresh address space, beside a plain copy of the same bytes into
    /// page buffers; MB/s of each in one run, and the managed memory in use after the restore.
    /// </summary>
    public static void Run(TextWriter o, Registry.BenchSettings b)
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
}
