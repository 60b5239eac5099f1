namespace Multikernel.Properties.Explorer;

/// <summary>
/// Holzmann's bitstate hashing: the visited set as a bit array, each state setting
/// <see cref="Hashes"/> bits chosen from its 64-bit fingerprint. A state all of whose bits are
/// already set is taken as visited, so some states may be missed: lossy, for spaces beyond memory.
/// <see cref="MissProbability"/> bounds the chance that a given state was wrongly taken as visited.
/// Bits of different states overlap, so which of two states is taken as new depends on the order
/// of insertion: one partition, inserted in (parent, step) order.
/// </summary>
public sealed class BitstateSet : IVisitedSet
{
    public const int Hashes = 3;
    /// <summary>The largest array: its bytes (a little under 16 GiB).</summary>
    public static readonly long MaxBytes = (long)Array.MaxLength * sizeof(ulong);
    private readonly ulong[] _words;
    private readonly ulong _bits;
    private readonly ulong _seed;

    /// <param name="seed">Picks the hash functions: 0 those of every one-process run; a swarm's searches each their own.</param>
    public BitstateSet(long bytes, ulong seed = 0)
    {
        _seed = seed;
        if (bytes > MaxBytes) throw new ArgumentException($"a bitstate array of {bytes >> 20:N0} MiB is larger than the largest array ({MaxBytes >> 20:N0} MiB)", nameof(bytes));
        long words = Math.Max(1, bytes / sizeof(ulong));
        _words = new ulong[words];
        _bits = (ulong)words * 64;
    }

    public long Count { get; private set; }
    public long Bytes => (long)_words.Length * sizeof(ulong);
    public long GrowBytes(long more) => 0; // never grows: it fills up, and the miss probability says how far

    private ulong Bit(ulong fp, int i)
    {
        // Kirsch-Mitzenmacher: h_i = h1 + i * h2 from the two halves of the fingerprint (mixed with the seed, if any).
        if (_seed != 0) fp = Mix(fp ^ _seed);
        ulong h1 = fp, h2 = (fp >> 32) | (fp << 32) | 1;
        return (h1 + (ulong)i * h2) % _bits;
    }

    /// <summary>splitmix64's finalizer: a bijection that spreads every input bit over the output.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    /// <summary>Sets the state's bits: 0 when one was clear (a new state), -1 when they were all set already (visited, or a collision).</summary>
    public long TryAddShared(ulong fp)
    {
        bool fresh = false;
        for (int i = 0; i < Hashes; i++)
        {
            ulong b = Bit(fp, i);
            ref ulong w = ref _words[b >> 6];
            ulong mask = 1UL << (int)(b & 63);
            if ((w & mask) == 0) { w |= mask; fresh = true; }
        }
        return fresh ? 0 : -1;
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

    public void Prefetch(ulong fp) { } // three scattered words: not worth it ahead of a probe that may stop at the first
    public int Partitions(int threads) => 1;
    public int PartitionOf(ulong fp, int parts) => 0;
    public void Reserve(long more) { }
    public void Added(long added) => Count += added;

    /// <summary>(1 - e^(-k n / m))^k: the chance that a new state is wrongly taken as visited, at the end of the run.</summary>
    public double MissProbability => Math.Pow(1 - Math.Exp(-Hashes * (double)Count / _bits), Hashes);
}
