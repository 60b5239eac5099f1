using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Kernel;
using Multikernel.Model.Restore;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Restore;

/// <summary>One mmap() of the differential test: where, how long, shared or private, MAP_FIXED_NOREPLACE or MAP_FIXED.</summary>
public sealed record MmapCall(ulong Start, ulong Length, bool Shared, bool Fixed)
{
    public override string ToString() =>
        $"mmap(0x{Start:x}, 0x{Length:x}, PROT_NONE, MAP_{(Shared ? "SHARED" : "PRIVATE")} | MAP_ANONYMOUS | MAP_NORESERVE | {(Fixed ? "MAP_FIXED" : "MAP_FIXED_NOREPLACE")})";
}

/// <summary>
/// Restore's environment against the running kernel (issue 19, item 6): the refusals of
/// do_mmap_pgoff() the restore model has (<see cref="RestoreValidation.DoMmapPgoff(ulong, ulong, ulong)"/>:
/// a zero length, a length past TASK_SIZE or wrapping when page-aligned, a range past TASK_SIZE, an
/// unaligned MAP_FIXED start) beside real mmap() calls. Each call is MAP_FIXED_NOREPLACE, which
/// never replaces a mapping, or MAP_FIXED inside a PROT_NONE range this test reserved; anything
/// mapped is unmapped (or reserved again) at once. Compared: the errno class. -EEXIST (the range
/// holds a mapping of this process) comes after every refusal the model has, so it counts as
/// accepted. Not generated: pgoff (mmap(2)'s offset is an off_t, whose pages cannot wrap), files.
/// </summary>
public static class MmapDiffer
{
    public const string CheckName = "restore mmap refusals against the running kernel (differ)";

    /// <summary>The model's answer as the kernel gives it: "accepted" or the errno.</summary>
    public static string ModelAnswer(MmapRefusal r) => r switch
    {
        MmapRefusal.None => "accepted",
        MmapRefusal.ZeroLength or MmapRefusal.StartUnaligned => Errno.Name(-Errno.EINVAL),
        MmapRefusal.TooLong or MmapRefusal.PastTaskSize => Errno.Name(-Errno.ENOMEM),
        MmapRefusal.PgoffWraps => "-EOVERFLOW",
        _ => r.ToString(),
    };

    /// <summary>The kernel's answer: "accepted" (mapped, or -EEXIST after every check the model has) or the errno.</summary>
    public static string KernelAnswer(long rc) => rc >= 0 || rc == -Errno.EEXIST ? "accepted" : Errno.Name((int)rc);

