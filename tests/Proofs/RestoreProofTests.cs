using FsCheck;
using FsCheck.Fluent;
using Multikernel.Model.Restore;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Restore;
using Multikernel.Properties.Checking;
using Multikernel.Proofs.Z3;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;
using static Multikernel.Model.Restore.RestoreConstants;

namespace Multikernel.Tests.Proofs;

public sealed class RestoreProofTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The reference with one check or one translation row taken out: each obligation's mutant.</summary>
    private static readonly (string Obligation, RestoreDesign Design)[] Mutants =
    [
        ("restore.vma-arith", RestoreDesigns.Reference with { Name = "no-alignment", Checks = RestoreCheck.Reference & ~RestoreCheck.VmaAligned }),
        ("restore.pgoff-fits", RestoreDesigns.Reference with { Name = "no-pgoff", Checks = RestoreCheck.Reference & ~RestoreCheck.PgoffFits }),
        ("restore.chunk-bounded", RestoreDesigns.Reference with { Name = "length-only", Checks = RestoreCheck.Reference & ~RestoreCheck.ChunkBounded }),
        ("restore.page-inside", RestoreDesigns.Reference with { Name = "pages-anywhere", Checks = RestoreCheck.Reference & ~RestoreCheck.PageInVma }),
        ("restore.vmas-disjoint", RestoreDesigns.Reference with { Name = "unsorted", Checks = RestoreCheck.Reference & ~RestoreCheck.VmaSorted }),
        ("restore.shared-refused", RestoreDesigns.Reference with { Name = "map-namespace", Checks = RestoreCheck.Reference & ~RestoreCheck.SharedByVmFlags }),
        ("restore.mmap-private", RestoreDesigns.Reference with { Name = "map-namespace", Checks = RestoreCheck.Reference & ~RestoreCheck.SharedByVmFlags }),
        ("restore.flags-injective", RestoreDesigns.Reference with { Name = "no-growsdown", Untranslated = VmGrowsdown }),
    ];

    [Fact]
    public void The_reference_is_proved()
    {
        var results = RestoreProofs.For(RestoreDesigns.Reference).Select(o => Prover.Prove(o)).ToList();
        Assert.Equal(8, results.Count);
        Assert.All(results, r => Assert.True(r.Verdict == ProofVerdict.Proved, r.ToString()));
    }

    [Fact]
    public void Every_obligation_is_refuted_on_its_mutant()
    {
        foreach (var (name, d) in Mutants)
        {
            var r = Prover.Prove(RestoreProofs.For(d).Single(o => o.Name == name));
            output.WriteLine($"{d.Name}: {r}");
            Assert.True(r.Verdict == ProofVerdict.Refuted, $"{d.Name}: {r}");
        }
        Assert.Equal(RestoreProofs.For(RestoreDesigns.Reference).Select(o => o.Name).Order(), Mutants.Select(m => m.Obligation).Distinct().Order());
    }

    [Fact]
    public void The_seed_is_refuted_where_it_tests_map_bits_against_vm_shared()
    {
        var r = RestoreProofs.For(RestoreDesigns.V6).ToDictionary(o => o.Name, o => Prover.Prove(o));
        foreach (var (name, result) in r) output.WriteLine(result.ToString());
        foreach (var name in new[] { "restore.vma-arith", "restore.pgoff-fits", "restore.chunk-bounded", "restore.page-inside", "restore.vmas-disjoint", "restore.shared-refused", "restore.mmap-private" })
            Assert.Equal(ProofVerdict.Refuted, r[name].Verdict);
        // The counterexample is a shared VMA the seed maps: VM_SHARED or VM_MAYSHARE set, and the MAP_* value it tests has no 0x8.
        var flags = ulong.Parse(System.Text.RegularExpressions.Regex.Match(r["restore.shared-refused"].Detail, @"vm_flags = (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(0UL, flags & SharedVmFlags);
        Assert.False(RestoreValidation.RefusedAsShared(RestoreCheck.SeedV6, flags));
        // The seed's translation itself loses nothing mmap can carry: it is the test, not the table, that is wrong.
        Assert.Equal(ProofVerdict.Proved, r["restore.flags-injective"].Verdict);
    }

    /// <summary>
    /// With do_mmap_pgoff()'s own refusals as the environment (len 0, an unaligned MAP_FIXED start, past
    /// TASK_SIZE), v6's VMA counterexample is no longer start = 1: it is an aligned start with an unaligned
    /// end, which do_mmap_pgoff() maps up to the next page boundary, a VMA larger than the image's.
    /// </summary>
    [Fact]
    public void The_seed_s_vma_counterexample_is_one_do_mmap_pgoff_maps_larger()
    {
        var r = Prover.Prove(RestoreProofs.For(RestoreDesigns.V6).Single(o => o.Name == "restore.vma-arith"));
        output.WriteLine(r.ToString());
        Assert.Equal(ProofVerdict.Refuted, r.Verdict);
        ulong Value(string name)
        {
            string v = System.Text.RegularExpressions.Regex.Match(r.Detail, $@"(?<![\w.]){name} = (0x[0-9a-f]+|\d+)").Groups[1].Value;
            return v.StartsWith("0x", StringComparison.Ordinal)
                ? ulong.Parse(v[2..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)
                : ulong.Parse(v, System.Globalization.CultureInfo.InvariantCulture);
        }
        ulong start = Value("start"), end = Value("end"), mapped = Value("mapped_end");
        Assert.Equal(MmapRefusal.None, RestoreValidation.DoMmapPgoff(start, end, Value("pgoff")));
        Assert.Equal(0UL, start & (PageSize - 1));
        Assert.NotEqual(0UL, end & (PageSize - 1));
        Assert.Equal(RestoreValidation.MappedEnd(start, end), mapped);
        Assert.True(mapped > end);
        // start = 1, the old counterexample, and an empty VMA are do_mmap_pgoff()'s own -EINVAL.
        Assert.Equal(MmapRefusal.StartUnaligned, RestoreValidation.DoMmapPgoff(1, 1 + PageSize, 0));
        Assert.Equal(MmapRefusal.ZeroLength, RestoreValidation.DoMmapPgoff(PageSize, PageSize, 0));
    }

    /// <summary>The encoding accepts exactly the headers the C# validator accepts, and translates flags to the same values, on random headers of every design.</summary>
    [Property(Arbitrary = [typeof(RestoreHeaders)], MaxTest = 1000, Replay = RestoreHeaders.Replay)]
    public bool Encoding_agrees_with_the_validator_on_random_headers(RestoreHeader c) => Agrees(c, c.Design);

    /// <summary>The property can fail: the reference's encoding held to the seed's (v6) checks disagrees.</summary>
    [Fact]
    public void The_encoding_held_to_another_design_s_checks_disagrees()
    {
        var r = FsRun.Run("restore reference encoding = v6's validator", Prop.ForAll(RestoreHeaders.Headers(), c => Agrees(c with { Design = RestoreDesigns.Reference }, RestoreDesigns.V6)), 1000, 20261122);
        output.WriteLine(r.ToString());
        Assert.False(r.Holds);
    }

    /// <summary>The encoding of the header's design against the C# validator run with <paramref name="d"/>'s checks.</summary>
    private bool Agrees(RestoreHeader c, RestoreDesign d)
    {
        var v = _vars ??= new RestoreVars();
        var (z, w) = (v.Z, c.Words);
        var (start, end, flags, pgoff, type, prev, nr, pages, len, addr, next) = (v.Start, v.End, v.Flags, v.Pgoff, v.Type, v.Prev, v.Nr, v.Pages, v.Len, v.Addr, v.Next);
        var e = new RestoreEncoding(z, c.Design);
        uint ty = (uint)(w[4] % 4);
        (BitVec, ulong)[] at = [(start, w[0]), (end, w[1]), (flags, w[2]), (pgoff, w[3]), (type, ty), (prev, w[5]), (nr, w[6]), (pages, w[7]), (len, w[8] & uint.MaxValue), (addr, w[9]), (next, w[10])];
        return z.Evaluate(e.VmaAccepted(start, end, flags, pgoff, type, prev), at) == (RestoreValidation.CheckVma(d.Checks, w[0], w[1], w[2], w[3], ty, w[5]) == VmaFault.None)
            && z.Evaluate(e.RefusedAsShared(flags), at) == RestoreValidation.RefusedAsShared(d.Checks, w[2])
            && z.Evaluate(e.MapProt(flags), at) == RestoreValidation.MapProt(d.Checks, w[2], d.Untranslated)
            && z.Evaluate(e.MapFlags(flags), at) == RestoreValidation.MapFlags(d.Checks, w[2], d.Untranslated)
            && z.Evaluate(e.ChunkAccepted(nr, pages, len), at) == (RestoreValidation.CheckChunk(d.Checks, w[6], w[7], w[8] & uint.MaxValue) == ChunkFault.None)
            && z.Evaluate(e.PageAccepted(addr, start, end, next), at) == (RestoreValidation.CheckPage(d.Checks, w[9], w[0], w[1], w[10]) == PageFault.None)
            && z.Evaluate(e.MmapAccepts(start, end, pgoff), at) == (RestoreValidation.DoMmapPgoff(w[0], w[1], w[3]) == MmapRefusal.None)
            && z.Evaluate(e.MappedEnd(start, end), at) == RestoreValidation.MappedEnd(w[0], w[1]);
    }

    private RestoreVars? _vars;

    public void Dispose() => _vars?.Dispose();

    /// <summary>The header's fields as 64-bit variables of one Z3 context, built once per property run.</summary>
    private sealed class RestoreVars : IDisposable
    {
        public readonly Z3Context Z = new();
        public readonly BitVec Start, End, Flags, Pgoff, Type, Prev, Nr, Pages, Len, Addr, Next;

        public RestoreVars()
        {
            BitVec V(string n) => Z.BitVec(n, 64);
            (Start, End, Flags, Pgoff, Type, Prev, Nr, Pages, Len, Addr, Next) = (V("s"), V("e"), V("f"), V("p"), V("t"), V("pe"), V("nr"), V("vp"), V("len"), V("a"), V("n"));
        }

        public void Dispose() => Z.Dispose();
    }

    internal static RestoreDesign[] AllDesigns() => Mutants.Select(m => m.Design).Append(RestoreDesigns.Reference).Append(RestoreDesigns.V6).ToArray();

    /// <summary>
    /// The seed's "orig_vm_flags &amp; PROT_SEM" reads VM_SHARED (both 0x8): once shared VMAs are refused by
    /// vm_flags it can never fire, so it is wrong in namespace but harmless; the proof says which.
    /// </summary>
    [Fact]
    public void The_prot_sem_test_is_dead_once_shared_vmas_are_refused()
    {
        var protSem = RestoreDesigns.Reference with { Name = "prot-sem", Checks = RestoreCheck.Reference & ~RestoreCheck.ProtFromVmFlags };
        Assert.Equal(ProofVerdict.Proved, Prover.Prove(RestoreProofs.For(protSem).Single(o => o.Name == "restore.mmap-private")).Verdict);
        Assert.Equal(VmShared, ProtSem);
    }

    [Fact]
    public void Only_restore_designs_get_restore_proofs() =>
        Assert.Null(RestoreProofs.ForDesign(Multikernel.Model.Balloon.BalloonDesigns.Reference));
}

/// <summary>One random header: a design and eleven words (start, end, flags, pgoff, type, prev_end, nr, pages, len, addr, next).</summary>
public readonly record struct RestoreHeader(RestoreDesign Design, ulong[] Words)
{
    public override string ToString() => $"{Design.Name}: [{string.Join(", ", Words.Select(x => $"0x{x:x}"))}]";
}

/// <summary>Headers of every design, with words near the boundaries the checks draw and fields tied where the checks compare them.</summary>
internal static class RestoreHeaders
{
    public const string Replay = "(20261122," + Replays.Gamma + ")";

    public static Arbitrary<RestoreHeader> Headers()
    {
        // Values near every boundary the checks draw: page multiples, TASK_SIZE, chunk sizes, the top of 64 bits, and plain noise.
        var word = Gen.OneOf(
            Gen.Choose(0, 64).Select(k => (ulong)k * PageSize),
            Gen.Choose(-2, 2).Select(k => TaskSize + (ulong)(long)k * PageSize),
            Gen.Choose(-2, 2).Select(k => (ulong)(long)k + 0x1000),
            Gen.Elements(0UL, 1UL, 2UL, 3UL, MaxChunkPages, MaxChunkPages + 1, PgarrFixed + PgarrPerPage, ulong.MaxValue, ulong.MaxValue >> PageShift, VmShared, VmMayshare, VmGrowsdown | VmRead | ProtSem),
            from hi in Gen.Choose(0, int.MaxValue) from lo in Gen.Choose(0, int.MaxValue) select ((ulong)(uint)hi << 33) ^ (uint)lo);
        // Fields tied to each other where the checks compare them: the edges are where an encoding slips.
        var header = from w in Gen.ArrayOf(word, 11) from tie in Gen.Choose(0, 63) select Tie(w, tie);
        return Arb.From(from d in Gen.Elements(RestoreProofTests.AllDesigns()) from h in header select new RestoreHeader(d, h));
    }

    internal static ulong[] Tie(ulong[] w, int tie)
    {
        if ((tie & 1) != 0) w[5] = w[0] - (ulong)(tie & 2) / 2 * PageSize;      // prev_end = start, or a page below it
        if ((tie & 4) != 0) w[1] = w[0] + (ulong)(tie >> 3) * PageSize;        // end = start + k pages (k = 0 too)
        if ((tie & 8) != 0) w[9] = w[(tie & 16) != 0 ? 1 : 0] - (ulong)(tie & 32) / 32 * PageSize; // page at start, at end, a page below
        if ((tie & 16) != 0) w[10] = w[9];                                    // next = the page
        if ((tie & 32) != 0) { w[7] = w[6]; w[8] = PgarrFixed + w[6] * PgarrPerPage; } // count = the VMA's pages, length = what it takes
        return w;
    }
}
