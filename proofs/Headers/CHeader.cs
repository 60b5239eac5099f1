using System.Text;

namespace Multikernel.Proofs.Headers;

/// <summary>
/// A #define as written: the name, the parameters of a function-like macro (else null), the body,
/// its line; whether it stands inside a struct or union body (a flag of that struct's field, not
/// a vm_flags bit), and whether it is an enumerator (an enum constant, kept as a definition).
/// </summary>
public sealed record MacroDef(string Name, IReadOnlyList<string>? Params, string Body, int Line)
{
    public bool InBody { get; init; }
    public bool Enumerator { get; init; }
}

/// <summary>A header that cannot be read at all (unbalanced #if, not text): one line, with the line number.</summary>
public sealed class HeaderException(string message) : Exception(message);

/// <summary>
/// The preprocessor subset a kernel header's flag definitions need: comments, line
/// continuations, #define / #undef, and #if / #ifdef / #ifndef / #elif / #else / #endif
/// evaluated under a configuration (CONFIG_ symbols set to y; everything else unset) and a
/// word size. A condition it cannot evaluate makes its block unknown: the definitions in
/// it are not used, and the line is reported.
/// </summary>
public sealed class CHeader
{
    public const long MaxBytes = 16L << 20;

    private readonly Dictionary<string, MacroDef> _macros = new(StringComparer.Ordinal);

    /// <summary>Values of the macros evaluated so far; cleared whenever a definition changes.</summary>
    public MacroMemo Memo { get; } = new();

    /// <summary>The definitions in effect at the end of the file.</summary>
    public IReadOnlyDictionary<string, MacroDef> Macros => _macros;
    /// <summary>Conditions that could not be evaluated, and #defines inside their blocks: (line, text, why).</summary>
    public List<(int Line, string Text, string Why)> Unknown { get; } = [];
    public int LongBits { get; }

    private enum Branch { Active, Inactive, Done, Unknown }

    private CHeader(int longBits) => LongBits = longBits;

    public MacroDef? Lookup(string name) => _macros.GetValueOrDefault(name);

    /// <summary>Reads <paramref name="text"/> with the CONFIG_ options in <paramref name="config"/> set (=y), for a <paramref name="longBits"/>-bit build.</summary>
    public static CHeader Read(string text, IEnumerable<string> config, int longBits) =>
        Read(text, config.Select(c => KeyValuePair.Create(c, "1")), longBits);

    /// <summary>
    /// Reads <paramref name="text"/> with <paramref name="defines"/> defined before it (CONFIG_X = 1 for
    /// =y, CONFIG_X_MODULE = 1 for =m, CONFIG_X = 5 for a value), for a <paramref name="longBits"/>-bit build.
    /// </summary>
    public static CHeader Read(string text, IEnumerable<KeyValuePair<string, string>> defines, int longBits)
    {
        if (text.Contains('\0')) throw new HeaderException("not a text file (it holds NUL bytes)");
        var h = new CHeader(longBits);
        // What the build defines before any header: the word size, __KERNEL__, and the configuration.
        h.Define("__KERNEL__", null, "1", 0);
        h.Define("BITS_PER_LONG", null, longBits.ToString(System.Globalization.CultureInfo.InvariantCulture), 0);
        if (longBits == 64) h.Define("CONFIG_64BIT", null, "1", 0);
        foreach (var (name, value) in defines) h.Define(name, null, value, 0);
        h.Run(Lines(text));
        return h;
    }

    private void Define(string name, IReadOnlyList<string>? ps, string body, int line, bool inBody = false, bool enumerator = false)
    {
        _macros[name] = new MacroDef(name, ps, body, line) { InBody = inBody, Enumerator = enumerator };
        Memo.Clear();
    }

    // ---- C code between the directives: brace depth, and enum bodies ------------------

