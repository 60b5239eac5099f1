namespace Multikernel.Distributed;

/// <summary>
/// --checkpoint DIR and --resume DIR: after each finished level the coordinator writes, each file whole
/// (<see cref="Write"/>: the command line's atomic rename), one file per node with its part of the level's
/// new states (fingerprint, id, judged bits, parent's pending bits, state), one with the level's parent
/// links and the run's counters, and last the marker naming the level. The set of a node is the union of
/// its levels' fingerprints, so a run resumes on any number of nodes: every record goes to its new owner.
/// </summary>
public sealed record CheckpointPlan(string Directory, Action<string, byte[]> Write, bool Resume);

/// <summary>A checkpoint that cannot be resumed: what and where, in one line (exit 2).</summary>
public sealed class CheckpointException(string message) : Exception(message);

internal static class CheckpointFiles
{
    public const uint Magic = 0x4b434b4d; // "MKCK"
    public const uint Version = 1;

    public static string Marker(string dir) => Path.Combine(dir, "checkpoint");
    public static string Coordinator(string dir, int level) => Path.Combine(dir, $"level-{level}.coordinator");
    public static string Node(string dir, int level, int node) => Path.Combine(dir, $"level-{level}.node-{node}");

    public static BinaryWriter Writer(MemoryStream m, char kind)
    {
        var w = new BinaryWriter(m);
        w.Write(Magic);
        w.Write(Version);
        w.Write(kind);
        return w;
    }

    /// <summary>A checkpoint file's reader, its header checked; any fault in it is a <see cref="CheckpointException"/>.</summary>
    public static BinaryReader Reader(string path, char kind)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointException($"{Path.GetFileName(path)}: cannot be read: {e.Message}"); }
        var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        try
        {
            if (r.ReadUInt32() != Magic || r.ReadUInt32() != Version || r.ReadChar() != kind)
                throw new CheckpointException($"{Path.GetFileName(path)}: not a checkpoint file of this version");
        }
        catch (EndOfStreamException) { throw new CheckpointException($"{Path.GetFileName(path)}: truncated"); }
        return r;
    }
}
