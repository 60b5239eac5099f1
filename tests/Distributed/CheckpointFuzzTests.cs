using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Multikernel.Distributed;
using Multikernel.Model.Checking;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Explorer;
using Orleans.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Distributed;

/// <summary>A checkpoint the real writer wrote (a cluster run stopped at a depth bound): its files, and what it was written for.</summary>
internal sealed record CheckpointBase(string Label, ISpecHandle Spec, string SpecName, ExploreOptions Options, int Nodes,
    IReadOnlyDictionary<string, byte[]> Files, CheckpointImage Image);

/// <summary>
/// Checkpoints written by the real writer on Orleans' in-process 3-silo cluster, on 1, 2 and 3 nodes, of designs with
/// and without violations, eventually-properties searched or not: the grammar's valid sentences the fuzz cases start from.
/// </summary>
public sealed class CheckpointBases : IAsyncLifetime
{
    internal TestClusterFixture Cluster { get; } = new();
    internal IReadOnlyList<CheckpointBase> Bases { get; private set; } = [];

    internal static readonly (string Design, int Nodes, int Depth, Liveness Liveness)[] Plans =
    [
        ("ipi/reference", 3, 9, Liveness.Search),
        ("ipi/ref-no-mask", 2, 16, Liveness.Search),
        ("uffd/uffd-ref-no-wake", 1, 4, Liveness.None),
        ("balloon/balloon-ref-no-lock", 3, 12, Liveness.Search),
    ];

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        var bases = new List<CheckpointBase>();
        foreach (var (design, nodes, depth, liveness) in Plans)
        {
            var (spec, name) = Reports.Spec(design);
            var options = Written(liveness, depth);
            string dir = Directory.CreateTempSubdirectory("mk-ckbase").FullName;
            try
            {
                using var subset = Subset(nodes);
                var (report, _) = DistributedExplorer.Run(spec, name, options, subset, new CheckpointPlan(dir, (p, bytes) => File.WriteAllBytes(p, bytes), Resume: false));
                Assert.True(report.Bound == Bound.Depth, $"{design}: {report.Bound} ({report.States} states)");
                var files = Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
                var image = DistributedExplorer.ReadCheckpoint(spec, name, options, dir, nodes, null);
                Assert.True(image.Last >= 4, $"{design}: a checkpoint of {image.Last} levels");
                bases.Add(new CheckpointBase($"{design} on {nodes}", spec, name, options, nodes, files, image));
            }
            finally { Directory.Delete(dir, true); }
        }
        Bases = bases;
    }

    /// <summary>The options a base is written with: stopped by the depth bound, so that the run can go on from it.</summary>
    internal static ExploreOptions Written(Liveness liveness, int depth) =>
        new() { StopWhenAllViolated = false, MaxStates = Reports.Cap, Threads = 1, MaxDepth = depth, Liveness = liveness };

    /// <summary>The first <paramref name="n"/> silos of the cluster as a run's nodes.</summary>
    internal ClusterNodes Subset(int n) =>
        new(Cluster.Cluster.Silos[0].ServiceProvider, Cluster.Cluster.Silos.Take(n).Select(s => s.SiloAddress).ToList());

    public Task DisposeAsync() => Cluster.DisposeAsync();
}

/// <summary>
/// The grammar-aware fuzz harness of --resume's parser (<see cref="CheckpointReading"/>), without a cluster: valid
/// checkpoints from the real writer, mutated structurally — files cut, flipped, grown (with the checksum left or made
/// right again, so that the fields behind it are reached), counts, lengths, levels, node numbers, names, modes and
/// record fields set to wrong and hostile values, parent links and records dropped, doubled, swapped or moved to
/// another node's file, files missing, foreign, FIFOs, directories, links to /dev/zero, files extra. Every case: a
/// bad checkpoint is one line naming the file and what is wrong (a <see cref="CheckpointException"/>, exit 2 on the
/// command line), no other exception, allocation linear in the directory's size, no blocking read (FIFOs and devices are refused by kind), the directory unchanged;
/// a good one reads back to the image it was written from, each state routed once to its owner.
/// </summary>
[Collection("cluster")]
public sealed class CheckpointFuzzTests(CheckpointBases fixture, ITestOutputHelper output) : IClassFixture<CheckpointBases>
{
    private const ulong DefaultSeed = 20261203;
    private const int Cases = 1200;

    /// <summary>The seed: MK_FUZZ_SEED if set (to replay a failure or to try others), else the fixed one. Printed.</summary>
    private static ulong Seed => Environment.GetEnvironmentVariable("MK_FUZZ_SEED") is { Length: > 0 } s ? ulong.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : DefaultSeed;

