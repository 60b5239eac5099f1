namespace Multikernel.Model.Checking;

/// <summary>A bound a mechanism's exploration takes: its key in the bounds text, and its command-line form.</summary>
/// <param name="Key">The key in the bounds text: <c>senders</c> in "senders=2 messages=2".</param>
/// <param name="Help">What it means and which values it takes, for 'help'.</param>
/// <param name="Flag">For a flag option (<c>--no-destroy</c>), the value it sets (<c>no</c>); null for a valued option (<c>--senders N</c>).</param>
public sealed record BoundOption(string Key, string Help, string? FlagName = null, string? Flag = null)
{
    /// <summary>The option as typed: --senders, or the flag's own name.</summary>
    public string Cli => FlagName ?? "--" + Key;
}

/// <summary>The bounds of one exploration. Its text ("senders=2 messages=2 …") is what traces record and what <see cref="Mechanism.ParseBounds"/> reads.</summary>
public interface IBounds
{
    string ToString();
}

/// <summary>Bounds text that cannot be read: names the key and what is wrong.</summary>
public sealed class BoundsException(string message) : FormatException(message);

/// <summary>
/// One kernel mechanism as the model knows it: its designs, its bounds and its
/// specification, which every mechanism has. The command line's registry adds the
/// implementation checks, the proofs and the rest (which live in other projects); every command
/// walks that registry, so a new mechanism touches its own folders and one registration line.
/// </summary>
public abstract class Mechanism
{
    /// <summary>ipi, uffd, balloon, restore.</summary>
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public abstract DesignCatalogue Designs { get; }

    /// <summary>Whether a design object is one of this mechanism's (for designs loaded from a user's assembly).</summary>
    public abstract bool Accepts(IDesign design);

    /// <summary>The bounds the exploration takes, each with its help (what 'help' and --help print); empty for a mechanism without knobs.</summary>
    public virtual IReadOnlyList<BoundOption> BoundOptions => [];

    /// <summary>Reads bounds text (keys of <see cref="BoundOptions"/>; missing keys keep their defaults); throws <see cref="BoundsException"/>.</summary>
    public abstract IBounds ParseBounds(string text);

    /// <summary>The specification of <paramref name="design"/> (one of <see cref="Accepts"/>) under <paramref name="bounds"/> (from <see cref="ParseBounds"/>).</summary>
    public abstract ISpecHandle Specification(IDesign design, IBounds bounds);

    /// <summary>The design's qualified name: ipi/reference.</summary>
    public string Qualified(IDesign d) => $"{Name}/{d.Name}";

    public override string ToString() => Name;
}

/// <summary>
/// A mechanism whose designs are <typeparamref name="TDesign"/> and whose bounds are
/// <typeparamref name="TBounds"/>: which designs it accepts and how its specification is made
/// follow from the two types.
/// </summary>
public abstract class Mechanism<TDesign, TBounds> : Mechanism
    where TDesign : class, IDesign
    where TBounds : IBounds
{
    public sealed override bool Accepts(IDesign design) => design is TDesign;

    public sealed override ISpecHandle Specification(IDesign design, IBounds bounds) =>
        Spec(design as TDesign ?? throw new ArgumentException($"{Name}: {design.Name} is not a {typeof(TDesign).Name}", nameof(design)),
             bounds is TBounds b ? b : throw new ArgumentException($"{Name}: bounds '{bounds}' are not {typeof(TBounds).Name}", nameof(bounds)));

    /// <summary>The specification of <paramref name="design"/> under <paramref name="bounds"/>.</summary>
    protected abstract ISpecHandle Spec(TDesign design, TBounds bounds);
}

/// <summary>Strict reading of "key=value key=value" bounds text, shared by every mechanism's parser.</summary>
public static class BoundsText
{
    /// <summary>Bounds as a reader sees them: "none" for a mechanism without knobs (its text is empty).</summary>
    public static string Show(IBounds bounds) => bounds.ToString() is { Length: > 0 } text ? text : "none";

    /// <summary>Splits into pairs; a repeated key or a part that is not key=value is an error.</summary>
    public static IReadOnlyList<(string Key, string Value)> Pairs(string text)
    {
        var pairs = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == part.Length - 1) throw new BoundsException($"'{Clip(part)}' is not name=value");
            string key = part[..eq];
            if (!seen.Add(key)) throw new BoundsException($"'{Clip(key)}' is given twice");
            pairs.Add((key, part[(eq + 1)..]));
        }
        return pairs;
    }

    public static int Int(string key, string value, int min, int max) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n : throw new BoundsException($"{key} must be a whole number from {min} to {max} (got '{Clip(value)}')");

    public static bool YesNo(string key, string value) => value switch
    {
        "yes" => true,
        "no" => false,
        _ => throw new BoundsException($"{key} must be yes or no (got '{Clip(value)}')"),
    };

    public static BoundsException Unknown(string key, IEnumerable<BoundOption> known) =>
        new($"unknown bound '{Clip(key)}' (known: {string.Join(", ", known.Select(o => o.Key).Distinct())})");

    /// <summary>User text in a message: escaped and cut short (<see cref="Printable.Line"/>), so an error stays one line and controls nothing.</summary>
    public static string Clip(string s) => Printable.Line(s, 40);
}

/// <summary>
/// The one way a design says "the proofs encode my steps": this attribute on the design's own class.
/// It is not inherited: a subclass may change any step, so the proofs do not speak of it unless it
/// declares so itself (and a ring design that does is still held to the reference's send steps).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class ProofEncodedAttribute : Attribute
{
    /// <summary>Whether <paramref name="design"/>'s own class declares that the proofs encode it.</summary>
    public static bool On(IDesign design) => IsDefined(design.GetType(), typeof(ProofEncodedAttribute), inherit: false);
}
