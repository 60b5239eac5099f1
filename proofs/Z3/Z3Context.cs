using System.Runtime.InteropServices;

namespace Multikernel.Proofs.Z3;

/// <summary>Z3 could not be used: the library is missing, or a call failed.</summary>
public sealed class Z3Exception(string message) : Exception(message);

/// <summary>
/// A Z3 context and the typed terms built in it: fixed-width bit-vectors and Booleans.
/// Not thread-safe (neither is a Z3 context); one per proof run.
/// </summary>
public sealed class Z3Context : IDisposable
{
    internal IntPtr Handle { get; private set; }
    private readonly IntPtr _bool;
    private readonly Dictionary<uint, IntPtr> _bvSorts = [];

    public Z3Context()
    {
        if (Unavailable() is { } why) throw new Z3Exception(why);
        IntPtr cfg = Native.Z3_mk_config();
        Handle = Native.Z3_mk_context(cfg);
        Native.Z3_del_config(cfg);
        Native.Z3_set_error_handler(Handle, IntPtr.Zero); // record errors; never abort the process
        _bool = Native.Z3_mk_bool_sort(Handle);
    }

    /// <summary>Null when libz3.so.4 loads; otherwise one line that says how to install it.</summary>
    public static string? Unavailable()
    {
        try
        {
            Native.Z3_get_full_version();
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"Z3 is not available ({Native.Lib} cannot be loaded): install it with `sudo apt-get install libz3-4`";
        }
    }

    /// <summary>Z3's version string, e.g. "4.8.12.0".</summary>
    public static string Version => Marshal.PtrToStringUTF8(Native.Z3_get_full_version()) ?? "?";

    /// <summary>Throw if the last call into Z3 failed.</summary>
    internal IntPtr Check(IntPtr result)
    {
        int code = Native.Z3_get_error_code(Handle);
        if (code != 0) throw new Z3Exception("Z3: " + Marshal.PtrToStringUTF8(Native.Z3_get_error_msg(Handle, code)));
        return result;
    }

    private IntPtr BvSort(uint width)
    {
        if (!_bvSorts.TryGetValue(width, out var s)) _bvSorts[width] = s = Check(Native.Z3_mk_bv_sort(Handle, width));
        return s;
    }

    /// <summary>A fresh bit-vector constant: universally quantified in a proof, a value in a counterexample.</summary>
    public BitVec BitVec(string name, uint width) =>
        new(this, Check(Native.Z3_mk_const(Handle, Native.Z3_mk_string_symbol(Handle, name), BvSort(width))), width);

    /// <summary>A bit-vector literal (truncated to <paramref name="width"/> bits, as C would).</summary>
    public BitVec Num(ulong value, uint width) => new(this, Check(Native.Z3_mk_unsigned_int64(Handle, value, BvSort(width))), width);

    public BoolTerm Bool(string name) => new(this, Check(Native.Z3_mk_const(Handle, Native.Z3_mk_string_symbol(Handle, name), _bool)));
    public BoolTerm True => new(this, Native.Z3_mk_true(Handle));
    public BoolTerm False => new(this, Native.Z3_mk_false(Handle));

    public BoolTerm And(params BoolTerm[] terms) => new(this, Check(Native.Z3_mk_and(Handle, (uint)terms.Length, Asts(terms))));
    public BoolTerm Or(params BoolTerm[] terms) => new(this, Check(Native.Z3_mk_or(Handle, (uint)terms.Length, Asts(terms))));
    private static IntPtr[] Asts(BoolTerm[] terms) => Array.ConvertAll(terms, t => t.Ast);

    public Z3Solver Solver(uint timeoutMs = 10_000) => new(this, timeoutMs);

    /// <summary>
    /// The value of <paramref name="term"/> once each constant is replaced by a literal:
    /// how a transition encoded for Z3 is run on a concrete state.
    /// </summary>
    public ulong Evaluate(BitVec term, params (BitVec Var, ulong Value)[] binding) =>
        Numeral(Simplified(term.Ast, binding));