    [Fact]
    public void Every_mutated_checkpoint_is_refused_in_one_line_or_read_back_whole()
    {
        var stats = new CaseStats();
        var result = FsRun.Run("fuzz checkpoints", CheckpointFuzz.Property(fixture.Bases, CheckpointFuzz.RealReader, stats), Cases, Seed);
        output.WriteLine($"seed {Seed} (replay with MK_FUZZ_SEED={Seed}): {result}");
        output.WriteLine(stats.Summary());
        Assert.True(result.Holds, $"{result} — replay with MK_FUZZ_SEED={Seed}");
        // The generator reaches the parser's depths: checks behind the checksum, the headers, the counters, the records.
        foreach (var kind in new[]
                 {
                     "checksum does not match", "truncated", "missing", "not a regular file", "not of the marker's run", "not a checkpoint file",
                     "is not its state's", "a second time", "this file's", "judged bits", "parent's pending bits", "not after state", "is not of the level before",
                     "another state size", "bytes of records", "bytes of parent links", "written by a search with", "beyond --max-states",
                 })
            Assert.True(stats.Errors.Keys.Any(k => k.Contains(kind, StringComparison.Ordinal)), $"no error of kind '{kind}' was generated (seed {Seed}):\n{stats.Summary()}");
        Assert.True(stats.Valid > Cases / 20, $"only {stats.Valid} valid checkpoints were generated");
    }

    [Fact]
    public void Every_field_of_every_kind_of_file_set_wrong_is_refused()
    {
        // The grammar swept, not sampled: each field of the marker, a coordinator file and a node file of each base, set to
        // the right value plus one, minus one, and hostile values; refused in one line (or, where the field has no
        // redundancy, read back or refused).
        var stats = new CaseStats();
        var cases = CheckpointFuzz.Sweep(fixture.Bases).ToList();
        foreach (var c in cases) CheckpointFuzz.Check(fixture.Bases, CheckpointFuzz.RealReader, c, stats);
        output.WriteLine($"{cases.Count} cases");
        output.WriteLine(stats.Summary());
        Assert.True(cases.Count(c => c.Expect == CheckpointFuzz.Expect.Invalid) > 300);
        foreach (var kind in new[] { "properties, not", "nodes (N..N)", "written by a search with", "another state size", "of node", "of level", "depth ", "the level has" })
            Assert.True(stats.Errors.Keys.Any(k => k.Contains(kind, StringComparison.Ordinal)), $"no error of kind '{kind}':\n{stats.Summary()}");
    }

    [Fact]
    public void The_harness_can_fail_a_reader_that_accepts_what_it_should_refuse()
    {
        // A reader that swallows its refusals (an empty image for any checkpoint) is caught, with the seed to replay it.
        var result = FsRun.Run("fuzz checkpoints (lenient)", CheckpointFuzz.Property(fixture.Bases, (b, dir, options, nodes, load) =>
        {
            try { return CheckpointFuzz.RealReader(b, dir, options, nodes, load); }
            catch (CheckpointException) { return new CheckpointImage(); }
        }, new CaseStats()), 200, DefaultSeed);
        Assert.False(result.Holds);
        Assert.Contains("was accepted", result.Detail);
        Assert.Contains($"{DefaultSeed}", result.ToString());
    }

    [Fact]
    public void The_harness_can_fail_a_reader_that_throws_another_exception()
    {
        var result = FsRun.Run("fuzz checkpoints (throwing)", CheckpointFuzz.Property(fixture.Bases, (b, dir, options, nodes, load) =>
        {
            try { return CheckpointFuzz.RealReader(b, dir, options, nodes, load); }
            catch (CheckpointException e) when (e.Message.Contains("truncated", StringComparison.Ordinal)) { throw new EndOfStreamException(e.Message); }
        }, new CaseStats()), 300, DefaultSeed);
        Assert.False(result.Holds);
        Assert.Contains("EndOfStreamException", result.Detail);
    }

    [Fact]
    public void A_valid_checkpoint_resumes_on_the_cluster_to_the_uninterrupted_report_on_any_node_count()
    {
        // A handful of end-to-end cases: each base (and one with its marker lowered), resumed on another node count.
        foreach (var (b, k) in fixture.Bases.Select((b, k) => (b, k)))
        {
            string dir = CheckpointFuzz.Materialize(b.Files);
            try
            {
                if (k == 1) CheckpointFuzz.LowerMarker(dir, b, b.Image.Last - 2);
                var options = b.Options with { MaxDepth = int.MaxValue };
                string one = Reports.Summary(Explorer.Run(b.Spec, options));
                int nodes = 1 + (b.Nodes % 3);
                using var subset = fixture.Subset(nodes);
                var (report, _) = DistributedExplorer.Run(b.Spec, b.SpecName, options, subset, new CheckpointPlan(dir, (p, bytes) => File.WriteAllBytes(p, bytes), Resume: true));
                Assert.Equal(one, Reports.Summary(report));
            }
            finally { Directory.Delete(dir, true); }
        }
    }

