using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Distributed;

/// <summary>A node's part of a run, whatever its state type: what the grain calls.</summary>
internal interface INodeSearch
{
    void Receive(int from, byte[] batch);
    Task<ExpandSummary> Expand(int depth, Func<int, byte[], Task> send);
    InsertResult Insert();
    void Commit(uint[] ids);
    PendingPage Pending(long from, int max);
    byte[] Checkpoint(int from, int max);
    void Load(byte[] records, bool frontier);
    void Loaded();
}

/// <summary>How fingerprints are partitioned among nodes, and the size of the messages that carry records.</summary>
internal static class Partitions
{
    /// <summary>A batch is sent once it holds this many bytes: few, large messages per level.</summary>
    public const int BatchBytes = 4 << 20;

    /// <summary>The node that owns <paramref name="fp"/>: by its low half (the sets index slots by the high bits, which stay spread).</summary>
    public static int Owner(ulong fp, int nodes) => (int)(((fp & 0xffff_ffffUL) * (ulong)nodes) >> 32);
}

/// <summary>
/// One node of the distributed breadth-first search (LTSmin's and DiVinE's hash-partitioned BFS, TLC's
/// fingerprint servers): it owns the fingerprints whose <see cref="Owner"/> is its index, the states of
/// the frontier among them, and their judged bits. Per level:
/// <list type="number">
/// <item><b>Expand</b>: every owned frontier state, in id order, is expanded; each successor new to this
/// node in this level goes, as a record (key = parent id and step, fingerprint, parent's pending bits,
/// state), into a batch for its owner, sent when it is large. A sender's records are in key order.</item>
/// <item><b>Insert</b>: the records received are merged across senders by key — the order the sequential
/// BFS meets them — and added to the owned set; the first of a fingerprint wins, as in one process. New
/// states are judged here; their keys go to the coordinator.</item>
/// <item><b>Commit</b>: the coordinator, having merged every node's keys, hands back the ids (ranks) of this
/// node's new states; those kept are the next frontier.</item>
/// </list>
/// </summary>
internal sealed class NodeSearch<TState, TAction> : INodeSearch where TState : unmanaged where TAction : unmanaged
{
    internal const int BatchBytes = Partitions.BatchBytes;

    private readonly ISpec<TState, TAction> _spec;
    private readonly int _node, _nodes, _maxDepth, _record, _stateBytes = Unsafe.SizeOf<TState>();
    private readonly bool _pendingAll;
    private readonly ulong _always, _eventually, _sometimes;
    private readonly int _props;
    private readonly FingerprintSet _visited = new();
    private readonly FingerprintSet _seen = new();
    private readonly List<byte[]>[] _received;
    private readonly Lock _receiving = new();

    // The level's new states, in key order, and the frontier (the kept ones, with their ids).
    private Level _fresh = new(), _frontier = new();
    private uint[] _ids = [];
    private readonly PendingEntries<TState>? _entries;
    private readonly ChunkedList<ulong>? _pending;

    public NodeSearch(ISpec<TState, TAction> spec, NodePlan plan)
    {
        _spec = spec;
        _node = plan.Node;
        _nodes = plan.Nodes.Length;
        _maxDepth = plan.MaxDepth;
        _pendingAll = plan.PendingAll;
        _props = spec.Properties.Count + 1; // and no-crash, last, as the explorer numbers them
        for (int i = 0; i < spec.Properties.Count; i++)
            switch (spec.Properties[i].Kind)
            {
                case PropertyKind.Always: _always |= 1UL << i; break;
                case PropertyKind.Eventually: _eventually |= 1UL << i; break;
                default: _sometimes |= 1UL << i; break;
            }
        _record = 3 * sizeof(ulong) + _stateBytes;
        _received = new List<byte[]>[_nodes + 1]; // the coordinator sends the initial states as sender _nodes
        for (int i = 0; i < _received.Length; i++) _received[i] = new();
        if (_pendingAll) { _entries = new(); _pending = new(); }
    }

    internal static int Owner(ulong fp, int nodes) => Partitions.Owner(fp, nodes);

