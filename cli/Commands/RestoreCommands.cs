using System.Globalization;
using Multikernel.Impl.Restore;

namespace Multikernel.Cli.Commands;

/// <summary>restore IMAGE and checkpoint --vmas …: the image format of impl/Restore from the command line.</summary>
internal static class RestoreCommands
{
    private const long MaxImageBytes = 1L << 30;

    /// <summary>restore IMAGE [--files A,B]: into a fresh simulated address space; a bad image is one line, exit 2.</summary>
    public static int Restore(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("restore", argv, ["--files"], []);
        a.NoMorePositionals(1);
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("restore: which image?");
        var files = new FileTable((a.Value("--files") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries));
        var mm = new AddressSpace();
        try
        {
            if (file.Length == 0) throw new UsageException("restore: the file name is empty");
            if (Directory.Exists(file)) throw new UsageException($"restore: {file}: is a directory");
            if (!File.Exists(file)) throw new UsageException($"restore: {file}: no such file");
            using var s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Impl.Restore.Restore.Run(new CappedStream(s, MaxImageBytes, file), mm, files);
        }
        catch (RestoreException e) { throw new UsageException($"restore: {file}: {e.Message}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"restore: {file}: {e.Message}"); }
        o.WriteLine($"restored {file}: {mm.Vmas.Count} VMAs, {mm.Pages.Count} pages, {mm.Ldt.Count} LDT entries");
        foreach (var v in mm.Vmas)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {v.Start:x12}-{v.End:x12} vm_flags 0x{v.VmFlags:x} {(v.Kind == VmaKind.File ? $"file {v.File} pgoff 0x{v.PgOff:x}" : "anonymous")}, {mm.Pages.Keys.Count(p => p >= v.Start && p < v.End)} of {v.Pages} pages written"));
        return 0;
    }

    /// <summary>checkpoint --vmas START-END:anon|file=NAME,… --out FILE: an image of an address space with those VMAs, every page written.</summary>
    public static int Checkpoint(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("checkpoint", argv, ["--vmas", "--out"], []);
        a.NoMorePositionals(0);
        string spec = a.Value("--vmas") ?? throw new UsageException("checkpoint: --vmas START-END:anon|file=NAME,… is needed");
        string outFile = a.Value("--out") ?? throw new UsageException("checkpoint: --out FILE is needed");
        var vmas = new List<VmaInfo>();
        var pages = new Dictionary<ulong, byte[]>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split(':', 2);
            var range = kv[0].Split('-');
            if (kv.Length != 2 || range.Length != 2 || !ulong.TryParse(range[0].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(range[1].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end))
                throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}' is not START-END:anon or START-END:file=NAME (hex)");
            if (start % RestoreFormat.PageSize != 0 || end % RestoreFormat.PageSize != 0 || end <= start || end > RestoreFormat.TaskSize || (vmas.Count > 0 && start < vmas[^1].End))
                throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}': page-aligned, increasing, disjoint ranges below 0x{RestoreFormat.TaskSize:x}");
            if ((end - start) / RestoreFormat.PageSize > 65536) throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}': at most 65536 pages a VMA");
            bool file = kv[1].StartsWith("file=", StringComparison.Ordinal);
            if (!file && kv[1] != "anon") throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}': anon or file=NAME");
            vmas.Add(new VmaInfo(start, end, 0x73, 0, file ? VmaKind.File : VmaKind.Anon, file ? kv[1][5..] : null));
            for (ulong p = start; p < end; p += RestoreFormat.PageSize)
            {
                var data = new byte[RestoreFormat.PageSize];
                for (int i = 0; i < data.Length; i += 8) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(i), p + (ulong)i);
                pages[p] = data;
            }
        }
        var mm = new AddressSpace();
        mm.Set(default, vmas, pages, []);
        try
        {
            using var f = new FileStream(outFile, FileMode.Create, FileAccess.Write);
            Impl.Restore.Checkpoint.Write(mm, f);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"checkpoint: {outFile}: {e.Message}"); }
        o.WriteLine($"wrote {outFile}: {vmas.Count} VMAs, {pages.Count} pages");
        return 0;
    }
}

/// <summary>A read-only stream that refuses to go past a cap: an image longer than that is one line, not a disk's worth of reading.</summary>
internal sealed class CappedStream(Stream inner, long cap, string name) : Stream
{
    private long _read;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _read += n;
        if (_read > cap) throw new UsageException($"restore: {name}: larger than {cap >> 20} MiB");
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
