using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Distributed;

/// <summary>
/// --checkpoint DIR and --resume DIR: after each finished level the coordinator writes, each file whole
/// (<see cref="Write"/>: the command line's atomic rename), one file per node with its part of the level's
/// new states (fingerprint, id, judged bits, parent's pending bits, state), one with the level's parent
/// links and the run's counters, and last the marker naming the level. The set of a node is the union of
/// its levels' fingerprints, so a run resumes on any number of nodes: every record goes to its new owner.
/// </summary>
public sealed record CheckpointPlan(string Directory, Action<string, byte[]> Write, bool Resume)
{
    /// <summary>Why a path is not a regular file ("a FIFO"), or null; asked before it is opened (opening a FIFO blocks).</summary>
    public Func<string, string?>? NotRegular { get; init; }
}

/// <summary>A checkpoint that cannot be resumed: the file and what is wrong, in one line (exit 2).</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// What a checkpoint must agree with to be resumed: the specification (by name), its property table, the
/// record size (the state's), and the options that shape the levels (pending bits judged on every state,
/// the stop rules); and the bounds it must be within.
/// </summary>
internal sealed record CheckpointExpect(string SpecName, int Props, int RecordBytes, byte Mode, long MaxStates, int MaxDepth,
    ulong Always, ulong Eventually, ulong Sometimes)
{
    public const byte PendingAllMode = 1, StopAtFirstMode = 2, StopWhenAllMode = 4;

    public bool PendingAll => (Mode & PendingAllMode) != 0;
    public int CrashBit => Props - 1;

    public static CheckpointExpect Of<TState, TAction>(ISpec<TState, TAction> spec, string specName, ExploreOptions options)
        where TState : unmanaged where TAction : unmanaged
    {
        ulong always = 0, eventually = 0, sometimes = 0;
        for (int i = 0; i < spec.Properties.Count; i++)
            switch (spec.Properties[i].Kind)
            {
                case PropertyKind.Always: always |= 1UL << i; break;
                case PropertyKind.Eventually: eventually |= 1UL << i; break;
                default: sometimes |= 1UL << i; break;
            }
        bool pendingAll = options.Liveness == Liveness.Search && eventually != 0;
        byte mode = (byte)((pendingAll ? PendingAllMode : 0) | (options.StopAtFirstViolation ? StopAtFirstMode : 0)
                           | (options.StopWhenAllViolated ? StopWhenAllMode : 0));
        return new(specName, spec.Properties.Count + 1, CheckpointFiles.RecordBytes(System.Runtime.CompilerServices.Unsafe.SizeOf<TState>()), mode,
            options.MaxStates, options.MaxDepth, always, eventually, sometimes);
    }

    public static string DescribeMode(byte mode) =>
        $"{((mode & PendingAllMode) != 0 ? "cycle search" : "no cycle search")}, {((mode & StopAtFirstMode) != 0 ? "--first" : "not --first")}, " +
        $"{((mode & StopWhenAllMode) != 0 ? "stop when all are decided (audit)" : "search on when all are decided (explore)")}";
}

/// <summary>What a checkpoint holds besides the states: the coordinator's counters, verdicts and parent links at its last level.</summary>
internal sealed class CheckpointImage
{
    public int Last;
    public ulong Run;
    public long States, Transitions, Count, Sent;
    public int Depth;
    public ulong Decided, Reached;
    public long[] Witness = [];
    public (uint State, int Choice, bool Contract, string Message)? Crash;
    public ChunkedList<uint> Parent = new();
    public ChunkedList<byte> Choice = new();
}

/// <summary>
/// The files of a checkpoint, version 2, little-endian. Every file: magic "MKCK", version, kind ('M' marker,
/// 'C' a level's coordinator file, 'N' a level's node file), the run's id (a resumed run keeps it, so files
/// of two runs are never taken for one), the body, and last a 64-bit checksum of everything before it.
/// </summary>
internal static class CheckpointFiles
{
    public const uint Magic = 0x4b434b4d; // "MKCK"
    public const uint Version = 2;
    public const int HeaderBytes = 4 + 4 + 1 + 8, TrailerBytes = 8;
    public const int MaxName = 4096, MaxMessage = 1 << 16, MaxNodes = 4096;
    /// <summary>The marker: a name and a level.</summary>
    public const long MaxMarkerBytes = HeaderBytes + 5 + MaxName + 4 + TrailerBytes;
    /// <summary>A node file's fields before its records: level, node, record size, record count.</summary>
    public const int NodeFieldBytes = 4 + 4 + 4 + 8;
    /// <summary>A coordinator file's parent link: the parent's id and the step.</summary>
    public const int LinkBytes = 5;

