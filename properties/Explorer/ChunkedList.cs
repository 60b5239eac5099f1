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
}

/// <summary>The BFS queue of whole states, in 4K-state chunks dropped once consumed.</summary>
internal sealed class StateQueue<T> where T : unmanaged
{
    private const int Size = 4096;
    private readonly Queue<T[]> _chunks = new();
    private T[] _tail = Array.Empty<T>();
    private int _tailPos = Size, _headPos;

    public long Count { get; private set; }
    public long PeakCount { get; private set; }

    public void Enqueue(in T item)
    {
        if (_tailPos == Size) { _tail = new T[Size]; _chunks.Enqueue(_tail); _tailPos = 0; }
        _tail[_tailPos++] = item;
        if (++Count > PeakCount) PeakCount = Count;
    }

    public T Dequeue()
    {
        var head = _chunks.Peek();
        T item = head[_headPos++];
        Count--;
        if (_headPos == Size) { _chunks.Dequeue(); _headPos = 0; }
        return item;
    }
}
