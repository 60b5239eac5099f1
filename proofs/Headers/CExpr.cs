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
/// Evaluates the integer constant expressions of a kernel header: literals (hex, octal,
/// decimal, U/L/UL/ULL suffixes), macros (object-like, and function-like with simple
/// parameters), BIT / BIT_ULL / _BITUL / _BITULL / _AC / UL / ULL, <c>defined</c>, and the
/// C operators with their precedence. unsigned long is 32 or 64 bits wide, as the build.
/// </summary>
public sealed class CExpr
{
    private readonly Func<string, MacroDef?> _lookup;
    private readonly int _longBits;
    private readonly bool _inIf;
    private readonly HashSet<string> _expanding;
    private List<string> _t = [];
    private int _p;

    private CExpr(Func<string, MacroDef?> lookup, int longBits, bool inIf, HashSet<string> expanding)
    {
        _lookup = lookup;
        _longBits = longBits;
        _inIf = inIf;
        _expanding = expanding;
    }

    /// <summary>The value of <paramref name="text"/>; in an #if, unset CONFIG_ symbols are 0 (Kconfig's "not set").</summary>
    public static CValue Evaluate(string text, Func<string, MacroDef?> lookup, int longBits, bool inIf) =>
        new CExpr(lookup, longBits, inIf, []).Run(text);

    private CValue Run(string text)
    {
        _t = Tokenize(text);
        _p = 0;
        if (_t.Count == 0) throw new CannotEvaluateException("empty expression");
        var v = Conditional();
        if (_p != _t.Count) throw new CannotEvaluateException($"unexpected '{_t[_p]}'");
        return v;
    }

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
    private void Expect(string tok) { if (!Eat(tok)) throw new CannotEvaluateException($"expected '{tok}'{(Peek is { } p ? $" before '{p}'" : " at the end")}"); }

    private CValue Conditional()
    {
        var c = Binary(0);
        if (!Eat("?")) return c;
        var a = Conditional();
        Expect(":");
        var b = Conditional();
        return c.Masked != 0 ? a : b;
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
        if (Eat("!")) return new(Unary().Masked == 0 ? 1UL : 0, 32);
        if (Eat("~")) { var v = Unary(); return new(~v.Bits, v.Width); }
        if (Eat("-")) { var v = Unary(); return new(0 - v.Bits, v.Width); }
        if (Eat("+")) return Unary();
        if (Eat("("))
        {
            // A cast such as (unsigned long) or (__force vm_flags_t) is not evaluated: it is reported.
            var v = Conditional();
            Expect(")");
            return v;
        }
        string tok = Peek ?? throw new CannotEvaluateException("expression ends early");
        _p++;
        if (char.IsDigit(tok[0])) return Number(tok);
        if (char.IsLetter(tok[0]) || tok[0] == '_') return Identifier(tok);
        throw new CannotEvaluateException($"unexpected '{tok}'");
    }

    private CValue Number(string tok)
    {
        string digits = tok.TrimEnd('u', 'U', 'l', 'L');
        string suffix = tok[digits.Length..].ToUpperInvariant();
        int width = suffix.Contains("LL", StringComparison.Ordinal) ? 64 : suffix.Contains('L', StringComparison.Ordinal) ? _longBits : 32;
        ulong v;
        bool ok = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v)
            : digits.Length > 1 && digits[0] == '0' ? TryOctal(digits, out v)
            : ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok) throw new CannotEvaluateException($"'{tok}' is not a number");
        if (width < 64 && v >> width != 0) width = width == 32 && _longBits == 64 ? 64 : width; // C picks a wider type
        if (width < 64 && v >> width != 0) throw new CannotEvaluateException($"{tok} does not fit {width} bits");
        return new(v, width);
    }

    private static bool TryOctal(string s, out ulong v)
    {
        v = 0;
        foreach (char c in s)
        {
            if (c is < '0' or > '7') return false;
            v = v * 8 + (ulong)(c - '0');
        }
        return true;
    }

    private CValue Identifier(string name)
    {
        if (_inIf && name == "defined")
        {
            bool paren = Eat("(");
            string id = Peek ?? throw new CannotEvaluateException("defined without a name");
            _p++;
            if (paren) Expect(")");
            return new(_lookup(id) != null ? 1UL : 0, 32);
        }
        if (Peek == "(")
        {
            var args = Arguments();
            return Call(name, args);
        }
        var m = _lookup(name);
        if (m == null)
        {
            if (_inIf && name.StartsWith("CONFIG_", StringComparison.Ordinal)) return new(0, 32);
            throw new CannotEvaluateException($"'{name}' is not defined");
        }
        if (m.Params != null) throw new CannotEvaluateException($"'{name}' is a function-like macro used without arguments");
        return Expand(m, m.Body);
    }

    private CValue Expand(MacroDef m, string body)
    {
        if (!_expanding.Add(m.Name)) throw new CannotEvaluateException($"'{m.Name}' refers to itself");
        try { return new CExpr(_lookup, _longBits, _inIf, _expanding).Run(body); }
        finally { _expanding.Remove(m.Name); }
    }

    private List<string> Arguments()
    {
        Expect("(");
        var args = new List<string>();
        var cur = new List<string>();
        int depth = 0;
        while (true)
        {
            string tok = Peek ?? throw new CannotEvaluateException("unbalanced parentheses");
            _p++;
            if (tok == "(") depth++;
            if (tok == ")" && depth-- == 0) { if (cur.Count > 0 || args.Count > 0) args.Add(string.Join(" ", cur)); return args; }
            if (tok == "," && depth == 0) { args.Add(string.Join(" ", cur)); cur.Clear(); continue; }
            cur.Add(tok);
        }
    }

    private CValue Call(string name, List<string> args)
    {
        CValue Arg(int i) => new CExpr(_lookup, _longBits, _inIf, _expanding).Run(args[i]);
        void Need(int n) { if (args.Count != n) throw new CannotEvaluateException($"{name}() takes {n} argument(s)"); }
        switch (name)
        {
            case "BIT" or "_BITUL": Need(1); return Apply("<<", new(1, _longBits), Arg(0));
            case "BIT_ULL" or "_BITULL": Need(1); return Apply("<<", new(1, 64), Arg(0));
            case "UL" or "_UL": Need(1); return Arg(0) with { Width = Math.Max(_longBits, Arg(0).Width) };
            case "ULL" or "_ULL": Need(1); return Arg(0) with { Width = 64 };
            case "_AC": Need(2); return Number(args[0].Replace(" ", "", StringComparison.Ordinal) + args[1].Trim());
            case "IS_ENABLED" or "IS_BUILTIN" when _inIf: Need(1); return new(_lookup(args[0].Trim()) != null ? 1UL : 0, 32);
        }
        var m = _lookup(name) ?? throw new CannotEvaluateException($"'{name}()' is not defined");
        if (m.Params == null) throw new CannotEvaluateException($"'{name}' is not a function-like macro");
        if (m.Params.Count != args.Count) throw new CannotEvaluateException($"{name}() takes {m.Params.Count} argument(s)");
        if (m.Body.Contains("##", StringComparison.Ordinal) || m.Body.Contains('#')) throw new CannotEvaluateException($"{name}() pastes tokens (##, #)");
        var ps = m.Params.ToList();
        var body = Tokenize(m.Body).Select(t => ps.IndexOf(t) is int k && k >= 0 ? "(" + args[k] + ")" : t);
        return Expand(m, string.Join(" ", body));
    }
}