    public void Receive(int from, byte[] batch)
    {
        if ((uint)from >= (uint)_received.Length || batch.Length % _record != 0)
            throw new InvalidOperationException($"node {_node}: a batch from {from} of {batch.Length} bytes is not whole records of {_record}");
        lock (_receiving) _received[from].Add(batch);
    }

    // Judged as the explorer judges: pending on every state only when cycles are searched.
    private ulong Judge(in TState s) =>
        (_spec.Violated(s) & _always) | (_spec.Reached(s) & _sometimes) | (_pendingAll ? _spec.Pending(s) & _eventually : 0);

    public async Task<ExpandSummary> Expand(int depth, Func<int, byte[], Task> send)
    {
        var terminal = new long[_props];
        Array.Fill(terminal, long.MaxValue);
        long transitions = 0, crashKey = long.MaxValue, sent = 0;
        Exception? crash = null;
        bool depthBound = false;
        var outgoing = new Batch[_nodes];
        for (int n = 0; n < _nodes; n++) outgoing[n] = new Batch(BatchBytes + _record);
        Task pendingSend = Task.CompletedTask;
        var actions = new TAction[SpecLimits.MaxEnabled];
        _seen.Clear();
        var f = _frontier;
        for (int i = 0; i < f.Count; i++)
        {
            uint id = _ids[i];
            var s = f.States[i];
            int n;
            try { n = _spec.Enabled(s, actions); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Crash(id, -1, e);
                continue;
            }
            if (n == 0)
            {
                for (ulong owed = (_pendingAll ? f.Bits[i] : _spec.Pending(s)) & _eventually; owed != 0; owed &= owed - 1)
                {
                    int p = BitOperations.TrailingZeroCount(owed);
                    terminal[p] = Math.Min(terminal[p], id);
                }
                continue;
            }
            if (depth >= _maxDepth) { depthBound = true; continue; }
            ulong parentBits = f.Bits[i] & _eventually;
            for (int k = 0; k < n; k++)
            {
                TState t;
                try { t = _spec.Next(s, actions[k]); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Crash(id, k, e);
                    continue;
                }
                transitions++;
                ulong fp = Fingerprint.Of(t);
                int owner = Owner(fp, _nodes);
                if (owner == _node && _visited.Contains(fp)) continue;
                if (!_seen.Add(fp)) continue; // this node meets its candidates in key order: only its first sighting can win
                var b = outgoing[owner];
                b.Add(((ulong)id << 8) | (uint)k, fp, parentBits, t);
                if (b.Length >= BatchBytes)
                {
                    await pendingSend.ConfigureAwait(false);
                    sent += owner == _node ? 0 : b.Length;
                    pendingSend = Ship(owner, b.Take(), send);
                }
            }
        }
        await pendingSend.ConfigureAwait(false);
        for (int n = 0; n < _nodes; n++)
        {
            if (outgoing[n].Length == 0) continue;
            sent += n == _node ? 0 : outgoing[n].Length;
            await Ship(n, outgoing[n].Take(), send).ConfigureAwait(false);
        }
        for (int p = 0; p < _props; p++) if (terminal[p] == long.MaxValue) terminal[p] = -1;
        return new ExpandSummary
        {
            Transitions = transitions, Terminal = terminal, CrashKey = crashKey, CrashMessage = crash is null ? null : UserCode.Describe(crash),
            CrashIsContract = crash is StepContractException, DepthBound = depthBound, BytesSent = sent, PeakRss = PeakRss(),
        };

        void Crash(uint id, int k, Exception e)
        {
            long key = ((long)id << 8) | (long)(k + 1);
            if (key < crashKey) { crashKey = key; crash = e; }
        }
    }

    private Task Ship(int owner, byte[] batch, Func<int, byte[], Task> send)
    {
        if (owner != _node) return send(owner, batch);
        Receive(_node, batch);
        return Task.CompletedTask;
    }

