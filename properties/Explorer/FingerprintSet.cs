namespace Multikernel.Properties.Explorer;

/// <summary>
/// The visited set of a safety exploration: 8 bytes per slot, nothing else.
/// Open addressing with linear probing; the home slot is the fingerprint scaled to
/// the capacity (Lemire's fastrange), so the table stays sorted by fingerprint and
/// a resize is one sequential pass. It grows by 5/4 at 7/8 load, which keeps the
/// load between 0.7 and 0.875 and the cost near 10 bytes per state. Keys must be
/// uniform over all 64 bits (the home slot comes from the high bits), as
/// <see cref="Fingerprint.Of"/> makes them.
/// </summary>
public sealed class FingerprintSet
{
    internal const double MaxLoad = 0.875;
    internal const double Growth = 1.25;

    private ulong[] _slots;
    private long _limit;

    public FingerprintSet(long capacity = 1 << 16)
    {
        _slots = new ulong[capacity];
        _limit = (long)(capacity * MaxLoad);
    }

    public long Count { get; private set; }
    public long Bytes => (long)_slots.Length * sizeof(ulong);

    /// <summary>Adds <paramref name="fp"/> (never 0); false when it was already present.</summary>
    public bool Add(ulong fp)
    {
        if (!Insert(_slots, fp)) return false;
        if (++Count > _limit) Grow();
        return true;
    }

    public bool Contains(ulong fp)
    {
        long n = _slots.Length;
        for (long i = (long)Math.BigMul(fp, (ulong)n, out _); ; )
        {
            ulong cur = _slots[i];
            if (cur == fp) return true;
            if (cur == 0) return false;
            if (++i == n) i = 0;
        }
    }

    private static bool Insert(ulong[] slots, ulong fp)
    {
        long n = slots.Length;
        long i = (long)Math.BigMul(fp, (ulong)n, out _);
        while (true)
        {
            ulong cur = slots[i];
            if (cur == fp) return false;
            if (cur == 0) { slots[i] = fp; return true; }
            if (++i == n) i = 0;
        }
    }

    private void Grow()
    {
        var bigger = new ulong[(long)(_slots.Length * Growth) + 1];
        foreach (ulong fp in _slots)
            if (fp != 0) Insert(bigger, fp);
        _slots = bigger;
        _limit = (long)(bigger.Length * MaxLoad);
    }
}

/// <summary>
/// The visited map of an exploration that keeps the state graph (for cycles in
/// eventually-properties): fingerprint → state id, 12 bytes per slot.
/// </summary>
public sealed class FingerprintMap
{
    private ulong[] _fps;
    private uint[] _ids;
    private long _limit;

    public FingerprintMap(long capacity = 1 << 16)
    {
        _fps = new ulong[capacity];
        _ids = new uint[capacity];
        _limit = (long)(capacity * FingerprintSet.MaxLoad);
    }

    public long Count { get; private set; }
    public long Bytes => (long)_fps.Length * (sizeof(ulong) + sizeof(uint));

    public bool TryGet(ulong fp, out uint id)
    {
        long n = _fps.Length;
        for (long i = (long)Math.BigMul(fp, (ulong)n, out _); ; )
        {
            ulong cur = _fps[i];
            if (cur == fp) { id = _ids[i]; return true; }
            if (cur == 0) { id = 0; return false; }
            if (++i == n) i = 0;
        }
    }

    /// <summary>Adds a fingerprint known to be absent.</summary>
    public void Add(ulong fp, uint id)
    {
        long n = _fps.Length;
        long i = (long)Math.BigMul(fp, (ulong)n, out _);
        while (_fps[i] != 0) if (++i == n) i = 0;
        _fps[i] = fp; _ids[i] = id;
        if (++Count > _limit) Grow();
    }

    private void Grow()
    {
        long n = (long)(_fps.Length * FingerprintSet.Growth) + 1;
        var fps = new ulong[n];
        var ids = new uint[n];
        for (long k = 0; k < _fps.Length; k++)
        {
            ulong fp = _fps[k];
            if (fp == 0) continue;
            long i = (long)Math.BigMul(fp, (ulong)n, out _);
            while (fps[i] != 0) if (++i == n) i = 0;
            fps[i] = fp; ids[i] = _ids[k];
        }
        _fps = fps; _ids = ids;
        _limit = (long)(n * FingerprintSet.MaxLoad);
    }
}
