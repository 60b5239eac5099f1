namespace Multikernel.Properties.Explorer;

/// <summary>
/// An append-only array in 64K-element chunks: no doubling copies, no large
/// over-allocation, and its byte count is what it really holds.
/// </summary>
internal sealed class ChunkedList<T> where T : unmanaged
{
    private const int Shift = 16, Size = 1 << Shift, Mask = Size - 1;
    private readonly List<T[]> _chunks = new();

    public long Count { get; private set; }
    public unsafe long Bytes => (long)_chunks.Count * Size * sizeof(T);

    public void Add(T item)
    {
        if ((Count & Mask) == 0) _chunks.Add(new T[Size]);
        _chunks[(int)(Count >> Shift)][Count & Mask] = item;
        Count++;
    }

    public T this[long i] => _chunks[(int)(i >> Shift)][i & Mask];

    /// <summary>Appends <paramref name="n"/> default elements, to be written through <see cref="At"/> (by several threads, at distinct indices).</summary>
    public void Extend(long n)
    {
        Count += n;
        while ((long)_chunks.Count << Shift < Count) _chunks.Add(new T[Size]);
    }

    public ref T At(long i) => ref _chunks[(int)(i >> Shift)][i & Mask];
}
