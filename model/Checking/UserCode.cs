namespace Multikernel.Model.Checking;

/// <summary>
/// What an exception thrown by a design (user code: a loaded assembly, a seed's model) says,
/// read without trusting it: its <c>Message</c> getter may itself throw, and its text may hold
/// terminal control or newlines. Always one printable line.
/// </summary>
public static class UserCode
{
    public static string Describe(Exception e)
    {
        string type = e.GetType().Name;
        string message;
        try { message = e.Message; }
        catch (Exception inner) when (inner is not OutOfMemoryException) { message = $"(its Message threw {inner.GetType().Name})"; }
        return $"{Printable.Line(type, 60)}: {Printable.Line(message, 200)}";
    }
}
