using Multikernel.Model.Checking;

namespace Multikernel.Cli;

/// <summary>
/// A file written whole or not at all: the bytes go to a temporary file beside it, flushed to disk,
/// which then replaces it in one rename. A full disk or an interrupted run leaves the old file (or
/// none), never a truncated one; two writers leave one of the two files whole. Only a regular file
/// is replaced: a FIFO, a device or a socket named as output is refused (a rename would replace
/// /dev/null itself).
/// </summary>
internal static class OutputFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var kind = FileKinds.Of(path);
        if (kind is not (FileKind.Missing or FileKind.Regular))
            throw new IOException($"is {FileKinds.Describe(kind)}, not a regular file");
        string tmp = TemporaryBeside(path);
        lock (s_inFlight) s_inFlight.Add(tmp);
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
            lock (s_inFlight) s_inFlight.Remove(tmp);
        }
    }

    // Temporaries being written now: Ctrl-C or SIGTERM removes them before the process ends (the target is untouched).
    private static readonly HashSet<string> s_inFlight = new(StringComparer.Ordinal);
    private static readonly System.Runtime.InteropServices.PosixSignalRegistration[] s_cleanup =
        [.. new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM }
            .Select(sig => System.Runtime.InteropServices.PosixSignalRegistration.Create(sig, _ => RemoveTemporaries()))];

    private static void RemoveTemporaries()
    {
        lock (s_inFlight)
            foreach (var tmp in s_inFlight)
                try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static void Write(string path, string text) => Write(path, System.Text.Encoding.UTF8.GetBytes(text));

    private static string TemporaryBeside(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Checks, before any work, that <paramref name="file"/> (given to <paramref name="option"/>) can be written:
    /// a name, an existing directory to hold it, not a FIFO or a device, and a directory the process may create
    /// files in (probed with a temporary file, removed at once). A directory names the file
    /// <paramref name="nameInDirectory"/> inside it. Returns the full path; one line and exit 2 otherwise.
    /// </summary>
    public static string Check(string command, string option, string file, string nameInDirectory)
    {
        string shown = $"{command}: {option} '{Printable.Line(file, 60)}'";
        if (file.Length == 0) throw new UsageException($"{command}: {option} needs a file name");
        string full;
        try { full = Path.GetFullPath(file); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        { throw new UsageException($"{shown}: {e.Message}"); }
        var kind = FileKinds.Of(full);
        if (kind == FileKind.Directory) { full = Path.Combine(full, nameInDirectory); kind = FileKinds.Of(full); }
        if (kind is not (FileKind.Missing or FileKind.Regular))
            throw new UsageException($"{shown}: is {FileKinds.Describe(kind)}, not a regular file");
        if (Path.GetDirectoryName(full) is not { } dir || FileKinds.Of(dir) != FileKind.Directory)
            throw new UsageException($"{shown}: directory {Printable.Line(Path.GetDirectoryName(full) ?? "", 60)} does not exist");
        string probe = TemporaryBeside(full);
        try { using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write)) { } }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new UsageException($"{shown}: cannot create files in {Printable.Line(dir, 60)}: {e.Message}"); }
        finally { try { File.Delete(probe); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
        return full;
    }
}

/// <summary>
/// The files one command will write, checked together before any work: each path as
/// <see cref="OutputFile.Check"/> requires, and no two options naming the same file
/// (<c>--image x --json x</c> would have one overwrite the other).
/// </summary>
internal sealed class OutputPlan(string command)
{
    private readonly Dictionary<string, string> _byPath = new(StringComparer.Ordinal);

    public string Command => command;

    public string Add(string option, string file, string nameInDirectory)
    {
        string full = OutputFile.Check(command, option, file, nameInDirectory);
        if (_byPath.TryGetValue(full, out var other))
            throw new UsageException($"{command}: {other} and {option} name the same file '{Printable.Line(file, 60)}'");
        _byPath[full] = option;
        return full;
    }
}
