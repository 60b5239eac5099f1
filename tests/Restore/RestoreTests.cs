using Multikernel.Impl.Restore;
using Multikernel.Properties.Restore;
using FsCheck.Experimental;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;
using static Multikernel.Impl.Restore.RestoreFormat;

namespace Multikernel.Tests.Restore;

public class RestoreTests
{
    private const string Replay = "(3," + Replays.Gamma + ")";

    [Property(MaxTest = 300, Replay = Replay)]
    public FsCheck.Property A_checkpoint_restores_to_an_equal_address_space() => RestoreProperties.RoundTrip();

    [Property(MaxTest = 2000, Replay = Replay)]
    public FsCheck.Property A_hostile_image_is_refused_with_its_record_and_offset_and_changes_nothing() => RestoreProperties.Hostile();

    private static (AddressSpace Mm, byte[] Image) Sample()
    {
        var mm = new AddressSpace();
        mm.Set(new MmBounds(0x400000, 0x401000, 0x600000, 0x601000, 0x602000, 0x603000, 0x7ffd000, 0x7ffe000, 0x7ffe100, 0x7ffe100, 0x7ffe200),
            [new VmaInfo(0x400000, 0x402000, 0x75, 0, VmaKind.File, "/bin/sh"), new VmaInfo(0x600000, 0x603000, 0x73, 0, VmaKind.Anon, null)],
            new() { [0x600000] = Enumerable.Repeat((byte)7, 4096).ToArray(), [0x602000] = new byte[4096] }, [0x1234]);
        return (mm, RestoreProperties.Image(mm));
    }

    private static RestoreException Refused(byte[] image)
    {
        var target = new AddressSpace();
        ulong before = target.Fingerprint();
        var e = Assert.Throws<RestoreException>(() => Multikernel.Impl.Restore.Restore.Run(new MemoryStream(image), target, new FileTable(["/bin/sh"])));
        Assert.Equal(before, target.Fingerprint());
        return e;
    }

    // Offsets in the sample: the mm record at 0, its payload at 12; the first VMA record at 108, its payload at 120.
    [Theory]
    [InlineData(120, 0x400001UL, "vm_start 0x400001 is not page-aligned")]
    [InlineData(128, 0x400000UL, "vm_end 0x400000 is not above vm_start 0x400000")]
    [InlineData(136, 0x8UL, "VM_SHARED or VM_MAYSHARE")]            // VM_SHARED, a vm_flags bit …
    [InlineData(136, 0x80UL, "VM_SHARED or VM_MAYSHARE")]           // … and VM_MAYSHARE
    public void Each_field_is_checked_before_use(int at, ulong value, string says)
    {
        var (_, image) = Sample();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(at), value);
        var e = Refused(image);
        Assert.Contains(says, e.Message);
        Assert.Contains("cr_hdr_vma", e.Record);
        Assert.Equal(at, e.Offset);
    }

    [Fact]
    public void Map_shared_is_not_a_vm_flag_the_check_is_against_vm_shared()
    {
        // MAP_SHARED is 0x01, the value of VM_READ: a private, readable VMA must restore.
        var (mm, image) = Sample();
        Assert.Equal(0x1UL, mm.Vmas[0].VmFlags & 0x1);
        var back = new AddressSpace();
        Multikernel.Impl.Restore.Restore.Run(new MemoryStream(image), back, new FileTable(["/bin/sh"]));
        Assert.True(back.SameAs(mm));
    }

    [Fact]
    public void A_truncated_image_names_where_it_ends_at_every_offset()
    {
        var (_, image) = Sample();
        for (int cut = 0; cut < image.Length; cut += 7)
        {
            var e = Refused(image[..cut]);
            Assert.InRange(e.Offset, 0, cut);
            Assert.Contains("ends inside", e.What);
        }
    }

    [Fact]
    public void A_page_outside_its_vma_a_huge_count_and_a_missing_file_are_refused()
    {
        var (mm, image) = Sample();
        // The anon VMA's first chunk: find its nr_pages (2) followed by the address 0x600000.
        int nr = IndexOf(image, [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 0]);
        var outside = (byte[])image.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(outside.AsSpan(nr + 8), 0x900000);
        Assert.Contains("outside its VMA", Refused(outside).What);
        var huge = (byte[])image.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(huge.AsSpan(nr), ulong.MaxValue);
        Assert.Contains("above the 1024 pages of a chunk", Refused(huge).What);
        var target = new AddressSpace();
        var e = Assert.Throws<RestoreException>(() => Multikernel.Impl.Restore.Restore.Run(new MemoryStream(image), target, new FileTable()));
        Assert.Contains("no such file: /bin/sh", e.What);
        Assert.Empty(target.Vmas);
    }

    private static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
            if (hay.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}

