namespace Multikernel.Coyote.Ipi;

/// <summary>Ghost state of one iteration, as the specification keeps it: facts no return value shows.</summary>
internal sealed class IpiGhost
{
    /// <summary>The running iteration's (each scenario starts a new one).</summary>
    public static IpiGhost Current { get; private set; } = new();

    public static IpiGhost Begin() => Current = new();

    /// <summary>Destroy has freed the instance's region (multikernel_free_ipi_buffer).</summary>
    public bool Freed;
    /// <summary>multikernel_unregister_handler(B) has returned.</summary>
    public bool Unregistered;
}
