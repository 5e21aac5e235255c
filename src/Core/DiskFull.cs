namespace ArtGrid;

/// <summary>
/// Whether a file system error is a full disk (or a quota reached): .NET reports both as a plain
/// <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the error number (ENOSPC, EDQUOT on Linux; the
/// Win32 error as an HRESULT on Windows), so that callers can answer "no space" rather than a failure of their own.
/// </summary>
public static class DiskFull
{
    private const int NoSpace = 28; // ENOSPC
    private const int QuotaExceeded = 122; // EDQUOT (Linux)
    private const int WindowsDiskFull = unchecked((int)0x80070070); // ERROR_DISK_FULL
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027); // ERROR_HANDLE_DISK_FULL

    public static bool Is(Exception exception) =>
        exception is IOException { HResult: NoSpace or QuotaExceeded or WindowsDiskFull or WindowsHandleDiskFull };
}
