namespace Multikernel.Cli;

/// <summary>
/// A file written whole or not at all: the bytes go to a temporary file beside it, flushed to disk,
/// which then replaces it in one rename. A full disk or an interrupted run leaves the old file (or
/// none), never a truncated one.
/// </summary>
internal static class OutputFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                f.Write(bytes);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static void Write(string path, string text) => Write(path, System.Text.Encoding.UTF8.GetBytes(text));
}