    public InsertResult Insert()
    {
        _fresh.Clear();
        var first = new int[_props];
        Array.Fill(first, -1);
        List<byte[]>[] streams;
        lock (_receiving)
        {
            streams = new List<byte[]>[_received.Length];
            for (int i = 0; i < streams.Length; i++) { streams[i] = _received[i]; _received[i] = new(); }
        }
        long records = 0;
        foreach (var s in streams) foreach (var b in s) records += b.Length / _record;
        _visited.Reserve(records);
        // One cursor per sender: (batch, offset). Each sender's records are in key order already.
        Span<int> batch = stackalloc int[streams.Length];
        Span<int> offset = stackalloc int[streams.Length];
        batch.Clear();
        offset.Clear();
        long added = 0;
        while (true)
        {
            int best = -1;
            ulong key = ulong.MaxValue;
            for (int i = 0; i < streams.Length; i++)
            {
                if (batch[i] >= streams[i].Count) continue;
                ulong k = BitConverter.ToUInt64(streams[i][batch[i]].AsSpan(offset[i]));
                if (best < 0 || k < key) { key = k; best = i; }
            }
            if (best < 0) break;
            var rec = streams[best][batch[best]].AsSpan(offset[best], _record);
            offset[best] += _record;
            if (offset[best] == streams[best][batch[best]].Length) { batch[best]++; offset[best] = 0; }
            ulong fp = BitConverter.ToUInt64(rec[8..]);
            if (_visited.TryAddShared(fp) < 0) continue;
            added++;
            var state = MemoryMarshal.Read<TState>(rec[24..]);
            ulong bits = Judge(state);
            for (ulong b = bits & (_always | _sometimes); b != 0; b &= b - 1)
            {
                int p = BitOperations.TrailingZeroCount(b);
                if (first[p] < 0) first[p] = _fresh.Count;
            }
            _fresh.Add(key, fp, bits, BitConverter.ToUInt64(rec[16..]), state);
        }
        _visited.Added(added);
        return new InsertResult { Keys = _fresh.Keys.AsSpan(0, _fresh.Count).ToArray(), FirstWith = first };
    }

    public void Commit(uint[] ids)
    {
        if (ids.Length > _fresh.Count) throw new InvalidOperationException($"node {_node}: {ids.Length} ids for {_fresh.Count} new states");
        if (_entries is not null)
            for (int i = 0; i < ids.Length; i++)
            {
                ulong owed = _fresh.Bits[i] & _eventually;
                if (owed == 0) continue;
                _pending!.Add(_fresh.Fingerprints[i]);
                ulong entered = owed & ~_fresh.ParentBits[i];
                if (entered != 0) _entries.Add(_fresh.States[i], ids[i], entered);
            }
        _fresh.Count = ids.Length; // beyond the state bound: not kept
        (_frontier, _fresh) = (_fresh, _frontier);
        _ids = ids;
    }

    // ---- checkpoints: a level's kept new states as records (fingerprint, id, bits, parent's pending bits, state) ----

    internal int CheckpointRecord => CheckpointFiles.RecordBytes(_stateBytes);

    /// <summary>The frontier's records [from, from + max): what a checkpoint keeps of this node's part of the level just numbered.</summary>
    public byte[] Checkpoint(int from, int max)
    {
        var f = _frontier;
        int to = Math.Min(f.Count, from + max);
        var bytes = new byte[Math.Max(0, to - from) * CheckpointRecord];
        for (int i = from; i < to; i++)
        {
            var span = bytes.AsSpan((i - from) * CheckpointRecord, CheckpointRecord);
            BitConverter.TryWriteBytes(span, f.Fingerprints[i]);
            BitConverter.TryWriteBytes(span[8..], _ids[i]);
            BitConverter.TryWriteBytes(span[12..], f.Bits[i]);
            BitConverter.TryWriteBytes(span[20..], f.ParentBits[i]);
            MemoryMarshal.Write(span[28..], in f.States[i]);
        }
        return bytes;
    }

    private readonly List<uint> _loadedIds = new();

