using Multikernel.Proofs.Headers;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Cli;

/// <summary>
/// The forms real mm.h headers use (fixtures written here, in those forms): the enum of bit numbers
/// (6.18 and later), flags on architecture slots, defines inside struct bodies, masks of one bit,
/// masks that cannot be evaluated, numeric options, architecture presets and the sweep.
/// </summary>
public class FlagsRealFormsTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Fact]
    public void The_enum_form_is_read_bit_numbers_implicit_increments_pasting_and_casts_included()
    {
        var h = CHeader.Read(File.ReadAllText(Fixture("mm-enum.h")), ["CONFIG_MMU"], 64);
        ulong Value(string name) => CExpr.Evaluate(h.Lookup(name)!.Body, h.Lookup, 64, inIf: false, h.Memo).Masked;
        Assert.Equal(1UL << 0, Value("VM_READ"));
        Assert.Equal(1UL << 9, Value("VM_UFFD_MISSING"));   // inside #ifdef CONFIG_MMU, inside the enum
        Assert.Equal(1UL << 10, Value("VM_PFNMAP"));        // an implicit increment after 9
        Assert.Equal(41UL, Value("VMA_UFFD_MINOR_BIT"));
        Assert.Equal(Value("VM_GROWSDOWN"), Value("VM_STACK")); // an alias enumerator
        Assert.True(h.Lookup("VMA_READ_BIT")!.Enumerator);
        Assert.True(h.Lookup("VM_UNMAPPED_AREA_TOPDOWN")!.InBody);
    }

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64")]
    [InlineData("powerpc")]
    public void The_enum_form_gets_a_verdict_under_each_preset(string arch)
    {
        var (code, o, e) = Run("flags", Fixture("mm-enum.h"), "--arch", arch);
        Assert.True(code == 0, o + e);
        Assert.Contains("no two distinct flags share a bit", o);
        Assert.Contains("(1 aliases)", o);                     // VM_STACK is VM_GROWSDOWN: one flag, two names
        Assert.DoesNotContain("VM_UNMAPPED_AREA_TOPDOWN", o);  // a flag of a struct's field, not of vm_flags
        Assert.Contains("note: line", o);                      // the masks it cannot evaluate are notes …
        Assert.DoesNotContain("cannot evaluate line", o);      // … and do not block the verdict
        Assert.Contains("3 masks", o);                         // VM_STARTGAP_FLAGS (one bit or two), VM_STICKY and
        Assert.DoesNotContain("VM_IGNORE_MERGE", o);           // VM_IGNORE_MERGE, a plain chain to it, are masks
    }

    [Fact]
    public void Two_flags_on_one_slot_collide_and_a_numeric_option_can_put_them_there()
    {
        var (code, o, _) = Run("flags", Fixture("mm-enum.h"), "--arch", "arm64", "--config", "CONFIG_ARCH_PKEY_BITS=5");
        Assert.Equal(1, code);
        Assert.Contains("OVERLAP VM_PKEY_BIT4", o);
        Assert.Contains("VM_MTE", o);
        Assert.Contains("share bit 36", o);
        Assert.Equal(0, Run("flags", Fixture("mm-enum.h"), "--arch", "arm64").Code); // 3 pkey bits: BIT4 is VM_NONE
    }

    [Fact]
    public void The_historical_kind_of_collision_is_reported_and_its_fix_is_clean()
    {
        var (code, o, _) = Run("flags", Fixture("mm-slot-collision.h"), "--arch", "x86_64");
        Assert.Equal(1, code);
        Assert.Contains("OVERLAP VM_SHADOW_STACK (line 17, 0x2000000000) and VM_UFFD_MINOR (line 27, 0x2000000000) share bit 37", o);
        Assert.Equal(0, Run("flags", Fixture("mm-slot-collision.h"), "--arch", "x86_64", "--config", "CONFIG_UFFD_MINOR_OWN_BIT=y").Code);
        // VM_PAT sits alone on VM_ARCH_1 and VM_STACK is defined as VM_READ: neither is a collision.
        Assert.DoesNotContain("VM_PAT", o);
    }

    [Fact]
    public void The_sweep_checks_every_preset_and_says_what_each_assumed()
    {
        var (code, o, _) = Run("flags", Fixture("mm-slot-collision.h"), "--sweep");
        Assert.Equal(1, code);
        Assert.Contains("x86_64 64-bit          exit 1", o);
        Assert.Contains("arm64 64-bit           exit 0", o);
        Assert.Contains("options each build assumed:", o);
        Assert.Contains("x86_64 64-bit: CONFIG_ARCH_HAS_PKEYS", o);
        var (clean, o2, _) = Run("flags", Fixture("mm-enum.h"), "--sweep");
        Assert.Equal(0, clean);
        Assert.Equal(22, o2.Split('\n').Count(l => l.Contains(" exit 0:", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_build_without_mmu_is_said_to_be_one()
    {
        var (_, o, _) = Run("flags", Fixture("mm-enum.h"));
        Assert.Contains("CONFIG_MMU is not set, so this checks a no-MMU build", o);
    }

    [Theory]
    [InlineData("--arch", "vax", "is not one of")]
    [InlineData("--sweep", "--arch", "--sweep checks every preset")]
    public void Bad_preset_arguments_are_refused(string a, string b, string says)
    {
        string[] args = a == "--sweep" ? ["flags", Fixture("mm-enum.h"), "--sweep", "--arch", "x86_64"] : ["flags", Fixture("mm-enum.h"), a, b];
        var (code, _, e) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(says, e);
    }
}