    /// <summary>Whether this kernel is one the model speaks of: Linux on x86-64 with 4-level paging (TASK_SIZE 2^47 - 4 KiB). Null when it is, else why not.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return $"not Linux ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}): no mmap to compare with";
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            return $"architecture {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}: the model's TASK_SIZE is x86-64's";
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("flags", StringComparison.Ordinal) && line.Split(' ').Contains("la57"))
                    return "5-level paging (la57): TASK_SIZE is not the model's 4-level one";
        }
        catch (IOException e) { return $"/proc/cpuinfo: {e.Message}"; }
        return null;
    }

    /// <summary>The test's own ranges: a PROT_NONE reservation for MAP_FIXED, and a hole beside it for MAP_FIXED_NOREPLACE.</summary>
    public sealed class Scratch : IDisposable
    {
        public const ulong Pages = 64;
        public ulong Reserved { get; }
        public ulong Hole { get; }
        private const int Reservation = Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoreserve;

        public Scratch()
        {
            long r = Libc.Mmap(0, 2 * Pages * Model.Restore.RestoreConstants.PageSize, Libc.ProtNone, Reservation);
            if (r < 0) throw new InvalidOperationException($"mmap of the scratch range: errno {-r}");
            Reserved = (ulong)r;
            Hole = Reserved + Pages * Model.Restore.RestoreConstants.PageSize;
            Libc.Munmap((nint)Hole, Pages * Model.Restore.RestoreConstants.PageSize); // a hole, likely free (anything mapped there meanwhile answers -EEXIST)
        }

        public bool InReservation(ulong start, ulong length) =>
            start >= Reserved && length <= Pages * Model.Restore.RestoreConstants.PageSize && start + length <= Hole && start + length >= start;

        /// <summary>The call on the kernel; what it mapped is undone at once. MAP_FIXED only inside the reservation.</summary>
        public long Call(MmapCall c)
        {
            int flags = (c.Shared ? Libc.MapShared : Libc.MapPrivate) | Libc.MapAnonymous | Libc.MapNoreserve | (c.Fixed ? Libc.MapFixed : Libc.MapFixedNoreplace);
            if (c.Fixed && !InReservation(c.Start, (c.Length + 0xfff) & ~0xfffUL))
                throw new InvalidOperationException($"{c}: MAP_FIXED outside the test's reservation");
            long r = Libc.Mmap((nint)c.Start, c.Length, Libc.ProtNone, flags);
            if (r >= 0)
            {
                if (c.Fixed) Libc.Mmap((nint)r, c.Length, Libc.ProtNone, Reservation | Libc.MapFixed); // the reservation again
                else Libc.Munmap((nint)r, c.Length);
            }
            return r;
        }

        public void Dispose() => Libc.Munmap((nint)Reserved, Pages * Model.Restore.RestoreConstants.PageSize);
    }

    /// <summary>The calls: starts in the test's ranges (aligned or not), at 0, around TASK_SIZE and 2^47, and lengths of a few pages, 0, around TASK_SIZE and wrapping.</summary>
    public static Gen<MmapCall> Calls(Scratch scratch)
    {
        const ulong page = Model.Restore.RestoreConstants.PageSize;
        ulong[] near47 = [(1UL << 47) - 3 * page, (1UL << 47) - 2 * page, (1UL << 47) - page, 1UL << 47, (1UL << 47) + page];
        var start = Gen.Frequency(
            (6, from k in Gen.Choose(0, (int)Scratch.Pages - 8) from odd in Gen.Frequency((5, Gen.Constant(0UL)), (1, Gen.Elements(1UL, 0x800UL))) select scratch.Hole + (ulong)k * page + odd),
            (4, from k in Gen.Choose(0, (int)Scratch.Pages - 8) from odd in Gen.Frequency((5, Gen.Constant(0UL)), (1, Gen.Elements(1UL, 0x800UL))) select scratch.Reserved + (ulong)k * page + odd),
            (3, Gen.Elements(near47)),
            (1, Gen.Elements(0UL, page, 1UL << 46, ulong.MaxValue & ~(page - 1), 1UL << 63)));
        var length = Gen.Frequency(
            (8, from n in Gen.Choose(0, 6) from odd in Gen.Frequency((4, Gen.Constant(0UL)), (1, Gen.Elements(1UL, 0xfffUL))) select (ulong)n * page + odd),
            (2, Gen.Elements((1UL << 47) - page, 1UL << 47, (1UL << 47) + 1, (1UL << 46) + page, ulong.MaxValue, ulong.MaxValue - page + 1, ulong.MaxValue - 2 * page + 1)));
        return from s in start
               from l in length
               from shared in Gen.Elements(false, true)
               from fixedFlag in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
               select new MmapCall(s, l, shared, fixedFlag && scratch.InReservation(s & ~(page - 1), (l + page - 1) & ~(page - 1)));
    }

    /// <summary>How a run went: the answers seen, by class.</summary>
    public sealed record Report(CheckResult Result, IReadOnlyDictionary<string, int> Answers, int Cases, TimeSpan Time)
    {
        public double CasesPerSecond => Cases / Math.Max(Time.TotalSeconds, 1e-9);
    }

    /// <summary>
    /// <paramref name="cases"/> calls: the model's refusal (<paramref name="model"/>, restore's
    /// do_mmap_pgoff() unless a mutant is given) beside the kernel's answer. The caller has checked <see cref="Unavailable"/>.
    /// </summary>
    public static Report Run(int cases, ulong seed, Func<ulong, ulong, MmapRefusal>? model = null)
    {
        model ??= (start, length) => RestoreValidation.DoMmapPgoff(start, start + length, 0);
        var answers = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        using var scratch = new Scratch();
        var property = Prop.ForAll(Arb.From(Calls(scratch)), c =>
        {
            string want = ModelAnswer(model(c.Start, c.Length)), got = KernelAnswer(scratch.Call(c));
            lock (answers) answers[got] = answers.GetValueOrDefault(got) + 1;
            return (want == got).Label($"{c}: model {want}, kernel {got}");
        });
        var result = FsRun.Run(CheckName, property, cases, seed);
        return new Report(result, answers, cases, clock.Elapsed);
    }
}
