namespace Multikernel.Properties.Explorer;

/// <summary>
/// A worker's last fingerprints, one per line of a direct-mapped table (a CPU cache's shape, 512 KiB:
/// it stays in a core's L2). Most successors met twice in a level are met twice close together — two
/// steps of one parent commute into the same state — so this catches them with one load each: at ipi
/// S3 M3 R1 H2, 54.3 M of the 56.7 M such sightings (an exact per-worker set there took a probe of its
/// own, into tens of MiB, for every candidate). Lossy by design: a repeat it forgot is kept as a
/// candidate and loses in the insert phase, where (parent, step) order decides; what it remembers was
/// met by this worker with a smaller (parent, step), so the dropped sighting could never win.
/// </summary>
internal sealed class RecentFingerprints
{
    private const int Lines = 1 << 16;
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
