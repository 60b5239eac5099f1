using System.Runtime.CompilerServices;

namespace Multikernel.Model.Checking;

/// <summary>Where a specification's operations note why an invariant broke, when a trace is being explained.</summary>
public sealed class ReasonSink
{
    /// <summary>True only while a trace's last step is re-run to explain it; exploration never formats a reason.</summary>
    public bool Explaining { get; private set; }
    private readonly Dictionary<int, string> _why = new();

    /// <summary>The first reason given for property <paramref name="property"/> (its bit) in the step being explained.</summary>
    public void Note(int property, string reason) => _why.TryAdd(property, reason);

    /// <summary>Runs <paramref name="step"/> with explaining on; returns the first reason noted for <paramref name="property"/>.</summary>
    public string? Explain(int property, Action step)
    {
        Explaining = true;
        _why.Clear();
        try { step(); return _why.GetValueOrDefault(property); }
        finally { Explaining = false; }
    }
}

/// <summary>A specification's kernel facade, whose operations can say why an invariant broke.</summary>
public interface IReasonSource
{
    ReasonSink Reasons { get; }
}

/// <summary>
/// An interpolated reason that is formatted only while a <see cref="ReasonSink"/> is explaining:
/// <c>k.Break(ref s, IpiInvariant.HandlerType, $"handler{h} ran with m{id}")</c> costs nothing in exploration.
/// </summary>
[InterpolatedStringHandler]
public ref struct Reason
{
    private DefaultInterpolatedStringHandler _text;
    private readonly bool _on;

    public Reason(int literalLength, int formattedCount, IReasonSource source, out bool enabled)
    {
        _on = enabled = source.Reasons.Explaining;
        _text = _on ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, System.Globalization.CultureInfo.InvariantCulture) : default;
    }

    public void AppendLiteral(string s) => _text.AppendLiteral(s);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);
    public string? Text() => _on ? _text.ToStringAndClear() : null;
}
