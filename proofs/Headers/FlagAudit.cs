using Multikernel.Proofs.Z3;

namespace Multikernel.Proofs.Headers;

/// <summary>One VM_* flag as the header defines it under the chosen configuration.</summary>
public sealed record FlagDef(string Name, int Line, ulong Value, string Root)
{
    /// <summary>Defined as another flag (VM_PKEY_BIT0 → VM_HIGH_ARCH_0): sharing bits with it is not an overlap.</summary>
    public bool IsAlias => Root != Name;
}

/// <summary>Two or more distinct flags (different roots) that share a bit, with the bit Z3 found in all of them.</summary>
public sealed record Overlap(IReadOnlyList<FlagDef> Flags, ulong Witness)
{
    public FlagDef A => Flags[0];
    public FlagDef B => Flags[1];
    /// <summary>Pairs of distinct flags this shared bit makes.</summary>
    public long Pairs => (long)Flags.Count * (Flags.Count - 1) / 2;
}

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
            try { v = CExpr.Evaluate(m.Body, h.Lookup, h.LongBits, inIf: false, h.Memo); }
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

    /// <summary>
    /// Flags are grouped by bit first, so the work is linear in their number. For each bit that
    /// two or more distinct flags (different roots) share, one Z3 query finds the bit in their
    /// common value, and the group is reported (its pairs counted). Then one query over one flag of each bit
    /// proves that no bit is set in two of them: a one-hot bit counted across all is at most 1.
    /// </summary>
    private static BitVec OneBit(Z3Context z, int bits, out BoolTerm isOneBit, string name = "bit")
    {
        var bit = z.BitVec(name, (uint)bits);
        isOneBit = !bit.Eq(0) & (bit & (bit - 1)).Eq(0);
        return bit;
    }

    private static List<Overlap> Overlaps(List<FlagDef> flags, int bits, out int pairs)
    {
        var found = new List<Overlap>();
        long n = flags.Count;
        pairs = (int)Math.Min(int.MaxValue, n * (n - 1) / 2 - flags.GroupBy(f => f.Root).Sum(g => (long)g.Count() * (g.Count() - 1) / 2));
        if (flags.Count < 2) return found;
        using var z = new Z3Context();
        var groups = flags.GroupBy(f => f.Value).OrderBy(g => g.Key).ToList();
        // One flag per root in each group: aliases (a chain to the same flag) are not overlaps.
        var shared = groups
            .Select(g => g.GroupBy(f => f.Root).Select(r => r.OrderBy(f => f.Line).First()).OrderBy(f => f.Line).ToList())
            .Where(roots => roots.Count >= 2).ToList();
        if (shared.Count > 0)
        {
            // One query for every shared bit: a one-bit witness per group, in its common value.
            using var solver = z.Solver();
            var witnesses = new BitVec[shared.Count];
            for (int i = 0; i < shared.Count; i++)
            {
                witnesses[i] = OneBit(z, bits, out var isOneBit, $"bit_{i}");
                solver.Assert(isOneBit & !(witnesses[i] & shared[i][0].Value).Eq(0));
            }
            var r = solver.Check();
            if (r == Z3Status.Unknown) throw new Z3Exception($"Z3 could not decide the shared bits: {solver.ReasonUnknown}");
            if (r != Z3Status.Sat) throw new Z3Exception("Z3 says flags of equal value share no bit");
            var values = solver.Values(witnesses);
            for (int i = 0; i < shared.Count; i++) found.Add(new Overlap(shared[i], values[i]));
        }
        {
            // One query for the rest: no one bit is set in two of the distinct values.
            using var solver = z.Solver();
            var bit = OneBit(z, bits, out var isOneBit);
            var one = z.Num(1, (uint)bits);
            var zero = z.Num(0, (uint)bits);
            var count = zero;
            foreach (var g in groups) count += BitVec.Ite(!(bit & g.Key).Eq(0), one, zero);
            solver.Assert(isOneBit & count.UGe(2));
            var r = solver.Check();
            if (r == Z3Status.Sat) throw new Z3Exception($"Z3 found bit 0x{solver.Values(bit)[0]:x} in two distinct single-bit values");
            if (r == Z3Status.Unknown) throw new Z3Exception($"Z3 could not decide that distinct bits are disjoint: {solver.ReasonUnknown}");
        }
        return found;
    }
}