    public bool Evaluate(BoolTerm term, params (BitVec Var, ulong Value)[] binding)
    {
        int v = Native.Z3_get_bool_value(Handle, Simplified(term.Ast, binding));
        return v switch { 1 => true, -1 => false, _ => throw new Z3Exception("Z3: the term did not simplify to true or false") };
    }

    private IntPtr Simplified(IntPtr ast, (BitVec Var, ulong Value)[] binding)
    {
        var from = Array.ConvertAll(binding, b => b.Var.Ast);
        var to = Array.ConvertAll(binding, b => Num(b.Value, b.Var.Width).Ast);
        return Check(Native.Z3_simplify(Handle, Check(Native.Z3_substitute(Handle, ast, (uint)from.Length, from, to))));
    }

    internal ulong Numeral(IntPtr ast) =>
        Native.Z3_get_numeral_uint64(Handle, ast, out ulong v) ? v : throw new Z3Exception("Z3: the term is not a numeral");

    public void Dispose()
    {
        if (Handle == IntPtr.Zero) return;
        Native.Z3_del_context(Handle);
        Handle = IntPtr.Zero;
    }
}

/// <summary>A fixed-width bit-vector term. Arithmetic wraps modulo 2^width; comparisons are unsigned.</summary>
public readonly struct BitVec
{
    internal readonly Z3Context Z;
    internal readonly IntPtr Ast;
    public uint Width { get; }

    internal BitVec(Z3Context z, IntPtr ast, uint width) { Z = z; Ast = ast; Width = width; }

    private BitVec Make(IntPtr ast) => new(Z, Z.Check(ast), Width);
    private BitVec Lit(ulong v) => Z.Num(v, Width);
    /// <summary>A literal of this term's width.</summary>
    public BitVec Z3Num(ulong v) => Lit(v);

    public static BitVec operator +(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvadd(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator -(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvsub(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator *(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvmul(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator *(BitVec a, ulong b) => a * a.Lit(b);
    /// <summary>This value in a wider vector (zero-extended): arithmetic there is what 64 bits would give if nothing wrapped.</summary>
    public BitVec Widen(uint width) => width < Width ? throw new ArgumentOutOfRangeException(nameof(width)) : new(Z, Z.Check(Native.Z3_mk_zero_ext(Z.Handle, width - Width, Ast)), width);
    public static BitVec operator &(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvand(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator |(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvor(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator ~(BitVec a) => a.Make(Native.Z3_mk_bvnot(a.Z.Handle, a.Ast));
    public static BitVec operator <<(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvshl(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator >>(BitVec a, BitVec b) => a.Make(Native.Z3_mk_bvlshr(a.Z.Handle, a.Ast, b.Ast));
    public static BitVec operator +(BitVec a, ulong b) => a + a.Lit(b);
    public static BitVec operator -(BitVec a, ulong b) => a - a.Lit(b);
    public static BitVec operator &(BitVec a, ulong b) => a & a.Lit(b);
    public static BitVec operator |(BitVec a, ulong b) => a | a.Lit(b);

    public BoolTerm ULt(BitVec b) => new(Z, Z.Check(Native.Z3_mk_bvult(Z.Handle, Ast, b.Ast)));
    public BoolTerm ULe(BitVec b) => new(Z, Z.Check(Native.Z3_mk_bvule(Z.Handle, Ast, b.Ast)));
    public BoolTerm UGe(BitVec b) => b.ULe(this);
    public BoolTerm ULt(ulong b) => ULt(Lit(b));
    public BoolTerm ULe(ulong b) => ULe(Lit(b));
    public BoolTerm UGe(ulong b) => UGe(Lit(b));
    public BoolTerm Eq(BitVec b) => new(Z, Z.Check(Native.Z3_mk_eq(Z.Handle, Ast, b.Ast)));
    public BoolTerm Eq(ulong b) => Eq(Lit(b));

    public static BitVec Ite(BoolTerm c, BitVec t, BitVec e) => new(t.Z, t.Z.Check(Native.Z3_mk_ite(t.Z.Handle, c.Ast, t.Ast, e.Ast)), t.Width);
}

/// <summary>A Boolean term.</summary>
public readonly struct BoolTerm
{
    internal readonly Z3Context Z;
    internal readonly IntPtr Ast;

    internal BoolTerm(Z3Context z, IntPtr ast) { Z = z; Ast = ast; }

    public static BoolTerm operator !(BoolTerm a) => new(a.Z, a.Z.Check(Native.Z3_mk_not(a.Z.Handle, a.Ast)));
    public static BoolTerm operator &(BoolTerm a, BoolTerm b) => a.Z.And(a, b);
    public static BoolTerm operator |(BoolTerm a, BoolTerm b) => a.Z.Or(a, b);
    public BoolTerm Implies(BoolTerm b) => new(Z, Z.Check(Native.Z3_mk_implies(Z.Handle, Ast, b.Ast)));
    public BoolTerm Iff(BoolTerm b) => new(Z, Z.Check(Native.Z3_mk_iff(Z.Handle, Ast, b.Ast)));
    public static BoolTerm Ite(BoolTerm c, BoolTerm t, BoolTerm e) => new(t.Z, t.Z.Check(Native.Z3_mk_ite(t.Z.Handle, c.Ast, t.Ast, e.Ast)));
}

public enum Z3Status { Unsat = -1, Unknown = 0, Sat = 1 }

/// <summary>A solver with push / pop; <see cref="Check"/> answers sat, unsat or unknown (with a reason).</summary>
public sealed class Z3Solver : IDisposable
{
    private readonly Z3Context _z;
    private IntPtr _s;

    internal Z3Solver(Z3Context z, uint timeoutMs)
    {
        _z = z;
        _s = z.Check(Native.Z3_mk_solver(z.Handle));
        Native.Z3_solver_inc_ref(z.Handle, _s);
        IntPtr p = Native.Z3_mk_params(z.Handle);
        Native.Z3_params_inc_ref(z.Handle, p);
        Native.Z3_params_set_uint(z.Handle, p, Native.Z3_mk_string_symbol(z.Handle, "timeout"), timeoutMs);
        Native.Z3_solver_set_params(z.Handle, _s, p);
        Native.Z3_params_dec_ref(z.Handle, p);
        z.Check(IntPtr.Zero);
    }

    public void Assert(BoolTerm t) { Native.Z3_solver_assert(_z.Handle, _s, t.Ast); _z.Check(IntPtr.Zero); }
    public void Push() => Native.Z3_solver_push(_z.Handle, _s);
    public void Pop(uint n = 1) => Native.Z3_solver_pop(_z.Handle, _s, n);
    public Z3Status Check() { var r = (Z3Status)Native.Z3_solver_check(_z.Handle, _s); _z.Check(IntPtr.Zero); return r; }
    public string ReasonUnknown => Marshal.PtrToStringUTF8(Native.Z3_solver_get_reason_unknown(_z.Handle, _s)) ?? "unknown";

    /// <summary>The values of <paramref name="terms"/> in the model of the last satisfiable check.</summary>
    public ulong[] Values(params BitVec[] terms)
    {
        IntPtr m = _z.Check(Native.Z3_solver_get_model(_z.Handle, _s));
        Native.Z3_model_inc_ref(_z.Handle, m);
        try
        {
            var r = new ulong[terms.Length];
            for (int i = 0; i < terms.Length; i++)
            {
                if (!Native.Z3_model_eval(_z.Handle, m, terms[i].Ast, true, out IntPtr v)) throw new Z3Exception("Z3: model evaluation failed");
                r[i] = _z.Numeral(v);
            }
            return r;
        }
        finally { Native.Z3_model_dec_ref(_z.Handle, m); }
    }

    public void Dispose()
    {
        if (_s == IntPtr.Zero) return;
        Native.Z3_solver_dec_ref(_z.Handle, _s);
        _s = IntPtr.Zero;
    }
}
