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
    int PairsChecked)
{
    /// <summary>Masks that could not be evaluated (an outside macro, current->personality): they cannot decide a bit collision, so they do not block a verdict.</summary>
    public IReadOnlyList<(int Line, string Text, string Why)> Notes { get; init; } = [];
}

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
        var notes = new List<(int, string, string)>();
        var unevaluable = new List<(int, string, string)>(h.Unknown.Where(u => IsVmFlagLine(u.Text)));
        // vm_flags candidates: VM_* definitions that are not bit numbers or slots, not inside a struct
        // body (a flag of that struct's own field), not enum constants.
        foreach (var m in h.Macros.Values.Where(m => IsVmFlag(m.Name) && !IsBitNumber(m.Name) && !IsSlot(m.Name) && m.Params == null
                                                     && m.Line > 0 && !m.InBody && !m.Enumerator).OrderBy(m => m.Line))
        {
            bool mask = IsMask(h, m);
            CValue v;
            try { v = CExpr.Evaluate(m.Body, h.Lookup, h.LongBits, inIf: false, h.Memo); }
            catch (CannotEvaluateException e)
            {
                (mask ? notes : unevaluable).Add((m.Line, $"#define {m.Name} {m.Body}", e.Message));
                continue;
            }
            ulong value = h.LongBits == 64 ? v.Masked : v.Masked & 0xFFFF_FFFFUL;
            if (v.Width > h.LongBits && v.Masked != value)
            {
                unevaluable.Add((m.Line, $"#define {m.Name} {m.Body}", $"0x{v.Masked:x} does not fit a {h.LongBits}-bit vm_flags"));
                continue;
            }
            if (value == 0) continue; // VM_NONE, or a flag this configuration leaves out
            var def = new FlagDef(m.Name, m.Line, value, m.Name);
            (!mask && System.Numerics.BitOperations.PopCount(value) == 1 ? flags : masks).Add(def);
        }
        flags = Classes(h, flags);
        var overlaps = Overlaps(flags, h.LongBits, out int pairs);
        return new FlagReport(flags, masks, unevaluable, overlaps, pairs) { Notes = notes };
    }

    /// <summary>
    /// A mask, whatever its value: an OR of flags (VM_STARTGAP_FLAGS is one bit when VM_SHADOW_STACK
    /// is VM_NONE), a name that says so (…_MASK, …_FLAGS…, …_CLEAR), a conditional or a pointer
    /// (TASK_EXEC's current->personality), or a call to a C function (vma_flags_to_legacy()).
    /// </summary>
    private static bool IsMask(CHeader h, MacroDef m) => IsMask(h, m, 0);

    private static bool IsMask(CHeader h, MacroDef m, int depth)
    {
        // A plain chain to a mask is a mask: VM_IGNORE_MERGE -> VM_STICKY -> (VM_SOFTDIRTY | VM_MAYBE_GUARD).
        string body = m.Body.Trim();
        while (body.StartsWith('(') && body.EndsWith(')')) body = body[1..^1].Trim();
        if (depth < 32 && IsVmFlag(body) && h.Lookup(body) is { Params: null } next && IsMask(h, next, depth + 1)) return true;
        if (System.Text.RegularExpressions.Regex.IsMatch(m.Name, "(_MASK|_FLAGS|_CLEAR)$|_FLAGS_")) return true;
        var t = CExpr.Tokenize(m.Body);
        for (int i = 0; i < t.Count; i++)
        {
            if (t[i] is "|" or "?" or "->") return true;
            // A call to a C function (lower case, by kernel convention: vma_flags_to_legacy(), mk_vma_flags())
            // computes a mask at run time; an undefined MACRO() may still be a flag, and blocks if it is.
            bool call = i + 1 < t.Count && t[i + 1] == "(" && (char.IsLetter(t[i][0]) || t[i][0] == '_');
            if (call && t[i].Any(char.IsLower) && h.Lookup(t[i]) is not { Params: not null }) return true;
        }
        return false;
    }

    /// <summary>VM_ARCH_1, VM_HIGH_ARCH_0, VMA_HIGH_ARCH_5_BIT, VM_HIGH_ARCH_BIT_2: positions that flags are put on, not flags.</summary>
    public static bool IsSlot(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, "^_*(VMA?_)?(HIGH_)?ARCH_([0-9]+|BIT_[0-9]+)(_BIT)?$");

    /// <summary>
    /// The names a flag's definition goes through: VM_MTE -> INIT_VM_FLAG(MTE) -> VMA_MTE_BIT ->
    /// VMA_HIGH_ARCH_4_BIT; VM_PKEY_BIT0 -> VM_HIGH_ARCH_0 -> VM_HIGH_ARCH_BIT_0. Casts, parentheses and
    /// BIT() are seen through; function-like macros are expanded (## pasting included).
    /// </summary>
    private static List<string> Chain(CHeader h, MacroDef start)
    {
        var chain = new List<string> { start.Name };
        var tokens = CExpr.Tokenize(start.Body);
        for (int step = 0; step < 64; step++)
        {
            // Strip outer parentheses and casts; see through BIT(x), BIT_ULL(x), UL(x).
            while (true)
            {
                if (tokens.Count >= 2 && tokens[0] == "(" && tokens[^1] == ")" && Balanced(tokens, 1, tokens.Count - 1)) { tokens = tokens[1..^1]; continue; }
                int close = tokens.IndexOf(")");
                if (tokens.Count > 2 && tokens[0] == "(" && close > 1 && tokens.Skip(1).Take(close - 1).All(IsTypeWord)) { tokens = tokens[(close + 1)..]; continue; }
                if (tokens.Count >= 4 && tokens[0] is "BIT" or "BIT_ULL" or "_BITUL" or "_BITULL" or "UL" or "ULL" && tokens[1] == "(" && tokens[^1] == ")") { tokens = tokens[2..^1]; continue; }
                break;
            }
            if (tokens.Count == 1 && (char.IsLetter(tokens[0][0]) || tokens[0][0] == '_') && h.Lookup(tokens[0]) is { Params: null } next)
            {
                if (chain.Contains(next.Name)) break;
                chain.Add(next.Name);
                tokens = CExpr.Tokenize(next.Body);
                continue;
            }
            if (tokens.Count >= 3 && tokens[1] == "(" && h.Lookup(tokens[0]) is { Params: not null } fn && tokens[^1] == ")")
            {
                var args = new List<List<string>> { tokens[2..^1] };
                if (fn.Params.Count != 1) break;
                try { tokens = CExpr.Substitute(fn, args, a => string.Join(" ", a)); }
                catch (CannotEvaluateException) { break; }
                continue;
            }
            break;
        }
        return chain;
    }

    private static bool IsTypeWord(string w) => w is "__force" or "const" or "unsigned" or "signed" or "int" or "long" or "short" or "char" || w.EndsWith("_t", StringComparison.Ordinal);

    private static bool Balanced(List<string> t, int from, int to)
    {
        int depth = 0;
        for (int i = from; i < to; i++)
        {
            if (t[i] == "(") depth++;
            if (t[i] == ")" && --depth < 0) return false;
        }
        return depth == 0;
    }

    /// <summary>
    /// Flags of one value fall into alias classes: one flag defined through another (VM_STACK ->
    /// VM_GROWSDOWN's bit), or two that meet at a name that is not a slot, are one flag under two
    /// names. Two flags whose definitions meet only at a slot (VM_MTE and VM_PKEY_BIT0 on
    /// VM_HIGH_ARCH_0), or not at all, are two flags on one bit: a collision. Each flag's
    /// <see cref="FlagDef.Root"/> is its class's first flag.
    /// </summary>
    private static List<FlagDef> Classes(CHeader h, List<FlagDef> flags)
    {
        var chains = flags.ToDictionary(f => f.Name, f => Chain(h, h.Lookup(f.Name)!));
        var root = flags.ToDictionary(f => f.Name, f => f.Name);
        string Find(string x) { while (root[x] != x) x = root[x] = root[root[x]]; return x; }
        foreach (var group in flags.GroupBy(f => f.Value))
        {
            var list = group.OrderBy(f => f.Line).ToList();
            for (int i = 0; i < list.Count; i++)
                for (int j = i + 1; j < list.Count && j < i + 64; j++)
                {
                    var a = chains[list[i].Name];
                    var b = chains[list[j].Name];
                    bool alias = a.Contains(list[j].Name) || b.Contains(list[i].Name) || a.Intersect(b).Any(x => !IsSlot(x));
                    if (alias) root[Find(list[j].Name)] = Find(list[i].Name);
                }
        }
        return flags.Select(f => f with { Root = Find(f.Name) }).ToList();
    }

    private static bool IsVmFlag(string name) => name.StartsWith("VM_", StringComparison.Ordinal) || name.StartsWith("__VM_", StringComparison.Ordinal);
    private static bool IsVmFlagLine(string text) => text.Contains("VM_", StringComparison.Ordinal);

    /// <summary>VM_HIGH_ARCH_BIT_0, VM_UFFD_MINOR_BIT, VM_PKEY_SHIFT: bit numbers that flags are made of, not flags.</summary>
    public static bool IsBitNumber(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, "_(BIT|SHIFT)(_[0-9]+)?$");

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
