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
            var buffer = new byte[Math.Max(claimed + 1, 1 << 16)];
            int used = 0, n;
            while ((n = f.Read(buffer, used, buffer.Length - used)) > 0)
            {
                used += n;
                if (used > maxBytes) throw new UsageException($"{command}: {path}: larger than {maxBytes >> 20} MiB");
                if (used == buffer.Length) Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
            }
            return System.Text.Encoding.UTF8.GetString(buffer, 0, used);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{command}: {path}: {e.Message}"); }
    }
}
