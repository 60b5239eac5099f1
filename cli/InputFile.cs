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
            // Length is 0 for a device: read, never trust it, and stop one byte past the cap.
            var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int n;
            while ((n = f.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1 - buffer.Length))) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > maxBytes) throw new UsageException($"{command}: {path}: larger than {maxBytes >> 20} MiB");
            }
            return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{command}: {path}: {e.Message}"); }
    }
}
