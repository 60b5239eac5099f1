using Multikernel.Model.Checking;

namespace Multikernel.Cli;

/// <summary>
/// Reads a file a user names, with a hard cap: anything but a regular file (a FIFO, a socket,
/// a device, a directory), a missing or a too large file gets one line and exit 2, before it
/// is opened (opening a FIFO blocks) and never with an allocation sized by what the file claims.
/// </summary>
internal static class InputFile
{
    /// <summary>
    /// Opens a regular file a user named for reading, as a stream that refuses to go past <paramref name="maxBytes"/>.
    /// A file whose length is already over the cap is refused by its length, before a byte is read.
    /// </summary>
    public static CappedStream Open(string path, long maxBytes, string command)
    {
        if (path.Length == 0) throw new UsageException($"{command}: the file name is empty");
        string shown = Printable.Line(path);
        try
        {
            var kind = FileKinds.Of(path);
            if (kind == FileKind.Missing) throw new UsageException($"{command}: {shown}: no such file");
            if (kind != FileKind.Regular) throw new UsageException($"{command}: {shown}: is {FileKinds.Describe(kind)}, not a regular file");
            var stream = new CappedStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), maxBytes, $"{command}: {shown}");
            if (stream.Claimed > maxBytes)
            {
                stream.Dispose();
                throw new UsageException($"{command}: {shown}: larger than {maxBytes >> 20} MiB");
            }
            return stream;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{command}: {shown}: {e.Message}"); }
    }

    public static string ReadText(string path, long maxBytes, string command)
    {
        using var f = Open(path, maxBytes, command);
        try
        {
            // A regular file's length sizes the buffer once; a device says 0, so the buffer grows,
            // never past the cap: no allocation is sized by what the file claims.
            long claimed = f.Claimed;
            // Read in chunks and keep them: nothing is copied while the file grows, so a device read
            // to the cap costs the cap, once. A regular file's chunks are joined once at the end.
            var chunks = new List<byte[]>();
            long used = 0;
            while (true)
            {
                var chunk = new byte[(int)Math.Clamp(claimed - used + 1, 1 << 16, 1 << 22)];
                int filled = 0, n;
                while (filled < chunk.Length && (n = f.Read(chunk, filled, chunk.Length - filled)) > 0) filled += n;
                used += filled;
                if (used > maxBytes) throw new UsageException($"{command}: {Printable.Line(path)}: larger than {maxBytes >> 20} MiB");
                if (filled < chunk.Length) { Array.Resize(ref chunk, filled); chunks.Add(chunk); break; }
                chunks.Add(chunk);
            }
            if (chunks.Count == 1) return System.Text.Encoding.UTF8.GetString(chunks[0]);
            var all = new byte[used];
            long at = 0;
            foreach (var c in chunks) { c.CopyTo(all, at); at += c.Length; }
            return System.Text.Encoding.UTF8.GetString(all);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{command}: {Printable.Line(path)}: {e.Message}"); }
    }
}

/// <summary>A read-only stream that refuses to go past a cap: a file longer than that is one line, not a disk's worth of reading.</summary>
internal sealed class CappedStream(FileStream inner, long cap, string name) : Stream
{
    private long _read;
    /// <summary>The length a regular file states (0 for a device): a hint, never an allocation size beyond the cap.</summary>
    public long Claimed => inner.CanSeek ? inner.Length : 0;
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
        if (_read > cap) throw new UsageException($"{name}: larger than {cap >> 20} MiB");
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}