    public static string Marker => "checkpoint";
    public static string Coordinator(int level) => $"level-{level}.coordinator";
    public static string Node(int level, int node) => $"level-{level}.node-{node}";

    /// <summary>A record: fingerprint, id, judged bits, parent's pending bits, the state.</summary>
    public static int RecordBytes(int stateBytes) => 3 * sizeof(ulong) + sizeof(uint) + stateBytes;

    /// <summary>The longest coordinator file a run of <paramref name="props"/> properties bounded at <paramref name="maxStates"/> writes.</summary>
    public static long MaxCoordinatorBytes(int props, long maxStates) =>
        HeaderBytes + 4 + 4 + 5 + MaxName + 4 + 1 + 8 * 2 + 4 + 8 * 2 + 8 * 2 + 8L * props + 1 + 4 + 4 + 1 + 5 + MaxMessage + LinkBytes * maxStates + TrailerBytes;

    public static BinaryWriter Writer(MemoryStream m, char kind, ulong run)
    {
        var w = new BinaryWriter(m, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write((byte)kind);
        w.Write(run);
        return w;
    }

    /// <summary>The file's bytes with the checksum appended.</summary>
    public static byte[] Seal(MemoryStream m)
    {
        var body = m.GetBuffer().AsSpan(0, (int)m.Length);
        var c = new Checksum();
        c.Add(body);
        var bytes = new byte[body.Length + TrailerBytes];
        body.CopyTo(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(body.Length), c.Value);
        return bytes;
    }

    /// <summary>Clipped, control characters escaped: a name read from a file, for a one-line error.</summary>
    public static string Show(string text)
    {
        var b = new StringBuilder();
        foreach (char ch in text.Length > 80 ? text[..80] : text)
            b.Append(char.IsControl(ch) || char.IsSurrogate(ch) ? $"\\x{(int)ch:x2}" : ch);
        return text.Length > 80 ? b.Append('…').ToString() : b.ToString();
    }
}

/// <summary>A 64-bit checksum of a byte stream, word by word (the multiply-rotate round of xxHash64); fed in pieces of any size.</summary>
internal struct Checksum
{
    private const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL;
    private ulong _h;
    private ulong _tail;
    private int _tailBytes;
    private long _length;

    public void Add(ReadOnlySpan<byte> bytes)
    {
        _length += bytes.Length;
        while (_tailBytes != 0 && bytes.Length > 0)
        {
            _tail |= (ulong)bytes[0] << (8 * _tailBytes);
            bytes = bytes[1..];
            if (++_tailBytes == 8) { Word(_tail); _tail = 0; _tailBytes = 0; }
        }
        var words = MemoryMarshal.Cast<byte, ulong>(bytes[..(bytes.Length & ~7)]);
        foreach (ulong w in words) Word(BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w));
        foreach (byte b in bytes[(bytes.Length & ~7)..]) _tail |= (ulong)b << (8 * _tailBytes++);
    }

    private void Word(ulong w) => _h = BitOperations.RotateLeft(_h ^ (w * P2), 31) * P1;

    public readonly ulong Value
    {
        get
        {
            ulong h = BitOperations.RotateLeft(_h ^ ((_tail ^ (ulong)_tailBytes) * P2), 31) * P1 ^ (ulong)_length;
            h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
            return h;
        }
    }
}

/// <summary>
/// One checkpoint file read field by field through a small buffer: its kind checked to be a regular file
/// before it is opened, its length checked against what such a file can hold before a byte is read, its
/// checksum checked before a field is taken, and every field named in the error if the file ends first.
/// Nothing is allocated by a length the file claims.
/// </summary>
internal sealed class CheckpointReader : IDisposable
{
    private readonly FileStream _file;
    private byte[] _buffer = new byte[1 << 16];
    private int _at, _filled;
    private long _position; // of the next field, from the file's start

    public string Name { get; }
    public ulong Run { get; }
    /// <summary>Bytes of fields left before the checksum.</summary>
    public long Left => _end - _position;
    private readonly long _end;

