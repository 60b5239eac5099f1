using System.Runtime.InteropServices;
using static Multikernel.Impl.Uffd.UffdConstants;

namespace Multikernel.Impl.Uffd.Linux;

// include/uapi/linux/userfaultfd.h: the structures, explicit layout, 64-bit fields.

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct UffdioApi
{
    [FieldOffset(0)] public ulong Api;
    [FieldOffset(8)] public ulong Features;
    [FieldOffset(16)] public ulong Ioctls;
}

[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct UffdioRange
{
    [FieldOffset(0)] public ulong Start;
    [FieldOffset(8)] public ulong Len;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct UffdioRegister
{
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
    [FieldOffset(24)] public ulong Ioctls;
}

[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct UffdioCopy
{
    [FieldOffset(0)] public ulong Dst;
    [FieldOffset(8)] public ulong Src;
    [FieldOffset(16)] public ulong Len;
    [FieldOffset(24)] public ulong Mode;
    /// <summary>Bytes copied, or a negative errno (written by the kernel).</summary>
    [FieldOffset(32)] public long Copy;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct UffdioContinue
{
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
    [FieldOffset(24)] public long Mapped;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct UffdioZeropage
{
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
    /// <summary>Bytes zeroed, or a negative errno (written by the kernel).</summary>
    [FieldOffset(24)] public long Zeropage;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct UffdioWriteprotect
{
    public const ulong ModeWp = 1, ModeDontwake = 2;
    [FieldOffset(0)] public UffdioRange Range;
    [FieldOffset(16)] public ulong Mode;
}

/// <summary>struct uffd_msg (32 bytes, packed): the page-fault arm of its union (fork: arg.fork.ufd at 8; remap: from, to, len at 8, 16, 24).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct UffdMsg
{
    public const byte EventPagefault = 0x12, EventFork = 0x13, EventRemap = 0x14, EventRemove = 0x15, EventUnmap = 0x16;
    [FieldOffset(0)] public byte Event;
    [FieldOffset(8)] public ulong PagefaultFlags;
    [FieldOffset(16)] public ulong PagefaultAddress;
    [FieldOffset(24)] public uint PagefaultPtid;
    /// <summary>UFFD_EVENT_FORK: the child's userfaultfd, installed in this process by the read.</summary>
    public readonly int ForkUfd => (int)(uint)PagefaultFlags;
}

/// <summary>
/// userfaultfd(2) and its ioctls on the running kernel. The API number, the register modes and
/// the feature bits are <see cref="UffdConstants"/>'s (the model's); the ioctl numbers are
/// _IOC(dir, UFFDIO = 0xAA, nr, size) as the uapi header builds them.
/// </summary>
public static class Userfaultfd
{
    /// <summary>UFFDIO, the ioctl type byte (the same 0xAA as UFFD_API, a different role).</summary>
    public const uint UffdioType = 0xAA;
    private const uint IocNone = 0, IocWrite = 1, IocRead = 2;

    /// <summary>_IOC(dir, type, nr, size) of asm-generic/ioctl.h.</summary>
    public static uint Ioc(uint dir, uint type, uint nr, uint size) => (dir << 30) | (size << 16) | (type << 8) | nr;

    public static readonly uint UffdioApiIoctl = Ioc(IocRead | IocWrite, UffdioType, 0x3F, 24);      // 0xc018aa3f
    public static readonly uint UffdioRegisterIoctl = Ioc(IocRead | IocWrite, UffdioType, 0x00, 32); // 0xc020aa00
    public static readonly uint UffdioUnregisterIoctl = Ioc(IocRead, UffdioType, 0x01, 16);          // 0x8010aa01
    public static readonly uint UffdioWakeIoctl = Ioc(IocRead, UffdioType, 0x02, 16);                // 0x8010aa02
    public static readonly uint UffdioCopyIoctl = Ioc(IocRead | IocWrite, UffdioType, 0x03, 40);     // 0xc028aa03
    public static readonly uint UffdioZeropageIoctl = Ioc(IocRead | IocWrite, UffdioType, 0x04, 32); // 0xc020aa04
    public static readonly uint UffdioContinueIoctl = Ioc(IocRead | IocWrite, UffdioType, 0x07, 32); // 0xc020aa07
    public static readonly uint UffdioWriteprotectIoctl = Ioc(IocRead | IocWrite, UffdioType, 0x06, 24); // 0xc018aa06
    /// <summary>USERFAULTFD_IOC_NEW = _IO(0xAA, 0x00) on /dev/userfaultfd.</summary>
    public static readonly uint UserfaultfdIocNew = Ioc(IocNone, UffdioType, 0x00, 0);              // 0xaa00

    public const string DevicePath = "/dev/userfaultfd";

    /// <summary>SYS_userfaultfd of the architecture, or -1.</summary>
    public static long SysUserfaultfd => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 323,
        Architecture.Arm64 => 282,
        _ => -1,
    };

    /// <summary>A new userfaultfd (O_CLOEXEC | O_NONBLOCK): through /dev/userfaultfd, else the system call. Negative errno on refusal.</summary>
    public static int Create()
    {
        const int flags = Libc.OCloexec | Libc.ONonblock;
        int dev = Libc.Open(DevicePath, Libc.ORdwr | Libc.OCloexec);
        if (dev >= 0)
        {
            int fd = Libc.Ioctl(dev, UserfaultfdIocNew, flags);
            Libc.Close(dev);
            if (fd >= 0) return fd;
        }
        return SysUserfaultfd < 0 ? -38 /* ENOSYS */ : (int)Libc.Syscall(SysUserfaultfd, flags);
    }

    /// <summary>UFFDIO_API: 0 and the kernel's answer (its features and ioctls), or a negative errno.</summary>
    public static int Api(int fd, ulong api, ulong features, out UffdioApi answer)
    {
        answer = new UffdioApi { Api = api, Features = features };
        return Libc.Ioctl(fd, UffdioApiIoctl, ref answer);
    }

    public static int Register(int fd, ulong start, ulong len, ulong mode)
    {
        var r = new UffdioRegister { Range = new UffdioRange { Start = start, Len = len }, Mode = mode };
        return Libc.Ioctl(fd, UffdioRegisterIoctl, ref r);
    }

    public static int Unregister(int fd, ulong start, ulong len)
    {
        var r = new UffdioRange { Start = start, Len = len };
        return Libc.Ioctl(fd, UffdioUnregisterIoctl, ref r);
    }

    public static int Wake(int fd, ulong start, ulong len)
    {
        var r = new UffdioRange { Start = start, Len = len };
        return Libc.Ioctl(fd, UffdioWakeIoctl, ref r);
    }

    public static int Copy(int fd, ulong dst, ulong src, ulong len)
    {
        var c = new UffdioCopy { Dst = dst, Src = src, Len = len };
        return Libc.Ioctl(fd, UffdioCopyIoctl, ref c);
    }

    public static int Zeropage(int fd, ulong start, ulong len)
    {
        var z = new UffdioZeropage { Range = new UffdioRange { Start = start, Len = len } };
        return Libc.Ioctl(fd, UffdioZeropageIoctl, ref z);
    }

    public static int Continue(int fd, ulong start, ulong len)
    {
        var c = new UffdioContinue { Range = new UffdioRange { Start = start, Len = len } };
        return Libc.Ioctl(fd, UffdioContinueIoctl, ref c);
    }

    public static int WriteProtect(int fd, ulong start, ulong len, bool protect)
    {
        var w = new UffdioWriteprotect { Range = new UffdioRange { Start = start, Len = len }, Mode = protect ? UffdioWriteprotect.ModeWp : 0 };
        return Libc.Ioctl(fd, UffdioWriteprotectIoctl, ref w);
    }

    /// <summary>
    /// Whether this process can use userfaultfd here, and if not, why (one line): not Linux,
    /// no userfaultfd (sysctl, not root, no device), or UFFDIO_API refused. On success the
    /// kernel's UFFDIO_API answer to a request for no features.
    /// </summary>
    public static (bool Ok, string Reason, UffdioApi Answer) Availability()
    {
        if (!OperatingSystem.IsLinux()) return (false, $"not Linux ({RuntimeInformation.OSDescription}): no userfaultfd", default);
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            return (false, $"architecture {RuntimeInformation.ProcessArchitecture}: the binding knows x64 and arm64", default);
        int fd = Create();
        if (fd < 0)
        {
            string why = fd switch
            {
                -1 or -13 => "userfaultfd refused (EPERM/EACCES): not root, vm.unprivileged_userfaultfd = 0, and /dev/userfaultfd not accessible",
                -38 => "the kernel has no userfaultfd (ENOSYS: CONFIG_USERFAULTFD off)",
                _ => $"userfaultfd failed: errno {-fd}",
            };
            return (false, why, default);
        }
        int rc = Api(fd, UffdApi, 0, out var answer);
        Libc.Close(fd);
        return rc == 0 ? (true, "", answer) : (false, $"UFFDIO_API refused: errno {-rc}", default);
    }

    /// <summary>The names of the UFFD_FEATURE_* bits this project knows, for printing an answer.</summary>
    public static string FeatureNames(ulong features)
    {
        string[] names = ["PAGEFAULT_FLAG_WP", "EVENT_FORK", "EVENT_REMAP", "EVENT_REMOVE", "MISSING_HUGETLBFS", "MISSING_SHMEM",
                          "EVENT_UNMAP", "SIGBUS", "THREAD_ID", "MINOR_HUGETLBFS", "MINOR_SHMEM", "EXACT_ADDRESS",
                          "WP_HUGETLBFS_SHMEM", "WP_UNPOPULATED", "POISON", "WP_ASYNC", "MOVE"];
        var parts = new List<string>();
        for (int b = 0; b < 64; b++)
            if ((features & (1UL << b)) != 0) parts.Add(b < names.Length ? names[b] : $"bit{b}");
        return parts.Count == 0 ? "none" : string.Join(" ", parts);
    }

    /// <summary>A guard that the minor-fault feature constants are the model's (used by the tests).</summary>
    public static ulong MinorFeatures => UffdFeatureMinorShmem | UffdFeatureMinorHugetlbfs;
}
