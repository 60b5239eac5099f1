using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Distributed;

/// <summary>A node's part of a run, whatever its state type: what the grain calls.</summary>
internal interface INodeSearch
{
    bool Receive(int from, byte[] batch);
    Task<ExpandSummary> Expand(ExpandPlan plan, Func<int, byte[], Task<bool>> send);
    InsertResult Insert(long remainingTicks);
    void Commit(uint[] ids);
    PendingPage Pending(long from, int max);
    byte[] Checkpoint(int from, int max);
    bool Load(byte[] records, bool frontier);
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
/// --max-memory holds on every node for that node (<see cref="Held"/>): the sets, the level's states, the batches
/// received and being filled, the pending states, and on node 0 the coordinator's parent links. An allocation is
/// charged before it is made, as the one-process search charges its own; one that would pass the bound stops the
/// node (a batch from another node is refused, and its sender stops), and the coordinator ends the run as a bound.
/// --time-limit is checked between batches of the frontier, so a long level stops within one batch of it.
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
    private readonly long _limit;
    private long _receivedBytes, _outgoingBytes, _elsewhere;
    /// <summary>What this node's bound refused (a batch received while it expanded or after), or null.</summary>
    private string? _memoryHit;
    /// <summary>Frontier states expanded between two checks of the bounds.</summary>
    private const int CheckStates = 256;

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
        _limit = plan.MaxMemory > 0 ? plan.MaxMemory : MemoryLimit.DefaultBound;
    }

    /// <summary>What this node holds, by its own count: its sets, levels, batches, pending states, and what the coordinator holds in its process.</summary>
    internal long Held =>
        _visited.Bytes + _seen.Bytes + _fresh.Bytes + _frontier.Bytes + (long)_ids.Length * sizeof(uint) + (long)_loadedIds.Capacity * sizeof(uint)
        + (_entries?.Bytes ?? 0) + (_pending?.Bytes ?? 0)
        + Volatile.Read(ref _receivedBytes) + Volatile.Read(ref _outgoingBytes) + Volatile.Read(ref _elsewhere);

    private bool Fits(long more) => Held + more <= _limit;

    /// <summary>The bytes a chunked list allocates to take <paramref name="more"/> items (its chunks are of 64K items).</summary>
    private static long Growth<T>(ChunkedList<T>? list, long more) where T : unmanaged
    {
        if (list is null || more <= 0) return 0;
        long chunk = (1L << 16) * Unsafe.SizeOf<T>();
        long need = (list.Count + more + (1L << 16) - 1) >> 16;
        return Math.Max(0, need * chunk - list.Bytes);
    }

    internal static int Owner(ulong fp, int nodes) => Partitions.Owner(fp, nodes);

    /// <summary>Keeps a batch of candidates; false (the batch dropped) when it would pass this node's memory bound.</summary>
    public bool Receive(int from, byte[] batch)
    {
        if ((uint)from >= (uint)_received.Length || batch.Length % _record != 0)
            throw new InvalidOperationException($"node {_node}: a batch from {from} of {batch.Length} bytes is not whole records of {_record}");
        lock (_receiving)
        {
            if (_memoryHit is not null) return false;
            if (!Fits(batch.Length))
            {
                _memoryHit = $"receiving {batch.Length:N0} bytes of candidates from {(from == _nodes ? "the coordinator" : $"node {from}")}";
                return false;
            }
            _received[from].Add(batch);
            Interlocked.Add(ref _receivedBytes, batch.Length);
        }
        return true;
    }

    // Judged as the explorer judges: pending on every state only when cycles are searched.
    private ulong Judge(in TState s) =>
        (_spec.Violated(s) & _always) | (_spec.Reached(s) & _sometimes) | (_pendingAll ? _spec.Pending(s) & _eventually : 0);

    public async Task<ExpandSummary> Expand(ExpandPlan plan, Func<int, byte[], Task<bool>> send)
    {
        int depth = plan.Depth;
        Volatile.Write(ref _elsewhere, plan.Elsewhere);
        long deadline = plan.RemainingTicks < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(plan.RemainingTicks / (double)TimeSpan.TicksPerSecond * Stopwatch.Frequency);
        var terminal = new long[_props];
        Array.Fill(terminal, long.MaxValue);
        long transitions = 0, crashKey = long.MaxValue, sent = 0;
        Exception? crash = null;
        bool depthBound = false, timeBound = false;
        string? memoryHit = null;
        int stoppedBy = -1;
        var outgoing = new Batch[_nodes];
        for (int n = 0; n < _nodes; n++) outgoing[n] = new Batch(0);
        Task<bool> pendingSend = Task.FromResult(true);
        int pendingTo = -1;
        var actions = new TAction[SpecLimits.MaxEnabled];
        _seen.Clear();
        var f = _frontier;
        int i = 0;
        try
        {
        for (; i < f.Count; i++)
        {
            if (i % CheckStates == 0)
            {
                if (Stopwatch.GetTimestamp() > deadline) { timeBound = true; break; }
                if (Volatile.Read(ref _memoryHit) is not null) { memoryHit = _memoryHit; break; }
                if (pendingSend.IsCompleted && !pendingSend.Result) { stoppedBy = pendingTo; break; }
            }
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
                // Charged before they grow: the seen set, the owner's batch.
                if (_seen.GrowBytes(1) is > 0 and var grow && !Fits(grow)) { memoryHit = "expanding (the level's seen set)"; break; }
                if (!_seen.Add(fp)) continue; // this node meets its candidates in key order: only its first sighting can win
                var b = outgoing[owner];
                if (b.GrowBytes(_record) is > 0 and var more)
                {
                    if (!Fits(more)) { memoryHit = "expanding (a batch of candidates)"; break; }
                    Interlocked.Add(ref _outgoingBytes, more - b.Capacity);
                }
                b.Add(((ulong)id << 8) | (uint)k, fp, parentBits, t);
                if (b.Length >= BatchBytes)
                {
                    if (!await pendingSend.ConfigureAwait(false)) { stoppedBy = pendingTo; break; }
                    if (!Fits(b.Length)) { memoryHit = "expanding (a message of candidates)"; break; }
                    sent += owner == _node ? 0 : b.Length;
                    (pendingSend, pendingTo) = (Ship(owner, b.Take(), send), owner);
                }
            }
            if (memoryHit is not null || stoppedBy >= 0) break;
        }
        if (!await pendingSend.ConfigureAwait(false) && stoppedBy < 0) stoppedBy = pendingTo;
        memoryHit ??= Volatile.Read(ref _memoryHit);
        if (memoryHit is null && stoppedBy < 0 && !timeBound)
            for (int n = 0; n < _nodes; n++)
            {
                if (outgoing[n].Length == 0) continue;
                if (!Fits(outgoing[n].Length)) { memoryHit = "expanding (a message of candidates)"; break; }
                sent += n == _node ? 0 : outgoing[n].Length;
                if (!await Ship(n, outgoing[n].Take(), send).ConfigureAwait(false)) { stoppedBy = n; break; }
            }
        }
        finally { Interlocked.Exchange(ref _outgoingBytes, 0); }
        if (memoryHit is not null) Volatile.Write(ref _memoryHit, memoryHit);
        for (int p = 0; p < _props; p++) if (terminal[p] == long.MaxValue) terminal[p] = -1;
        return new ExpandSummary
        {
            Transitions = transitions, Terminal = terminal, CrashKey = crashKey, CrashMessage = crash is null ? null : UserCode.Describe(crash),
            CrashIsContract = crash is StepContractException, DepthBound = depthBound, BytesSent = sent, PeakRss = PeakRss(),
            MemoryHit = memoryHit, TimeBound = timeBound, Expanded = Math.Min(i, f.Count), Frontier = f.Count, Held = Held, Limit = _limit,
            StoppedBy = stoppedBy == _node ? -1 : stoppedBy,
        };

        void Crash(uint id, int k, Exception e)
        {
            long key = ((long)id << 8) | (long)(k + 1);
            if (key < crashKey) { crashKey = key; crash = e; }
        }
    }

    /// <summary>A batch to its owner (this node: received here); a message in flight is held until it is answered.</summary>
    private async Task<bool> Ship(int owner, byte[] batch, Func<int, byte[], Task<bool>> send)
    {
        if (owner == _node) return Receive(_node, batch);
        Interlocked.Add(ref _outgoingBytes, batch.Length);
        try { return await send(owner, batch).ConfigureAwait(false); }
        finally { Interlocked.Add(ref _outgoingBytes, -batch.Length); }
    }

    public InsertResult Insert(long remainingTicks)
    {
        long deadline = remainingTicks < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(remainingTicks / (double)TimeSpan.TicksPerSecond * Stopwatch.Frequency);
        if (Volatile.Read(ref _memoryHit) is { } hit) return new InsertResult { MemoryHit = hit, Held = Held, Limit = _limit };
        long records = 0;
        lock (_receiving) foreach (var s in _received) foreach (var b in s) records += b.Length / _record;
        // Charged before any of it: the set's resize, the level's arrays, the keys sent back, the pending states and entries.
        long need = _visited.GrowBytes(records) + _fresh.BytesFor(records) + records * sizeof(ulong)
                    + Growth(_pending, records) + Growth(_entries?.States, records) + Growth(_entries?.Ids, records) + Growth(_entries?.Bits, records);
        if (!Fits(need))
        {
            _memoryHit = $"inserting {records:N0} candidates (needing {need / (1 << 20):N0} MiB more)";
            return new InsertResult { MemoryHit = _memoryHit, Held = Held, Limit = _limit };
        }
        _fresh.Clear();
        _fresh.Ensure(records);
        var first = new int[_props];
        Array.Fill(first, -1);
        List<byte[]>[] streams;
        lock (_receiving)
        {
            streams = new List<byte[]>[_received.Length];
            for (int i = 0; i < streams.Length; i++) { streams[i] = _received[i]; _received[i] = new(); }
        }
        _visited.Reserve(records);
        // One cursor per sender: (batch, offset). Each sender's records are in key order already.
        Span<int> batch = stackalloc int[streams.Length];
        Span<int> offset = stackalloc int[streams.Length];
        batch.Clear();
        offset.Clear();
        long added = 0, merged = 0;
        while (true)
        {
            // The time limit, every 4,096 records: a long merge stops too (the level is then not added).
            if ((++merged & 4095) == 0 && Stopwatch.GetTimestamp() > deadline)
            {
                _visited.Added(added);
                Interlocked.Exchange(ref _receivedBytes, 0);
                return new InsertResult { TimeBound = true, FirstWith = first };
            }
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
        Interlocked.Exchange(ref _receivedBytes, 0); // the batches are let go with the streams
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

    /// <summary>
    /// Takes back checkpointed records this node owns: into the set (and the pending states), and into the frontier if they
    /// are the last level's; false, nothing taken, when they would pass this node's memory bound.
    /// </summary>
    public bool Load(byte[] records, bool frontier)
    {
        if (records.Length % CheckpointRecord != 0) throw new InvalidOperationException($"node {_node}: checkpoint records of {records.Length} bytes");
        long n = records.Length / CheckpointRecord;
        long need = _visited.GrowBytes(n) + (frontier ? _frontier.BytesFor(_frontier.Count + n) + n * sizeof(uint) : 0)
                    + Growth(_pending, n) + Growth(_entries?.States, n) + Growth(_entries?.Ids, n) + Growth(_entries?.Bits, n);
        if (!Fits(need))
        {
            _memoryHit = $"loading {n:N0} states of the checkpoint";
            return false;
        }
        if (frontier) _frontier.Ensure(_frontier.Count + n);
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
        return true;
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

        private static long PerState => 4 * sizeof(ulong) + Unsafe.SizeOf<TState>();
        public long Bytes => Keys.Length * PerState;

        /// <summary>The bytes <see cref="Ensure"/> allocates for <paramref name="n"/> states.</summary>
        public long BytesFor(long n) => n <= Keys.Length ? 0 : n * PerState;

        /// <summary>Room for <paramref name="n"/> states in one resize (charged before, by <see cref="BytesFor"/>).</summary>
        public void Ensure(long n)
        {
            if (n <= Keys.Length) return;
            int m = checked((int)n);
            Array.Resize(ref Keys, m);
            Array.Resize(ref Fingerprints, m);
            Array.Resize(ref Bits, m);
            Array.Resize(ref ParentBits, m);
            Array.Resize(ref States, m);
        }

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

        /// <summary>The bytes the next <see cref="Add"/> of <paramref name="size"/> allocates: 0, or a new array (from 64 KiB, doubling).</summary>
        public int Capacity => _bytes.Length;

        public long GrowBytes(int size) => Length + size <= _bytes.Length ? 0 : NewCapacity(size);

        private int NewCapacity(int size) => Math.Max(Math.Max(_bytes.Length * 2, 64 << 10), Length + size);

        public void Add(ulong key, ulong fp, ulong parentBits, in TState s)
        {
            int size = 3 * sizeof(ulong) + Unsafe.SizeOf<TState>();
            if (Length + size > _bytes.Length) Array.Resize(ref _bytes, NewCapacity(size));
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