    private CheckpointReader(string name, FileStream file, long end)
    {
        Name = name;
        _file = file;
        _end = end;
        _position = 0;
        uint magic = U32("the magic number");
        uint version = U32("the version");
        if (magic != CheckpointFiles.Magic) throw Fail("not a checkpoint file (no MKCK magic number)");
        if (version != CheckpointFiles.Version) throw Fail($"version {version}, not {CheckpointFiles.Version}");
        Kind = (char)U8("the kind");
        Run = U64("the run's id");
    }

    public char Kind { get; }

    /// <summary>Opens <paramref name="name"/> in <paramref name="dir"/> as a file of <paramref name="kind"/> of run <paramref name="run"/> (any run: null), at most <paramref name="maxBytes"/> long.</summary>
    public static CheckpointReader Open(string dir, string name, char kind, ulong? run, long maxBytes, Func<string, string?>? notRegular)
    {
        string path = Path.Combine(dir, name);
        if (notRegular?.Invoke(path) is { } why) throw new CheckpointException($"{name}: {why}, not a regular file");
        if (Directory.Exists(path)) throw new CheckpointException($"{name}: a directory, not a regular file");
        if (!File.Exists(path)) throw new CheckpointException($"{name}: missing");
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointException($"{name}: cannot be read: {e.Message}"); }
        try
        {
            long length = file.Length;
            if (length < CheckpointFiles.HeaderBytes + CheckpointFiles.TrailerBytes)
                throw new CheckpointException($"{name}: truncated: {length} bytes, less than a header and a checksum");
            if (length > maxBytes)
                throw new CheckpointException($"{name}: {length:N0} bytes, more than such a file can hold here ({maxBytes:N0})");
            long end = length - CheckpointFiles.TrailerBytes;
            // The checksum first: a file changed anywhere is refused before any of it is believed.
            var c = new Checksum();
            var buffer = new byte[1 << 16];
            for (long done = 0; done < end;)
            {
                int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, end - done));
                if (n <= 0) throw new CheckpointException($"{name}: truncated while it was read");
                c.Add(buffer.AsSpan(0, n));
                done += n;
            }
            Span<byte> trailer = stackalloc byte[CheckpointFiles.TrailerBytes];
            file.ReadExactly(trailer);
            if (BinaryPrimitives.ReadUInt64LittleEndian(trailer) != c.Value)
                throw new CheckpointException($"{name}: its checksum does not match its contents (the file was cut or changed)");
            file.Position = 0;
            var r = new CheckpointReader(name, file, end);
            if (r.Kind != kind) throw r.Fail($"a file of kind '{CheckpointFiles.Show(r.Kind.ToString())}', not '{kind}'");
            if (run is { } expected && r.Run != expected) throw r.Fail($"of run {r.Run:x16}, not of the marker's run {expected:x16} (a file of another checkpoint)");
            return r;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { file.Dispose(); throw new CheckpointException($"{name}: cannot be read: {e.Message}"); }
        catch { file.Dispose(); throw; }
    }

    public CheckpointException Fail(string what) => new($"{Name}: {what}");

    private ReadOnlySpan<byte> Take(int n, string what)
    {
        if (n > Left) throw Fail($"truncated: {what} at byte {_position} needs {n} bytes, {Left} are left");
        if (_filled - _at < n)
        {
            // A field longer than the buffer (a state of more than 64 KiB): n is the caller's, within what the file holds.
            if (n > _buffer.Length) Array.Resize(ref _buffer, n);
            Array.Copy(_buffer, _at, _buffer, 0, _filled - _at);
            _filled -= _at;
            _at = 0;
            while (_filled < n)
            {
                int got;
                try { got = _file.Read(_buffer, _filled, _buffer.Length - _filled); }
                catch (IOException e) { throw Fail($"cannot be read: {e.Message}"); }
                if (got <= 0) throw Fail($"truncated while it was read ({what} at byte {_position})");
                _filled += got;
            }
        }
        var span = _buffer.AsSpan(_at, n);
        _at += n;
        _position += n;
        return span;
    }

    public byte U8(string what) => Take(1, what)[0];
    public bool Bool(string what) => U8(what) switch { 0 => false, 1 => true, var b => throw Fail($"{what} is {b}, not 0 or 1") };
    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public int I32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));
    public long I64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    /// <summary>A string as BinaryWriter writes it (7-bit encoded length, UTF-8), at most <paramref name="max"/> bytes.</summary>
    public string Str(string what, int max)
    {
        int length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 28) throw Fail($"{what}: its length is not a 7-bit encoded number");
            byte b = U8(what);
            length |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (length < 0 || length > max) throw Fail($"{what}: a length of {(uint)length:N0} bytes, more than {max:N0}");
        var bytes = Take(length, what);
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Fail($"{what}: not UTF-8"); }
    }

    /// <summary>Up to <paramref name="into"/>'s length of raw bytes (records), straight from the file.</summary>
    public void Bytes(Span<byte> into, string what) => Take(into.Length, what).CopyTo(into);

    /// <summary>The file must end here (before its checksum).</summary>
    public void End(string after)
    {
        if (Left != 0) throw Fail($"{Left:N0} bytes after {after}");
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// Reads a checkpoint back and checks it against the run that resumes it, without a cluster: the pure part of
/// --resume, and what the fuzz harness calls. Every level's coordinator file must follow the level before
/// (counters, verdicts, parent links in key order in the level before's ids) and its node files must hold the
/// level's states exactly once, each in the file of the node that owned it, each record's fingerprint its
/// state's and its bits its state's judgement. A fault is a <see cref="CheckpointException"/> naming the file.
/// The records are handed to <c>load</c> (the new owner under <c>nodes</c>, a batch of records, whether they
/// are the last level's) as they are read.
/// </summary>
internal static class CheckpointReading
{
    private const uint Root = uint.MaxValue;

    public static CheckpointImage Read<TState, TAction>(ISpec<TState, TAction> spec, CheckpointExpect e, string dir, int nodes,
        Func<string, string?>? notRegular, Action<int, byte[], bool>? load) where TState : unmanaged where TAction : unmanaged
    {
        var img = new CheckpointImage { Witness = new long[e.Props] };
        Array.Fill(img.Witness, -1L);
        using (var r = CheckpointReader.Open(dir, CheckpointFiles.Marker, 'M', null, CheckpointFiles.MaxMarkerBytes, notRegular))
        {
            img.Run = r.Run;
            string name = r.Str("the specification's name", CheckpointFiles.MaxName);
            if (name != e.SpecName) throw r.Fail($"it is of {CheckpointFiles.Show(name)}, not {e.SpecName}");
            img.Last = r.I32("the level");
            if (img.Last < 0) throw r.Fail($"level {img.Last}");
            r.End("the level");
        }
        ulong[] before = [];
        long beforeFirst = 0;
        var route = new Route(nodes, load);
        for (int level = 0; level <= img.Last; level++)
        {
            route.Frontier = level == img.Last;
            long first = img.States;
            int writers = ReadCoordinator(img, e, dir, level, first, beforeFirst, notRegular);
            long count = img.States - first;
            var bits = new ulong[count];
            var seen = new ulong[(count + 63) / 64];
            long found = 0;
            for (int k = 0; k < writers; k++)
                found += ReadNode(spec, img, e, dir, level, k, writers, first, count - found, bits, seen, before, beforeFirst, route, notRegular);
            if (found != count)
                throw new CheckpointException($"{CheckpointFiles.Coordinator(level)}: the level has {count:N0} states, its {writers} node files hold {found:N0}");
            route.Flush();
            before = bits;
            beforeFirst = first;
        }
        return img;
    }

    /// <summary>A level's counters, verdicts and parent links; returns the node count it was written with.</summary>
    private static int ReadCoordinator(CheckpointImage img, CheckpointExpect e, string dir, int level, long first, long beforeFirst, Func<string, string?>? notRegular)
    {
        using var r = CheckpointReader.Open(dir, CheckpointFiles.Coordinator(level), 'C', img.Run, CheckpointFiles.MaxCoordinatorBytes(e.Props, e.MaxStates), notRegular);
        int l = r.I32("the level");
        if (l != level) throw r.Fail($"of level {l}, not {level}");
        int nodes = r.I32("the node count");
        if (nodes < 1 || nodes > CheckpointFiles.MaxNodes) throw r.Fail($"{nodes} nodes (1..{CheckpointFiles.MaxNodes})");
        string name = r.Str("the specification's name", CheckpointFiles.MaxName);
        if (name != e.SpecName) throw r.Fail($"of {CheckpointFiles.Show(name)}, not {e.SpecName}");
        int props = r.I32("the property count");
        if (props != e.Props) throw r.Fail($"{props} properties, not {e.Props}: another property table");
        byte mode = r.U8("the search's options");
        if (mode != e.Mode) throw r.Fail($"written by a search with {CheckpointExpect.DescribeMode(mode)}; this one has {CheckpointExpect.DescribeMode(e.Mode)}: resume with the options it was written with");
        long states = r.I64("the state count"), transitions = r.I64("the transition count");
        int depth = r.I32("the depth");
        long count = r.I64("the level's state count"), sent = r.I64("the bytes sent");
        if (count < 0 || states - count != first) throw r.Fail($"{states:N0} states of which {count:N0} are the level's, where the levels before hold {first:N0}");
        if (states > e.MaxStates) throw r.Fail($"{states:N0} states, beyond --max-states {e.MaxStates:N0}");
        if (count == 0 && level < img.Last) throw r.Fail("an empty level, which ends a search, before the marker's last level");
        if (transitions < img.Transitions) throw r.Fail($"{transitions:N0} transitions, fewer than the level before's {img.Transitions:N0}");
        if (sent < img.Sent) throw r.Fail($"{sent:N0} bytes sent, fewer than the level before's {img.Sent:N0}");
        int expectedDepth = level == 0 ? 0 : img.Depth + (count > 0 ? 1 : 0);
        if (depth != expectedDepth) throw r.Fail($"depth {depth}, not {expectedDepth}");
        if (depth > e.MaxDepth) throw r.Fail($"depth {depth}, beyond --max-depth {e.MaxDepth}");
        ulong decided = r.U64("the decided properties"), reached = r.U64("the reached properties");
        ulong crashBit = 1UL << e.CrashBit;
        if ((decided & ~(e.Always | e.Eventually | crashBit)) != 0 || (reached & ~e.Sometimes) != 0)
            throw r.Fail($"decided {decided:x} or reached {reached:x} names a property of no such kind");
        if ((img.Decided & ~decided) != 0 || (img.Reached & ~reached) != 0) throw r.Fail("a property decided or reached in the level before is not any more");
        for (int p = 0; p < e.Props; p++)
        {
            long w = r.I64("a witness");
            bool has = p != e.CrashBit && ((decided | reached) & (1UL << p)) != 0;
            if (has ? w < 0 || w >= states : w != -1) throw r.Fail($"property {p}'s witness {w} {(has ? "is not a state" : "where it has none")}");
            if (img.Witness[p] >= 0 && img.Witness[p] != w) throw r.Fail($"property {p}'s witness {w} is not the level before's {img.Witness[p]}");
            img.Witness[p] = w;
        }
        bool crashed = r.Bool("the crash flag");
        if (crashed != ((decided & crashBit) != 0)) throw r.Fail("a crash flag that is not the no-crash property's verdict");
        if (crashed)
        {
            uint state = r.U32("the crashed state");
            int choice = r.I32("the crashed step");
            bool contract = r.Bool("the crash's kind");
            string message = r.Str("the crash's message", CheckpointFiles.MaxMessage);
            if (state >= first || choice < -1 || choice >= SpecLimits.MaxEnabled) throw r.Fail($"a crash at state {state} step {choice}, not of the levels before");
            if (img.Crash is { } c && (c.State != state || c.Choice != choice)) throw r.Fail("a crash that is not the level before's");
            img.Crash = (state, choice, contract, message);
        }
        // The parent links: the level's states in key order (parent id, step), parents in the level before.
        if (r.Left != count * CheckpointFiles.LinkBytes)
            throw r.Fail($"{r.Left:N0} bytes of parent links for {count:N0} states ({CheckpointFiles.LinkBytes} bytes each)");
        ulong last = 0;
        for (long id = first; id < states; id++)
        {
            uint parent = r.U32("a parent link");
            byte step = r.U8("a parent link's step");
            if (level == 0 ? parent != Root : parent < beforeFirst || parent >= first || step >= SpecLimits.MaxEnabled)
                throw r.Fail($"state {id}'s parent {(parent == Root ? "(none)" : parent.ToString(System.Globalization.CultureInfo.InvariantCulture))} step {step} is not of the level before");
            ulong key = ((ulong)parent << 8) | step;
            if (id > first && key <= last) throw r.Fail($"state {id}'s parent link is not after state {id - 1}'s (a level is numbered in (parent, step) order)");
            last = key;
            img.Parent.Add(parent);
            img.Choice.Add(step);
        }
        img.States = states;
        img.Transitions = transitions;
        img.Depth = depth;
        img.Count = count;
        img.Sent = sent;
        img.Decided = decided;
        img.Reached = reached;
        if (!crashed) img.Crash = null;
        return nodes;
    }

    /// <summary>One node file of a level: its records checked and routed; returns how many it held.</summary>
    private static long ReadNode<TState, TAction>(ISpec<TState, TAction> spec, CheckpointImage img, CheckpointExpect e, string dir, int level, int node,
        int writers, long first, long left, ulong[] bits, ulong[] seen, ulong[] before, long beforeFirst, Route route, Func<string, string?>? notRegular)
        where TState : unmanaged where TAction : unmanaged
    {
        int rec = e.RecordBytes;
        long most = CheckpointFiles.HeaderBytes + CheckpointFiles.NodeFieldBytes + left * rec + CheckpointFiles.TrailerBytes;
        using var r = CheckpointReader.Open(dir, CheckpointFiles.Node(level, node), 'N', img.Run, most, notRegular);
        int l = r.I32("the level");
        if (l != level) throw r.Fail($"of level {l}, not {level}");
        int k = r.I32("the node");
        if (k != node) throw r.Fail($"of node {k}, not {node}");
        int size = r.I32("the record size");
        if (size != rec) throw r.Fail($"records of {size} bytes, not {rec}: another state size");
        long n = r.I64("the record count");
        if (n < 0 || n > left) throw r.Fail($"{n:N0} records, where the level has {left:N0} states left");
        if (r.Left != n * rec) throw r.Fail($"{r.Left:N0} bytes of records for {n:N0} records of {rec} bytes");
        ulong end = (ulong)img.States;
        var one = new byte[rec];
        for (long i = 0; i < n; i++)
        {
            r.Bytes(one, "a record");
            ulong fp = BinaryPrimitives.ReadUInt64LittleEndian(one);
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(one.AsSpan(8));
            ulong judged = BinaryPrimitives.ReadUInt64LittleEndian(one.AsSpan(12)), parentBits = BinaryPrimitives.ReadUInt64LittleEndian(one.AsSpan(20));
            var state = MemoryMarshal.Read<TState>(one.AsSpan(28));
            if (id < first || id >= end) throw r.Fail($"record {i}: state {id} is not of level {level} ({first}..{(long)end - 1})");
            long at = id - first;
            if ((seen[at >> 6] & (1UL << (int)(at & 63))) != 0) throw r.Fail($"record {i}: state {id} a second time");
            seen[at >> 6] |= 1UL << (int)(at & 63);
            if (fp != Fingerprint.Of(state)) throw r.Fail($"record {i} (state {id}): its fingerprint {fp:x16} is not its state's");
            int owner = Partitions.Owner(fp, writers);
            if (owner != node) throw r.Fail($"record {i} (state {id}) is node {owner}'s, not this file's");
            ulong expected;
            try
            {
                expected = (spec.Violated(state) & e.Always) | (spec.Reached(state) & e.Sometimes) | (e.PendingAll ? spec.Pending(state) & e.Eventually : 0);
            }
            catch (Exception x) when (x is not OutOfMemoryException) { throw r.Fail($"record {i} (state {id}): its state cannot be judged: {UserCode.Describe(x)}"); }
            if (judged != expected) throw r.Fail($"record {i} (state {id}): judged bits {judged:x}, where its state's are {expected:x}");
            ulong parentOwed = level == 0 ? 0 : before[img.Parent[id] - beforeFirst] & e.Eventually;
            if (parentBits != parentOwed) throw r.Fail($"record {i} (state {id}): its parent's pending bits {parentBits:x}, where its parent's are {parentOwed:x}");
            bits[at] = judged;
            route.Add(fp, one);
        }
        r.End("the records");
        return n;
    }

    /// <summary>Records to their owners under the resuming run's node count, sent in batches of bounded size as they fill.</summary>
    private sealed class Route(int nodes, Action<int, byte[], bool>? load)
    {
        private readonly MemoryStream?[] _current = new MemoryStream?[nodes];
        /// <summary>Whether the records now read are the last level's (the frontier).</summary>
        public bool Frontier { get; set; }

        public void Add(ulong fp, ReadOnlySpan<byte> rec)
        {
            if (load is null) return;
            int owner = Partitions.Owner(fp, nodes);
            var m = _current[owner] ??= new MemoryStream();
            m.Write(rec);
            if (m.Length + rec.Length > Partitions.BatchBytes) { _current[owner] = null; load(owner, m.ToArray(), Frontier); }
        }

        public void Flush()
        {
            if (load is null) return;
            for (int k = 0; k < nodes; k++)
                if (_current[k] is { Length: > 0 } m) { _current[k] = null; load(k, m.ToArray(), Frontier); }
        }
    }
}
