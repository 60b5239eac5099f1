namespace Multikernel.Properties.Explorer;

/// <summary>
/// A worker's last fingerprints, one per line of a direct-mapped table (a CPU cache's shape, 128 KiB:
/// it stays in a core's L2). Most successors met twice in a level are met twice close together — two
/// steps of one parent commute into the same state — so this catches them with one load each, before the
/// visited set is probed: at ipi S3 M3 R1 H2, 52.2 M of the 56.7 M such sightings (54.3 M at 512 KiB and
/// 49.0 M at 32 KiB, both slower). An exact per-worker set took a probe into tens of MiB for each of them
/// and for every candidate. Lossy by design: a repeat it forgot is kept as a candidate and loses in the
/// insert phase, where (parent, step) order decides; what it remembers was met by this worker with a
/// smaller (parent, step), or in an earlier level, so the dropped sighting could never win.
/// </summary>
internal sealed class RecentFingerprints
{
    private const int Lines = 1 << 14;
    public const long Bytes = Lines * sizeof(ulong);

    private readonly ulong[] _lines = new ulong[Lines];

    /// <summary>Remembers <paramref name="fp"/>; false when it is the fingerprint its line last held.</summary>
    public bool Add(ulong fp)
    {
        ref ulong line = ref _lines[(int)fp & (Lines - 1)];
        if (line == fp) return false;
        line = fp;
        return true;
    }

    /// <summary>Forgets every line: a new level. (Not needed for the result — a fingerprint met in an earlier level is in the visited set — but it keeps the filter's claim to this level.)</summary>
    public void Clear() => Array.Clear(_lines);
}
