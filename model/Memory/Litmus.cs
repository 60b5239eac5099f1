namespace Multikernel.Model.Memory;

/// <summary>How an access or fence is ordered, in the kernel's terms (tools/memory-model/linux-kernel.def).</summary>
public enum Ordering
{
    /// <summary>A plain C access (<c>*x = 1</c>, <c>r0 = *x</c>): LKMM judges it by its data-race rules.</summary>
    Plain,
    /// <summary>READ_ONCE / WRITE_ONCE, atomic_read / atomic_set, a _relaxed RMW: marked, unordered.</summary>
    Once,
    /// <summary>smp_load_acquire, an _acquire RMW: the read is ordered before everything after it.</summary>
    Acquire,
    /// <summary>smp_store_release, a _release RMW: the write is ordered after everything before it.</summary>
    Release,
    /// <summary>A value-returning RMW without suffix (xchg, cmpxchg on success, atomic_add_return): smp_mb() on both sides.</summary>
    Full,
}

public enum FenceKind { Wmb, Rmb, Mb }

/// <summary>What a read-modify-write does with the value it read.</summary>
public enum RmwOp { Xchg, Cmpxchg, Add, Sub, And, Or, Xor }

/// <summary>An expression over a thread's registers (litmus programs have no memory reads inside expressions).</summary>
public abstract record Expr(int Line, int Column);
public sealed record Const(int Value, int Line, int Column) : Expr(Line, Column);
public sealed record Reg(string Name, int Line, int Column) : Expr(Line, Column);
public sealed record Unary(string Op, Expr Operand, int Line, int Column) : Expr(Line, Column);
public sealed record Binary(string Op, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

/// <summary>One instruction of a thread, after the if-statements were flattened into jumps.</summary>
public abstract record Instr(int Line, int Column)
{
    /// <summary>The source text, as a witness prints it.</summary>
    public string Text { get; init; } = "";
}
/// <summary><c>reg = READ_ONCE(*loc)</c> / <c>smp_load_acquire(loc)</c> / <c>*loc</c>; Reg is null when the value is dropped.</summary>
public sealed record Load(string? Reg, int Loc, Ordering Ord, int Line, int Column) : Instr(Line, Column);
public sealed record Store(int Loc, Expr Value, Ordering Ord, int Line, int Column) : Instr(Line, Column);
public sealed record Fence(FenceKind Kind, int Line, int Column) : Instr(Line, Column);
/// <summary>
/// An atomic read-modify-write. <c>Result</c>: the register that receives the old value (xchg, cmpxchg,
/// atomic_fetch_*), the new one (<c>ReturnsNew</c>: atomic_*_return), or nothing (atomic_add: relaxed in LKMM).
/// For cmpxchg, <c>Operand</c> is the expected value and <c>New</c> the value written on success.
/// </summary>
public sealed record Rmw(RmwOp Op, string? Result, bool ReturnsNew, int Loc, Expr Operand, Expr? New, Ordering Ord, int Line, int Column) : Instr(Line, Column);
public sealed record Assign(string Reg, Expr Value, int Line, int Column) : Instr(Line, Column);
/// <summary>Jumps to <c>Target</c> when the condition is zero (the else-branch or the end of an if).</summary>
public sealed record JumpIfZero(Expr Cond, int Target, int Line, int Column) : Instr(Line, Column);
public sealed record Jump(int Target, int Line, int Column) : Instr(Line, Column);

public sealed record LitmusThread(int Id, IReadOnlyList<Instr> Code, IReadOnlyDictionary<string, int> RegInit)
{
    public string Name => $"P{Id}";
}

/// <summary>The <c>exists</c> clause: a proposition over final register values and final memory.</summary>
public abstract record Cond;
public sealed record CondTrue(bool Value) : Cond;
public sealed record CondReg(int Thread, string Reg, int Value) : Cond;
public sealed record CondLoc(int Loc, int Value) : Cond;
public sealed record CondNot(Cond Inner) : Cond;
public sealed record CondAnd(Cond Left, Cond Right) : Cond;
public sealed record CondOr(Cond Left, Cond Right) : Cond;

/// <summary>
/// A litmus test in herd7's C dialect: named locations with initial values, threads, and the final
/// condition. <c>Negated</c>: the clause was <c>~exists</c>; the answer is still about the proposition.
/// <c>Unsupported</c>: primitives the parser recognised but no model here executes (spin_lock, RCU), with where.
/// </summary>
public sealed record LitmusTest(string Name, IReadOnlyList<string> Locations, IReadOnlyList<int> Init,
    IReadOnlyList<LitmusThread> Threads, Cond Exists, bool Negated, string ExistsText, IReadOnlyList<string> Unsupported);

/// <summary>Bad input: the parser's one-line error, with where.</summary>
public sealed class LitmusSyntaxException(int line, int column, string message) : Exception(message)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Where => $"{Line}:{Column}";
}
