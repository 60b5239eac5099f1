using Multikernel.Proofs.Z3;

namespace Multikernel.Proofs.Headers;

/// <summary>One VM_* flag as the header defines it under the chosen configuration.</summary>
public sealed record FlagDef(string Name, int Line, ulong Value, string Root)
{
    /// <summary>Defined as another flag (VM_PKEY_BIT0 → VM_HIGH_ARCH_0): sharing bits with it is not an overlap.</summary>
    public bool IsAlias => Root != Name;
}

/// <summary>Two distinct flags that share bits, with the bit Z3 found in both.</summary>
public sealed record Overlap(FlagDef A, FlagDef B, ulong Witness);

public sealed record FlagReport(
    IReadOnlyList<FlagDef> Flags,
    IReadOnlyList<FlagDef> Masks,
    IReadOnlyList<(int Line, string Text, string Why)> Unevaluable,
    IReadOnlyList<Overlap> Overlaps,
    int PairsChecked);

/// <summary>
/// The VM_* flags of a header: each evaluated (or reported, never guessed), and every pair
/// of distinct single-bit flags checked with Z3 for a shared bit. Multi-bit masks
/// (VM_LOCKED_MASK, __VM_UFFD_FLAGS, …) are unions by design and are not paired, and bit
/// numbers (names ending in _BIT, _BIT_n or _SHIFT) are what flags are made of, not flags.
/// </summary>
public static class FlagAudit
{
    public static FlagReport Run(CHeader h)
    {
        var flags = new List<FlagDef>();
        var masks = new List<FlagDef>();
        var unevaluable = new List<(int, string, string)>(h.Unknown.Where(u => IsVmFlagLine(u.Text)));
        foreach (var m in h.Macros.Values.Where(m => IsVmFlag(m.Name) && !IsBitNumber(m.Name) && m.Params == null && m.Line > 0).OrderBy(m => m.Line))
        {
            CValue v;
            try { v = CExpr.Evaluate(m.Body, h.Lookup, h.LongBits, inIf: false); }
            catch (CannotEvaluateException e)
            {
                unevaluable.Add((m.Line, $"#define {m.Name} {m.Body}", e.Message));
                continue;
            }
            ulong value = h.LongBits == 64 ? v.Masked : v.Masked & 0xFFFF_FFFFUL;
            if (v.Width > h.LongBits && v.Masked != value)
            {
                unevaluable.Add((m.Line, $"#define {m.Name} {m.Body}", $"0x{v.Masked:x} does not fit a {h.LongBits}-bit vm_flags"));
                continue;
            }
            if (value == 0) continue; // VM_NONE, or a flag this configuration leaves out
            var def = new FlagDef(m.Name, m.Line, value, Root(h, m));
            (System.Numerics.BitOperations.PopCount(value) == 1 ? flags : masks).Add(def);
        }
        var overlaps = Overlaps(flags, h.LongBits, out int pairs);
        return new FlagReport(flags, masks, unevaluable, overlaps, pairs);
    }

    private static bool IsVmFlag(string name) => name.StartsWith("VM_", StringComparison.Ordinal) || name.StartsWith("__VM_", StringComparison.Ordinal);
    private static bool IsVmFlagLine(string text) => text.Contains("VM_", StringComparison.Ordinal);

    /// <summary>VM_HIGH_ARCH_BIT_0, VM_UFFD_MINOR_BIT, VM_PKEY_SHIFT: bit numbers that flags are made of, not flags.</summary>
    public static bool IsBitNumber(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, "_(BIT|SHIFT)(_[0-9]+)?$");

    /// <summary>Follows a macro defined as exactly another VM_ macro to the end of the chain.</summary>
    private static string Root(CHeader h, MacroDef m)
    {
        var seen = new HashSet<string>();
        while (seen.Add(m.Name))
        {
            string body = m.Body.Trim();
            while (body.StartsWith('(') && body.EndsWith(')')) body = body[1..^1].Trim();
            if (!IsVmFlag(body) || body.Any(c => !(char.IsLetterOrDigit(c) || c == '_')) || h.Lookup(body) is not { } next) break;
            m = next;
        }
        return m.Name;
    }

    /// <summary>For each pair, Z3 looks for one bit set in both; unsat proves them disjoint.</summary>
    private static List<Overlap> Overlaps(List<FlagDef> flags, int bits, out int pairs)
    {
        var found = new List<Overlap>();
        pairs = 0;
        if (flags.Count < 2) return found;
        using var z = new Z3Context();
        using var solver = z.Solver();
        var bit = z.BitVec("bit", (uint)bits);
        solver.Assert(!bit.Eq(0) & (bit & (bit - 1)).Eq(0));
        for (int i = 0; i < flags.Count; i++)
            for (int j = i + 1; j < flags.Count; j++)
            {
                var (a, b) = (flags[i], flags[j]);
                if (a.Root == b.Root) continue;
                pairs++;
                solver.Push();
                solver.Assert(!(bit & a.Value).Eq(0) & !(bit & b.Value).Eq(0));
                var r = solver.Check();
                if (r == Z3Status.Sat) found.Add(new Overlap(a, b, solver.Values(bit)[0]));
                else if (r == Z3Status.Unknown) throw new Z3Exception($"Z3 could not decide {a.Name} against {b.Name}: {solver.ReasonUnknown}");
                solver.Pop();
            }
        return found;
    }
}
