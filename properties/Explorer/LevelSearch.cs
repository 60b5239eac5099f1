using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// Breadth-first search, one level at a time, on any number of threads, with a result that
/// does not depend on how many. A level is searched in three phases:
/// <list type="number">
/// <item><b>Expand</b> (parallel): workers claim chunks of the frontier in order, run every
/// enabled step, fingerprint the successors (prefetching their home slots), and keep those
/// in no earlier level and new to the worker as candidates, sorted by fingerprint range into
/// one buffer per partition. The visited set is only read in this phase.</item>
/// <item><b>Insert</b> (parallel by partition): a partition merges its workers' buffers in
/// (parent id, step) order, which is the order the sequential BFS would meet them, and
/// inserts each fingerprint with a compare-and-swap. A fingerprint belongs to one partition,
/// so the first candidate inserted — the winner — is the one with the smallest (parent, step),
/// whichever thread ran it. The properties are judged on each new state here.</item>
/// <item><b>Commit</b> (parallel by partition): a new state's id is its rank in (parent, step)
/// order across the partitions. The ids, parent links, witnesses and next frontier are those
/// of the sequential BFS, so counts and counterexamples are the same at any thread count.</item>
/// </list>
/// Bitstate insertion is order-dependent (bits of different states overlap), so in that
/// mode the insert phase is one partition.
/// </summary>
internal sealed partial class LevelSearch<TState, TAction> where TState : unmanaged where TAction : unmanaged
{
    public const uint Root = uint.MaxValue;
    private const int ChunkStates = 256;
    /// <summary>Frontier states whose successors are made (and their slots prefetched) before any is probed.</summary>
    private const int BatchStates = 16;

    private readonly ISpec<TState, TAction> _spec;
    private readonly ExploreOptions _options;
    private readonly ulong _always, _eventually, _sometimes, _all;
    private readonly int _threads, _parts;
    private readonly bool _graph, _pendingAll, _fair;
    private readonly int _stateBytes = Unsafe.SizeOf<TState>();
    private readonly IVisitedSet _visited;
    /// <summary>What the buffers' states are packed against: the first initial state.</summary>
    private TState _reference;

    /// <summary>The visited set: exact fingerprints, or bitstate.</summary>
    public IVisitedSet Visited => _visited;
    /// <summary>The exact set, for the cycle searches that index their colours by its slots; null in bitstate mode.</summary>
    public FingerprintSet? Exact => _visited as FingerprintSet;
    /// <summary>Graph mode: each fingerprint's state id, to resolve the edges.</summary>
    public StateIds? Ids { get; }
    public ChunkedList<uint> Parent { get; } = new();
    public ChunkedList<byte> Choice { get; } = new();
    public ChunkedList<uint>? EdgeStart { get; }
    public ChunkedList<uint>? Edges { get; }
    public ChunkedList<ulong>? PendingOf { get; }
    /// <summary>Graph mode with fairness: each edge's actor plus one (0: an actor owed nothing), and each state's enabled fair actors.</summary>
    public ChunkedList<byte>? EdgeActor { get; }
    public ChunkedList<ulong>? EnabledOf { get; }
    /// <summary>States where an obligation became pending (pending, and not in the parent): where a cycle search starts.</summary>
    public PendingEntries<TState>? Entries { get; }

    public long[] Witness { get; }
    public ulong Decided { get; private set; }
    public ulong Reached { get; private set; }
    public (uint State, int Choice, Exception Error)? Crashed { get; private set; }
    public Bound Bound { get; private set; }
    public bool StoppedEarly { get; private set; }
    public bool StoppedAtFirst { get; private set; }
    public uint States { get; private set; }
    public long Transitions { get; private set; }
    public int Depth { get; private set; }
    public long PeakLevelBytes { get; private set; }
    public TimeSpan Elapsed => _clock.Elapsed;