public class RestoreCommandTests
{
    [Fact]
    public void Checkpoint_then_restore_from_the_command_line_and_a_bad_image_is_one_line()
    {
        string dir = Directory.CreateTempSubdirectory("mk-restore").FullName;
        try
        {
            string img = Path.Combine(dir, "a.img");
            var (code, o, e) = Multikernel.Tests.Cli.CliRun.Run("checkpoint", "--vmas", "0x400000-0x402000:file=/bin/sh,0x600000-0x601000:anon", "--out", img);
            Assert.Equal(0, code);
            Assert.Contains("2 VMAs, 3 pages", o);
            var (rc, ro, _) = Multikernel.Tests.Cli.CliRun.Run("restore", img, "--files", "/bin/sh");
            Assert.Equal(0, rc);
            Assert.Contains("2 VMAs, 3 pages", ro);
            Assert.Contains("file /bin/sh", ro);
            var (missing, mo, me) = Multikernel.Tests.Cli.CliRun.Run("restore", img);
            Assert.Equal(2, missing);
            Assert.Empty(mo);
            Assert.Contains("no such file: /bin/sh", me);
            var bytes = File.ReadAllBytes(img);
            File.WriteAllBytes(img, bytes[..50]);
            var (bad, bo, be) = Multikernel.Tests.Cli.CliRun.Run("restore", img, "--files", "/bin/sh");
            Assert.Equal(2, bad);
            Assert.Empty(bo);
            Assert.Single(be.TrimEnd('\n').Split('\n'));
            Assert.Contains("record 1 (cr_hdr_mm) at byte 50: the image ends inside cr_hdr_mm", be);
            Assert.Equal(2, Multikernel.Tests.Cli.CliRun.Run("restore", "/dev/null").Code);
            Assert.Equal(2, Multikernel.Tests.Cli.CliRun.Run("checkpoint", "--vmas", "0x1000-0x800:anon", "--out", img).Code);
            Assert.Equal(0, Multikernel.Tests.Cli.CliRun.Run("audit", "restore/reference").Code);
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class RestoreAuditTests
{
    private static readonly Multikernel.Model.Restore.RestoreBounds Crafted = new(Crafted: true), Highmem = new(Highmem: true), All = new(true, true);

    private static Multikernel.Properties.Explorer.ExploreReport Audit(Multikernel.Model.Restore.RestoreDesign d, Multikernel.Model.Restore.RestoreBounds? b = null) =>
        Multikernel.Properties.Explorer.Explorer.Run(new Multikernel.Model.Restore.RestoreSpec(d, b), new() { StopWhenAllViolated = false });

    private static string[] Violated(Multikernel.Properties.Explorer.ExploreReport r) =>
        [.. r.Outcomes.Where(o => o.Verdict == Multikernel.Properties.Explorer.Verdict.Violated).Select(o => o.Property.Name).Order()];

    [Theory]
    [InlineData("", "atomic", 2)]                     // the mm is nuked, then the image ends
    [InlineData("", "no-error-lost", 3)]              // get_user_pages() fails, cr_read_pages_contents() returns 0
    [InlineData("crafted", "flags-namespace", 2)]     // VM_SHARED tested on MAP_* bits: a shared VMA slips in
    [InlineData("crafted", "bounded-allocation", 3)]  // nr_pages 2^40
    [InlineData("crafted", "equal-on-success", 4)]    // an unaligned vm_end, mapped to the next page, and the restore reports success
    [InlineData("crafted", "pages-inside", 5)]        // a page of the first VMA in the second VMA's chunk: not the shared-VMA trace
    [InlineData("highmem", "no-kernel-bug", 4)]       // two highmem pages: the second kmap_atomic(KM_USER1) finds the slot still mapped
    public void The_seed_as_posted_is_broken_by_a_shortest_bad_image(string bound, string property, int records)
    {
        var o = Audit(Multikernel.Model.Restore.RestoreDesigns.V6, Multikernel.Model.Restore.RestoreBounds.Parse(bound.Length == 0 ? "" : $"{bound}=yes"))
            .Outcomes.Single(x => x.Property.Name == property);
        Assert.Equal(Multikernel.Properties.Explorer.Verdict.Violated, o.Verdict);
        Assert.Equal(records, o.Trace!.Length);
    }

    /// <summary>At each setting of the bounds, the violated properties are exactly those of the findings that apply.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("crafted=yes")]
    [InlineData("highmem=yes")]
    [InlineData("crafted=yes highmem=yes")]
    public void The_seed_s_violations_are_exactly_its_findings(string bounds)
    {
        var v6 = Multikernel.Model.Restore.RestoreDesigns.V6;
        var b = Multikernel.Model.Restore.RestoreBounds.Parse(bounds);
        Assert.Equal(v6.Findings.Where(f => f.Applies(b.ToString())).Select(f => f.Property).Order().ToArray(), Violated(Audit(v6, b)));
    }

    /// <summary>An image a checkpoint wrote, and the kernel's calls failing as mainline's do: the nuke and the swallowed error, nothing else.</summary>
    [Fact]
    public void At_default_bounds_a_swallowed_error_fails_the_restore_with_the_wrong_error_and_nothing_succeeds_wrong()
    {
        var r = Audit(Multikernel.Model.Restore.RestoreDesigns.V6);
        Assert.Equal(["atomic", "no-error-lost"], Violated(r));
        Assert.Equal(Multikernel.Properties.Explorer.Verdict.Holds, r.Outcomes.Single(o => o.Property.Name == "equal-on-success").Verdict);
    }

    [Fact]
    public void Shared_vmas_and_pages_in_another_vma_are_two_traces()
    {
        var r = Audit(Multikernel.Model.Restore.RestoreDesigns.V6, Crafted);
        string Steps(string p) => string.Join(" | ", r.Outcomes.Single(o => o.Property.Name == p).Trace!.States.Select(x => x.Step));
        Assert.Contains("VM_SHARED", Steps("flags-namespace"));
        Assert.DoesNotContain("VM_SHARED", Steps("pages-inside"));
        Assert.Contains("a page of an earlier VMA", Steps("pages-inside"));
    }

    /// <summary>The restated atomic: a point of no return is allowed if the task does not run on past it (execve's SIGKILL); returning to it is not.</summary>
    [Fact]
    public void A_seed_that_kills_the_task_past_the_point_of_no_return_is_atomic_as_execve_is()
    {
        var killing = Multikernel.Model.Restore.RestoreDesigns.V6 with { Name = "v6-kills", KillsPastPointOfNoReturn = true };
        Assert.DoesNotContain("atomic", Violated(Audit(killing, All)));
        Assert.Contains("atomic", Violated(Audit(Multikernel.Model.Restore.RestoreDesigns.V6, All)));
    }

    [Fact]
    public void The_reply_s_kunmap_atomic_ptr_fix_removes_the_bug()
    {
        var fixedV6 = Multikernel.Model.Restore.RestoreDesigns.V6 with { Name = "v6-kunmap-ptr", KunmapsMappedAddress = true };
        Assert.DoesNotContain("no-kernel-bug", Violated(Audit(fixedV6, Highmem)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("crafted=yes highmem=yes")]
    public void The_reference_holds_every_property_and_both_outcomes_are_reached(string bounds)
    {
        var r = Audit(Multikernel.Model.Restore.RestoreDesigns.Reference, Multikernel.Model.Restore.RestoreBounds.Parse(bounds));
        Assert.All(r.Outcomes, o => Assert.True(o.Verdict == Multikernel.Properties.Explorer.Verdict.Holds, $"{o.Property.Name}: {o.Verdict} {o.Reason}"));
    }

    [Theory]
    [InlineData("ref-swallows-errors", "", "no-error-lost")]
    [InlineData("ref-pages-anywhere", "crafted=yes", "equal-on-success,pages-inside")] // the other VMA's page is replaced, and the restore succeeds
    [InlineData("ref-kunmap-page", "highmem=yes", "no-kernel-bug")]
    public void Every_mutant_is_caught_at_its_bound(string mutant, string bounds, string property)
    {
        var d = Multikernel.Model.Restore.RestoreDesigns.Mutants.Single(m => m.Name == mutant);
        Assert.Equal(property.Split(','), Violated(Audit(d, Multikernel.Model.Restore.RestoreBounds.Parse(bounds))));
        if (bounds.Length > 0) Assert.Empty(Violated(Audit(d))); // the bound is what catches it
    }

    [Fact]
    public void Bounds_read_back_what_they_write()
    {
        Assert.Equal("", Multikernel.Model.Restore.RestoreBounds.Instance.ToString());
        Assert.Equal(All, Multikernel.Model.Restore.RestoreBounds.Parse(All.ToString()));
        Assert.Throws<Multikernel.Model.Checking.BoundsException>(() => Multikernel.Model.Restore.RestoreBounds.Parse("crafted=maybe"));
        Assert.Throws<Multikernel.Model.Checking.BoundsException>(() => Multikernel.Model.Restore.RestoreBounds.Parse("pages=3"));
    }

    [Fact]
    public void Each_shortest_bad_image_is_written_and_the_restore_refuses_it_with_its_record_and_offset()
    {
        string dir = Directory.CreateTempSubdirectory("mk-img").FullName;
        try
        {
            var (code, o, _) = Multikernel.Tests.Cli.CliRun.Run("audit", "restore/restore-v6", "--crafted", "--highmem", "--image", Path.Combine(dir, "bad.img"));
            Assert.Equal(1, code);
            var files = Directory.GetFiles(dir, "bad.*.img");
            Assert.Equal(7, files.Length);
            foreach (var f in files)
            {
                var (rc, ro, re) = Multikernel.Tests.Cli.CliRun.Run("restore", f);
                Assert.Equal(2, rc);
                Assert.Empty(ro);
                Assert.Matches(@"record \d+ \(\S+( expected, .*)?\) at byte \d+: ", re);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class RestoreMachineTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Property(MaxTest = 400, Replay = "(11," + Replays.Gamma + ")")]
    public FsCheck.Property The_implementation_restores_exactly_the_images_the_specification_restores() => new Multikernel.Properties.Restore.RestoreMachine(12).ToProperty();

    [Fact]
    public void Held_to_the_seed_s_specification_the_machine_fails()
    {
        // The check can fail: the seed restores images (an overlapping or shared VMA, a page outside) that the implementation refuses.
        var r = Multikernel.Properties.Checking.FsRun.Run("restore machine vs restore-v6", new Multikernel.Properties.Restore.RestoreMachine(12, Multikernel.Model.Restore.RestoreDesigns.V6).ToProperty(), 400, 11);
        output.WriteLine(r.ToString());
        Assert.False(r.Holds);
        Assert.Contains("the implementation refuses", r.Detail);
    }
}

/// <summary>The environment the seed runs in follows mainline (2.6.27), refusals included.</summary>
public class RestoreEnvironmentTests
{
    private const ulong Page = Multikernel.Model.Restore.RestoreConstants.PageSize, Task = Multikernel.Model.Restore.RestoreConstants.TaskSize;

    [Theory]
    [InlineData(0x1000UL, 0x1000UL, 0UL, Multikernel.Model.Restore.MmapRefusal.ZeroLength)]      // if (!len) return -EINVAL
    [InlineData(0x1001UL, 0x3000UL, 0UL, Multikernel.Model.Restore.MmapRefusal.StartUnaligned)]  // get_unmapped_area(): addr & ~PAGE_MASK
    [InlineData(0UL, ulong.MaxValue, 0UL, Multikernel.Model.Restore.MmapRefusal.TooLong)]        // PAGE_ALIGN(len) wraps to 0
    [InlineData(0UL, Task + 0x1000, 0UL, Multikernel.Model.Restore.MmapRefusal.TooLong)]         // len > TASK_SIZE
    [InlineData(Task - 0x1000, Task + 0x1000, 0UL, Multikernel.Model.Restore.MmapRefusal.PastTaskSize)] // addr > TASK_SIZE - len
    [InlineData(0x1000UL, 0x3000UL, ulong.MaxValue, Multikernel.Model.Restore.MmapRefusal.PgoffWraps)] // pgoff + pages wraps: -EOVERFLOW
    [InlineData(0x1000UL, 0x2001UL, 0UL, Multikernel.Model.Restore.MmapRefusal.None)]             // an unaligned end is mapped, rounded up
    [InlineData(0x1000UL, 0x3000UL, 1UL << 60, Multikernel.Model.Restore.MmapRefusal.None)]       // a pgoff past any file, not a wrap
    public void Do_mmap_pgoff_refuses_what_2_6_27_refuses(ulong start, ulong end, ulong pgoff, Multikernel.Model.Restore.MmapRefusal expected) =>
        Assert.Equal(expected, Multikernel.Model.Restore.RestoreValidation.DoMmapPgoff(start, end, pgoff));

    [Fact]
    public void An_unaligned_end_is_mapped_to_the_next_page()
    {
        Assert.Equal(0x3000UL, Multikernel.Model.Restore.RestoreValidation.MappedEnd(0x1000, 0x2001));
        Assert.Equal(0x3000UL, Multikernel.Model.Restore.RestoreValidation.MappedEnd(0x1000, 0x3000));
        Assert.Equal(0UL, Page & (Page - 1));
    }

    /// <summary>The seed checks neither an unaligned start nor an empty VMA, but do_mmap_pgoff() does: the model never maps one.</summary>
    [Theory]
    [InlineData(Multikernel.Model.Restore.ImageRecord.VmaUnaligned)]
    [InlineData(Multikernel.Model.Restore.ImageRecord.VmaEmpty)]
    public void The_seed_never_maps_what_do_mmap_pgoff_refuses(Multikernel.Model.Restore.ImageRecord record)
    {
        var spec = new Multikernel.Model.Restore.RestoreSpec(Multikernel.Model.Restore.RestoreDesigns.V6, new(Crafted: true));
        var s = spec.Next(default, new(Multikernel.Model.Restore.ImageRecord.Mm, 1));
        Assert.Equal(Multikernel.Model.Restore.RestoreState.Failed, spec.Next(s, new(record)).Phase);
        Assert.Contains("-EINVAL", spec.Describe(s, new(record)));
    }

    /// <summary>Without crafted=yes the image is one a checkpoint could write: none of the crafted records is enabled.</summary>
    [Fact]
    public void Crafted_records_need_the_bound()
    {
        var crafted = new[]
        {
            Multikernel.Model.Restore.ImageRecord.VmaOverlapping, Multikernel.Model.Restore.ImageRecord.VmaShared, Multikernel.Model.Restore.ImageRecord.VmaUnaligned,
            Multikernel.Model.Restore.ImageRecord.VmaEmpty, Multikernel.Model.Restore.ImageRecord.VmaUnalignedEnd, Multikernel.Model.Restore.ImageRecord.PagesRepeated,
            Multikernel.Model.Restore.ImageRecord.PagesInEarlierVma, Multikernel.Model.Restore.ImageRecord.PagesOutside, Multikernel.Model.Restore.ImageRecord.PagesHugeCount,
            Multikernel.Model.Restore.ImageRecord.HeaderInPageData,
        };
        foreach (var (bounds, present) in new[] { (Multikernel.Model.Restore.RestoreBounds.Instance, false), (new Multikernel.Model.Restore.RestoreBounds(Crafted: true), true) })
        {
            var spec = new Multikernel.Model.Restore.RestoreSpec(Multikernel.Model.Restore.RestoreDesigns.V6, bounds);
            var seen = new HashSet<Multikernel.Model.Restore.ImageRecord>();
            var todo = new Stack<Multikernel.Model.Restore.RestoreState>([default]);
            var done = new HashSet<Multikernel.Model.Restore.RestoreState>();
            var buf = new Multikernel.Model.Restore.RestoreAction[Multikernel.Model.Checking.SpecLimits.MaxEnabled];
            while (todo.TryPop(out var s))
            {
                if (!done.Add(s)) continue;
                int n = spec.Enabled(s, buf);
                for (int i = 0; i < n; i++) { seen.Add(buf[i].Record); todo.Push(spec.Next(s, buf[i])); }
            }
            Assert.Equal(present, crafted.All(seen.Contains));
            Assert.Equal(present, crafted.Any(seen.Contains));
        }
    }
}
