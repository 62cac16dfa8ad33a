using System;

namespace GenNets.Tests;

/// <summary>
/// A private null device for tests of what writers refuse: made in the test's own folder, so that a writer that broke its
/// promise would replace that node and never the machine's /dev/null.
/// </summary>
internal static class NullDevice
{
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int mknod(string path, uint mode, ulong device);

    /// <summary>Creates a character device 1:3 (null) at <paramref name="path"/>; false where that is not allowed (not root, not Linux).</summary>
    public static bool TryMake(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return mknod(path, 0x2000 | 0x1B6, (1 << 8) | 3) == 0; }
        catch (EntryPointNotFoundException) { return false; }
    }
}
