using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Distributed;

/// <summary>A node left the cluster (died, was killed, stopped) before the run's verdict: no verdict, exit 3.</summary>
public sealed class NodeLostException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What a distributed run measured beside its report.</summary>
public sealed record ClusterStats(int Nodes, long BytesSent, IReadOnlyList<long> PeakRss)
{
    public double BytesPerState(long states) => states > 0 ? (double)BytesSent / states : 0;
    /// <summary>Where a memory or time bound stopped the run, or null.</summary>
    public BoundHit? Hit { get; init; }
}

/// <summary>Where a bound stopped a cluster run: the node, the level, what it was doing, and by how much.</summary>
public sealed record BoundHit(Bound Bound, int Node, string Where, int Level, string Doing, long Held, long Limit, long Expanded, long Frontier)
{
    public override string ToString() => Bound == Bound.Memory
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"node {Node} ({Where}) hit its memory bound{(Limit > 0 ? $" of {Limit >> 20:N0} MiB" : "")} while {Doing} in level {Level}{(Held > 0 ? $" (it held {Held / 1e6:F1} MB)" : "")}")
        : Doing == "inserting"
            ? $"the time limit stopped level {Level} while its candidates were merged (node {Node} ({Where}) among the first to stop)"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the time limit stopped level {Level} with {Expanded:N0} of its {Frontier:N0} frontier states expanded (node {Node} ({Where}) among the first to stop)");
}

/// <summary>
/// The coordinator of a distributed search (TLC's server): it holds the parent links and steps by state
/// id (5 bytes a state) and the verdicts; the nodes hold the visited set, the frontier and the states.
/// Each level it has the nodes expand, insert, and then numbers the level: every node's new keys, merged
/// in (parent, step) order, get consecutive ids — the numbering of one process, so the report is the same.
/// </summary>
public static class DistributedExplorer
{
    private const uint Root = uint.MaxValue;
    /// <summary>Pending states and entries fetched per call after the search (each page a bounded message).</summary>
    private const int PageStates = 1 << 18;

    public static (ExploreReport Report, ClusterStats Stats) Run(ISpecHandle spec, string specName, ExploreOptions options, ClusterNodes cluster,
        CheckpointPlan? checkpoint = null) =>
        spec.Accept(new Visitor(specName, options, cluster, checkpoint));

    /// <summary>
    /// --bitstate on a cluster: a swarm (<see cref="Swarm"/>), every node a whole search of its own, their findings united.
    /// A node lost ends it as any run: exit 3, no verdict.
    /// </summary>
    public static (ExploreReport Report, ClusterStats Stats, IReadOnlyList<SwarmResult> Members) RunSwarm(ISpecHandle spec, string specName,
        ExploreOptions options, ClusterNodes cluster)
    {
        var clock = Stopwatch.StartNew();
        string run = Guid.NewGuid().ToString("N");
        var calls = new Task<SwarmResult>[cluster.Silos.Count];
        for (int k = 0; k < calls.Length; k++)
            calls[k] = cluster.Grains.GetGrain<INodeGrain>($"{run}/{k}/{cluster.Silos[k].ToParsableString()}").Swarm(new SwarmPlan
            {
                Spec = specName, Seed = Swarm.SeedOf(k), BitstateBytes = options.BitstateBytes, MaxStates = options.MaxStates, MaxDepth = options.MaxDepth,
                StopAtFirst = options.StopAtFirstViolation, StopWhenAllViolated = options.StopWhenAllViolated,
                MaxMemory = options.MaxMemory == ExploreOptions.DefaultMaxMemory ? 0 : options.MaxMemory, TimeLimitTicks = options.TimeLimit?.Ticks ?? -1,
            });
        var all = Task.WhenAll(calls);
        if (Task.WhenAny(all, cluster.Lost).GetAwaiter().GetResult() == cluster.Lost)
            throw new NodeLostException($"{cluster.Lost.Result} during the swarm's searches: no verdict");
        SwarmResult[] results;
        try { results = all.GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not NodeLostException)
        {
            int failed = Array.FindIndex(calls, c => c.IsFaulted);
            throw new NodeLostException($"node {failed} ({cluster.Describe(failed)}) failed during the swarm's searches: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}; no verdict", e);
        }
        var report = Swarm.Combine(spec, results) with { Seconds = clock.Elapsed.TotalSeconds };
        return (report, new ClusterStats(results.Length, 0, [.. results.Select(r => r.PeakRss)]), results);
    }

