namespace Multikernel.Proofs.Headers;

/// <summary>
/// One build to check a header under: an architecture, a word size, and the options that matter to
/// mm.h's VM_* flags (what that architecture's defconfig selects, or every option the header
/// names, allyesconfig-style, less other architectures' own).
/// </summary>
public sealed record Build(string Arch, int Bits, bool AllYes, IReadOnlyList<KeyValuePair<string, string>> Options)
{
    public string Name => $"{Arch}{(AllYes ? " allyes" : "")} {Bits}-bit";
    public string OptionText => string.Join(" ", Options.Select(o => o.Value == "1" ? o.Key : $"{o.Key}={o.Value}"));
}

/// <summary>The architectures' presets, written from their Kconfig selections that reach include/linux/mm.h.</summary>
public static class BuildPresets
{
    private static readonly (string Arch, int[] Bits, string[] Options)[] Table =
    [
        ("x86_64", [64], ["CONFIG_X86", "CONFIG_X86_64", "CONFIG_MMU", "CONFIG_ARCH_USES_HIGH_VMA_FLAGS", "CONFIG_ARCH_HAS_PKEYS",
            "CONFIG_ARCH_PKEY_BITS=4", "CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS", "CONFIG_X86_USER_SHADOW_STACK", "CONFIG_ARCH_HAS_USER_SHADOW_STACK",
            "CONFIG_USERFAULTFD", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR", "CONFIG_HAVE_ARCH_USERFAULTFD_WP", "CONFIG_PTE_MARKER_UFFD_WP",
            "CONFIG_MEM_SOFT_DIRTY", "CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_X86_PAT"]),
        ("x86", [32], ["CONFIG_X86", "CONFIG_X86_32", "CONFIG_MMU", "CONFIG_USERFAULTFD", "CONFIG_X86_PAT", "CONFIG_TRANSPARENT_HUGEPAGE"]),
        ("arm64", [64], ["CONFIG_ARM64", "CONFIG_MMU", "CONFIG_ARCH_USES_HIGH_VMA_FLAGS", "CONFIG_ARM64_MTE", "CONFIG_ARM64_BTI",
            "CONFIG_ARM64_GCS", "CONFIG_ARCH_HAS_USER_SHADOW_STACK", "CONFIG_ARM64_POE", "CONFIG_ARCH_HAS_PKEYS", "CONFIG_ARCH_PKEY_BITS=3",
            "CONFIG_USERFAULTFD", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR", "CONFIG_TRANSPARENT_HUGEPAGE"]),
        ("arm", [32], ["CONFIG_ARM", "CONFIG_MMU", "CONFIG_USERFAULTFD"]),
        ("powerpc", [64, 32], ["CONFIG_PPC", "CONFIG_MMU", "CONFIG_USERFAULTFD"]),
        ("riscv", [64, 32], ["CONFIG_RISCV", "CONFIG_MMU", "CONFIG_USERFAULTFD", "CONFIG_TRANSPARENT_HUGEPAGE"]),
        ("s390", [64], ["CONFIG_S390", "CONFIG_MMU", "CONFIG_USERFAULTFD", "CONFIG_TRANSPARENT_HUGEPAGE"]),
        ("parisc", [32], ["CONFIG_PARISC", "CONFIG_MMU", "CONFIG_STACK_GROWSUP"]),
        ("sparc64", [64], ["CONFIG_SPARC", "CONFIG_SPARC64", "CONFIG_MMU", "CONFIG_ARCH_USES_HIGH_VMA_FLAGS"]),
    ];

    /// <summary>Options a word size adds per architecture (powerpc's 64-bit MMU and protection keys, riscv's shadow stack).</summary>
    private static IEnumerable<string> ByBits(string arch, int bits) => (arch, bits) switch
    {
        ("powerpc", 64) => ["CONFIG_PPC64", "CONFIG_PPC_BOOK3S_64", "CONFIG_ARCH_USES_HIGH_VMA_FLAGS", "CONFIG_ARCH_HAS_PKEYS", "CONFIG_PPC_MEM_KEYS", "CONFIG_ARCH_PKEY_BITS=5"],
        ("powerpc", 32) => ["CONFIG_PPC32"],
        ("riscv", 64) => ["CONFIG_RISCV_USER_CFI", "CONFIG_ARCH_HAS_USER_SHADOW_STACK", "CONFIG_ARCH_USES_HIGH_VMA_FLAGS", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR"],
        _ => [],
    };

    /// <summary>Options that say which architecture or word size this is: an allyes build of one never sets another's.</summary>
    private static readonly string[] Identity =
    [
        "CONFIG_X86", "CONFIG_X86_32", "CONFIG_X86_64", "CONFIG_ARM", "CONFIG_ARM64", "CONFIG_PPC", "CONFIG_PPC32", "CONFIG_PPC64",
        "CONFIG_PPC_BOOK3S_64", "CONFIG_RISCV", "CONFIG_S390", "CONFIG_PARISC", "CONFIG_SPARC", "CONFIG_SPARC32", "CONFIG_SPARC64",
        "CONFIG_MIPS", "CONFIG_IA64", "CONFIG_ALPHA", "CONFIG_LOONGARCH", "CONFIG_64BIT", "CONFIG_32BIT", "CONFIG_STACK_GROWSUP", "CONFIG_STACK_GROWS_UP",
        "CONFIG_X86_USER_SHADOW_STACK", "CONFIG_ARM64_GCS", "CONFIG_ARM64_MTE", "CONFIG_ARM64_BTI", "CONFIG_ARM64_POE", "CONFIG_RISCV_USER_CFI",
        "CONFIG_PPC_MEM_KEYS", "CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS",
    ];

    /// <summary>Options Kconfig offers only on 64-bit builds (they select VM_* flags above bit 31).</summary>
    private static readonly string[] SixtyFourBitOnly =
    [
        "CONFIG_ARCH_USES_HIGH_VMA_FLAGS", "CONFIG_ARCH_HAS_PKEYS", "CONFIG_ARCH_PKEY_BITS", "CONFIG_ARCH_HAS_USER_SHADOW_STACK",
        "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR", "CONFIG_HAVE_ARCH_USERFAULTFD_WP", "CONFIG_PTE_MARKER_UFFD_WP", "CONFIG_MEM_SOFT_DIRTY",
        "CONFIG_USERFAULTFD_RWP",
    ];

    public static IReadOnlyList<string> Architectures => Table.Select(t => t.Arch).ToArray();

    /// <summary>The preset of <paramref name="arch"/> at <paramref name="bits"/>, or null when the architecture has no such word size.</summary>
    public static Build? For(string arch, int bits, bool allYes = false, string? header = null)
    {
        var row = Table.FirstOrDefault(t => t.Arch == arch);
        if (row.Arch is null || !row.Bits.Contains(bits)) return null;
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in row.Options.Concat(ByBits(arch, bits)))
        {
            int eq = o.IndexOf('=', StringComparison.Ordinal);
            options[eq < 0 ? o : o[..eq]] = eq < 0 ? "1" : o[(eq + 1)..];
        }
        if (allYes && header is not null)
        {
            // Every option the header tests, as allyesconfig would set it, except the ones that name
            // another architecture or feature of one; a numeric option gets its largest usual value.
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(header, @"\bCONFIG_[A-Z0-9_]+\b"))
            {
                string name = m.Value;
                if (options.ContainsKey(name) || Identity.Contains(name) || name.EndsWith("_MODULE", StringComparison.Ordinal)) continue;
                if (bits == 32 && SixtyFourBitOnly.Contains(name)) continue;
                options[name] = name == "CONFIG_ARCH_PKEY_BITS" ? "5" : "1";
            }
        }
        return new Build(arch, bits, allYes, options.OrderBy(o => o.Key, StringComparer.Ordinal).ToList());
    }

    /// <summary>Every preset at every word size its architecture has, each also allyes-style.</summary>
    public static IEnumerable<Build> Sweep(string header)
    {
        foreach (var (arch, bits, _) in Table)
            foreach (int b in bits)
            {
                yield return For(arch, b)!;
                yield return For(arch, b, allYes: true, header)!;
            }
    }
}
