namespace Multikernel.Properties.Explorer;

/// <summary>
/// Holzmann's bitstate hashing: the visited set as a bit array, each state setting
/// <see cref="Hashes"/> bits chosen from its 64-bit fingerprint. A state all of whose bits are
/// already set is taken as visited, so some states may be missed: lossy, for spaces beyond memory.
/// <see cref="MissProbability"/> bounds the chance that a given state was wrongly taken as visited.
/// </summary>
public sealed class BitstateSet
{
    public const int Hashes = 3;
    private readonly ulong[] _words;
    private readonly ulong _bits;

    public BitstateSet(long bytes)
    {
        long words = Math.Max(1, bytes / sizeof(ulong));
        _words = new ulong[words];
        _bits = (ulong)words * 64;
    }

    public long Count { get; private set; }
    public long Bytes => (long)_words.Length * sizeof(ulong);

    private ulong Bit(ulong fp, int i)
    {
        // Kirsch-Mitzenmacher: h_i = h1 + i * h2 from the two halves of the fingerprint.
        ulong h1 = fp, h2 = (fp >> 32) | (fp << 32) | 1;
        return (h1 + (ulong)i * h2) % _bits;
    }

    /// <summary>Sets the state's bits; false when they were all set already (visited, or a collision).</summary>
    public bool Add(ulong fp)
    {
        bool fresh = false;
        for (int i = 0; i < Hashes; i++)
        {
            ulong b = Bit(fp, i);
            ref ulong w = ref _words[b >> 6];
            ulong mask = 1UL << (int)(b & 63);
            if ((w & mask) == 0) { w |= mask; fresh = true; }
        }
        if (fresh) Count++;
        return fresh;
    }

    public bool Contains(ulong fp)
    {
        for (int i = 0; i < Hashes; i++)
        {
            ulong b = Bit(fp, i);
            if ((_words[b >> 6] & (1UL << (int)(b & 63))) == 0) return false;
        }
        return true;
    }

    /// <summary>(1 - e^(-k n / m))^k: the chance that a new state is wrongly taken as visited, at the end of the run.</summary>
    public double MissProbability => Math.Pow(1 - Math.Exp(-Hashes * (double)Count / _bits), Hashes);
}