    /// <summary>
    /// --resume's reading and checking of checkpoint <paramref name="dir"/> for a run of <paramref name="specName"/> with
    /// <paramref name="options"/> on <paramref name="nodes"/> nodes, without a cluster: the image, or a <see cref="CheckpointException"/>.
    /// </summary>
    internal static CheckpointImage ReadCheckpoint(ISpecHandle spec, string specName, ExploreOptions options, string dir, int nodes,
        Func<string, string?>? notRegular, Action<int, byte[], bool>? load = null) =>
        spec.Accept(new ReadVisitor(specName, options, dir, nodes, notRegular, load));

    private sealed class ReadVisitor(string specName, ExploreOptions options, string dir, int nodes, Func<string, string?>? notRegular,
        Action<int, byte[], bool>? load) : ISpecVisitor<CheckpointImage>
    {
        public CheckpointImage Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
            CheckpointReading.Read(spec, CheckpointExpect.Of(spec, specName, options), dir, nodes, notRegular, load);
    }

    private sealed class Visitor(string specName, ExploreOptions options, ClusterNodes cluster, CheckpointPlan? checkpoint) : ISpecVisitor<(ExploreReport, ClusterStats)>
    {
        public (ExploreReport, ClusterStats) Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
            new Search<TState, TAction>(spec, specName, options, cluster, checkpoint).Go().GetAwaiter().GetResult();
    }

    private sealed class Search<TState, TAction> where TState : unmanaged where TAction : unmanaged
    {
        private readonly ISpec<TState, TAction> _spec;
        private readonly string _specName;
        private readonly ExploreOptions _options;
        private readonly ClusterNodes _cluster;
        private readonly Property[] _props;
        private readonly ulong _always, _eventually, _sometimes, _all;
        private readonly int _crashBit;
        private readonly bool _search;
        private readonly INodeGrain[] _nodes;
        private readonly string[] _keys;
        private ChunkedList<uint> _parent = new();
        private ChunkedList<byte> _choice = new();
        private readonly long[] _witness;
        private readonly long[] _rss;
        private ulong _decided, _reached;
        private (uint State, int Choice, Exception Error)? _crashed;
        private Bound _bound;
        private bool _stoppedEarly, _stoppedAtFirst;
        private long _states, _transitions, _count, _sent;
        private int _depth, _level;

        private readonly CheckpointPlan? _checkpoint;
        private readonly CheckpointExpect _expect;
        private int _recordBytes => _expect.RecordBytes;
        /// <summary>The checkpoint's run id: fresh for a new run, the checkpoint's for a resumed one.</summary>
        private ulong _run = (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);
        private BoundHit? _hit;
        private readonly Stopwatch _clock = new();

