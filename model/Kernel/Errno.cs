// Compiled into the model and (with MK_IMPL) into the implementation: see IpiConstants.cs.
#if MK_IMPL
namespace Multikernel.Impl.Kernel;

internal static class Errno
#else
namespace Multikernel.Model.Kernel;

/// <summary>The errno values the modelled kernel code returns (include/uapi/asm-generic/errno-base.h).</summary>
public static class Errno
#endif
{
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EDEADLK = 35;
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;

    public static string Name(int rc) => rc switch
    {
        0 => "0",
        -ENOENT => "-ENOENT",
        -EIO => "-EIO",
        -EAGAIN => "-EAGAIN",
        -EDEADLK => "-EDEADLK",
        -ENOMEM => "-ENOMEM",
        -EFAULT => "-EFAULT",
        -EBUSY => "-EBUSY",
        -EEXIST => "-EEXIST",
        -ENODEV => "-ENODEV",
        -EINVAL => "-EINVAL",
        -ENOSPC => "-ENOSPC",
        _ => rc.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
