using System.Globalization;

namespace Multikernel.Model.Memory;

/// <summary>
/// herd7's C-litmus dialect, the subset the kernel's tools/memory-model/litmus-tests use: a
/// <c>C NAME</c> line, an init block, processes <c>P0(int *x, …) { … }</c> with the kernel's
/// ordering primitives and if/else, and an <c>exists</c> clause. Untrusted input: every error is
/// one line with line:column; nesting, sizes and literals are bounded before anything is allocated.
/// </summary>
public static class LitmusParser
{
    public const int MaxThreads = 8, MaxLocations = 16, MaxInstructionsPerThread = 64, MaxDepth = 64, MaxOperators = 1024;

    private enum Kind { Ident, Number, Punct, String, End }

    private readonly record struct Token(Kind Kind, string Text, int Line, int Column);

    // Interned punctuation: the lexer's tokens are compared to these, never built per character.
    private static readonly string[] Puncts =
        ["/\\", "\\/", "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "(", ")", "{", "}", "[", "]", ";", ",", "*", "=", ":", "~", "!", "+", "-", "&", "|", "^", "<", ">", "."];

    public static LitmusTest Parse(string text) => new Parser(Lex(text)).Test();

    private static List<Token> Lex(string s)
    {
        var tokens = new List<Token>();
        int line = 1, col = 1, i = 0;
        void Advance(int n)
        {
            for (int k = 0; k < n && i < s.Length; k++, i++)
            {
                if (s[i] == '\n') { line++; col = 1; } else col++;
            }
        }
        // The first line: "C NAME", the name is the rest of the line (herd names hold + . - and digits).
        while (i < s.Length && char.IsWhiteSpace(s[i])) Advance(1);
        if (i >= s.Length || s[i] != 'C' || i + 1 >= s.Length || (s[i + 1] != ' ' && s[i + 1] != '\t'))
            throw new LitmusSyntaxException(line, col, "a C litmus test starts with 'C NAME'");
        int nameLine = line, nameCol = col;
        Advance(1);
        int start = i;
        while (i < s.Length && s[i] != '\n') Advance(1);
        string name = s[start..i].Trim();
        if (name.Length == 0 || name.Length > 200 || name.Any(c => char.IsControl(c)))
            throw new LitmusSyntaxException(nameLine, nameCol, "the test needs a name on its 'C' line (printable, at most 200 characters)");
        tokens.Add(new Token(Kind.Ident, "C", nameLine, nameCol));
        tokens.Add(new Token(Kind.String, name, nameLine, nameCol + 2));
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { Advance(1); continue; }
            int l = line, k = col;
            // herd's (* comments *); "(*" right after a name is a call on a pointer: READ_ONCE(*x).
            if (c == '(' && i + 1 < s.Length && s[i + 1] == '*' && (tokens.Count == 0 || tokens[^1].Kind != Kind.Ident))
            { SkipComment("(*", "*)", l, k); continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '*') { SkipComment("/*", "*/", l, k); continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '/') { while (i < s.Length && s[i] != '\n') Advance(1); continue; }
            if (c == '"')
            {
                int from = i + 1;
                Advance(1);
                while (i < s.Length && s[i] != '"' && s[i] != '\n') Advance(1);
                if (i >= s.Length || s[i] != '"') throw new LitmusSyntaxException(l, k, "a string that does not end on its line");
                tokens.Add(new Token(Kind.String, s[from..i], l, k));
                Advance(1);
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int from = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) Advance(1);
                if (i - from > 64) throw new LitmusSyntaxException(l, k, "a name longer than 64 characters");
                tokens.Add(new Token(Kind.Ident, s[from..i], l, k));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                int from = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) Advance(1);
                tokens.Add(new Token(Kind.Number, s[from..i], l, k));
                continue;
            }
            string? p = null;
            foreach (var candidate in Puncts)
                if (string.CompareOrdinal(s, i, candidate, 0, candidate.Length) == 0) { p = candidate; break; }
            if (p is null)
                throw new LitmusSyntaxException(l, k, char.IsControl(c) || c > '~'
                    ? $"unexpected character U+{(int)c:X4}" : $"unexpected character '{c}'");
            tokens.Add(new Token(Kind.Punct, p, l, k));
            Advance(p.Length);
        }
        tokens.Add(new Token(Kind.End, "end of file", line, col));
        return tokens;

        void SkipComment(string open, string close, int l, int k)
        {
            Advance(open.Length);
            int end = s.IndexOf(close, i, StringComparison.Ordinal);
            if (end < 0) throw new LitmusSyntaxException(l, k, $"a comment '{open}' that never ends");
            Advance(end + close.Length - i);
        }
    }

    private sealed class Parser(List<Token> tokens)
    {
        private int _at;
        private int _depth;
        private int _operators;
        private readonly List<string> _locations = [];
        private readonly List<int> _init = [];
        private readonly Dictionary<int, Dictionary<string, int>> _regInit = [];
        private readonly List<string> _unsupported = [];

        private Token Peek => tokens[_at];
        private Token PeekAt(int n) => tokens[Math.Min(_at + n, tokens.Count - 1)];
        private Token Next() => tokens[_at < tokens.Count - 1 ? _at++ : _at];
        private bool Is(string text) => Peek.Kind is Kind.Punct or Kind.Ident && Peek.Text == text;

        private static LitmusSyntaxException Error(Token t, string message) => new(t.Line, t.Column, message);

        private static string Shown(Token t) => t.Kind switch
        {
            Kind.End => "end of file",
            Kind.String => "a string",
            _ => $"'{(t.Text.Length > 24 ? t.Text[..24] + "…" : t.Text)}'",
        };

        private Token Expect(string text)
        {
            if (!Is(text)) throw Error(Peek, $"expected '{text}', found {Shown(Peek)}");
            return Next();
        }

        private Token Ident(string what)
        {
            if (Peek.Kind != Kind.Ident) throw Error(Peek, $"expected {what}, found {Shown(Peek)}");
            return Next();
        }

        private int Number(bool negativeAllowed = true)
        {
            var t = Peek;
            bool negative = false;
            if (negativeAllowed && Is("-")) { Next(); negative = true; }
            var n = Next();
            if (n.Kind != Kind.Number) throw Error(n, $"expected a number, found {Shown(n)}");
            string digits = n.Text;
            bool hex = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            if (!long.TryParse(hex ? digits[2..] : digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out long v)
                || v > int.MaxValue)
                throw Error(n, $"'{(digits.Length > 24 ? digits[..24] + "…" : digits)}' is not a number from 0 to {int.MaxValue}");
            _ = t;
            return negative ? -(int)v : (int)v;
        }

        private void Enter(Token t)
        {
            if (++_depth > MaxDepth) throw Error(t, $"nested deeper than {MaxDepth}");
        }

        public LitmusTest Test()
        {
            Expect("C");
            string name = Next().Text;
            while (Peek.Kind == Kind.String) Next();   // herd's optional doc strings
            if (Is("{")) Init();
            var threads = new List<LitmusThread>();
            while (Peek.Kind == Kind.Ident && Peek.Text.Length > 1 && Peek.Text[0] == 'P' && Peek.Text.Skip(1).All(char.IsAsciiDigit))
            {
                var t = Peek;
                if (threads.Count >= MaxThreads) throw Error(t, $"more than {MaxThreads} processes");
                if (Peek.Text != $"P{threads.Count}") throw Error(t, $"expected P{threads.Count} (processes are numbered from P0 in order), found '{t.Text}'");
                threads.Add(Process(threads.Count));
            }
            if (threads.Count == 0) throw Error(Peek, $"expected a process 'P0(...)', found {Shown(Peek)}");
            if (Is("locations")) { Next(); Expect("["); while (!Is("]")) { if (Peek.Kind == Kind.End) throw Error(Peek, "expected ']'"); Next(); } Next(); }
            bool negated = false;
            var clause = Peek;
            if (Is("~")) { Next(); negated = true; }
            if (Is("forall")) throw Error(Peek, "'forall' is not supported here: state the outcome with 'exists'");
            if (!Is("exists")) throw Error(Peek, $"expected 'exists' (the final condition), found {Shown(Peek)}");
            Next();
            int from = _at;
            var cond = Condition(threads);
            var shown = new System.Text.StringBuilder();
            foreach (var tok in tokens.Skip(from).Take(_at - from))
                shown.Append(tok.Text is "/\\" or "\\/" ? $" {tok.Text} " : tok.Text);
            string text = shown.ToString();
            if (Is(";")) Next();
            if (Peek.Kind != Kind.End) throw Error(Peek, $"expected the end of the test after the exists clause, found {Shown(Peek)}");
            foreach (var (tid, regs) in _regInit)
                if (tid >= threads.Count) throw Error(clause, $"the init block sets a register of P{tid}, which does not exist");
            var withInit = threads.Select(t => t with { RegInit = _regInit.GetValueOrDefault(t.Id) ?? new Dictionary<string, int>() }).ToList();
            return new LitmusTest(name, _locations, _init, withInit, cond, negated, text, _unsupported);
        }

        private int Location(Token t, bool declare)
        {
            int i = _locations.IndexOf(t.Text);
            if (i >= 0) return i;
            if (!declare) throw Error(t, $"'{t.Text}' is not a shared location of this test");
            if (_locations.Count >= MaxLocations) throw Error(t, $"more than {MaxLocations} shared locations");
            _locations.Add(t.Text);
            _init.Add(0);
            return _locations.Count - 1;
        }

        private void Init()
        {
            Expect("{");
            while (!Is("}"))
            {
                if (Peek.Kind == Kind.End) throw Error(Peek, "the init block has no closing '}'");
                if (Peek.Kind == Kind.Number)
                {
                    // N:reg=value; a register's initial value.
                    var tn = Peek;
                    int tid = Number(false);
                    if (tid >= MaxThreads) throw Error(tn, $"P{tid}: at most {MaxThreads} processes");
                    Expect(":");
                    var reg = Ident("a register name");
                    Expect("=");
                    int v = Number();
                    if (!_regInit.TryGetValue(tid, out var regs)) _regInit[tid] = regs = [];
                    if (!regs.TryAdd(reg.Text, v)) throw Error(reg, $"{tid}:{reg.Text} is initialised twice");
                }
                else
                {
                    while (Is("int") || Is("atomic_t") || Is("unsigned") || Is("long")) Next();
                    var loc = Ident("a location name");
                    if (_locations.Contains(loc.Text)) throw Error(loc, $"'{loc.Text}' is initialised twice");
                    int i = Location(loc, declare: true);
                    if (Is("="))
                    {
                        Next();
                        if (Is("ATOMIC_INIT")) { Next(); Expect("("); _init[i] = Number(); Expect(")"); }
                        else if (Peek.Kind == Kind.Ident) throw Error(Peek, $"'{loc.Text}' is initialised with a pointer or a name: only integer values are modelled");
                        else _init[i] = Number();
                    }
                }
                if (!Is("}")) Expect(";");
            }
            Next();
        }

        private Dictionary<string, int> _params = [];
        private HashSet<string> _registers = [];
        private List<Instr> _code = [];

        private LitmusThread Process(int id)
        {
            Next();
            Expect("(");
            _params = [];
            _registers = [];
            _code = [];
            while (!Is(")"))
            {
                if (_params.Count > 0) Expect(",");
                var type = Ident("a parameter type (int, atomic_t)");
                if (type.Text is "spinlock_t") _unsupported.Add($"{type.Line}:{type.Column} spinlock_t (locks are not modelled)");
                else if (type.Text is not ("int" or "atomic_t" or "unsigned" or "long" or "intptr_t" or "u32" or "u64"))
                    throw Error(type, $"parameter type '{type.Text}' is not one of int, atomic_t, spinlock_t");
                while (Is("int") || Is("long")) Next();
                Expect("*");
                if (Is("*")) throw Error(Peek, "pointers to pointers are not modelled: a location holds an integer");
                var p = Ident("a parameter name");
                if (_params.ContainsKey(p.Text)) throw Error(p, $"parameter '{p.Text}' given twice");
                _params[p.Text] = Location(p, declare: true);
            }
            Next();
            Block(id);
            // A declared register that is never written is 0 at the end, and the exists clause may name it.
            if (!_regInit.TryGetValue(id, out var init)) _regInit[id] = init = [];
            foreach (var r in _registers) init.TryAdd(r, 0);
            if (_code.Count > MaxInstructionsPerThread) throw Error(Peek, $"P{id} has more than {MaxInstructionsPerThread} instructions");
            return new LitmusThread(id, _code, new Dictionary<string, int>());
        }

        private void Block(int tid)
        {
            var open = Expect("{");
            Enter(open);
            while (!Is("}"))
            {
                if (Peek.Kind == Kind.End) throw Error(open, "this '{' has no closing '}'");
                Statement(tid);
            }
            Next();
            _depth--;
        }

        private void Emit(Instr i)
        {
            if (_code.Count >= MaxInstructionsPerThread) throw Error(Peek, $"a process has more than {MaxInstructionsPerThread} instructions");
            _code.Add(i);
        }

        private int Param(Token t)
        {
            if (!_params.TryGetValue(t.Text, out int loc)) throw Error(t, $"'{t.Text}' is not a parameter of this process");
            return loc;
        }

        /// <summary><c>*x</c> inside READ_ONCE/WRITE_ONCE, or <c>x</c> for the pointer-taking primitives.</summary>
        private int Pointer(bool star)
        {
            if (star) Expect("*");
            return Param(Ident("a location (a parameter)"));
        }

        private void Statement(int tid)
        {
            var t = Peek;
            if (Is(";")) { Next(); return; }
            if (Is("{")) { Block(tid); return; }
            if (Is("if")) { If(tid); return; }
            if (Is("int"))
            {
                Next();
                var r = Ident("a register name");
                DeclareRegister(r);
                if (Is("=")) { Next(); AssignTo(r, tid); }
                Expect(";");
                return;
            }
            if (Is("*"))
            {
                // *x = e;  a plain store.
                Next();
                int loc = Param(Ident("a location"));
                Expect("=");
                var e = Expression();
                Emit(new Store(loc, e, Ordering.Plain, t.Line, t.Column) { Text = $"*{_locations[loc]} = {Show(e)}" });
                Expect(";");
                return;
            }
            if (Peek.Kind == Kind.Ident && PeekAt(1).Kind == Kind.Punct && PeekAt(1).Text == "=" && !_params.ContainsKey(Peek.Text))
            {
                var r = Next();
                Next();
                _registers.Add(r.Text);
                AssignTo(r, tid);
                Expect(";");
                return;
            }
            if (Peek.Kind == Kind.Ident)
            {
                var call = Next();
                Call(call, null);
                Expect(";");
                return;
            }
            throw Error(t, $"expected a statement, found {Shown(t)}");
        }

        private void DeclareRegister(Token r)
        {
            if (_params.ContainsKey(r.Text)) throw Error(r, $"'{r.Text}' is a parameter, not a register");
            _registers.Add(r.Text);
        }

        private void AssignTo(Token r, int tid)
        {
            _ = tid;
            if (Is("*"))
            {
                var s = Next();
                int loc = Param(Ident("a location"));
                Emit(new Load(r.Text, loc, Ordering.Plain, s.Line, s.Column) { Text = $"{r.Text} = *{_locations[loc]}" });
                return;
            }
            if (Peek.Kind == Kind.Ident && PeekAt(1).Kind == Kind.Punct && PeekAt(1).Text == "(")
            {
                var call = Next();
                Call(call, r);
                return;
            }
            var e = Expression();
            Emit(new Assign(r.Text, e, r.Line, r.Column) { Text = $"{r.Text} = {Show(e)}" });
        }

        private static readonly string[] Suffixes = ["_relaxed", "_acquire", "_release"];

        private static (string Base, Ordering Ord) Split(string name, Ordering plain)
        {
            foreach (var s in Suffixes)
                if (name.EndsWith(s, StringComparison.Ordinal))
                    return (name[..^s.Length], s switch { "_relaxed" => Ordering.Once, "_acquire" => Ordering.Acquire, _ => Ordering.Release });
            return (name, plain);
        }

        private static readonly HashSet<string> UnsupportedCalls =
        [
            "spin_lock", "spin_unlock", "spin_trylock", "spin_is_locked", "rcu_read_lock", "rcu_read_unlock", "synchronize_rcu",
            "synchronize_rcu_expedited", "srcu_read_lock", "srcu_read_unlock", "synchronize_srcu", "rcu_dereference",
            "rcu_assign_pointer", "smp_mb__after_spinlock", "smp_mb__after_unlock_lock", "smp_store_mb", "atomic_add_unless",
            "atomic_inc_not_zero", "atomic_dec_and_test", "atomic_sub_and_test", "atomic_inc_and_test", "atomic_add_negative",
        ];

        /// <summary>A call statement or the right-hand side of <c>r = call(...)</c>.</summary>
        private void Call(Token call, Token? result)
        {
            string n = call.Text;
            string? reg = result?.Text;
            string prefix = reg is null ? "" : $"{reg} = ";
            Expect("(");
            if (UnsupportedCalls.Contains(n))
            {
                int depth = 1;
                while (depth > 0)
                {
                    if (Peek.Kind == Kind.End) throw Error(call, $"{n}( has no closing ')'");
                    if (Is("(")) depth++;
                    if (Is(")")) depth--;
                    Next();
                }
                _unsupported.Add($"{call.Line}:{call.Column} {n}");
                if (reg is not null) Emit(new Assign(reg, new Const(0, call.Line, call.Column), call.Line, call.Column) { Text = $"{prefix}{n}(…)" });
                return;
            }
            switch (n)
            {
                case "READ_ONCE" or "atomic_read" or "smp_load_acquire" or "atomic_read_acquire":
                {
                    bool star = n == "READ_ONCE";
                    int loc = Pointer(star);
                    Expect(")");
                    var ord = n is "READ_ONCE" or "atomic_read" ? Ordering.Once : Ordering.Acquire;
                    Emit(new Load(reg, loc, ord, call.Line, call.Column) { Text = $"{prefix}{n}({(star ? "*" : "")}{_locations[loc]})" });
                    return;
                }
                case "WRITE_ONCE" or "atomic_set" or "smp_store_release" or "atomic_set_release":
                {
                    if (reg is not null) throw Error(call, $"{n}() returns no value");
                    bool star = n == "WRITE_ONCE";
                    int loc = Pointer(star);
                    Expect(",");
                    var e = Expression();
                    Expect(")");
                    var ord = n is "WRITE_ONCE" or "atomic_set" ? Ordering.Once : Ordering.Release;
                    Emit(new Store(loc, e, ord, call.Line, call.Column) { Text = $"{n}({(star ? "*" : "")}{_locations[loc]}, {Show(e)})" });
                    return;
                }
                case "smp_mb" or "smp_wmb" or "smp_rmb" or "smp_mb__before_atomic" or "smp_mb__after_atomic":
                {
                    if (reg is not null) throw Error(call, $"{n}() returns no value");
                    Expect(")");
                    var kind = n switch { "smp_wmb" => FenceKind.Wmb, "smp_rmb" => FenceKind.Rmb, _ => FenceKind.Mb };
                    Emit(new Fence(kind, call.Line, call.Column) { Text = $"{n}()" });
                    return;
                }
            }
            var (stem, ord2) = Split(n, Ordering.Full);
            RmwOp? op = stem switch
            {
                "xchg" or "atomic_xchg" => RmwOp.Xchg,
                "cmpxchg" or "atomic_cmpxchg" => RmwOp.Cmpxchg,
                _ => null,
            };
            if (op is { } o)
            {
                int loc = Pointer(false);
                Expect(",");
                var a = Expression();
                Expr? b = null;
                if (o == RmwOp.Cmpxchg) { Expect(","); b = Expression(); }
                Expect(")");
                Emit(new Rmw(o, reg, false, loc, a, b, ord2, call.Line, call.Column)
                { Text = $"{prefix}{n}({_locations[loc]}, {Show(a)}{(b is null ? "" : ", " + Show(b))})" });
                return;
            }
            // atomic_OP(i, v), atomic_OP_return(i, v), atomic_fetch_OP(i, v); inc/dec take no operand.
            if (stem.StartsWith("atomic_", StringComparison.Ordinal))
            {
                string body = stem["atomic_".Length..];
                bool fetch = body.StartsWith("fetch_", StringComparison.Ordinal);
                if (fetch) body = body["fetch_".Length..];
                bool ret = body.EndsWith("_return", StringComparison.Ordinal);
                if (ret) body = body[..^"_return".Length];
                (RmwOp Op, bool Unit)? shape = body switch
                {
                    "add" => (RmwOp.Add, false), "sub" => (RmwOp.Sub, false), "inc" => (RmwOp.Add, true), "dec" => (RmwOp.Sub, true),
                    "and" => (RmwOp.And, false), "or" => (RmwOp.Or, false), "xor" => (RmwOp.Xor, false),
                    _ => null,
                };
                if (shape is { } sh && !(fetch && ret) && !(ret && body is "and" or "or" or "xor"))
                {
                    bool returns = fetch || ret;
                    if (!returns && stem != n) throw Error(call, $"{n} is not a kernel primitive (an atomic op without a return value has no ordering variants)");
                    if (!returns && reg is not null) throw Error(call, $"{n}() returns no value");
                    Expr operand;
                    if (sh.Unit) operand = new Const(1, call.Line, call.Column);
                    else { operand = Expression(); Expect(","); }
                    int loc = Pointer(false);
                    Expect(")");
                    // atomic_add() and friends return nothing and are unordered (Documentation/atomic_t.txt).
                    var ord = returns ? ord2 : Ordering.Once;
                    Emit(new Rmw(sh.Op, reg, ret, loc, operand, null, ord, call.Line, call.Column)
                    { Text = $"{prefix}{n}({(sh.Unit ? "" : Show(operand) + ", ")}{_locations[loc]})" });
                    return;
                }
            }
            throw Error(call, $"'{(n.Length > 40 ? n[..40] + "…" : n)}' is not a primitive this dialect knows (READ_ONCE, WRITE_ONCE, smp_load_acquire, smp_store_release, smp_mb, smp_wmb, smp_rmb, xchg, cmpxchg, atomic_*)");
        }

        private void If(int tid)
        {
            var t = Next();
            Expect("(");
            var cond = Expression();
            Expect(")");
            var jump = new JumpIfZero(cond, -1, t.Line, t.Column) { Text = $"if ({Show(cond)})" };
            int at = _code.Count;
            Emit(jump);
            Enter(t);
            if (Is("{")) Block(tid); else Statement(tid);
            if (Is("else"))
            {
                var e = Next();
                int skip = _code.Count;
                Emit(new Jump(-1, e.Line, e.Column) { Text = "else" });
                _code[at] = jump with { Target = _code.Count };
                if (Is("{")) Block(tid); else Statement(tid);
                _code[skip] = new Jump(_code.Count, e.Line, e.Column) { Text = "else" };
            }
            else _code[at] = jump with { Target = _code.Count };
            _depth--;
        }

        private static readonly string[][] Levels = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="], ["<<", ">>"], ["+", "-"], ["*"]];

        private Expr Expression(int level = 0)
        {
            if (level == Levels.Length) return UnaryExpr();
            var left = Expression(level + 1);
            while (Peek.Kind == Kind.Punct && Levels[level].Contains(Peek.Text))
            {
                var op = Next();
                // A chain a+b+c+… is parsed by this loop, not by recursion, but evaluating it recurses: bound its length.
                if (++_operators > MaxOperators) throw Error(op, $"more than {MaxOperators} operators in the test");
                var right = Expression(level + 1);
                left = new Binary(op.Text, left, right, op.Line, op.Column);
            }
            return left;
        }

        private Expr UnaryExpr()
        {
            var t = Peek;
            Enter(t);
            try
            {
                if (Is("!") || Is("-") || Is("~")) { Next(); return new Unary(t.Text, UnaryExpr(), t.Line, t.Column); }
                if (Is("(")) { Next(); var e = Expression(); Expect(")"); return e; }
                if (t.Kind == Kind.Number) return new Const(Number(false), t.Line, t.Column);
                if (t.Kind == Kind.Ident)
                {
                    if (_params.ContainsKey(t.Text))
                        throw Error(t, $"'{t.Text}' is a location: read it with READ_ONCE(*{t.Text}) into a register first");
                    if (!_registers.Contains(t.Text)) throw Error(t, $"register '{t.Text}' is used before it is assigned");
                    Next();
                    return new Reg(t.Text, t.Line, t.Column);
                }
                throw Error(t, $"expected an expression, found {Shown(t)}");
            }
            finally { _depth--; }
        }

        private Cond Condition(List<LitmusThread> threads, int level = 0)
        {
            var left = level == 0 ? Condition(threads, 1) : CondAtom(threads);
            string op = level == 0 ? "\\/" : "/\\";
            while (Is(op))
            {
                Next();
                var right = level == 0 ? Condition(threads, 1) : CondAtom(threads);
                left = level == 0 ? new CondOr(left, right) : new CondAnd(left, right);
            }
            return left;
        }

        private Cond CondAtom(List<LitmusThread> threads)
        {
            var t = Peek;
            Enter(t);
            try
            {
                if (Is("~")) { Next(); return new CondNot(CondAtom(threads)); }
                if (Is("(")) { Next(); var c = Condition(threads); Expect(")"); return c; }
                if (Is("true")) { Next(); return new CondTrue(true); }
                if (Is("false")) { Next(); return new CondTrue(false); }
                if (t.Kind == Kind.Number)
                {
                    int tid = Number(false);
                    if (tid >= threads.Count) throw Error(t, $"P{tid} does not exist");
                    Expect(":");
                    var r = Ident("a register name");
                    if (!threads[tid].Code.Any(i => Writes(i) == r.Text) && !_regInit.GetValueOrDefault(tid, []).ContainsKey(r.Text))
                        throw Error(r, $"P{tid} has no register '{r.Text}'");
                    Expect("=");
                    return new CondReg(tid, r.Text, Number());
                }
                if (t.Kind == Kind.Ident)
                {
                    Next();
                    int loc = Location(t, declare: false);
                    Expect("=");
                    return new CondLoc(loc, Number());
                }
                throw Error(t, $"expected a condition such as 0:r0=1 or x=2, found {Shown(t)}");
            }
            finally { _depth--; }
        }

        private static string? Writes(Instr i) => i switch
        {
            Load l => l.Reg,
            Rmw r => r.Result,
            Assign a => a.Reg,
            _ => null,
        };
    }

    public static string Show(Expr e) => e switch
    {
        Const c => c.Value.ToString(CultureInfo.InvariantCulture),
        Reg r => r.Name,
        Unary u => u.Op + Show(u.Operand),
        Binary b => $"({Show(b.Left)} {b.Op} {Show(b.Right)})",
        _ => "?",
    };
}