        public Search(ISpec<TState, TAction> spec, string specName, ExploreOptions options, ClusterNodes cluster, CheckpointPlan? checkpoint)
        {
            _checkpoint = checkpoint;
            _spec = spec;
            _specName = specName;
            _options = options;
            _cluster = cluster;
            _props = [.. spec.Properties, Explorer.NoCrash];
            if (_props.Length > 64) throw new ArgumentException($"{spec.Name}: at most 63 properties");
            _expect = CheckpointExpect.Of(spec, specName, options);
            (_always, _eventually, _sometimes) = (_expect.Always, _expect.Eventually, _expect.Sometimes);
            _crashBit = _props.Length - 1;
            _all = _always | _eventually | _sometimes | (1UL << _crashBit);
            if (options.Liveness == Liveness.Graph)
                throw new ArgumentException("--graph keeps every edge in one process; on a cluster the cycles are searched over the pending states (the default)");
            if (options.BitstateBytes > 0) throw new ArgumentException("bitstate on a cluster is a swarm (each node its own search), not a partitioned search");
            _search = options.Liveness == Liveness.Search && _eventually != 0;
            string run = Guid.NewGuid().ToString("N");
            _keys = new string[cluster.Silos.Count];
            _nodes = new INodeGrain[_keys.Length];
            for (int k = 0; k < _keys.Length; k++)
            {
                _keys[k] = $"{run}/{k}/{cluster.Silos[k].ToParsableString()}";
                _nodes[k] = cluster.Grains.GetGrain<INodeGrain>(_keys[k]);
            }
            _witness = new long[_props.Length];
            Array.Fill(_witness, -1L);
            _rss = new long[_keys.Length];
        }

        private int N => _keys.Length;

        /// <summary>--max-memory as given, for every node; 0 when not given (each node takes its own machine's default).</summary>
        private long ExplicitMemory => _options.MaxMemory == ExploreOptions.DefaultMaxMemory ? 0 : _options.MaxMemory;

