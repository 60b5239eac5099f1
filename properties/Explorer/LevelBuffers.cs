using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>The buffers of a level: each worker's candidates and findings, and each partition's new states.</summary>
internal sealed partial class LevelSearch<TState, TAction>
{
    /// <summary>One thread's part of a level: its candidates per partition and what it found.</summary>
    private sealed class Worker
    {
        /// <summary>Per generation, per partition: this level's candidates, and the last level's (whose new states are the frontier).</summary>
        public readonly Candidates[][] Parts;
        /// <summary>The generation being filled in this level.</summary>
        public Candidates[] Next;
        public readonly RecentFingerprints Recent = new();
        public readonly long[] Terminal;
        public readonly TAction[] Actions = new TAction[SpecLimits.MaxEnabled];
        // The successors of a batch of frontier states, between the two passes.
        public TState[] Batch = new TState[4 * SpecLimits.MaxEnabled];
        public ulong[] BatchFingerprints = new ulong[4 * SpecLimits.MaxEnabled], BatchKeys = new ulong[4 * SpecLimits.MaxEnabled];
        public int BatchCount;

        public void EnsureBatch(int more)
        {
            if (BatchCount + more <= Batch.Length) return;
            int n = Math.Max(Batch.Length * 2, BatchCount + more);
            Array.Resize(ref Batch, n);
            Array.Resize(ref BatchFingerprints, n);
            Array.Resize(ref BatchKeys, n);
        }
        public long Transitions, CrashKey;
        public Exception? CrashError;
        public bool DepthBound;

        public Worker(LevelSearch<TState, TAction> search, int parts, int props)
        {
            Parts = new Candidates[2][];
            for (int g = 0; g < 2; g++)
            {
                Parts[g] = new Candidates[parts];
                for (int p = 0; p < parts; p++) Parts[g][p] = new Candidates(search);
            }
            Next = Parts[0];
            Terminal = new long[props];
        }

        /// <summary>Where this worker last read the frontier's buffers.</summary>
        public readonly Unpacker Reader = new();

        public void StartLevel(int gen)
        {
            Reader.Forget();
            Next = Parts[gen];
            foreach (var b in Next) b.Clear();
            Recent.Clear();
            Array.Fill(Terminal, long.MaxValue);
            Transitions = 0;
            CrashKey = long.MaxValue;
            CrashError = null;
            DepthBound = false;
        }

        /// <summary>Keeps the first crash in BFS order: the smallest (state, step), step -1 for listing the steps.</summary>
        public void Crash(uint id, int k, Exception e)
        {
            long key = ((long)id << 8) | (long)(k + 1);
            if (key < CrashKey) { CrashKey = key; CrashError = e; }
        }

        public long Bytes(int stateBytes)
        {
            long b = 0;
            foreach (var g in Parts) foreach (var p in g) b += p.Bytes;
            return b + RecentFingerprints.Bytes + (long)Batch.Length * (stateBytes + 2 * sizeof(ulong));
        }
    }

    /// <summary>
    /// A worker's candidates for one partition: (parent id, step), fingerprint and the successor,
    /// packed (<see cref="StateCodec{TState}"/>) against the candidate before it, which is a near
    /// relative (the same or a neighbouring parent's successor), and every <see cref="Keyframe"/>th
    /// against the first initial state, so that a read needs at most that many unpacks (<see cref="Unpacker"/>).
    /// </summary>
    private sealed class Candidates(LevelSearch<TState, TAction> search)
    {
        public const int Keyframe = 8;
        // Small to start: a worker has one per partition and generation, so 256 threads hold 131,072 of them.
        public ulong[] Keys = new ulong[4], Fingerprints = new ulong[4];
        public int[] At = new int[4];
        public readonly PackedStates States = new();
        public int Count;
        private TState _last;

        public void Clear()
        {
            Count = 0;
            States.Clear();
        }

