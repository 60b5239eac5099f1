using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Multikernel.Impl.Restore;
using Multikernel.Properties.Checking;
using static Multikernel.Impl.Restore.RestoreFormat;

namespace Multikernel.Properties.Restore;

/// <summary>
/// impl/Restore's properties: a checkpoint of any address space restores to an equal one; any
/// corruption of a valid image is refused with its record and byte offset, never an exception of
/// another kind, leaves the target exactly as it was, and allocates no more than the image justifies.
/// </summary>
public static class RestoreProperties
{
    public static readonly string[] Files = ["/usr/lib/libc.so.6", "/bin/sh", "/dev/zero-file"];

    /// <summary>Private VMAs, sorted and disjoint, anonymous or file-backed, some of their pages written, an LDT.</summary>
    public static Gen<AddressSpace> Spaces =>
        from count in Gen.Choose(0, 6)
        from specs in Gen.ListOf(Gen.Zip(Gen.Zip(Gen.Choose(0, 3), Gen.Choose(1, 4)), Gen.Zip(Gen.Choose(0, 3), Gen.Choose(0, 7))), count)
        from seed in Gen.Choose(0, int.MaxValue)
        from ldt in Gen.Choose(0, 3)
        select Build(specs.ToList(), seed, ldt);

    private static AddressSpace Build(List<((int Gap, int Pages), (int Kind, int Written))> specs, int seed, int ldt)
    {
        var rng = new Random(seed);
        var vmas = new List<VmaInfo>();
        var pages = new Dictionary<ulong, byte[]>();
        ulong at = 0x400000;
        foreach (var ((gap, n), (kind, written)) in specs)
        {
            at += (ulong)gap * PageSize;
            ulong end = at + (ulong)n * PageSize;
            bool file = kind == 0;
            vmas.Add(new VmaInfo(at, end, 0x73 /* VM_READ|WRITE|MAYREAD|MAYWRITE|MAYEXEC */, file ? (ulong)rng.Next(100) : 0,
                file ? VmaKind.File : VmaKind.Anon, file ? Files[rng.Next(Files.Length)] : null));
            for (int p = 0; p < n; p++)
                if ((written >> (p % 3) & 1) != 0)
                {
                    var data = new byte[PageSize];
                    rng.NextBytes(data);
                    pages[at + (ulong)p * PageSize] = data;
                }
            at = end;
        }
        var mm = new AddressSpace();
        mm.Set(new MmBounds(0x400000, 0x401000, 0x600000, 0x601000, 0x602000, 0x603000, 0x7ffd000, 0x7ffe000, 0x7ffe100, 0x7ffe100, 0x7ffe200),
            vmas, pages, Enumerable.Range(0, ldt).Select(i => (ulong)rng.NextInt64()));
        return mm;
    }

    public static byte[] Image(AddressSpace mm)
    {
        var ms = new MemoryStream();
        Checkpoint.Write(mm, ms);
        return ms.ToArray();
    }

    public static Property RoundTrip() =>
        Prop.ForAll(Arb.From(Spaces), mm =>
        {
            var back = new AddressSpace();
            Impl.Restore.Restore.Run(new MemoryStream(Image(mm)), back, new FileTable(Files));
            return back.SameAs(mm).Label("the restored address space differs from the checkpointed one");
        });

    /// <summary>Corruptions of a valid image, grammar-aware: fields set to hostile values, truncation, flips.</summary>
    public static Gen<byte[]> Corrupt(Gen<AddressSpace> spaces) =>
        from mm in spaces
        let image = Image(mm)
        from kind in Gen.Choose(0, 7)
        from at in Gen.Choose(0, Math.Max(0, image.Length - 1))
        from value in Gen.Elements(0UL, 1UL, 0xfffUL, 0x1000UL, 0x8UL, 0x80UL, (ulong)uint.MaxValue, 1UL << 47, ulong.MaxValue, 0x7fff_ffff_ffff_f000UL)
        select Mutate(image, kind, at, value);

    private static byte[] Mutate(byte[] image, int kind, int at, ulong value)
    {
        var b = (byte[])image.Clone();
        switch (kind)
        {
            case 0: return b[..at];                                                       // truncation
            case 1: if (b.Length > 0) b[at] ^= (byte)(1 << (at % 8)); return b;           // a flipped bit
            case 2 when at + 8 <= b.Length:                                              // a u64 field set to a hostile value
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at - at % 4), value); return b;
            case 3 when at + 4 <= b.Length:                                              // a u32 (a length, a count, a type)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at - at % 4), (uint)value); return b;
            case 4: return [.. b, .. b.AsSpan(Math.Min(at, b.Length))];                    // a duplicated tail
            case 5 when b.Length >= HeaderSize + MmPayload:                              // a huge map_count
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(HeaderSize + 88), (uint)value); return b;
            default: return b;
        }
    }

    public static Property Hostile() =>
        Prop.ForAll(Arb.From(Corrupt(Spaces)), image =>
        {
            var target = new AddressSpace();
            target.Set(default, [new VmaInfo(0x1000, 0x2000, 0x73, 0, VmaKind.Anon, null)], new() { [0x1000] = new byte[PageSize] }, []);
            ulong before = target.Fingerprint();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            try { Impl.Restore.Restore.Run(new MemoryStream(image), target, new FileTable(Files)); }
            catch (RestoreException e)
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
                bool unchanged = target.Fingerprint() == before;
                bool bounded = allocated <= 8L * image.Length + (1 << 20);
                return (unchanged && bounded && e.Offset >= 0 && e.Offset <= image.Length)
                    .Label($"{e.Message}: unchanged {unchanged}, {allocated:N0} bytes allocated for {image.Length:N0}");
            }
            // Some corruptions leave a valid image (a flipped bit in page contents): then the restore is complete.
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            return (allocated <= 8L * image.Length + (1 << 20)).Label($"accepted, {allocated:N0} bytes allocated for {image.Length:N0}");
        });

    public static IEnumerable<CheckResult> Checks(SuiteSize size, ulong seed)
    {
        yield return FsRun.Run("restore model-based (FsCheck Machine)", new RestoreMachine(12).ToProperty(), size.ModelCases, seed);
        yield return FsRun.Run("restore round trip (FsCheck)", RoundTrip(), size.ModelCases, seed);
        yield return FsRun.Run("restore of hostile images (FsCheck)", Hostile(), size.HostileCases * 2, seed);
        // `differ restore` with the model cases' budget (a few hundred mmap() calls on a scratch
        // range of this process, well under a second) where the kernel is one the model speaks of
        // (Linux, x86-64, 4-level paging); elsewhere the line says it was skipped, and why.
        yield return MmapDiffer.Unavailable() is { } why
            ? CheckResult.Skip(MmapDiffer.CheckName, why)
            : MmapDiffer.Run(size.ModelCases, seed).Result;
    }
}