    /// <summary>Takes back checkpointed records this node owns: into the set (and the pending states), and into the frontier if they are the last level's.</summary>
    public void Load(byte[] records, bool frontier)
    {
        if (records.Length % CheckpointRecord != 0) throw new InvalidOperationException($"node {_node}: checkpoint records of {records.Length} bytes");
        for (int at = 0; at < records.Length; at += CheckpointRecord)
        {
            var span = records.AsSpan(at, CheckpointRecord);
            ulong fp = BitConverter.ToUInt64(span);
            uint id = BitConverter.ToUInt32(span[8..]);
            ulong bits = BitConverter.ToUInt64(span[12..]), parentBits = BitConverter.ToUInt64(span[20..]);
            var state = MemoryMarshal.Read<TState>(span[28..]);
            _visited.Add(fp);
            if (_entries is not null && (bits & _eventually) is var owed and not 0)
            {
                _pending!.Add(fp);
                if ((owed & ~parentBits) is var entered and not 0) _entries.Add(state, id, entered);
            }
            if (!frontier) continue;
            _frontier.Add(0, fp, bits, parentBits, state);
            _loadedIds.Add(id);
        }
    }

    /// <summary>The loaded frontier in id order, as the search keeps it.</summary>
    public void Loaded()
    {
        var ids = _loadedIds.ToArray();
        var order = new int[ids.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(ids, order);
        var f = new Level();
        foreach (int i in order) f.Add(0, _frontier.Fingerprints[i], _frontier.Bits[i], _frontier.ParentBits[i], _frontier.States[i]);
        _frontier = f;
        _ids = ids;
        _loadedIds.Clear();
    }

    public PendingPage Pending(long from, int max)
    {
        if (_pending is null || _entries is null) return new PendingPage();
        long total = Math.Max(_pending.Count, _entries.Count);
        long to = Math.Min(total, from + max);
        var fps = new List<ulong>();
        for (long i = from; i < Math.Min(to, _pending.Count); i++) fps.Add(_pending[i]);
        var ids = new List<uint>();
        var bits = new List<ulong>();
        var states = new List<TState>();
        for (long i = from; i < Math.Min(to, _entries.Count); i++) { ids.Add(_entries.Ids[i]); bits.Add(_entries.Bits[i]); states.Add(_entries.States[i]); }
        return new PendingPage
        {
            Pending = [.. fps], EntryIds = [.. ids], EntryBits = [.. bits],
            EntryStates = MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(states)).ToArray(), More = to < total,
        };
    }

    /// <summary>VmHWM of this process, in bytes; 0 where /proc does not say.</summary>
    internal static long PeakRss()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>A level's states on this node, in key order: growable arrays, no per-state objects.</summary>
    private sealed class Level
    {
        public ulong[] Keys = new ulong[256], Fingerprints = new ulong[256], Bits = new ulong[256], ParentBits = new ulong[256];
        public TState[] States = new TState[256];
        public int Count;

        public void Clear() => Count = 0;

        public void Add(ulong key, ulong fp, ulong bits, ulong parentBits, in TState s)
        {
            if (Count == Keys.Length)
            {
                int n = Count * 2;
                Array.Resize(ref Keys, n);
                Array.Resize(ref Fingerprints, n);
                Array.Resize(ref Bits, n);
                Array.Resize(ref ParentBits, n);
                Array.Resize(ref States, n);
            }
            Keys[Count] = key;
            Fingerprints[Count] = fp;
            Bits[Count] = bits;
            ParentBits[Count] = parentBits;
            States[Count] = s;
            Count++;
        }
    }

    /// <summary>Records for one owner: key, fingerprint, parent's pending bits, state.</summary>
    internal sealed class Batch(int capacity)
    {
        private byte[] _bytes = new byte[capacity];
        public int Length { get; private set; }

        public void Add(ulong key, ulong fp, ulong parentBits, in TState s)
        {
            int size = 3 * sizeof(ulong) + Unsafe.SizeOf<TState>();
            if (Length + size > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + size));
            var span = _bytes.AsSpan(Length, size);
            BitConverter.TryWriteBytes(span, key);
            BitConverter.TryWriteBytes(span[8..], fp);
            BitConverter.TryWriteBytes(span[16..], parentBits);
            MemoryMarshal.Write(span[24..], in s);
            Length += size;
        }

        /// <summary>The records so far, as a message of their own; the batch starts empty.</summary>
        public byte[] Take()
        {
            var m = _bytes.AsSpan(0, Length).ToArray();
            Length = 0;
            return m;
        }
    }
}
