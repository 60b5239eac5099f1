using static Multikernel.Tests.Cli.CliRun;
using Multikernel.Model.Uffd;
using Multikernel.Proofs.Headers;
using Xunit;

namespace Multikernel.Tests.Cli;

public class FlagsTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static readonly string[] X86 =
    [
        "--config", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR=y", "--config", "CONFIG_ARCH_USES_HIGH_VMA_FLAGS=y",
        "--config", "CONFIG_ARCH_HAS_PKEYS=y", "--config", "CONFIG_X86=y", "--config", "CONFIG_MMU=y",
    ];

    [Fact]
    public void The_v5_header_overlaps_vm_locked()
    {
        var (code, o, _) = Run("flags", Fixture("mm-uffd-v5.h"));
        Assert.Equal(1, code);
        Assert.Contains("OVERLAP VM_UFFD_MINOR (line 27, 0x2000) and VM_LOCKED (line 29, 0x2000) share bit 13 (0x2000)", o);
        Assert.Single(o.Split('\n'), l => l.Contains("OVERLAP"));
    }

    [Fact]
    public void The_fixed_header_has_no_overlap_aliases_included()
    {
        var (code, o, _) = Run(["flags", Fixture("mm-uffd-fixed.h"), .. X86]);
        Assert.Equal(0, code);
        Assert.Contains("no two distinct flags share a bit", o);
        // VM_PKEY_BIT0-3 and VM_PAT each sit alone on a slot (VM_HIGH_ARCH_0-3, VM_ARCH_1): positions, not
        // flags of their own, so no alias and no collision; VM_INIT_DEF_MASK is a mask by its name.
        Assert.Contains("(0 aliases)", o);
    }

    [Fact]
    public void A_32_bit_build_cannot_hold_bit_37_and_says_so_with_the_line()
    {
        var (code, o, _) = Run("flags", Fixture("mm-uffd-fixed.h"), "--bits", "32", "--config", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR=y");
        Assert.Equal(3, code);
        Assert.Contains("cannot evaluate line 106: #define VM_UFFD_MINOR BIT(VM_UFFD_MINOR_BIT)", o);
        var (off, _, _) = Run("flags", Fixture("mm-uffd-fixed.h"), "--bits", "32");
        Assert.Equal(0, off); // without the option VM_UFFD_MINOR is VM_NONE
    }

    [Fact]
    public void Lines_it_cannot_evaluate_are_reported_not_guessed()
    {
        var (code, o, _) = Run("flags", Fixture("mm-unevaluable.h"));
        Assert.Equal(3, code);
        Assert.Contains("cannot evaluate line 3: #define VM_FOO 0x2: inside the block of line 2 (#if FOO_LEVEL > 2: 'FOO_LEVEL' is not defined)", o);
        Assert.Contains("cannot evaluate line 5: #define VM_BAR INIT_VM_FLAG(BAR)", o);
    }

    [Theory]
    [InlineData("mm-unbalanced.h", "line 2: #if without #endif")]
    [InlineData("no-such.h", "no such file")]
    public void Bad_input_is_one_line_and_exit_2(string file, string message)
    {
        var (code, o, e) = Run("flags", Fixture(file));
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Contains(message, e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("--config", "HAVE_X=y")]
    [InlineData("--config", "CONFIG_X=maybe")]
    [InlineData("--bits", "48")]
    public void Bad_options_exit_2(string option, string value)
    {
        var (code, _, e) = Run("flags", Fixture("mm-uffd-v5.h"), option, value);
        Assert.Equal(2, code);
        Assert.StartsWith("multikernel: flags:", e);
    }

    [Fact]
    public void A_binary_file_is_refused()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("mk-flags").FullName, "x.h");
        File.WriteAllBytes(path, [0x23, 0, 1, 2]);
        var (code, _, e) = Run("flags", path);
        Assert.Equal(2, code);
        Assert.Contains("not a text file", e);
    }

    /// <summary>The model's flag constants are the header's: one source of truth, checked.</summary>
    [Fact]
    public void The_models_constants_match_the_header()
    {
        var h = CHeader.Read(File.ReadAllText(Fixture("mm-uffd-v5.h")), Array.Empty<string>(), 64);
        foreach (var (name, value) in UffdConstants.VmFlags2021.Where(f => f.Value <= uint.MaxValue && f.Name != "VM_SOFTDIRTY"))
            Assert.Equal(value, CExpr.Evaluate(h.Lookup(name)!.Body, h.Lookup, 64, inIf: false).Masked);
        Assert.Equal(UffdDesigns.V5.VmUffdMinor, CExpr.Evaluate(h.Lookup("VM_UFFD_MINOR")!.Body, h.Lookup, 64, false).Masked);
        Assert.Equal(UffdConstants.VmUffdWp, CExpr.Evaluate(h.Lookup("VM_UFFD_WP")!.Body, h.Lookup, 64, false).Masked);
    }

    /// <summary>The mainline flag list's high bits are those of the enum form of mm.h, per architecture.</summary>
    [Theory]
    [InlineData("CONFIG_ARM64_GCS", "VM_SHADOW_STACK", "VM_SHADOW_STACK (arm64 GCS)")]
    [InlineData("CONFIG_X86_USER_SHADOW_STACK", "VM_SHADOW_STACK", "VM_SHADOW_STACK (x86)")]
    [InlineData("CONFIG_ARM64_MTE", "VM_MTE", "VM_MTE (arm64)")]
    [InlineData("CONFIG_ARM64_MTE", "VM_MTE_ALLOWED", "VM_MTE_ALLOWED (arm64)")]
    [InlineData("CONFIG_ARCH_HAS_PKEYS", "VM_PKEY_BIT0", "VM_PKEY_BIT0")]
    public void The_mainline_constants_match_the_enum_header(string config, string macro, string name)
    {
        var h = CHeader.Read(File.ReadAllText(Fixture("mm-enum.h")), [config, "CONFIG_MMU", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR"], 64);
        Assert.Equal(UffdConstants.VmFlagsMainline.Single(f => f.Name == name).Value, CExpr.Evaluate(h.Lookup(macro)!.Body, h.Lookup, 64, inIf: false).Masked);
        Assert.Equal(UffdDesigns.Reference.VmUffdMinor, CExpr.Evaluate(h.Lookup("VM_UFFD_MINOR")!.Body, h.Lookup, 64, inIf: false).Masked);
    }

    [Theory]
    [InlineData("(1UL << 38)", 64, 1UL << 38)]
    [InlineData("BIT_ULL(40) | 0x10", 32, (1UL << 40) | 0x10)]
    [InlineData("_BITUL(3)", 32, 8UL)]
    [InlineData("0x80000000", 32, 0x80000000UL)]
    [InlineData("010 + 1", 64, 9UL)]
    [InlineData("~0x1 & 0xff", 64, 0xfeUL)]
    [InlineData("2 > 1 ? 5 : 6", 64, 5UL)]
    public void Expressions_evaluate_as_c_does(string text, int bits, ulong expected)
    {
        Assert.Equal(expected, CExpr.Evaluate(text, _ => null, bits, inIf: false).Masked);
    }

    [Theory]
    [InlineData("(struct page)1", "'struct' is not defined")]
    [InlineData("1 << 32", "does not fit")]
    [InlineData("FOO", "'FOO' is not defined")]
    [InlineData("1 +", "ends early")]
    public void Expressions_it_cannot_evaluate_say_why(string text, string why)
    {
        var e = Assert.Throws<CannotEvaluateException>(() => CExpr.Evaluate(text, _ => null, 64, inIf: false));
        Assert.Contains(why, e.Message);
    }
}