        public async Task<(ExploreReport, ClusterStats)> Go()
        {
            var clock = _clock;
            clock.Start();
            try
            {
                await All(k => _nodes[k].Start(new NodePlan
                {
                    Spec = _specName, Node = k, Nodes = _keys, MaxDepth = _options.MaxDepth, PendingAll = _search,
                    // Given: every node's bound; not given: each node's own default (its machine's memory).
                    MaxMemory = ExplicitMemory,
                }), "starting").ConfigureAwait(false);
                await Levels(clock).ConfigureAwait(false);
                bool complete = _bound == Bound.None && !_stoppedEarly;
                var cycleClock = Stopwatch.StartNew();
                var cycles = new Dictionary<int, PendingCycles.Lasso>();
                long cycleBytes = 0;
                if (_search && complete)
                {
                    var (set, entries) = await GatherPending().ConfigureAwait(false);
                    bool fair = _spec.FairActors.Count > 0 && !_options.Unfair;
                    cycles = Explorer.SearchCycles(_spec, _eventually & ~_decided, fair, set, entries, out cycleBytes);
                }
                cycleClock.Stop();
                var result = new SearchResult(_parent, _choice, _witness, _crashed, _bound, _stoppedEarly, _stoppedAtFirst, _states, _transitions,
                    _depth, clock.Elapsed.TotalSeconds - cycleClock.Elapsed.TotalSeconds, _parent.Bytes + _choice.Bytes, 0, _parent.Bytes + _choice.Bytes, null);
                var report = Explorer.Verdicts(_spec, _options, _props, result, cycles, graph: false, _search, cycleClock.Elapsed.TotalSeconds, cycleBytes);
                return (report, new ClusterStats(N, _sent, _rss) { Hit = _hit });
            }
            finally
            {
                // Best effort: a node that is gone is gone; the others drop their partitions.
                foreach (var n in _nodes) _ = n.Stop().ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
        }

        private async Task Levels(Stopwatch clock)
        {
            if (_checkpoint is { Resume: true }) await Restore().ConfigureAwait(false);
            else
            {
                await AddInitialStates().ConfigureAwait(false);
                if (_bound == Bound.None) await Save().ConfigureAwait(false);
            }
            while (_count > 0 && _bound == Bound.None)
            {
                _level++;
                var summaries = await All(k => _nodes[k].Expand(new ExpandPlan
                {
                    Depth = _depth, Elsewhere = k == 0 ? _parent.Bytes + _choice.Bytes : 0,
                    RemainingTicks = _options.TimeLimit is { } left ? Math.Max(0, (left - clock.Elapsed).Ticks) : -1,
                }), "expanding").ConfigureAwait(false);
                Gather(summaries);
                if (Bounded(summaries)) break;
                if (_options.TimeLimit is { } limit && clock.Elapsed > limit)
                {
                    _bound = Bound.Time;
                    _hit = new(Bound.Time, 0, _cluster.Describe(0), _level, "expanding", 0, 0, summaries.Sum(x => x.Expanded), summaries.Sum(x => x.Frontier));
                    break;
                }
                await InsertAndNumber().ConfigureAwait(false);
                _cluster.Log?.Invoke($"level {_level} done: {_states:N0} states, {_transitions:N0} transitions, depth {_depth}");
                if (_bound != Bound.None) break;
                if (_options.StopWhenAllViolated && (_decided | _reached) == _all) { _stoppedEarly = _count > 0; break; }
                if (_options.StopAtFirstViolation && (_decided & (_always | _eventually)) != 0) { _stoppedEarly = _stoppedAtFirst = _count > 0; break; }
                if (_count > 0) _depth++;
                await Save().ConfigureAwait(false);
                if (_options.Progress is { } progress)
                    progress(new ExploreProgress(_states, _transitions, _depth, _count, _parent.Bytes + _choice.Bytes, clock.Elapsed));
            }
        }

        /// <summary>
        /// A node's memory bound (its own, or another's that refused its batches) or the time limit stopped the level's
        /// expansion: the level is not whole, so it is not added; the run ends as a bound, naming the node and the level.
        /// </summary>
        private bool Bounded(ExpandSummary[] summaries)
        {
            int k = Array.FindIndex(summaries, x => x.MemoryHit is not null);
            if (k >= 0)
            {
                var s = summaries[k];
                _bound = Bound.Memory;
                _hit = new(Bound.Memory, k, _cluster.Describe(k), _level, s.MemoryHit!, s.Held, s.Limit, 0, 0);
                return true;
            }
            int by = Array.Find(summaries, x => x.StoppedBy >= 0)?.StoppedBy ?? -1;
            if (by >= 0)
            {
                _bound = Bound.Memory;
                _hit = new(Bound.Memory, by, _cluster.Describe(by), _level, "receiving candidates", 0, summaries[by].Limit, 0, 0);
                return true;
            }
            k = Array.FindIndex(summaries, x => x.TimeBound);
            if (k < 0) return false;
            _bound = Bound.Time;
            _hit = new(Bound.Time, k, _cluster.Describe(k), _level, "expanding", 0, 0, summaries.Sum(x => x.Expanded), summaries.Sum(x => x.Frontier));
            return true;
        }

        /// <summary>Level 0: the initial states, sent to their owners as the coordinator's own batch, with the root as parent.</summary>
        private async Task AddInitialStates()
        {
            var initial = new List<TState>();
            try { _spec.Initial(initial); }
            catch (Exception e) when (e is not OutOfMemoryException) { throw new SpecException($"{_spec.Name}: the initial states threw {UserCode.Describe(e)}", e); }
            if (initial.Count > 256) throw new ArgumentException($"{_spec.Name}: at most 256 initial states");
            var batches = new NodeSearch<TState, TAction>.Batch[N];
            for (int k = 0; k < N; k++) batches[k] = new(1024);
            for (int i = 0; i < initial.Count; i++)
            {
                ulong fp = Fingerprint.Of(initial[i]);
                batches[NodeSearch<TState, TAction>.Owner(fp, N)].Add(((ulong)Root << 8) | (uint)i, fp, 0, initial[i]);
            }
            var taken = await All(k => batches[k].Length == 0 ? Task.FromResult(true) : _nodes[k].Receive(N, batches[k].Take()), "sending the initial states").ConfigureAwait(false);
            if (Array.IndexOf(taken, false) is var refused and >= 0)
            {
                _bound = Bound.Memory;
                _hit = new(Bound.Memory, refused, _cluster.Describe(refused), 0, "receiving the initial states", 0, ExplicitMemory, 0, 0);
                return;
            }
            await InsertAndNumber().ConfigureAwait(false);
        }

        private void Gather(ExpandSummary[] summaries)
        {
            foreach (var s in summaries)
            {
                _transitions += s.Transitions;
                _sent += s.BytesSent;
                if (s.DepthBound) _bound = Bound.Depth;
            }
            for (int k = 0; k < N; k++) _rss[k] = Math.Max(_rss[k], summaries[k].PeakRss);
            // A terminal state owing an obligation: the smallest id across the nodes is BFS's first.
            for (ulong open = _eventually & ~_decided; open != 0; open &= open - 1)
            {
                int p = BitOperations.TrailingZeroCount(open);
                long earliest = long.MaxValue;
                foreach (var s in summaries) if (s.Terminal[p] >= 0) earliest = Math.Min(earliest, s.Terminal[p]);
                if (earliest == long.MaxValue) continue;
                _witness[p] = earliest;
                _decided |= 1UL << p;
            }
            // The first crash in BFS order: the smallest (state, step).
            ExpandSummary? first = null;
            foreach (var s in summaries) if (s.CrashKey < (first?.CrashKey ?? long.MaxValue)) first = s;
            if (first is not null && _crashed is null)
            {
                Exception error = first.CrashIsContract ? new StepContractException(first.CrashMessage ?? "") : new InvalidOperationException(first.CrashMessage);
                _crashed = ((uint)(first.CrashKey >> 8), (int)(first.CrashKey & 0xff) - 1, error);
                _decided |= 1UL << _crashBit;
            }
        }

        /// <summary>Has the nodes insert their candidates, numbers the new states in (parent, step) order across the nodes, and hands each node its ids.</summary>
        private async Task InsertAndNumber()
        {
            long remaining = _options.TimeLimit is { } left ? Math.Max(0, (left - _clock.Elapsed).Ticks) : -1;
            var inserted = await All(k => _nodes[k].Insert(remaining), "inserting").ConfigureAwait(false);
            if (Array.FindIndex(inserted, x => x.MemoryHit is not null) is var full and >= 0)
            {
                _bound = Bound.Memory;
                _hit = new(Bound.Memory, full, _cluster.Describe(full), _level, inserted[full].MemoryHit!, inserted[full].Held, inserted[full].Limit, 0, 0);
                return;
            }
            if (Array.FindIndex(inserted, x => x.TimeBound) is var late and >= 0)
            {
                _bound = Bound.Time;
                _hit = new(Bound.Time, late, _cluster.Describe(late), _level, "inserting", 0, 0, 0, 0);
                return;
            }
            long total = 0;
            foreach (var r in inserted) total += r.Keys.Length;
            long kept = Math.Min(total, _options.MaxStates - _states);
            if (kept < total) _bound = Bound.States;
            uint first = (uint)_states;
            var ids = new uint[N][];
            var taken = new int[N];
            for (int k = 0; k < N; k++) ids[k] = new uint[inserted[k].Keys.Length];
            for (long r = 0; r < kept; r++)
            {
                int best = -1;
                ulong key = ulong.MaxValue;
                for (int k = 0; k < N; k++)
                {
                    var keys = inserted[k].Keys;
                    if (taken[k] < keys.Length && (best < 0 || keys[taken[k]] < key)) { key = keys[taken[k]]; best = k; }
                }
                ids[best][taken[best]++] = first + (uint)r;
                _parent.Add((uint)(key >> 8));
                _choice.Add((byte)key);
            }
            for (int k = 0; k < N; k++) if (taken[k] < ids[k].Length) Array.Resize(ref ids[k], taken[k]);
            // Witnesses: the first state of each node with the bit, then the smallest id across the nodes.
            for (int p = 0; p < _props.Length; p++)
            {
                ulong bit = 1UL << p;
                if (((_always | _sometimes) & bit) == 0) continue;
                long best = long.MaxValue;
                for (int k = 0; k < N; k++)
                {
                    int at = inserted[k].FirstWith[p];
                    if (at >= 0 && at < ids[k].Length) best = Math.Min(best, ids[k][at]);
                }
                if (best == long.MaxValue) continue;
                if ((_always & bit & ~_decided) != 0) { _witness[p] = best; _decided |= bit; }
                else if ((_sometimes & bit & ~_reached) != 0) { _witness[p] = best; _reached |= bit; }
            }
            await All(k => _nodes[k].Commit(ids[k]), "numbering").ConfigureAwait(false);
            _states += kept;
            _count = kept;
        }

        // ---- checkpoints ---------------------------------------------------------------------

        /// <summary>Writes the level just finished: each node's new states, the parent links and counters, then the marker.</summary>
        private async Task Save()
        {
            if (_checkpoint is not { } plan) return;
            string dir = plan.Directory;
            for (int k = 0; k < N; k++)
            {
                using var m = new MemoryStream();
                using var w = CheckpointFiles.Writer(m, 'N', _run);
                w.Write(_level);
                w.Write(k);
                w.Write(_recordBytes);
                var pages = new List<byte[]>();
                for (int from = 0; ; from += PageStates)
                {
                    int node = k, at = from;
                    var page = (await All(j => j == node ? _nodes[j].Checkpoint(at, PageStates) : Task.FromResult(Array.Empty<byte>()), "checkpointing").ConfigureAwait(false))[node];
                    pages.Add(page);
                    if (page.Length < PageStates * _recordBytes) break;
                }
                long records = 0;
                foreach (var p in pages) records += p.Length / _recordBytes;
                w.Write(records);
                foreach (var p in pages) w.Write(p);
                w.Flush();
                plan.Write(Path.Combine(dir, CheckpointFiles.Node(_level, k)), CheckpointFiles.Seal(m));
            }
            using (var m = new MemoryStream())
            using (var w = CheckpointFiles.Writer(m, 'C', _run))
            {
                w.Write(_level);
                w.Write(N);
                w.Write(_specName);
                w.Write(_props.Length);
                w.Write(_expect.Mode);
                w.Write(_states);
                w.Write(_transitions);
                w.Write(_depth);
                w.Write(_count);
                w.Write(_sent);
                w.Write(_decided);
                w.Write(_reached);
                foreach (long x in _witness) w.Write(x);
                w.Write(_crashed is not null);
                if (_crashed is { } c)
                {
                    w.Write(c.State);
                    w.Write(c.Choice);
                    w.Write(c.Error is StepContractException);
                    w.Write(c.Error.Message);
                }
                for (long id = _states - _count; id < _states; id++)
                {
                    w.Write(_parent[id]);
                    w.Write(_choice[id]);
                }
                w.Flush();
                plan.Write(Path.Combine(dir, CheckpointFiles.Coordinator(_level)), CheckpointFiles.Seal(m));
            }
            using (var m = new MemoryStream())
            using (var w = CheckpointFiles.Writer(m, 'M', _run))
            {
                w.Write(_specName);
                w.Write(_level);
                w.Flush();
                plan.Write(Path.Combine(dir, CheckpointFiles.Marker), CheckpointFiles.Seal(m));
            }
        }

        /// <summary>Reads a checkpoint back (<see cref="CheckpointReading"/>: every file checked), each record sent to the node that owns it now.</summary>
        private async Task Restore()
        {
            var plan = _checkpoint!;
            var img = await Task.Run(() => CheckpointReading.Read(_spec, _expect, plan.Directory, N, plan.NotRegular, (owner, batch, frontier) =>
            {
                if (_hit is not null) return; // a node's memory bound: the rest is read (and checked), not loaded
                if (!All(k => k == owner ? _nodes[k].Load(batch, frontier) : Task.FromResult(true), "loading the checkpoint").GetAwaiter().GetResult()[owner])
                {
                    _bound = Bound.Memory;
                    _hit = new(Bound.Memory, owner, _cluster.Describe(owner), _level, "loading the checkpoint", 0, ExplicitMemory, 0, 0);
                }
            })).ConfigureAwait(false);
            _run = img.Run;
            _level = img.Last;
            if (_hit is not null) _hit = _hit with { Level = img.Last };
            _states = img.States;
            _transitions = img.Transitions;
            _depth = img.Depth;
            _count = img.Count;
            _sent = img.Sent;
            _decided = img.Decided;
            _reached = img.Reached;
            Array.Copy(img.Witness, _witness, _witness.Length);
            _crashed = img.Crash is { } c ? (c.State, c.Choice, c.Contract ? new StepContractException(c.Message) : new InvalidOperationException(c.Message)) : null;
            _parent = img.Parent;
            _choice = img.Choice;
            await All(k => _nodes[k].Loaded(), "loading the checkpoint").ConfigureAwait(false);
        }

        private async Task<(FingerprintSet, PendingEntries<TState>)> GatherPending()
        {
            var set = new FingerprintSet();
            var ids = new List<uint>();
            var bits = new List<ulong>();
            var states = new List<TState>();
            for (int k = 0; k < N; k++)
            {
                for (long from = 0; ; from += PageStates)
                {
                    int node = k;
                    long at = from;
                    var page = (await All(j => j == node ? _nodes[j].Pending(at, PageStates) : Task.FromResult(new PendingPage()), "gathering the pending states").ConfigureAwait(false))[node];
                    foreach (ulong fp in page.Pending) set.Add(fp);
                    ids.AddRange(page.EntryIds);
                    bits.AddRange(page.EntryBits);
                    states.AddRange(MemoryMarshal.Cast<byte, TState>(page.EntryStates).ToArray());
                    if (!page.More) break;
                }
            }
            // The cycle search takes its entries in id order, as one process does.
            var order = new int[ids.Count];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            var idArray = ids.ToArray();
            Array.Sort(idArray, order);
            var entries = new PendingEntries<TState>();
            foreach (int i in order) entries.Add(states[i], ids[i], bits[i]);
            return (set, entries);
        }

        /// <summary>
        /// Runs <paramref name="call"/> on every node and waits for all, or for the first node to leave the
        /// cluster: then the run ends, naming the node and the level. A failed call is blamed on the node the
        /// membership declares gone if it does so soon (a node's call fails when a node it sends to dies).
        /// </summary>
        private async Task<T[]> All<T>(Func<int, Task<T>> call, string phase)
        {
            var calls = new Task<T>[N];
            for (int k = 0; k < N; k++) calls[k] = Guarded(k, call);
            var all = Task.WhenAll(calls);
            var lost = _cluster.Lost;
            if (await Task.WhenAny(all, lost).ConfigureAwait(false) == lost)
                throw new NodeLostException($"{await lost.ConfigureAwait(false)} while {phase} level {_level}: no verdict");
            try { return await all.ConfigureAwait(false); }
            catch (Exception e) when (e is not NodeLostException)
            {
                if (await Task.WhenAny(lost, Task.Delay(_cluster.DeathDetection)).ConfigureAwait(false) == lost)
                    throw new NodeLostException($"{await lost.ConfigureAwait(false)} while {phase} level {_level}: no verdict", e);
                int failed = Array.FindIndex(calls, c => c.IsFaulted);
                throw new NodeLostException($"node {failed} ({_cluster.Describe(failed)}) failed while {phase} level {_level}: {Describe(e)}; no verdict", e);
            }
        }

        private static async Task<T> Guarded<T>(int k, Func<int, Task<T>> call) => await call(k).ConfigureAwait(false);

        private Task<bool[]> All(Func<int, Task> call, string phase) => All(async k => { await call(k).ConfigureAwait(false); return true; }, phase);

        private static string Describe(Exception e)
        {
            while (e is AggregateException { InnerException: { } inner }) e = inner;
            return $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
        }
    }
}