    /// <summary>Braces of live C code open at this point: a #define inside a struct body is that struct's, not vm_flags'.</summary>
    private int _braces;
    /// <summary>Inside an enum body: its brace depth (0: not in one); the enumerator being read; the one before it.</summary>
    private int _enumDepth, _enumParens;
    private readonly System.Text.StringBuilder _enumerator = new(), _statement = new();
    private string? _enumPrevious;
    private long? _enumPreviousValue;
    private int _enumLine;

    /// <summary>A live line of C code: braces counted; an enum's enumerators become definitions (implicit values included).</summary>
    private void Code(int line, string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '"' or '\'')
            {
                // A string or character literal: skip it whole, braces inside are text.
                int end = i + 1;
                while (end < text.Length && text[end] != c) end += text[end] == '\\' ? 2 : 1;
                if (_enumDepth > 0) _enumerator.Append(text, i, Math.Min(end + 1, text.Length) - i);
                i = end;
                continue;
            }
            if (_enumDepth > 0)
            {
                if (c is '(' or '[') _enumParens++;
                if (c is ')' or ']') _enumParens = Math.Max(0, _enumParens - 1);
                if (c == '{') _braces++;
                if (c == '}' && _braces == _enumDepth) { Enumerator(); _enumDepth = 0; _braces--; continue; }
                if (c == '}') { _braces--; continue; }
                if (c == ',' && _enumParens == 0 && _braces == _enumDepth) { Enumerator(); continue; }
                if (_enumerator.Length == 0) _enumLine = line;
                _enumerator.Append(c);
                continue;
            }
            if (c == '{')
            {
                _braces++;
                if (System.Text.RegularExpressions.Regex.IsMatch(_statement.ToString(), @"(^|\W)enum(\s+\w+)?\s*$"))
                {
                    _enumDepth = _braces;
                    _enumPrevious = null;
                    _enumPreviousValue = null;
                }
                _statement.Clear();
            }
            else if (c == '}') { _braces = Math.Max(0, _braces - 1); _statement.Clear(); }
            else if (c == ';') _statement.Clear();
            else if (_statement.Length < 256) _statement.Append(c);
        }
        if (_statement.Length < 256) _statement.Append(' ');
    }

    /// <summary>One enumerator: macros expanded (DECLARE_VMA_BIT(READ, 0) -> VMA_READ_BIT = 0), then defined with its value.</summary>
    private void Enumerator()
    {
        var tokens = CExpr.Tokenize(_enumerator.ToString());
        _enumerator.Clear();
        _enumParens = 0;
        if (tokens.Count == 0) return;
        for (int round = 0; round < 16 && tokens.Count > 1 && tokens[1] == "(" && Lookup(tokens[0]) is { Params: not null } m; round++)
        {
            var args = CallArgs(tokens, out int after);
            if (args is null || m.Params.Count != args.Count) break;
            List<string> body;
            try { body = CExpr.Substitute(m, args, a => string.Join(" ", a)); }
            catch (CannotEvaluateException) { break; }
            tokens = [.. body, .. tokens.Skip(after)];
        }
        string name = tokens[0];
        if (!(char.IsLetter(name[0]) || name[0] == '_')) { Unknown.Add((_enumLine, string.Join(" ", tokens), "not an enumerator")); return; }
        string body2;
        if (tokens.Count >= 3 && tokens[1] == "=")
        {
            var expr = tokens.Skip(2).ToList();
            string text = string.Join(" ", expr);
            // An alias (= ANOTHER_ENUMERATOR) keeps its name: two flags on one slot are found through it.
            body2 = expr.Count == 1 && !char.IsDigit(expr[0][0]) ? expr[0] : ValueText(text) ?? text;
        }
        else if (tokens.Count == 1)
            body2 = _enumPreviousValue is { } prev ? (prev + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)
                  : _enumPrevious is null ? "0" : $"( {_enumPrevious} ) + 1";
        else { Unknown.Add((_enumLine, string.Join(" ", tokens), "not NAME or NAME = value")); return; }
        Define(name, null, body2, _enumLine, enumerator: true);
        _enumPrevious = name;
        _enumPreviousValue = long.TryParse(ValueText(body2), out long v) ? v : null;
    }

    /// <summary>The decimal value of an expression, when it can be evaluated now.</summary>
    private string? ValueText(string expr)
    {
        try { return ((long)CExpr.Evaluate(expr, Lookup, LongBits, inIf: false, Memo).Masked).ToString(System.Globalization.CultureInfo.InvariantCulture); }
        catch (CannotEvaluateException) { return null; }
    }

    /// <summary>The arguments of NAME ( … ) at the start of <paramref name="tokens"/>; <paramref name="after"/> is the index past ')'.</summary>
    private static List<List<string>>? CallArgs(List<string> tokens, out int after)
    {
        var args = new List<List<string>>();
        var cur = new List<string>();
        int depth = 0;
        for (int i = 2; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (t == "(") depth++;
            if (t == ")" && depth-- == 0) { if (cur.Count > 0 || args.Count > 0) args.Add(cur); after = i + 1; return args; }
            if (t == "," && depth == 0) { args.Add(cur); cur = []; continue; }
            cur.Add(t);
        }
        after = tokens.Count;
        return null;
    }

    /// <summary>Logical lines: comments removed, continuations joined, each with the number of its first physical line.</summary>
    private static IEnumerable<(int Line, string Text)> Lines(string text)
    {
        var sb = new StringBuilder();
        int line = 1, start = 1;
        bool inBlock = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inBlock)
            {
                if (c == '*' && i + 1 < text.Length && text[i + 1] == '/') { inBlock = false; i++; sb.Append(' '); }
                else if (c == '\n') line++;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*') { inBlock = true; i++; continue; }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/') { while (i + 1 < text.Length && text[i + 1] != '\n') i++; continue; }
            if (c == '\\' && i + 1 < text.Length && (text[i + 1] == '\n' || (text[i + 1] == '\r' && i + 2 < text.Length && text[i + 2] == '\n')))
            {
                i += text[i + 1] == '\r' ? 2 : 1;
                line++;
                sb.Append(' ');
                continue;
            }
            if (c == '\n')
            {
                yield return (start, sb.ToString());
                sb.Clear();
                start = ++line;
                continue;
            }
            if (c != '\r') sb.Append(c);
        }
        if (inBlock) throw new HeaderException($"line {start}: a comment that never ends");
        if (sb.Length > 0) yield return (start, sb.ToString());
    }

    /// <summary>One open #if: its state, its line, whether #else was seen, and the line of the outermost unknown condition around it (0: none).</summary>
    private readonly record struct Open(Branch State, int Line, bool SeenElse, int UnknownAt);

    private void Run(IEnumerable<(int Line, string Text)> lines)
    {
        // Counters instead of walks of the stack, so deep nesting stays linear.
        var stack = new Stack<Open>();
        int notActive = 0, neither = 0; // entries not Active; entries neither Active nor Unknown
        void Push(Open o)
        {
            if (o.State != Branch.Active) notActive++;
            if (o.State is not (Branch.Active or Branch.Unknown)) neither++;
            stack.Push(o);
        }
        Open Pop()
        {
            var o = stack.Pop();
            if (o.State != Branch.Active) notActive--;
            if (o.State is not (Branch.Active or Branch.Unknown)) neither--;
            return o;
        }
        bool Live() => notActive == 0;
        // Not live, but would be if the unknown conditions above were true.
        bool Possible() => neither == 0;
        int UnknownAbove() => stack.Count == 0 ? 0 : stack.Peek().UnknownAt;
        Branch Nested(Func<Branch> evaluate) => Live() ? evaluate() : Possible() ? Branch.Unknown : Branch.Done;
        Open Opened(Branch b, int line) => new(b, line, false, UnknownAbove() is int u && u != 0 ? u : b == Branch.Unknown ? line : 0);
        foreach (var (line, raw) in lines)
        {
            string t = raw.Trim();
            if (!t.StartsWith('#'))
            {
                if (Live() && t.Length > 0) Code(line, t);
                continue;
            }
            t = t[1..].TrimStart();
            int w = 0;
            while (w < t.Length && char.IsLetter(t[w])) w++;
            string word = t[..w];
            string rest = t[w..].Trim();
            switch (word)
            {
                case "ifdef" or "ifndef":
                {
                    bool def = _macros.ContainsKey(rest.Split(' ', 2)[0]);
                    Push(Opened(Nested(() => def == (word == "ifdef") ? Branch.Active : Branch.Inactive), line));
                    break;
                }
                case "if":
                    Push(Opened(Nested(() => Condition(line, raw, rest)), line));
                    break;
                case "elif":
                {
                    if (stack.Count == 0) throw new HeaderException($"line {line}: #elif without #if");
                    var o = Pop();
                    if (o.SeenElse) throw new HeaderException($"line {line}: #elif after #else (the #if is at line {o.Line})");
                    var next = o.State switch
                    {
                        Branch.Inactive => Nested(() => Condition(line, raw, rest)),
                        Branch.Unknown => Branch.Unknown,
                        _ => Branch.Done,
                    };
                    Push(o with { State = next, UnknownAt = o.UnknownAt != 0 ? o.UnknownAt : next == Branch.Unknown ? line : 0 });
                    break;
                }
                case "else":
                {
                    if (stack.Count == 0) throw new HeaderException($"line {line}: #else without #if");
                    var o = Pop();
                    if (o.SeenElse) throw new HeaderException($"line {line}: a second #else (the #if is at line {o.Line})");
                    Push(o with { State = o.State switch { Branch.Inactive => Branch.Active, Branch.Unknown => Branch.Unknown, _ => Branch.Done }, SeenElse = true });
                    break;
                }
                case "endif":
                    if (stack.Count == 0) throw new HeaderException($"line {line}: #endif without #if");
                    Pop();
                    break;
                case "define":
                    if (Live()) DefineLine(line, rest, _braces > 0 && _enumDepth == 0);
                    else if (Possible())
                    {
                        int at = UnknownAbove();
                        var cond = Unknown.FindLast(u => u.Line == at);
                        Unknown.Add((line, raw.Trim(), $"inside the block of line {at} ({cond.Text}: {cond.Why})"));
                    }
                    break;
                case "undef":
                    if (Live()) { _macros.Remove(rest.Trim()); Memo.Clear(); }
                    break;
            }
        }
        if (stack.Count > 0) throw new HeaderException($"line {stack.Peek().Line}: #if without #endif");
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private Branch Condition(int line, string raw, string expr)
    {
        try { return CExpr.Evaluate(expr, Lookup, LongBits, inIf: true, Memo).Masked != 0 ? Branch.Active : Branch.Inactive; }
        catch (CannotEvaluateException e)
        {
            Unknown.Add((line, raw.Trim(), e.Message));
            return Branch.Unknown;
        }
    }

    private void DefineLine(int line, string rest, bool inBody)
    {
        int i = 0;
        while (i < rest.Length && (char.IsLetterOrDigit(rest[i]) || rest[i] == '_')) i++;
        string name = rest[..i];
        if (name.Length == 0) throw new HeaderException($"line {line}: #define without a name");
        string[]? ps = null;
        if (i < rest.Length && rest[i] == '(')
        {
            int close = rest.IndexOf(')', i);
            if (close < 0) throw new HeaderException($"line {line}: #define {Clip(name)}( without ')'");
            ps = rest[(i + 1)..close].Split(',', StringSplitOptions.TrimEntries);
            if (ps.Length == 1 && ps[0].Length == 0) ps = [];
            foreach (var p in ps)
                if (p.Length == 0 || !(char.IsLetter(p[0]) || p[0] == '_' || p == "...") || (p != "..." && !p.All(c => char.IsLetterOrDigit(c) || c == '_')))
                    throw new HeaderException($"line {line}: #define {Clip(name)}(…): '{Clip(p)}' is not a parameter name");
            i = close + 1;
        }
        Define(name, ps, rest[i..].Trim(), line, inBody);
    }
}