        /// <summary>False, and nothing added, when growing a buffer would pass the memory bound.</summary>
        public bool Add(ulong key, ulong fp, in TState s)
        {
            if (Count == Keys.Length)
            {
                // By half: the slack of a level's widest buffers is what the peak holds.
                const long entry = 2 * sizeof(ulong) + sizeof(int);
                int n = Count + Math.Max(4, Count >> 1);
                if (!search.TryCharge(n * entry, Count * entry)) return false;
                Array.Resize(ref Keys, n);
                Array.Resize(ref Fingerprints, n);
                Array.Resize(ref At, n);
            }
            long grow = States.GrowBytes<TState>();
            if (grow != 0 && (grow < 0 || !search.TryCharge(grow, States.Bytes))) return false;
            Keys[Count] = key;
            Fingerprints[Count] = fp;
            // By reference: a conditional of two struct values copies the chosen one first.
            At[Count] = States.Add(s, in Count % Keyframe == 0 ? ref search._reference : ref _last);
            Count++;
            _last = s;
            return true;
        }

        /// <summary>Unpacks candidate <paramref name="i"/> given the one before it (<paramref name="before"/>; unused at a keyframe).</summary>
        public void Unpack(int i, in TState before, out TState s) =>
            States.Get(At[i], in i % Keyframe == 0 ? ref search._reference : ref Unsafe.AsRef(in before), out s);

        public long Bytes => (long)Keys.Length * (2 * sizeof(ulong) + sizeof(int)) + States.Bytes;
    }

    /// <summary>
    /// A reader's place in the buffers it reads (a few at once, by way): a read that goes forward in a
    /// buffer unpacks from where the last one stopped, one that goes back or far ahead from the keyframe.
    /// The frontier is read in id order and a partition's candidates in (parent, step) order, which go
    /// forward in every buffer, so a state is unpacked about once.
    /// </summary>
    private sealed class Unpacker
    {
        private const int Ways = 16;
        private readonly Candidates?[] _buffer = new Candidates?[Ways];
        private readonly int[] _index = new int[Ways];
        private readonly TState[] _state = new TState[Ways];

        /// <summary>Drops every place: the buffers are refilled.</summary>
        public void Forget() => Array.Clear(_buffer);

        public void Get(Candidates c, int way, int i, out TState s)
        {
            way &= Ways - 1;
            ref TState at = ref _state[way];
            int key = i - i % Candidates.Keyframe, from;
            if (_buffer[way] == c && _index[way] <= i && _index[way] >= key) from = _index[way];
            else
            {
                c.Unpack(key, at, out at);
                from = key;
                _buffer[way] = c;
            }
            for (int k = from + 1; k <= i; k++) c.Unpack(k, at, out at);
            _index[way] = i;
            s = at;
        }
    }

    /// <summary>
    /// A partition's new states of a level: (parent id, step), judged bits, the slot taken (graph mode:
    /// for the ids), and where the state lies (<see cref="Ref"/>): it is not copied again.
    /// </summary>
    private sealed class Fresh(bool graph)
    {
        public ulong[] Keys = new ulong[64], Bits = new ulong[64];
        public long[] Refs = new long[64];
        public long[]? Slots = graph ? new long[64] : null;
        public int Count;
        /// <summary>Per property, the smallest id of this partition's new states that violates or reaches it.</summary>
        public long[] Witness = new long[64];

        public void Clear() => Count = 0;

        private int Entry => (Slots is null ? 3 : 4) * sizeof(ulong);

        /// <summary>Room for <paramref name="n"/> new states, made before the insert phase (which may not grow it); the bytes dropped.</summary>
        public long Ensure(int n)
        {
            if (n <= Keys.Length) return 0;
            long dropped = Bytes;
            n = NewLength(n, Keys.Length);
            Keys = new ulong[n];
            Bits = new ulong[n];
            Refs = new long[n];
            if (Slots is not null) Slots = new long[n];
            return dropped;
        }

        // By a quarter at least: the widest level's buffers are what the peak holds.
        private static int NewLength(int n, int now) => Math.Max(n, now + (now >> 2));

        public long BytesFor(int n) => n <= Keys.Length ? 0 : (long)NewLength(n, Keys.Length) * Entry;

        public void Add(ulong key, ulong bits, long slot, long at)
        {
            Keys[Count] = key;
            Bits[Count] = bits;
            if (Slots is not null) Slots[Count] = slot;
            Refs[Count++] = at;
        }

        public long Bytes => (long)Keys.Length * Entry;
    }
}
