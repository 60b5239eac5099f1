using System.Globalization;

namespace Multikernel.Proofs.Headers;

/// <summary>A value of a C constant expression: its bits and the width of its type (32 or 64).</summary>
public readonly record struct CValue(ulong Bits, int Width)
{
    public ulong Masked => Width >= 64 ? Bits : Bits & ((1UL << Width) - 1);
}

/// <summary>An expression that cannot be evaluated: the reason, never a guess.</summary>
public sealed class CannotEvaluateException(string why) : Exception(why);

/// <summary>
/// The values of object-like macros already evaluated, so a macro used twice is evaluated
/// once: a chain of definitions that each use the previous one twice stays linear, not
/// exponential. Whoever changes the definitions clears it.
/// </summary>
public sealed class MacroMemo
{
    private readonly Dictionary<(string Name, bool InIf), CValue> _values = new();

    public void Clear() => _values.Clear();
    internal bool TryGet(string name, bool inIf, out CValue v) => _values.TryGetValue((name, inIf), out v);
    internal void Set(string name, bool inIf, CValue v) => _values[(name, inIf)] = v;
}

/// <summary>
/// Evaluates the integer constant expressions of a kernel header: literals (hex, octal,
/// decimal, U/L/UL/ULL suffixes), macros (object-like, and function-like with simple
/// parameters), BIT / BIT_ULL / _BITUL / _BITULL / _AC / UL / ULL, <c>defined</c>,
/// IS_ENABLED / IS_BUILTIN / IS_MODULE, and the C operators with their precedence.
/// unsigned long is 32 or 64 bits wide, as the build. Nesting (parentheses, unary
/// operators, macro expansion) deeper than <see cref="MaxDepth"/> is refused with a reason,
/// far above any real header's, so hostile input cannot exhaust the stack; object-like
/// macros are evaluated once (<see cref="MacroMemo"/>), so time stays linear in the input.
/// </summary>
public sealed class CExpr
{
    /// <summary>The deepest nesting evaluated: real headers nest a few levels; this is 10x the deepest seen.</summary>
    public const int MaxDepth = 200;

    private sealed class Context(Func<string, MacroDef?> lookup, int longBits, bool inIf, MacroMemo memo)
    {
        public readonly Func<string, MacroDef?> Lookup = lookup;
        public readonly int LongBits = longBits;
        public readonly bool InIf = inIf;
        public readonly MacroMemo Memo = memo;
        public readonly HashSet<string> Expanding = new(StringComparer.Ordinal);
        public int Depth;

        public void Enter()
        {
            if (++Depth > MaxDepth) throw new CannotEvaluateException($"nested deeper than {MaxDepth} (parentheses, operators or macros)");
        }
    }

    private readonly Context _c;
    private readonly List<string> _t;
    private int _p;

    private CExpr(Context c, List<string> tokens)
    {
        _c = c;
        _t = tokens;
    }

    /// <summary>The value of <paramref name="text"/>; in an #if, unset CONFIG_ symbols are 0 (Kconfig's "not set").</summary>
    public static CValue Evaluate(string text, Func<string, MacroDef?> lookup, int longBits, bool inIf, MacroMemo? memo = null) =>
        new CExpr(new Context(lookup, longBits, inIf, memo ?? new MacroMemo()), Tokenize(text)).Run();