    private readonly int _crashBit;
    private readonly Stopwatch _clock = new();
    private readonly long _deadline;
    private long _lastProgress;
    private Crew? _crew;
    private int _abort; // a Bound, set by a worker that hit the time or memory bound

    // The level being expanded and the one being built: states and their judged bits.
    // A frontier state is not copied out of the buffer it was inserted from: the frontier is a list of
    // references (worker, partition, index) into the previous level's candidate buffers, which are
    // kept for one more level (two generations per worker; _gen is the current frontier's). The
    // buffers hold the states packed (StateCodec): unpacked one at a time, where a state is used.
    private long[] _frontier = new long[ChunkStates], _nextFrontier = new long[ChunkStates];
    private int _gen;
    private ulong[] _bits = new ulong[ChunkStates], _nextBits = new ulong[ChunkStates];
    private int _count, _nextCount;
    private uint _levelStart;
    private long _cursor;
    private readonly Worker[] _workers;
    private readonly Fresh[] _fresh;
    // Graph mode: every successor's fingerprint per chunk, resolved to ids once the level is numbered.
    private readonly List<List<ulong>> _chunkEdges = new();
    private readonly List<List<byte>> _chunkActors = new();
    private int[] _outDegree = new int[ChunkStates];
    private ulong[] _enabledActors = new ulong[ChunkStates];
    private ulong[] _entered = new ulong[ChunkStates];

