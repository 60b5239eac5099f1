namespace Multikernel.Cli;

/// <summary>
/// Reads a file a user names, with a hard cap: a device (/dev/zero), a huge file or a
/// directory gets one line and exit 2, never an allocation sized by what the file claims.
/// </summary>
internal static class InputFile
{
    public static string ReadText(string path, long maxBytes, string command)
    {
        if (path.Length == 0) throw new UsageException($"{command}: the file name is empty");
        try
        {
            if (Directory.Exists(path)) throw new UsageException($"{command}: {path}: is a directory");
            if (!File.Exists(path)) throw new UsageException($"{command}: {path}: no such file");
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            // A regular file's length sizes the buffer once; a device says 0, so the buffer grows,
            // never past the cap: no allocation is sized by what the file claims.
            long claimed = f.CanSeek ? f.Length : 0;
            if (claimed > maxBytes) throw new UsageException($"{command}: {path}: larger than {maxBytes >> 20} MiB");
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
                if (used > maxBytes) throw new UsageException($"{command}: {path}: larger than {maxBytes >> 20} MiB");
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
        { throw new UsageException($"{command}: {path}: {e.Message}"); }
    }
}