    private CValue Run()
    {
        if (_t.Count == 0) throw new CannotEvaluateException("empty expression");
        var v = Conditional();
        if (_p != _t.Count) throw new CannotEvaluateException($"unexpected '{Clip(_t[_p])}'");
        return v;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";

    public static List<string> Tokenize(string s)
    {
        var r = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_')) i++;
            }
            else if (char.IsDigit(c))
            {
                while (i < s.Length && (char.IsLetterOrDigit(s[i]))) i++;
            }
            else
            {
                string two = i + 1 < s.Length ? s.Substring(i, 2) : "";
                i += two is "<<" or ">>" or "<=" or ">=" or "==" or "!=" or "&&" or "||" or "##" ? 2 : 1;
            }
            r.Add(s[start..i]);
        }
        return r;
    }

    private string? Peek => _p < _t.Count ? _t[_p] : null;
    private bool Eat(string tok) { if (Peek == tok) { _p++; return true; } return false; }
    private void Expect(string tok) { if (!Eat(tok)) throw new CannotEvaluateException($"expected '{tok}'{(Peek is { } p ? $" before '{Clip(p)}'" : " at the end")}"); }

    private CValue Conditional()
    {
        _c.Enter();
        try
        {
            var c = Binary(0);
            if (!Eat("?")) return c;
            var a = Conditional();
            Expect(":");
            var b = Conditional();
            return c.Masked != 0 ? a : b;
        }
        finally { _c.Depth--; }
    }

    private static readonly string[][] Levels =
    [
        ["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"],
    ];

    private CValue Binary(int level)
    {
        if (level == Levels.Length) return Unary();
        var left = Binary(level + 1);
        while (Peek is { } op && Array.IndexOf(Levels[level], op) >= 0)
        {
            _p++;
            var right = Binary(level + 1);
            left = Apply(op, left, right);
        }
        return left;
    }

    private static CValue Apply(string op, CValue a, CValue b)
    {
        int w = Math.Max(a.Width, b.Width);
        ulong x = a.Masked, y = b.Masked;
        CValue V(ulong v) => new(v, w);
        CValue B(bool v) => new(v ? 1UL : 0, 32);
        switch (op)
        {
            case "||": return B(x != 0 || y != 0);
            case "&&": return B(x != 0 && y != 0);
            case "|": return V(x | y);
            case "^": return V(x ^ y);
            case "&": return V(x & y);
            case "==": return B(x == y);
            case "!=": return B(x != y);
            case "<": return B(x < y);
            case ">": return B(x > y);
            case "<=": return B(x <= y);
            case ">=": return B(x >= y);
            case "+": return V(x + y);
            case "-": return V(x - y);
            case "*": return V(x * y);
            case "/": return y == 0 ? throw new CannotEvaluateException("division by zero") : V(x / y);
            case "%": return y == 0 ? throw new CannotEvaluateException("division by zero") : V(x % y);
            case "<<":
                if (y >= (ulong)a.Width) throw new CannotEvaluateException($"{x} << {y} does not fit a {a.Width}-bit {(a.Width == 64 ? "value" : "unsigned long / int")}");
                if (a.Width < 64 && ((x << (int)y) >> a.Width) != 0) throw new CannotEvaluateException($"{x} << {y} overflows {a.Width} bits");
                return new(x << (int)y, a.Width);
            case ">>":
                if (y >= (ulong)a.Width) throw new CannotEvaluateException($"{x} >> {y}: shift past the width");
                return new(x >> (int)y, a.Width);
            default: throw new CannotEvaluateException($"operator '{op}'");
        }
    }

    private CValue Unary()
    {
        _c.Enter();
        try
        {
            if (Eat("!")) return new(Unary().Masked == 0 ? 1UL : 0, 32);
            if (Eat("~")) { var v = Unary(); return new(~v.Bits, v.Width); }
            if (Eat("-")) { var v = Unary(); return new(0 - v.Bits, v.Width); }
            if (Eat("+")) return Unary();
            if (Peek == "(" && CastLength() is int cast and > 0)
            {
                // (unsigned long) x, (__force vma_flag_t) x: a cast to an integer type changes no bit we track.
                _p += cast;
                return Unary();
            }
            if (Eat("("))
            {
                var v = Conditional();
                Expect(")");
                return v;
            }
            string tok = Peek ?? throw new CannotEvaluateException("expression ends early");
            _p++;
            if (char.IsDigit(tok[0])) return Number(tok);
            if (char.IsLetter(tok[0]) || tok[0] == '_') return Identifier(tok);
            throw new CannotEvaluateException($"unexpected '{Clip(tok)}'");
        }
        finally { _c.Depth--; }
    }

    private static readonly HashSet<string> TypeWords = new(StringComparer.Ordinal)
    {
        "__force", "const", "volatile", "unsigned", "signed", "int", "long", "short", "char", "bool", "_Bool",
    };

    /// <summary>At '(': the tokens of a cast to an integer type, "(" … ")" included, or 0 when this is not one.</summary>
    private int CastLength()
    {
        int i = _p + 1, words = 0;
        for (; i < _t.Count && _t[i] != ")"; i++, words++)
        {
            string w = _t[i];
            bool typeWord = TypeWords.Contains(w) || (w.EndsWith("_t", StringComparison.Ordinal) && (char.IsLetter(w[0]) || w[0] == '_') && _c.Lookup(w) is null);
            if (!typeWord) return 0;
        }
        return words > 0 && i < _t.Count ? i - _p + 1 : 0;
    }

    private CValue Number(string tok)
    {
        string digits = tok.TrimEnd('u', 'U', 'l', 'L');
        string suffix = tok[digits.Length..].ToUpperInvariant();
        int width = suffix.Contains("LL", StringComparison.Ordinal) ? 64 : suffix.Contains('L', StringComparison.Ordinal) ? _c.LongBits : 32;
        ulong v;
        bool ok;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            string hex = digits[2..].TrimStart('0');
            if (hex.Length > 16) throw new CannotEvaluateException($"{Clip(tok)} does not fit 64 bits");
            ok = ulong.TryParse(hex.Length == 0 ? "0" : hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v) && digits.Length > 2;
        }
        else if (digits.Length > 1 && digits[0] == '0') ok = TryOctal(tok, digits, out v);
        else
        {
            ok = ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out v);
            if (!ok && digits.Length > 0 && digits.All(char.IsAsciiDigit)) throw new CannotEvaluateException($"{Clip(tok)} does not fit 64 bits");
        }
        if (!ok) throw new CannotEvaluateException($"'{Clip(tok)}' is not a number");
        if (width < 64 && v >> width != 0) width = width == 32 && _c.LongBits == 64 ? 64 : width; // C picks a wider type
        if (width < 64 && v >> width != 0) throw new CannotEvaluateException($"{Clip(tok)} does not fit {width} bits");
        return new(v, width);
    }

    private static bool TryOctal(string tok, string s, out ulong v)
    {
        v = 0;
        foreach (char c in s)
        {
            if (c is < '0' or > '7') return false;
            if (v > ulong.MaxValue >> 3) throw new CannotEvaluateException($"{Clip(tok)} does not fit 64 bits");
            v = v * 8 + (ulong)(c - '0');
        }
        return true;
    }

    private CValue Identifier(string name)
    {
        if (_c.InIf && name == "defined")
        {
            bool paren = Eat("(");
            string id = Peek ?? throw new CannotEvaluateException("defined without a name");
            _p++;
            if (paren) Expect(")");
            return new(_c.Lookup(id) != null ? 1UL : 0, 32);
        }
        if (Peek == "(")
        {
            var args = Arguments();
            return Call(name, args);
        }
        var m = _c.Lookup(name);
        if (m == null)
        {
            if (_c.InIf && name.StartsWith("CONFIG_", StringComparison.Ordinal)) return new(0, 32);
            throw new CannotEvaluateException($"'{Clip(name)}' is not defined");
        }
        if (m.Params != null) throw new CannotEvaluateException($"'{Clip(name)}' is a function-like macro used without arguments");
        if (_c.Memo.TryGet(name, _c.InIf, out var known)) return known;
        // Only values are remembered: a failure may depend on where the macro is used (a macro
        // being expanded, the depth), and a failure stops the evaluation anyway.
        var v = Expand(m, Tokenize(m.Body));
        _c.Memo.Set(name, _c.InIf, v);
        return v;
    }

    private CValue Expand(MacroDef m, List<string> body)
    {
        if (!_c.Expanding.Add(m.Name)) throw new CannotEvaluateException($"'{Clip(m.Name)}' refers to itself");
        _c.Enter();
        try { return new CExpr(_c, body).Run(); }
        finally
        {
            _c.Depth--;
            _c.Expanding.Remove(m.Name);
        }
    }

    /// <summary>The arguments of a call, as token lists (no re-tokenising: time stays linear in the nesting).</summary>
    private List<List<string>> Arguments()
    {
        Expect("(");
        var args = new List<List<string>>();
        var cur = new List<string>();
        int depth = 0;
        while (true)
        {
            string tok = Peek ?? throw new CannotEvaluateException("unbalanced parentheses");
            _p++;
            if (tok == "(") depth++;
            if (tok == ")" && depth-- == 0) { if (cur.Count > 0 || args.Count > 0) args.Add(cur); return args; }
            if (tok == "," && depth == 0) { args.Add(cur); cur = new List<string>(); continue; }
            cur.Add(tok);
        }
    }

    private CValue Arg(List<string> tokens)
    {
        _c.Enter();
        try { return new CExpr(_c, tokens).Run(); }
        finally { _c.Depth--; }
    }

    /// <summary>A value as a literal token of the same width, to stand for an argument in a macro body.</summary>
    private static string Literal(CValue v) => $"0x{v.Masked:x}{(v.Width == 64 ? "ULL" : "U")}";

    private CValue Call(string name, List<List<string>> args)
    {
        void Need(int n) { if (args.Count != n) throw new CannotEvaluateException($"{Clip(name)}() takes {n} argument(s)"); }
        string Name(int i) => args[i].Count == 1 ? args[i][0] : throw new CannotEvaluateException($"{name}() wants a name");
        switch (name)
        {
            case "BIT" or "_BITUL": Need(1); return Apply("<<", new(1, _c.LongBits), Arg(args[0]));
            case "BIT_ULL" or "_BITULL": Need(1); return Apply("<<", new(1, 64), Arg(args[0]));
            case "UL" or "_UL": { Need(1); var v = Arg(args[0]); return v with { Width = Math.Max(_c.LongBits, v.Width) }; }
            case "ULL" or "_ULL": Need(1); return Arg(args[0]) with { Width = 64 };
            case "_AC": Need(2); return Number(string.Concat(args[0]) + string.Concat(args[1]));
            // Kconfig: =y defines CONFIG_X, =m defines CONFIG_X_MODULE.
            case "IS_BUILTIN" when _c.InIf: Need(1); return Defined(Name(0));
            case "IS_MODULE" when _c.InIf: Need(1); return Defined(Name(0) + "_MODULE");
            case "IS_ENABLED" or "IS_REACHABLE" when _c.InIf: Need(1); return new(Defined(Name(0)).Bits | Defined(Name(0) + "_MODULE").Bits, 32);
        }
        var m = _c.Lookup(name) ?? throw new CannotEvaluateException($"'{Clip(name)}()' is not defined");
        if (m.Params == null) throw new CannotEvaluateException($"'{Clip(name)}' is not a function-like macro");
        if (m.Params.Count != args.Count) throw new CannotEvaluateException($"{Clip(name)}() takes {m.Params.Count} argument(s)");
        return Expand(m, Substitute(m, args, arg => Literal(Arg(arg))));
    }

    /// <summary>
    /// A function-like macro's body with its arguments in place, as C does it: an argument next to
    /// ## is pasted as written; any other is expanded first (<paramref name="expand"/>, once per
    /// argument). A lone # (stringizing) cannot give a number and is refused.
    /// </summary>
    internal static List<string> Substitute(MacroDef m, List<List<string>> args, Func<List<string>, string> expand)
    {
        var ps = m.Params!.ToList();
        var body = Tokenize(m.Body);
        var expanded = new string?[args.Count];
        var pieces = new List<List<string>>();
        for (int i = 0; i < body.Count; i++)
        {
            string t = body[i];
            if (t == "#") throw new CannotEvaluateException($"{Clip(m.Name)}() turns an argument into a string (#)");
            int k = ps.IndexOf(t);
            if (k < 0) { pieces.Add([t]); continue; }
            bool pasted = (i > 0 && body[i - 1] == "##") || (i + 1 < body.Count && body[i + 1] == "##");
            pieces.Add(pasted ? args[k] : [expanded[k] ??= expand(args[k])]);
        }
        // a ## b: the last token of a and the first of b become one token.
        var result = new List<string>();
        for (int i = 0; i < pieces.Count; i++)
        {
            if (pieces[i] is ["##"] && result.Count > 0 && i + 1 < pieces.Count)
            {
                var next = pieces[++i];
                if (next.Count == 0) continue;
                result[^1] += next[0];
                result.AddRange(next.Skip(1));
                continue;
            }
            result.AddRange(pieces[i]);
        }
        return result;
    }

    private CValue Defined(string name) => new(_c.Lookup(name) != null ? 1UL : 0, 32);
}