    public LevelSearch(ISpec<TState, TAction> spec, ExploreOptions options, IReadOnlyList<Property> props, bool graph, bool entries)
    {
        _spec = spec;
        _options = options;
        for (int i = 0; i < props.Count; i++)
            switch (props[i].Kind)
            {
                case PropertyKind.Always: _always |= 1UL << i; break;
                case PropertyKind.Eventually: _eventually |= 1UL << i; break;
                default: _sometimes |= 1UL << i; break;
            }
        _all = _always | _eventually | _sometimes;
        _crashBit = props.Count - 1;
        _graph = graph;
        _threads = Math.Max(1, options.Threads);
        if (options.BitstateBytes >= options.MaxMemory)
            throw new ArgumentException($"{spec.Name}: a bitstate array of {options.BitstateBytes >> 20:N0} MiB does not fit in the memory bound of {options.MaxMemory >> 20:N0} MiB");
        if (options.BitstateBytes > 0) _visited = new BitstateSet(options.BitstateBytes, options.BitstateSeed);
        else
        {
            var exact = new FingerprintSet(FingerprintSet.CapacityFor(options.ExpectedStates, options.MaxMemory / 2));
            if (graph) Ids = new StateIds(exact);
            _visited = exact;
        }
        _parts = _visited.Partitions(_threads);
        if (graph) { EdgeStart = new(); Edges = new(); PendingOf = new(); }
        _fair = graph && spec.FairActors.Count > 0 && !options.Unfair;
        if (_fair) { EdgeActor = new(); EnabledOf = new(); }
        if (entries) Entries = new();
        _pendingAll = graph || entries;
        Witness = new long[props.Count];
        Array.Fill(Witness, -1L);
        _deadline = options.TimeLimit is { } tl ? (long)(tl.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        _workers = new Worker[_threads];
        for (int w = 0; w < _threads; w++) _workers[w] = new Worker(this, _parts, props.Count);
        _fresh = new Fresh[_parts];
        for (int p = 0; p < _parts; p++) _fresh[p] = new Fresh(graph);
    }

    public long StoreBytes => _visited.Bytes + (Ids?.Bytes ?? 0) + Parent.Bytes + Choice.Bytes + (EdgeStart?.Bytes ?? 0)
                              + (Edges?.Bytes ?? 0) + (PendingOf?.Bytes ?? 0) + (Entries?.Bytes ?? 0) + (EdgeActor?.Bytes ?? 0) + (EnabledOf?.Bytes ?? 0);

    // ---- memory ------------------------------------------------------------------------
    // --max-memory bounds what the search holds: the store, the level's buffers (capacities, both
    // generations), the next resize of any of them while the old one is still held, and the arrays
    // a resize dropped that the GC may not have taken back yet. Each allocation of a buffer is charged
    // before it is made; one that would pass the bound stops the level unadded (Bound.Memory).

    private long _buffers; // the level's buffers, and charges for allocations under way
    private long _garbage; // arrays dropped since the last collection forced here
    private readonly Lock _collecting = new();

    /// <summary>The peak of what the search held, by its own count (store, buffers, dropped arrays not yet collected).</summary>
    public long PeakHeldBytes { get; private set; }

    /// <summary>
    /// Charges <paramref name="more"/> bytes about to be allocated, <paramref name="dropped"/> of which are
    /// let go once it is done (the old array of a resize); false, with nothing charged, when they would
    /// pass the bound even after a forced collection. Any thread.
    /// </summary>
    internal bool TryCharge(long more, long dropped = 0)
    {
        long after = Interlocked.Add(ref _buffers, more);
        if (StoreBytes + after + Volatile.Read(ref _garbage) > _options.MaxMemory)
        {
            lock (_collecting)
            {
                if (Volatile.Read(ref _garbage) > 0)
                {
                    // The dropped arrays are garbage: have them back (and returned to the system) before refusing.
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    Volatile.Write(ref _garbage, 0);
                }
            }
            if (StoreBytes + Volatile.Read(ref _buffers) > _options.MaxMemory)
            {
                Interlocked.Add(ref _buffers, -more);
                return false;
            }
        }
        Interlocked.Add(ref _buffers, -dropped);
        Interlocked.Add(ref _garbage, dropped);
        return true;
    }

    /// <summary>The level's buffers as they are now (between phases): what <see cref="_buffers"/> is reset to.</summary>
    private long LevelBytes()
    {
        long bytes = ((long)_frontier.Length + _nextFrontier.Length) * 2 * sizeof(ulong)
                     + (long)_entered.Length * sizeof(ulong) + (long)_outDegree.Length * sizeof(int) + (long)_enabledActors.Length * sizeof(ulong);
        foreach (var w in _workers) bytes += w.Bytes(_stateBytes);
        foreach (var f in _fresh) bytes += f.Bytes;
        foreach (var c in _chunkEdges) bytes += (long)c.Capacity * sizeof(ulong);
        foreach (var c in _chunkActors) bytes += c.Capacity;
        return bytes;
    }

    /// <summary>
    /// What the insert and commit phases of a level of <paramref name="candidates"/> may allocate, at most:
    /// the visited set's resize, each partition's new-state buffer, the next frontier, and the store's growth.
    /// </summary>
    private long InsertBytes(long candidates, long transitions)
    {
        long bytes = _visited.GrowBytes(candidates);
        for (int p = 0; p < _parts; p++) bytes += _fresh[p].BytesFor(PartCount(p));
        if (_nextFrontier.Length < candidates)
        {
            long n = Math.Max(candidates, _nextFrontier.Length * 5L / 4);
            bytes += n * 2 * sizeof(ulong) + (Entries is not null && _entered.Length < candidates ? n * sizeof(ulong) : 0);
        }
        long perState = sizeof(uint) + sizeof(byte) + (PendingOf is null ? 0 : sizeof(ulong)) + (Entries is null ? 0 : _stateBytes + sizeof(uint) + sizeof(ulong))
                        + (EdgeStart is null ? 0 : sizeof(uint)) + (EnabledOf is null ? 0 : sizeof(ulong));
        long perEdge = (Edges is null ? 0 : sizeof(uint)) + (EdgeActor is null ? 0 : 1);
        const long chunk = 1 << 16; // a ChunkedList grows by 64K elements: one more chunk of each
        return bytes + (candidates + chunk) * perState + (transitions + chunk) * perEdge;
    }

    private int PartCount(int p)
    {
        int n = 0;
        foreach (var w in _workers) n += w.Parts[1 - _gen][p].Count;
        return n;
    }

    /// <summary>Sets the level's buffers' charge to what they hold, after a phase that resized them.</summary>
    private void Recount()
    {
        Volatile.Write(ref _buffers, LevelBytes());
        PeakHeldBytes = Math.Max(PeakHeldBytes, StoreBytes + _buffers + _garbage);
    }

    private static long Ref(int worker, int part, int index) => ((long)worker << 40) | ((long)part << 32) | (uint)index;

    private void StateAt(Unpacker reader, long r, int gen, out TState s)
    {
        int w = (int)(r >> 40), p = (int)(r >> 32) & 0xff;
        reader.Get(_workers[w].Parts[gen][p], w * _parts + p, (int)r, out s);
    }

    public void Run()
    {
        using var crew = new Crew(_threads);
        _crew = crew;
        if (Exact is { } exact) exact.GrowCrew = crew;
        try { Search(); }
        finally
        {
            if (Exact is { } exact2) exact2.GrowCrew = null;
            _crew = null;
        }
    }

    private void Search()
    {
        _clock.Start();
        Recount();
        AddInitialStates();
        Recount();
        while (_count > 0 && Bound == Bound.None)
        {
            _cursor = 0;
            foreach (var w in _workers) w.StartLevel(1 - _gen);
            if (_graph) PrepareEdges();
            Parallel(_threads, Expand);
            long transitionsBefore = Transitions;
            if (GatherExpansion()) break;
            PeakHeldBytes = Math.Max(PeakHeldBytes, StoreBytes + _buffers + _garbage);
            long candidates = 0;
            foreach (var w in _workers) foreach (var b in w.Parts[1 - _gen]) candidates += b.Count;
            // Charged before the first of them: a level that cannot be added whole is not started.
            Forecast(candidates);
            long insertBytes = InsertBytes(candidates, Transitions - transitionsBefore);
            if (!TryCharge(insertBytes))
            {
                // Without the forecast's room, the level may still fit.
                if (Exact is not { Ahead: > 0 } exact) { Bound = Bound.Memory; break; }
                exact.Ahead = 0;
                if (!TryCharge(InsertBytes(candidates, Transitions - transitionsBefore))) { Bound = Bound.Memory; break; }
            }
            PeakHeldBytes = Math.Max(PeakHeldBytes, StoreBytes + _buffers + _garbage);
            for (int p = 0; p < _parts; p++) Interlocked.Add(ref _garbage, _fresh[p].Ensure(PartCount(p)));
            Grown(() => _visited.Reserve(candidates));
            Parallel(_parts, Insert);
            Commit();
            if (_graph) ResolveEdges();
            NoteLevelBytes();
            NextLevel();
            Recount();
            if (Bound != Bound.None) break;
            if (_options.StopWhenAllViolated && (Decided | Reached) == _all) { StoppedEarly = _count > 0; break; }
            // --first: the first violations BFS meets are shortest ones for their properties; stop after their level.
            if (_options.StopAtFirstViolation && (Decided & (_always | _eventually)) != 0) { StoppedEarly = StoppedAtFirst = _count > 0; break; }
            if (_count > 0) Depth++;
            ReportProgress();
        }
        _clock.Stop();
    }

    /// <summary>The initial states are level 0: inserted and numbered as any level's new states are, with the root as parent.</summary>
    private void AddInitialStates()
    {
        var initial = new List<TState>();
        try { _spec.Initial(initial); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw new SpecException($"{_spec.Name}: the initial states threw {UserCode.Describe(e)}", e); }
        if (initial.Count > 256) throw new ArgumentException($"{_spec.Name}: at most 256 initial states");
        if (initial.Count > 0) _reference = initial[0];
        _visited.Reserve(initial.Count);
        _fresh[0].Ensure(initial.Count);
        var buffer = _workers[0].Parts[1][0];
        for (int i = 0; i < initial.Count; i++)
        {
            var s = initial[i];
            ulong fp = Fingerprint.Of(s);
            long slot = _visited.TryAddShared(fp);
            if (slot < 0) continue;
            ulong key = ((ulong)Root << 8) | (uint)i;
            if (!buffer.Add(key, fp, s)) { Bound = Bound.Memory; return; }
            _fresh[0].Add(key, Judge(s), slot, Ref(0, 0, buffer.Count - 1));
        }
        Commit(); // into generation 1 - _gen = 1
        NextLevel();
    }

    /// <summary>The level just numbered becomes the frontier.</summary>
    private void NextLevel()
    {
        (_frontier, _nextFrontier) = (_nextFrontier, _frontier);
        (_bits, _nextBits) = (_nextBits, _bits);
        (_count, _nextCount) = (_nextCount, 0);
        _gen = 1 - _gen;
    }

    // Pending is judged on every state only when cycles are searched; otherwise on terminal states alone.
    private ulong Judge(in TState s) =>
        (_spec.Violated(s) & _always) | (_spec.Reached(s) & _sometimes) | (_pendingAll ? _spec.Pending(s) & _eventually : 0);

    // ---- phase 1: expand ---------------------------------------------------------------

    private void Expand(int wi)
    {
        var w = _workers[wi];
        while (Volatile.Read(ref _abort) == 0)
        {
            long start = Interlocked.Add(ref _cursor, ChunkStates) - ChunkStates;
            if (start >= _count) break;
            int end = (int)Math.Min(start + ChunkStates, _count);
            var edges = _graph ? _chunkEdges[(int)(start / ChunkStates)] : null;
            var actors = _fair ? _chunkActors[(int)(start / ChunkStates)] : null;
            for (int i = (int)start; i < end; i += BatchStates)
            {
                int batchEnd = Math.Min(i + BatchStates, end);
                Successors(w, i, batchEnd, edges, actors);
                Sieve(w);
            }
            if (_clock.ElapsedTicks > _deadline) Interlocked.CompareExchange(ref _abort, (int)Bound.Time, 0);
            if (wi == 0) ReportProgress();
        }
    }

    /// <summary>
    /// First pass over a batch of frontier states: every successor and its fingerprint. One this
    /// worker met a moment ago (<see cref="Worker.Recent"/>) is dropped at once; the others are kept
    /// with their key, and their home slots prefetched: the probes come in <see cref="Sieve"/>, after
    /// the batch, so that the cache misses of a batch overlap instead of following one another.
    /// </summary>
    private void Successors(Worker w, int from, int to, List<ulong>? edges, List<byte>? actors)
    {
        Span<TAction> actions = w.Actions;
        w.BatchCount = 0;
        for (int i = from; i < to; i++)
        {
            uint id = _levelStart + (uint)i;
            StateAt(w.Reader, _frontier[i], _gen, out TState s);
            int n;
            try { n = _spec.Enabled(s, actions); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                w.Crash(id, -1, e); // a state whose steps cannot even be listed is not a terminal one
                continue;
            }
            if (n == 0)
            {
                for (ulong owed = (_pendingAll ? _bits[i] : _spec.Pending(s)) & _eventually; owed != 0; owed &= owed - 1)
                {
                    int p = BitOperations.TrailingZeroCount(owed);
                    w.Terminal[p] = Math.Min(w.Terminal[p], id);
                }
                continue;
            }
            if (Depth >= _options.MaxDepth) { w.DepthBound = true; continue; }
            w.EnsureBatch(n);
            int degree = 0;
            ulong enabled = 0;
            for (int k = 0; k < n; k++)
            {
                int b = w.BatchCount;
                try { w.Batch[b] = _spec.Next(s, actions[k]); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    w.Crash(id, k, e); // a crash has no successor: the kernel is gone
                    continue;
                }
                ulong fp = Fingerprint.Of(w.Batch[b]);
                degree++;
                edges?.Add(fp);
                if (_fair)
                {
                    int actor = _spec.Actor(actions[k]);
                    actors!.Add((byte)(actor + 1));
                    if (actor >= 0) enabled |= 1UL << actor;
                }
                // Met by this worker before, so with a smaller (parent, step): this sighting cannot win.
                if (!w.Recent.Add(fp)) continue;
                w.BatchFingerprints[b] = fp;
                w.BatchKeys[b] = ((ulong)id << 8) | (uint)k;
                w.BatchCount++;
                _visited.Prefetch(fp);
            }
            w.Transitions += degree;
            if (_graph) _outDegree[i] = degree;
            if (_fair) _enabledActors[i] = enabled;
        }
    }

    /// <summary>
    /// Second pass: keeps the batch's successors that are in no earlier level. Not inlined:
    /// <see cref="Expand"/> is called once a level, so its own body runs as on-stack-replaced or
    /// instrumented code; a method called per batch gets the optimized tier and its profile.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Sieve(Worker w)
    {
        for (int b = 0; b < w.BatchCount; b++)
        {
            ulong fp = w.BatchFingerprints[b];
            if (_visited.Contains(fp)) continue;
            if (!w.Next[_visited.PartitionOf(fp, _parts)].Add(w.BatchKeys[b], fp, w.Batch[b])) { OutOfMemory(); return; }
        }
    }

    /// <summary>Folds the workers' findings of the expand phase; true when a bound stops the search before this level is added.</summary>
    private bool GatherExpansion()
    {
        foreach (var w in _workers)
        {
            Transitions += w.Transitions;
            if (w.DepthBound) Bound = Bound.Depth;
        }
        // A terminal state owing an obligation: the smallest id across the workers is BFS's first.
        for (ulong open = _eventually & ~Decided; open != 0; open &= open - 1)
        {
            int p = BitOperations.TrailingZeroCount(open);
            long earliest = long.MaxValue;
            foreach (var w in _workers) earliest = Math.Min(earliest, w.Terminal[p]);
            if (earliest == long.MaxValue) continue;
            Witness[p] = earliest;
            Decided |= 1UL << p;
        }
        // The first crash in BFS order: the smallest (state, step); the first crash BFS meets is a shortest one.
        Worker? first = null;
        foreach (var w in _workers)
            if (w.CrashKey < (first?.CrashKey ?? long.MaxValue)) first = w;
        if (first is not null && Crashed is null)
        {
            Crashed = ((uint)(first.CrashKey >> 8), (int)(first.CrashKey & 0xff) - 1, first.CrashError!);
            Decided |= 1UL << _crashBit;
        }
        if (_abort == 0) return false;
        Bound = (Bound)_abort;
        return true;
    }

    private long _lastNew, _beforeLastNew;

    /// <summary>
    /// When the exact set grows in this level, it makes room for the next two as well: this level's
    /// candidates times the last level's growth (its new states over the level before's, at most 2),
    /// and that again. A set grown as it goes then resizes about as often as the levels double, not at
    /// every quarter, and at the end (levels shrinking) it holds little more than it needs. Only the
    /// capacity changes: the ids, and so the report, do not depend on it.
    /// </summary>
    private void Forecast(long candidates)
    {
        if (Exact is not { } exact) return;
        double growth = _beforeLastNew > 0 ? Math.Min(2.0, (double)_lastNew / _beforeLastNew) : 1.0;
        double next = candidates * growth;
        exact.Ahead = (long)(next + next * growth);
    }

    private void OutOfMemory() => Interlocked.CompareExchange(ref _abort, (int)Bound.Memory, 0);

    /// <summary>Runs a step that may resize the visited set; the old table is garbage from then on.</summary>
    private void Grown(Action step)
    {
        long before = _visited.Bytes + (Ids?.Bytes ?? 0);
        step();
        if (_visited.Bytes + (Ids?.Bytes ?? 0) != before) Interlocked.Add(ref _garbage, before);
    }

    // ---- phase 2: insert ---------------------------------------------------------------

    private void Insert(int p)
    {
        var fresh = _fresh[p];
        fresh.Clear();
        var lists = new Candidates[_workers.Length];
        for (int w = 0; w < lists.Length; w++) lists[w] = _workers[w].Parts[1 - _gen][p];
        Span<int> pos = stackalloc int[lists.Length];
        pos.Clear();
        var reader = new Unpacker();
        while (true)
        {
            int best = -1;
            ulong key = ulong.MaxValue;
            for (int w = 0; w < lists.Length; w++)
                if (pos[w] < lists[w].Count && lists[w].Keys[pos[w]] < key) { key = lists[w].Keys[pos[w]]; best = w; }
            if (best < 0) break;
            InsertOne(fresh, reader, lists[best], best, pos[best]++, p, key);
        }
    }

    /// <summary>One candidate of <see cref="Insert"/>: a new state when its fingerprint was not in the set (not inlined, as <see cref="Sieve"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void InsertOne(Fresh fresh, Unpacker reader, Candidates c, int worker, int i, int p, ulong key)
    {
        ulong fp = c.Fingerprints[i];
        if (i + 8 < c.Count) _visited.Prefetch(c.Fingerprints[i + 8]);
        long slot = _visited.TryAddShared(fp);
        if (slot < 0) return;
        reader.Get(c, worker, i, out TState s);
        fresh.Add(key, Judge(s), slot, Ref(worker, p, i));
    }

    // ---- phase 3: commit ---------------------------------------------------------------

    private void Commit()
    {
        uint first = States;
        long total = 0;
        foreach (var f in _fresh) total += f.Count;
        long kept = Math.Min(total, _options.MaxStates - first);
        if (kept < total) Bound = Bound.States;
        Parent.Extend(kept);
        Choice.Extend(kept);
        PendingOf?.Extend(kept);
        if (_nextFrontier.Length < kept)
        {
            Interlocked.Add(ref _garbage, (long)_nextFrontier.Length * 2 * sizeof(ulong));
            _nextFrontier = new long[Math.Max(kept, _nextFrontier.Length * 5L / 4)];
            _nextBits = new ulong[_nextFrontier.Length];
        }
        if (Entries is not null && _entered.Length < kept)
        {
            Interlocked.Add(ref _garbage, (long)_entered.Length * sizeof(ulong));
            _entered = new ulong[_nextFrontier.Length];
        }
        Parallel(_parts, p => Place(p, first, kept));
        _nextCount = (int)kept;
        (_beforeLastNew, _lastNew) = (_lastNew, kept);
        States = first + (uint)kept;
        // Witnesses: the smallest id in each partition, then across them (ids are in BFS order).
        for (int p = 0; p < Witness.Length; p++)
        {
            long best = long.MaxValue;
            foreach (var f in _fresh) best = Math.Min(best, f.Witness[p]);
            if (best == long.MaxValue) continue;
            ulong bit = 1UL << p;
            if ((_always & bit & ~Decided) != 0) { Witness[p] = best; Decided |= bit; }
            else if ((_sometimes & bit & ~Reached) != 0) { Witness[p] = best; Reached |= bit; }
        }
        var entries = Entries is null ? null : new Unpacker();
        if (Entries is not null)
            for (int r = 0; r < kept; r++)
                if (_entered[r] != 0)
                {
                    StateAt(entries!, _nextFrontier[r], 1 - _gen, out TState s);
                    Entries.Add(s, first + (uint)r, _entered[r]);
                }
        Grown(() => _visited.Added(total));
        _levelStart = first; // the next frontier's ids start where this level's new states did
    }

    /// <summary>
    /// Writes partition <paramref name="p"/>'s new states at their ids: a state's rank in the
    /// level is its position in its partition plus the states of the other partitions with a
    /// smaller (parent, step) — a walk with one cursor per other partition.
    /// </summary>
    private void Place(int p, uint first, long kept)
    {
        var f = _fresh[p];
        Array.Fill(f.Witness, long.MaxValue);
        Span<int> cursor = stackalloc int[_parts];
        cursor.Clear();
        for (int i = 0; i < f.Count; i++)
        {
            ulong key = f.Keys[i];
            long rank = i;
            for (int q = 0; q < _parts; q++)
            {
                if (q == p) continue;
                var g = _fresh[q];
                while (cursor[q] < g.Count && g.Keys[cursor[q]] < key) cursor[q]++;
                rank += cursor[q];
            }
            if (rank >= kept) break; // ranks only grow with i
            uint id = first + (uint)rank;
            uint parent = (uint)(key >> 8);
            ulong bits = f.Bits[i];
            Parent.At(id) = parent;
            Choice.At(id) = (byte)key;
            if (PendingOf is not null) PendingOf.At(id) = bits & _eventually;
            if (_graph) Ids!.At(f.Slots![i]) = id;
            _nextFrontier[rank] = f.Refs[i];
            _nextBits[rank] = bits;
            if (Entries is not null) _entered[rank] = bits & _eventually & ~(parent == Root ? 0 : _bits[parent - _levelStart]);
            for (ulong b = bits & (_always | _sometimes); b != 0; b &= b - 1)
            {
                int prop = BitOperations.TrailingZeroCount(b);
                f.Witness[prop] = Math.Min(f.Witness[prop], id);
            }
        }
    }

    // ---- graph mode --------------------------------------------------------------------

    private void PrepareEdges()
    {
        int chunks = (_count + ChunkStates - 1) / ChunkStates;
        while (_chunkEdges.Count < chunks) _chunkEdges.Add(new List<ulong>());
        for (int c = 0; c < chunks; c++) _chunkEdges[c].Clear();
        if (_fair)
        {
            while (_chunkActors.Count < chunks) _chunkActors.Add(new List<byte>());
            for (int c = 0; c < chunks; c++) _chunkActors[c].Clear();
            if (_enabledActors.Length < _count) _enabledActors = new ulong[_frontier.Length];
            Array.Clear(_enabledActors, 0, _count);
        }
        if (_outDegree.Length < _count) _outDegree = new int[_frontier.Length];
        Array.Clear(_outDegree, 0, _count);
    }

    /// <summary>The level's edges, in id order, now that every successor has an id.</summary>
    private void ResolveEdges()
    {
        int c = 0, e = 0;
        for (int i = 0; i < _count; i++)
        {
            if (i > 0 && i % ChunkStates == 0) { c++; e = 0; }
            EdgeStart!.Add((uint)Edges!.Count);
            var chunk = _chunkEdges[c];
            if (_fair) EnabledOf!.Add(_enabledActors[i]);
            for (int d = 0; d < _outDegree[i]; d++)
            {
                if (_fair) EdgeActor!.Add(_chunkActors[c][e]);
                Edges.Add(Ids!.Of(chunk[e++]));
            }
        }
    }

    // ---- running -----------------------------------------------------------------------

    private void Parallel(int bodies, Action<int> body) => _crew!.Run(bodies, body);

    private void NoteLevelBytes() => PeakLevelBytes = Math.Max(PeakLevelBytes, LevelBytes());

    private void ReportProgress()
    {
        if (_options.Progress is not { } progress) return;
        long ticks = _clock.ElapsedTicks;
        if (ticks - Volatile.Read(ref _lastProgress) < Stopwatch.Frequency) return;
        Volatile.Write(ref _lastProgress, ticks);
        progress(new ExploreProgress(States, Transitions, Depth, _count, StoreBytes + Volatile.Read(ref _buffers), _clock.Elapsed));
    }
}
