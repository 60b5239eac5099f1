using System.Runtime.InteropServices;

namespace Multikernel.Proofs.Z3;

/// <summary>
/// The few entry points of Z3's C API that the proofs use, bound to Debian's libz3.so.4
/// (4.8.x). Only <see cref="Z3Context"/> calls these; everything else uses its typed terms.
/// Contexts are created with Z3_mk_context, so ASTs live as long as their context; solvers,
/// models and parameter sets are reference counted.
/// </summary>
internal static class Native
{
    public const string Lib = "libz3.so.4";

    [DllImport(Lib)] public static extern IntPtr Z3_get_full_version();
    [DllImport(Lib)] public static extern IntPtr Z3_mk_config();
    [DllImport(Lib)] public static extern void Z3_del_config(IntPtr cfg);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_context(IntPtr cfg);
    [DllImport(Lib)] public static extern void Z3_del_context(IntPtr c);
    [DllImport(Lib)] public static extern void Z3_set_error_handler(IntPtr c, IntPtr handler);
    [DllImport(Lib)] public static extern int Z3_get_error_code(IntPtr c);
    [DllImport(Lib)] public static extern IntPtr Z3_get_error_msg(IntPtr c, int code);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_bool_sort(IntPtr c);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bv_sort(IntPtr c, uint size);
    [DllImport(Lib, CharSet = CharSet.Ansi, BestFitMapping = false)] public static extern IntPtr Z3_mk_string_symbol(IntPtr c, string s);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_const(IntPtr c, IntPtr symbol, IntPtr sort);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_unsigned_int64(IntPtr c, ulong v, IntPtr sort);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_true(IntPtr c);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_false(IntPtr c);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_not(IntPtr c, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_and(IntPtr c, uint n, IntPtr[] args);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_or(IntPtr c, uint n, IntPtr[] args);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_implies(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_iff(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_eq(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_ite(IntPtr c, IntPtr cond, IntPtr t, IntPtr e);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvadd(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvmul(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_zero_ext(IntPtr c, uint i, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvsub(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvand(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvor(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvnot(IntPtr c, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvshl(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvlshr(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvult(IntPtr c, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvule(IntPtr c, IntPtr a, IntPtr b);

    [DllImport(Lib)] public static extern IntPtr Z3_simplify(IntPtr c, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_substitute(IntPtr c, IntPtr a, uint n, IntPtr[] from, IntPtr[] to);
    [DllImport(Lib)] [return: MarshalAs(UnmanagedType.I1)]
    public static extern bool Z3_get_numeral_uint64(IntPtr c, IntPtr a, out ulong v);
    [DllImport(Lib)] public static extern int Z3_get_bool_value(IntPtr c, IntPtr a);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_params(IntPtr c);
    [DllImport(Lib)] public static extern void Z3_params_inc_ref(IntPtr c, IntPtr p);
    [DllImport(Lib)] public static extern void Z3_params_dec_ref(IntPtr c, IntPtr p);
    [DllImport(Lib)] public static extern void Z3_params_set_uint(IntPtr c, IntPtr p, IntPtr key, uint v);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_solver(IntPtr c);
    [DllImport(Lib)] public static extern void Z3_solver_inc_ref(IntPtr c, IntPtr s);
    [DllImport(Lib)] public static extern void Z3_solver_dec_ref(IntPtr c, IntPtr s);
    [DllImport(Lib)] public static extern void Z3_solver_set_params(IntPtr c, IntPtr s, IntPtr p);
    [DllImport(Lib)] public static extern void Z3_solver_assert(IntPtr c, IntPtr s, IntPtr a);
    [DllImport(Lib)] public static extern void Z3_solver_push(IntPtr c, IntPtr s);
    [DllImport(Lib)] public static extern void Z3_solver_pop(IntPtr c, IntPtr s, uint n);
    [DllImport(Lib)] public static extern int Z3_solver_check(IntPtr c, IntPtr s);
    [DllImport(Lib)] public static extern IntPtr Z3_solver_get_model(IntPtr c, IntPtr s);
    [DllImport(Lib)] public static extern IntPtr Z3_solver_get_reason_unknown(IntPtr c, IntPtr s);

    [DllImport(Lib)] public static extern void Z3_model_inc_ref(IntPtr c, IntPtr m);
    [DllImport(Lib)] public static extern void Z3_model_dec_ref(IntPtr c, IntPtr m);
    [DllImport(Lib)] [return: MarshalAs(UnmanagedType.I1)]
    public static extern bool Z3_model_eval(IntPtr c, IntPtr m, IntPtr t, [MarshalAs(UnmanagedType.I1)] bool completion, out IntPtr v);
}