    [Fact]
    public void A_bad_checkpoint_on_the_cluster_is_refused_before_anything_is_written()
    {
        var b = fixture.Bases[0];
        string dir = CheckpointFuzz.Materialize(b.Files);
        try
        {
            string victim = Path.Combine(dir, CheckpointFiles.Node(b.Image.Last, 1));
            var bytes = File.ReadAllBytes(victim);
            bytes[^20] ^= 0x40;
            File.WriteAllBytes(victim, bytes);
            var before = CheckpointFuzz.Snapshot(dir);
            using var subset = fixture.Subset(3);
            var e = Assert.Throws<CheckpointException>(() => DistributedExplorer.Run(b.Spec, b.SpecName, b.Options with { MaxDepth = int.MaxValue }, subset,
                new CheckpointPlan(dir, (p, bytes) => File.WriteAllBytes(p, bytes), Resume: true)));
            Assert.StartsWith($"level-{b.Image.Last}.node-1: ", e.Message);
            Assert.Equal(before, CheckpointFuzz.Snapshot(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>What the cases did: valid ones read back, refusals by kind (numbers taken out).</summary>
internal sealed class CaseStats
{
    public int Valid;
    public readonly SortedDictionary<string, int> Errors = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, int> Mutations = new(StringComparer.Ordinal);

    public void Error(string message)
    {
        string kind = Regex.Replace(message, "-?[0-9][0-9,]*|[0-9a-f]{16}", "N");
        lock (Errors) Errors[kind] = Errors.GetValueOrDefault(kind) + 1;
    }

    public readonly Dictionary<string, double> Times = new();
    public void Time(string what, System.Diagnostics.Stopwatch sw) { lock (Times) Times[what] = Times.GetValueOrDefault(what) + sw.Elapsed.TotalSeconds; sw.Restart(); }

    public string Summary() => string.Join(", ", Times.Select(t => $"{t.Key} {t.Value:F1} s")) + "\n" +
        $"{Valid} read back; mutations: {string.Join(", ", Mutations.Select(m => $"{m.Key} {m.Value}"))}\nerrors:\n  {string.Join("\n  ", Errors.Select(e => $"{e.Value,4} {e.Key}"))}";
}

internal delegate CheckpointImage CheckpointRead(CheckpointBase b, string dir, ExploreOptions options, int nodes, Action<int, byte[], bool> load);

/// <summary>The generator of mutated checkpoint directories and the property every one must keep.</summary>
internal static class CheckpointFuzz
{
    public static readonly CheckpointRead RealReader = (b, dir, options, nodes, load) =>
        DistributedExplorer.ReadCheckpoint(b.Spec, b.SpecName, options, dir, nodes, Multikernel.Cli.Cluster.ClusterRun.NotRegular, load);

    /// <summary>What a case must end in: read back (to the base's image, or an earlier level's), refused, or either (a field with no redundancy).</summary>
    internal enum Expect { Valid, Invalid, Either }

    /// <summary>One case: a base, what is done to its directory, the options and node count it is resumed with.</summary>
    internal sealed record Case(int Base, string Kind, string File, long A, long B, Expect Expect, int Nodes, string Options)
    {
        public override string ToString() => $"base {Base}, {Kind} {File} a={A} b={B}, expect {Expect}, resumed on {Nodes} nodes{(Options.Length > 0 ? ", " + Options : "")}";
    }

    private static readonly string[] Kinds =
    [
        "none", "extra", "lower-marker", "delete", "truncate", "flip", "append", "truncate-sealed", "append-sealed", "flip-sealed",
        "field", "field", "field", "field", "links", "records", "records", "records", "records", "swap-nodes", "foreign", "fifo", "directory", "devzero", "huge-string", "options",
    ];

    private static readonly long[] Hostile = [0, -1, 1, 2, 255, 4096, 4097, int.MaxValue, uint.MaxValue, 1L << 40, long.MaxValue, long.MinValue];

    public static Gen<Case> Cases(IReadOnlyList<CheckpointBase> bases) =>
        from bi in Gen.Choose(0, bases.Count - 1)
        from kind in Gen.Elements(Kinds)
        from fi in Gen.Choose(0, bases[bi].Files.Count - 1)
        from a in Gen.Choose(0, int.MaxValue)
        from b in Gen.Choose(0, int.MaxValue)
        from h in Gen.Elements(Hostile)
        from nodes in Gen.Choose(1, 5)
        select Make(bases, bi, kind, bases[bi].Files.Keys.OrderBy(k => k, StringComparer.Ordinal).ElementAt(fi), a, b, h, nodes);

    private static Case Make(IReadOnlyList<CheckpointBase> bases, int bi, string kind, string file, int a, int b, long hostile, int nodes)
    {
        var bs = bases[bi];
        long length = bs.Files[file].Length;
        bool nodeFile = file.Contains(".node-", StringComparison.Ordinal);
        long body = length - CheckpointFiles.TrailerBytes;
        return kind switch
        {
            "none" => new(bi, kind, file, 0, 0, Expect.Valid, nodes, ""),
            "extra" => new(bi, kind, new[] { $"level-{bs.Image.Last + 1}.node-0", $"level-0.node-{bs.Nodes + a % 3}", "notes.txt", $"level-{bs.Image.Last + 1}.coordinator" }[a % 4], a, 0, Expect.Valid, nodes, ""),
            "lower-marker" => new(bi, kind, CheckpointFiles.Marker, a % bs.Image.Last, 0, Expect.Valid, nodes, ""),
            "delete" or "fifo" or "directory" or "devzero" or "foreign" => new(bi, kind, file, a, 0, Expect.Invalid, nodes, ""),
            "truncate" => new(bi, kind, file, a % length, 0, Expect.Invalid, nodes, ""),
            "flip" => new(bi, kind, file, a % length, 1 + b % 255, Expect.Invalid, nodes, ""),
            "append" => new(bi, kind, file, 1 + a % 64, b, Expect.Invalid, nodes, ""),
            "truncate-sealed" => new(bi, kind, file, a % body, 0, Expect.Invalid, nodes, ""),
            "append-sealed" => new(bi, kind, file, 1 + a % 64, b, Expect.Invalid, nodes, ""),
            // A flipped byte of a node file or of any header is always caught; of a coordinator's or the marker's fields, not always (a count of bytes sent has no redundancy).
            "flip-sealed" => new(bi, kind, file, a % body, 1 + b % 255, nodeFile || a % body < CheckpointFiles.HeaderBytes ? Expect.Invalid : Expect.Either, nodes, ""),
            "field" => Field(bi, bs, file, a, b, hostile, nodes),
            "links" => new(bi, kind, CheckpointFiles.Coordinator(1 + a % bs.Image.Last), a / 8 % 4, b, Expect.Invalid, nodes, ""),
            "records" => new(bi, kind, file, a % 7, b, nodeFile ? Expect.Invalid : Expect.Valid, nodes, ""),
            "swap-nodes" => new(bi, kind, CheckpointFiles.Node(a % (bs.Image.Last + 1), 0), 1 + b % Math.Max(1, bs.Nodes - 1), 0, bs.Nodes > 1 ? Expect.Invalid : Expect.Valid, nodes, ""),
            "huge-string" => new(bi, kind, a % 2 == 0 ? CheckpointFiles.Marker : CheckpointFiles.Coordinator(a / 2 % (bs.Image.Last + 1)), a, b, Expect.Invalid, nodes, ""),
            "options" => new(bi, kind, "", a % 5, 0, (a % 5) switch { 4 => Expect.Valid, 1 => Expect.Either, _ => Expect.Invalid }, nodes, new[] { "--first", "another liveness", "audit's stop", "--max-states", "--max-depth (the same)" }[a % 5]),
            _ => throw new InvalidOperationException(kind),
        };
    }

    /// <summary>A named field of a file set to a value: hostile, or the right one plus or minus one.</summary>
    private static Case Field(int bi, CheckpointBase bs, string file, int a, int b, long hostile, int nodes)
    {
        var fields = Layout.Fields(file, bs.Files[file], bs.Image.Witness.Length);
        var (name, at, size) = fields[a % fields.Count];
        long current = Layout.Get(bs.Files[file], at, size);
        long value = (b % 3) switch { 0 => hostile, 1 => current + 1, _ => current - 1 };
        if (Layout.Trim(value, size) == Layout.Trim(current, size)) value = current ^ 0x10;
        // No redundancy: bytes sent, transitions, witnesses, the crash's message; the marker's level may go down (an earlier level, valid).
        var expect = name is "sent" or "transitions" or "witness" or "crash.contract" or "crash.state" or "crash.choice" ? Expect.Either
            : name == "marker.level" ? Expect.Either : Expect.Invalid;
        return new(bi, "field", file, at, value, expect, nodes, name + "/" + size);
    }

    public static FsCheck.Property Property(IReadOnlyList<CheckpointBase> bases, CheckpointRead read, CaseStats stats) =>
        Prop.ForAll(Arb.From(Cases(bases)), c =>
        {
            lock (stats.Mutations) stats.Mutations[c.Kind] = stats.Mutations.GetValueOrDefault(c.Kind) + 1;
            Check(bases, read, c, stats);
            return true;
        });

    /// <summary>Every field of the marker, of level 1's coordinator file and of level 1's node files, set to the right value ± 1 and to hostile values.</summary>
    public static IEnumerable<Case> Sweep(IReadOnlyList<CheckpointBase> bases)
    {
        for (int bi = 0; bi < bases.Count; bi++)
        {
            var b = bases[bi];
            foreach (string file in new[] { CheckpointFiles.Marker, CheckpointFiles.Coordinator(1), CheckpointFiles.Node(1, 0), CheckpointFiles.Node(b.Image.Last, b.Nodes - 1) })
            {
                var fields = Layout.Fields(file, b.Files[file], b.Image.Witness.Length);
                for (int f = 0; f < fields.Count; f++)
                    for (int v = 0; v < 4; v++)
                    {
                        // a = the field's index, b % 3 picks the value: hostile (long.MaxValue, -1), +1, -1.
                        yield return Field(bi, b, file, f, v switch { 0 => 0, 1 => 1, 2 => 2, _ => 3 }, v == 3 ? -1 : long.MaxValue, 1 + (f + v) % 4);
                    }
            }
        }
    }

    /// <summary>Applies the case to a fresh copy of its base and reads it back; throws (falsifying the property) on any breach.</summary>
    public static void Check(IReadOnlyList<CheckpointBase> bases, CheckpointRead read, Case c, CaseStats stats)
    {
        var b = bases[c.Base];
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string dir = Materialize(b.Files);
        stats.Time("materialize", sw);
        try
        {
            var options = Apply(bases, c, dir);
            stats.Time("apply", sw);
            var before = Snapshot(dir);
            stats.Time("snapshot", sw);
            long size = new DirectoryInfo(dir).EnumerateFiles().Where(f => f.LinkTarget is null && Multikernel.Cli.Cluster.ClusterRun.NotRegular(f.FullName) is null).Sum(f => f.Length);
            int rec = (int)Layout.Get(b.Files.First(f => f.Key.Contains(".node-", StringComparison.Ordinal)).Value, CheckpointFiles.HeaderBytes + 8, 4);
            var routed = new long[c.Nodes];
            long frontier = 0;
            Exception? error = null;
            CheckpointImage? image = null;
            long allocated = 0;
            // On this thread, bounded by work: the inputs that could block a reader (FIFOs, devices, links to
            // /dev/zero) are refused by their kind before a byte is read, as the cases' refusals show.
            long start = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                image = read(b, dir, options, c.Nodes, (owner, batch, isFrontier) =>
                {
                    if (batch.Length % rec != 0) throw new InvalidOperationException($"a batch of {batch.Length} bytes is not whole records");
                    for (int at = 0; at < batch.Length; at += rec)
                        if (Partitions.Owner(BinaryPrimitives.ReadUInt64LittleEndian(batch.AsSpan(at)), c.Nodes) != owner) throw new InvalidOperationException("a record routed to a node that does not own it");
                    routed[owner] += batch.Length / rec;
                    if (isFrontier) frontier += batch.Length / rec;
                });
            }
            catch (Exception e) { error = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - start;
            stats.Time("read", sw);
            if (!Same(before, Snapshot(dir))) throw new InvalidOperationException($"{c}: reading changed the directory");
            stats.Time("snapshot2", sw);
            long bound = 64 * size + (16L << 20);
            if (allocated > bound) throw new InvalidOperationException($"{c}: allocated {allocated:N0} bytes for a directory of {size:N0}");
            if (error is not null)
            {
                if (error is not CheckpointException) throw new InvalidOperationException($"{c}: threw {error.GetType().Name}: {error.Message}", error);
                string m = error.Message;
                if (m.Contains('\n') || m.Contains('\r') || m.Contains("   at ", StringComparison.Ordinal) || m.Length > 400)
                    throw new InvalidOperationException($"{c}: not one short line: {m}");
                if (!Regex.IsMatch(m, @"^(checkpoint|level-[0-9]+\.coordinator|level-[0-9]+\.node-[0-9]+): \S"))
                    throw new InvalidOperationException($"{c}: the error does not start with the file: {m}");
                if (c.Expect == Expect.Valid) throw new InvalidOperationException($"{c}: a valid checkpoint was refused: {m}");
                stats.Error(m);
                return;
            }
            if (c.Expect == Expect.Invalid) throw new InvalidOperationException($"{c}: a bad checkpoint was accepted");
            Interlocked.Increment(ref stats.Valid);
            var img = image!;
            if (c.Expect == Expect.Either) return;
            stats.Time("checks", sw);
            // Read back whole: the base's image (or, with the marker lowered, that level's), every state routed once, the frontier flagged.
            var expected = c.Kind == "lower-marker" ? Lowered(b, (int)c.A) : b.Image;
            string Show(CheckpointImage i) => $"level {i.Last}, {i.States} states ({i.Count} last), {i.Transitions} transitions, depth {i.Depth}, decided {i.Decided:x}, reached {i.Reached:x}, witnesses {string.Join(' ', i.Witness)}, crash {i.Crash}, run {i.Run:x}";
            if (Show(img) != Show(expected)) throw new InvalidOperationException($"{c}: read back as {Show(img)}, not {Show(expected)}");
            for (long id = 0; id < img.States; id++)
                if (img.Parent[id] != b.Image.Parent[id] || img.Choice[id] != b.Image.Choice[id]) throw new InvalidOperationException($"{c}: state {id}'s parent link differs");
            stats.Time("parents", sw);
            if (routed.Sum() != img.States || frontier != img.Count) throw new InvalidOperationException($"{c}: {routed.Sum()} records routed ({frontier} as the frontier) for {img.States} states ({img.Count} last)");
        }
        finally { Directory.Delete(dir, true); stats.Time("delete", sw); }
    }

    /// <summary>The image of the base at an earlier level, from its coordinator file's counters (what the writer wrote then).</summary>
    private static CheckpointImage Lowered(CheckpointBase b, int level)
    {
        var f = b.Files[CheckpointFiles.Coordinator(level)];
        var fields = Layout.Fields(CheckpointFiles.Coordinator(level), f, b.Image.Witness.Length).ToDictionary(x => x.Name + (x.Name == "witness" ? "@" + x.At : ""), x => Layout.Get(f, x.At, x.Size));
        var img = new CheckpointImage
        {
            Last = level, Run = b.Image.Run, States = fields["states"], Transitions = fields["transitions"], Depth = (int)fields["depth"], Count = fields["count"],
            Sent = fields["sent"], Decided = (ulong)fields["decided"], Reached = (ulong)fields["reached"],
            Witness = [.. fields.Where(x => x.Key.StartsWith("witness@", StringComparison.Ordinal)).OrderBy(x => int.Parse(x.Key[8..], System.Globalization.CultureInfo.InvariantCulture)).Select(x => x.Value)],
            Crash = fields["crash"] != 0 ? b.Image.Crash : null,
        };
        return img;
    }

    /// <summary>Where the cases' directories go: memory (/dev/shm) where there is one, since a case writes and removes some fifty files.</summary>
    private static readonly string Scratch = Directory.Exists("/dev/shm") && IsWritable("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    private static bool IsWritable(string dir)
    {
        try { Directory.Delete(Directory.CreateDirectory(Path.Combine(dir, $"mk-probe-{Environment.ProcessId}")).FullName); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    public static string Materialize(IReadOnlyDictionary<string, byte[]> files)
    {
        string dir = Directory.CreateDirectory(Path.Combine(Scratch, $"mk-ckfuzz-{Guid.NewGuid():N}")).FullName;
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        return dir;
    }

    /// <summary>Every entry of the directory: a file's length and time of change, or what else it is.</summary>
    public static SortedDictionary<string, string> Snapshot(string dir)
    {
        var s = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            s[e.Name] = e.LinkTarget is { } t ? "-> " + t
                : e is DirectoryInfo ? "dir"
                : Multikernel.Cli.Cluster.ClusterRun.NotRegular(e.FullName) is { } kind ? kind
                : $"{((FileInfo)e).Length} bytes, {e.LastWriteTimeUtc.Ticks}";
        return s;
    }

    private static bool Same(SortedDictionary<string, string> a, SortedDictionary<string, string> b) => a.Count == b.Count && a.All(x => b.TryGetValue(x.Key, out var v) && v == x.Value);

    public static void LowerMarker(string dir, CheckpointBase b, int level)
    {
        var m = File.ReadAllBytes(Path.Combine(dir, CheckpointFiles.Marker));
        var body = m[..^CheckpointFiles.TrailerBytes];
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(body.Length - 4), level);
        File.WriteAllBytes(Path.Combine(dir, CheckpointFiles.Marker), Seal(body));
    }

    private static byte[] Seal(byte[] body)
    {
        var m = new MemoryStream();
        m.Write(body);
        return CheckpointFiles.Seal(m);
    }

    private static byte[] Body(byte[] file) => file[..^CheckpointFiles.TrailerBytes];

    /// <summary>Does the case to the directory; returns the options the run resumes with.</summary>
    private static ExploreOptions Apply(IReadOnlyList<CheckpointBase> bases, Case c, string dir)
    {
        var b = bases[c.Base];
        string path = Path.Combine(dir, c.File);
        byte[] Bytes() => File.ReadAllBytes(path);
        void Put(byte[] bytes) => File.WriteAllBytes(path, bytes);
        var rng = new Random((int)(c.B & 0x7fffffff));
        switch (c.Kind)
        {
            case "none": break;
            case "extra": var junk = new byte[c.A % 300]; rng.NextBytes(junk); Put(junk); break;
            case "lower-marker": LowerMarker(dir, b, (int)c.A); break;
            case "delete": File.Delete(path); break;
            case "fifo": File.Delete(path); Mkfifo(path); break;
            case "directory": File.Delete(path); Directory.CreateDirectory(path); break;
            case "devzero": File.Delete(path); File.CreateSymbolicLink(path, "/dev/zero"); break;
            case "foreign":
                {
                    var other = bases[(c.Base + 1 + (int)(c.A % (bases.Count - 1))) % bases.Count];
                    var name = other.Files.ContainsKey(c.File) ? c.File : other.Files.Keys.First(k => k.EndsWith(c.File.Contains("node") ? ".node-0" : ".coordinator", StringComparison.Ordinal));
                    Put(other.Files[name]);
                    break;
                }
            case "truncate": Put(Bytes()[..(int)c.A]); break;
            case "flip": { var x = Bytes(); x[c.A] ^= (byte)c.B; Put(x); break; }
            case "append": { var x = new byte[c.A]; rng.NextBytes(x); Put([.. Bytes(), .. x]); break; }
            case "truncate-sealed": Put(Seal(Body(Bytes())[..(int)c.A])); break;
            case "append-sealed": { var x = new byte[c.A]; rng.NextBytes(x); Put(Seal([.. Body(Bytes()), .. x])); break; }
            case "flip-sealed": { var x = Body(Bytes()); x[c.A] ^= (byte)c.B; Put(Seal(x)); break; }
            case "field":
                {
                    var x = Body(Bytes());
                    int size = int.Parse(c.Options[(c.Options.IndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                    Layout.Set(x, (int)c.A, size, c.B);
                    Put(Seal(x));
                    break;
                }
            case "links": Put(Seal(Layout.EditLinks(Body(Bytes()), b.Image.Witness.Length, (int)c.A, rng))); break;
            case "records":
                if (!c.File.Contains(".node-", StringComparison.Ordinal)) break;
                EditRecords(dir, b, c, rng);
                break;
            case "swap-nodes":
                {
                    string other = Path.Combine(dir, c.File[..^1] + c.A);
                    if (!File.Exists(other)) break;
                    var x = File.ReadAllBytes(other);
                    File.WriteAllBytes(other, Bytes());
                    Put(x);
                    break;
                }
            case "huge-string":
                {
                    // The name's 7-bit length made huge (a few ways), the rest left as it was.
                    var x = Body(Bytes());
                    int at = c.File == CheckpointFiles.Marker ? CheckpointFiles.HeaderBytes : CheckpointFiles.HeaderBytes + 8;
                    byte[] len = (c.B % 4) switch { 0 => [0xff, 0xff, 0xff, 0xff, 0x07], 1 => [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 2 => [0x80, 0x80, 0x80, 0x80, 0x80], _ => [0xff, 0x7f] };
                    int old = 1 + (x[at] >= 0x80 ? 1 : 0);
                    Put(Seal([.. x[..at], .. len, .. x[(at + old)..]]));
                    break;
                }
            case "options":
                return c.A switch
                {
                    0 => b.Options with { StopAtFirstViolation = true },
                    1 => b.Options with { Liveness = b.Options.Liveness == Liveness.None ? Liveness.Search : Liveness.None },
                    2 => b.Options with { StopWhenAllViolated = true },
                    3 => b.Options with { MaxStates = b.Image.States - 1 },
                    _ => b.Options,
                };
            default: throw new InvalidOperationException(c.Kind);
        }
        // Resumed without the depth bound it was written with: it goes on from the checkpoint.
        return b.Options with { MaxDepth = int.MaxValue };
    }

    /// <summary>A node file's records: one dropped, doubled, moved to the next node's file, or one of its fields changed (counts made to agree).</summary>
    private static void EditRecords(string dir, CheckpointBase b, Case c, Random rng)
    {
        string path = Path.Combine(dir, c.File);
        var x = Body(File.ReadAllBytes(path));
        int head = CheckpointFiles.HeaderBytes + CheckpointFiles.NodeFieldBytes;
        int rec = BinaryPrimitives.ReadInt32LittleEndian(x.AsSpan(CheckpointFiles.HeaderBytes + 8));
        long n = BinaryPrimitives.ReadInt64LittleEndian(x.AsSpan(CheckpointFiles.HeaderBytes + 12));
        if (n == 0)
        {
            // An empty file: a record that is not of it.
            var other = b.Files.Where(f => f.Key.Contains(".node-", StringComparison.Ordinal) && f.Value.Length > head + rec + 8).First().Value;
            Write(path, [.. x, .. other.AsSpan(head, rec)], 1);
            return;
        }
        int i = rng.Next((int)n), at = head + i * rec;
        switch (c.A)
        {
            case 0: Write(path, [.. x[..at], .. x[(at + rec)..]], n - 1); break;                        // dropped
            case 1: Write(path, [.. x[..(at + rec)], .. x[at..]], n + 1); break;                       // doubled
            case 2:
                {
                    // moved to another node's file of the level (or, on one node, to the level after's)
                    var m = Regex.Match(c.File, @"level-([0-9]+)\.node-([0-9]+)");
                    int level = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), node = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                    string to = b.Nodes > 1 ? CheckpointFiles.Node(level, (node + 1) % b.Nodes) : CheckpointFiles.Node(level == b.Image.Last ? 0 : level + 1, 0);
                    if (to == c.File) { Write(path, [.. x[..at], .. x[(at + rec)..]], n - 1); break; }
                    string tp = Path.Combine(dir, to);
                    var y = Body(File.ReadAllBytes(tp));
                    long ny = BinaryPrimitives.ReadInt64LittleEndian(y.AsSpan(CheckpointFiles.HeaderBytes + 12));
                    Write(tp, [.. y, .. x.AsSpan(at, rec)], ny + 1);
                    Write(path, [.. x[..at], .. x[(at + rec)..]], n - 1);
                    break;
                }
            case 3: x[at + 8 + (rng.Next(3) == 0 ? rng.Next(4) : 0)] ^= (byte)(1 << rng.Next(4)); Write(path, x, n); break; // the id (mostly to another of the level)
            case 4: x[at + 12 + rng.Next(8)] ^= (byte)(1 << rng.Next(8)); Write(path, x, n); break;    // the judged bits
            case 5: x[at + 20 + rng.Next(8)] ^= (byte)(1 << rng.Next(8)); Write(path, x, n); break;    // the parent's pending bits
            default: x[at + (rng.Next(2) == 0 ? rng.Next(8) : 28 + rng.Next(rec - 28))] ^= (byte)(1 << rng.Next(8)); Write(path, x, n); break; // fingerprint or state
        }

        static void Write(string path, byte[] body, long count)
        {
            BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(CheckpointFiles.HeaderBytes + 12), count);
            File.WriteAllBytes(path, Seal(body));
        }
    }

    private static void Mkfifo(string path)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"mkfifo {path}: exit {p.ExitCode}");
    }
}

/// <summary>The test's own reading of the file layout (version 2), to find fields to mutate: name, offset, size.</summary>
internal static class Layout
{
    public static List<(string Name, int At, int Size)> Fields(string file, byte[] bytes, int props)
    {
        int h = CheckpointFiles.HeaderBytes;
        var f = new List<(string, int, int)> { ("magic", 0, 4), ("version", 4, 4), ("kind", 8, 1), ("run", 9, 8) };
        if (file == CheckpointFiles.Marker)
        {
            f.Add(("marker.level", bytes.Length - CheckpointFiles.TrailerBytes - 4, 4));
            return f;
        }
        if (file.Contains(".node-", StringComparison.Ordinal))
        {
            f.AddRange([("level", h, 4), ("node", h + 4, 4), ("record size", h + 8, 4), ("record count", h + 12, 8)]);
            return f;
        }
        f.AddRange([("level", h, 4), ("nodes", h + 4, 4)]);
        int at = h + 8;
        int len = 0, shift = 0;
        while (true) { byte b = bytes[at++]; len |= (b & 0x7f) << shift; shift += 7; if ((b & 0x80) == 0) break; }
        at += len;
        foreach (var (name, size) in new[] { ("props", 4), ("mode", 1), ("states", 8), ("transitions", 8), ("depth", 4), ("count", 8), ("sent", 8), ("decided", 8), ("reached", 8) })
        {
            f.Add((name, at, size));
            at += size;
        }
        for (int p = 0; p < props; p++, at += 8) f.Add(("witness", at, 8));
        f.Add(("crash", at, 1));
        if (bytes[at++] != 0)
        {
            f.AddRange([("crash.state", at, 4), ("crash.choice", at + 4, 4), ("crash.contract", at + 8, 1)]);
        }
        return f;
    }

    /// <summary>Where the parent links start: after the fields.</summary>
    private static int Links(byte[] body, int props)
    {
        var f = Fields("level-0.coordinator", body, props);
        var (name, at, size) = f[^1];
        if (name == "crash") return at + 1;
        int m = at + 1, len = 0, shift = 0;
        while (true) { byte b = body[m++]; len |= (b & 0x7f) << shift; shift += 7; if ((b & 0x80) == 0) break; }
        return m + len;
    }

    /// <summary>Parent links: one dropped, two swapped, a parent out of the level before, a step out of range.</summary>
    public static byte[] EditLinks(byte[] body, int props, int how, Random rng)
    {
        int start = Links(body, props);
        int n = (body.Length - start) / CheckpointFiles.LinkBytes;
        if (n < 2) return [.. body, 0, 0, 0, 0, 0];
        int i = rng.Next(n - 1), at = start + i * CheckpointFiles.LinkBytes;
        switch (how)
        {
            case 0: return [.. body[..at], .. body[(at + CheckpointFiles.LinkBytes)..]];
            case 1:
                {
                    var x = (byte[])body.Clone();
                    body.AsSpan(at, 5).CopyTo(x.AsSpan(at + 5));
                    body.AsSpan(at + 5, 5).CopyTo(x.AsSpan(at));
                    if (x.AsSpan(at, 5).SequenceEqual(body.AsSpan(at, 5))) x[at + 4] ^= 1;
                    return x;
                }
            case 2: { var x = (byte[])body.Clone(); BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(at), (uint)rng.Next(int.MaxValue) | 0x4000_0000); return x; }
            default: { var x = (byte[])body.Clone(); x[at + 4] = (byte)(128 + rng.Next(128)); return x; }
        }
    }

    public static long Get(byte[] bytes, int at, int size) => size switch
    {
        1 => bytes[at],
        4 => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)),
        _ => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at)),
    };

    public static long Trim(long v, int size) => size switch { 1 => (byte)v, 4 => (int)v, _ => v };

    public static void Set(byte[] bytes, int at, int size, long value)
    {
        switch (size)
        {
            case 1: bytes[at] = (byte)value; break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), (int)value); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), value); break;
        }
    }
}
