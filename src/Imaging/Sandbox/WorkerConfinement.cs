using System.Runtime.InteropServices;
using System.Text;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>How much of the kernel's confinement a decode worker must get ("ArtGrid:Preprocessing:Sandbox:Confinement").</summary>
public enum ConfinementMode
{
    /// <summary>What the kernel offers: Landlock and seccomp where they exist; the supervisor logs a warning for what is missing.</summary>
    BestEffort,

    /// <summary>Landlock (file writes and TCP) and seccomp, or the worker refuses to start: for hosts that must not run unconfined decoders.</summary>
    Required,

    /// <summary>None: the worker runs with the host's rights (its own process still bounds hangs, crashes and memory).</summary>
    Off,
}

/// <summary>
/// Confines a decode worker with what an unprivileged Linux process can do to itself, so that code a hostile file
/// smuggles into a decoder can neither reach the network nor change the file system, and cannot start programs:
/// <list type="number">
/// <item><b>Landlock</b> (kernel 5.13 on): no file or folder may be created, written, truncated, renamed or removed
/// anywhere, from ABI 4 no TCP bind or connect, from ABI 6 no signal to, and no abstract-socket connection with, a
/// process outside the worker. Landlock confines the thread that asks and the threads it starts later, and a .NET
/// process has threads before <c>Main</c>: so the worker confines its main thread and then executes itself again
/// (<see cref="ConfineAndReExecute"/>), and every thread of the new image starts inside.</item>
/// <item><b>seccomp</b>, once the runtime is up and the decoders warmed (<see cref="RefuseSystemCalls"/>, applied to
/// every thread at once): no socket of any family, no <c>execve</c>, no <c>ptrace</c> or reading another process's
/// memory, no io_uring (whose operations seccomp cannot see), no mount, namespace, module, BPF, key or reboot call.
/// A call from another architecture's table (x32, 32-bit) ends the process.</item>
/// </list>
/// Both need <c>no_new_privs</c>, which also stops a set-uid program from gaining rights. Reads are not confined (the
/// runtime, its libraries and /proc are read throughout); what a worker could read can only leave through its answer to
/// the supervisor, which parses it field by field. Reasons not used: a user or network namespace cannot be entered by a
/// process that already runs threads, and bubblewrap would make a set-uid helper or unprivileged namespaces a
/// requirement of every host.
/// </summary>
public static partial class WorkerConfinement
{
    /// <summary>Set by the first image for the second: what Landlock gave, so that it is not asked twice.</summary>
    internal const string ConfinedVariable = "ARTGRID_DECODE_CONFINED";

    private const int EACCES = 13;

    /// <summary>
    /// Before anything else in the worker: confines the calling thread with Landlock and executes the same command line
    /// again, which never returns when it succeeds. Returns what Landlock gave when the process already is the confined
    /// image (or null for Off), or why it was not confined when the kernel refuses (BestEffort; Required throws).
    /// </summary>
    public static string? ConfineAndReExecute(ConfinementMode mode)
    {
        if (mode == ConfinementMode.Off)
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable(ConfinedVariable) is { Length: > 0 } done)
        {
            return done;
        }

        string landlock = Landlock.RestrictSelf(out bool applied);
        if (!applied)
        {
            if (mode == ConfinementMode.Required)
            {
                throw new PlatformNotSupportedException($"Confinement is required, and Landlock is unavailable: {landlock}.");
            }

            return landlock;
        }

        // The same argv, the same environment plus the marker: the new image is this program again, inside Landlock.
        string[] argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if ((string)variable.Key != ConfinedVariable)
            {
                environment.Add($"{variable.Key}={variable.Value}");
            }
        }

        environment.Add($"{ConfinedVariable}={landlock}");
        Native.Execve("/proc/self/exe", argv, [.. environment]);
        int errno = Marshal.GetLastPInvokeError();
        throw new InvalidOperationException($"Could not execute the worker again inside Landlock: {Native.Describe(errno)}.");
    }

    /// <summary>
    /// Refuses the system calls no decoder needs, for every thread of the process (TSYNC). Returns what was applied, or
    /// why nothing was (BestEffort; Required throws).
    /// </summary>
    public static string RefuseSystemCalls(ConfinementMode mode)
    {
        string seccomp = Seccomp.Apply(out bool applied);
        if (!applied && mode == ConfinementMode.Required)
        {
            throw new PlatformNotSupportedException($"Confinement is required, and seccomp is unavailable: {seccomp}.");
        }

        return seccomp;
    }

    /// <summary>
    /// Tries what confinement should refuse and says what happened, one clause each: a TCP socket, a file created in the
    /// temporary folder. A worker reports it at start; <c>--check-confinement</c> tries more.
    /// </summary>
    public static string SelfCheck()
    {
        string file = Path.Combine(Path.GetTempPath(), $"artgrid-confinement-{Environment.ProcessId}");
        return $"tcp socket {Outcome(ConfinementProbes.OpenSocket)}; file write {Outcome(() => ConfinementProbes.Write(file))}";
    }

    /// <summary>Whether a worker's report says it got all of it: Landlock with TCP, seccomp, and a self-check refused.</summary>
    public static bool IsComplete(string confinement) =>
        confinement.StartsWith("Landlock ABI", StringComparison.Ordinal)
        && confinement.Contains("no TCP", StringComparison.Ordinal)
        && confinement.Contains("system calls refused", StringComparison.Ordinal)
        && !confinement.Contains("allowed", StringComparison.Ordinal);

    internal static string Outcome(Action attempt)
    {
        try
        {
            attempt();
            return "allowed";
        }
        catch (Exception ex)
        {
            return $"refused ({ex.GetType().Name}: {ex.Message})";
        }
    }

    private static class Landlock
    {
        // landlock_create_ruleset, landlock_add_rule, landlock_restrict_self: one number on every architecture.
        private const long CreateRuleset = 444;
        private const long RestrictSelfCall = 446;
        private const nint CreateRulesetVersion = 1;

        // Access rights (include/uapi/linux/landlock.h), by the ABI that added them.
        private const ulong WriteFile = 1 << 1;
        private const ulong RemoveDir = 1 << 4;
        private const ulong RemoveFile = 1 << 5;
        private const ulong MakeChar = 1 << 6;
        private const ulong MakeDir = 1 << 7;
        private const ulong MakeReg = 1 << 8;
        private const ulong MakeSock = 1 << 9;
        private const ulong MakeFifo = 1 << 10;
        private const ulong MakeBlock = 1 << 11;
        private const ulong MakeSym = 1 << 12;
        private const ulong Refer = 1 << 13; // ABI 2
        private const ulong Truncate = 1 << 14; // ABI 3
        private const ulong IoctlDev = 1 << 15; // ABI 5
        private const ulong BindTcp = 1 << 0; // ABI 4, net
        private const ulong ConnectTcp = 1 << 1; // ABI 4, net
        private const ulong ScopeAbstractUnixSocket = 1 << 0; // ABI 6, scoped
        private const ulong ScopeSignal = 1 << 1; // ABI 6, scoped

        public static unsafe string RestrictSelf(out bool applied)
        {
            applied = false;
            if (!OperatingSystem.IsLinux())
            {
                return "not Linux";
            }

            long abi = Native.Syscall(CreateRuleset, 0, 0, CreateRulesetVersion);
            if (abi < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return $"Landlock unavailable ({Native.Describe(errno)}: kernel older than 5.13, or Landlock not enabled at boot)";
            }

            ulong fs = WriteFile | RemoveDir | RemoveFile | MakeChar | MakeDir | MakeReg | MakeSock | MakeFifo | MakeBlock | MakeSym;
            fs |= abi >= 2 ? Refer : 0;
            fs |= abi >= 3 ? Truncate : 0;
            fs |= abi >= 5 ? IoctlDev : 0;
            ulong net = abi >= 4 ? BindTcp | ConnectTcp : 0;
            ulong scoped = abi >= 6 ? ScopeAbstractUnixSocket | ScopeSignal : 0;

            // struct landlock_ruleset_attr grew with the ABI: pass the size this kernel knows.
            ulong* attr = stackalloc ulong[] { fs, net, scoped };
            int size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
            long ruleset = Native.Syscall(CreateRuleset, (nint)attr, size, 0);
            if (ruleset < 0)
            {
                return $"Landlock ABI {abi}: the ruleset was refused ({Native.Describe(Marshal.GetLastPInvokeError())})";
            }

            try
            {
                if (Native.Prctl(Native.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
                {
                    return $"Landlock ABI {abi}: no_new_privs was refused ({Native.Describe(Marshal.GetLastPInvokeError())})";
                }

                // No rule grants anything back: what the ruleset handles is refused everywhere.
                if (Native.Syscall(RestrictSelfCall, (nint)ruleset, 0, 0) != 0)
                {
                    return $"Landlock ABI {abi}: restricting was refused ({Native.Describe(Marshal.GetLastPInvokeError())})";
                }
            }
            finally
            {
                Native.Close((int)ruleset);
            }

            applied = true;
            var said = new StringBuilder($"Landlock ABI {abi}: no file writes");
            said.Append(net != 0 ? ", no TCP" : " (TCP not confined before ABI 4)");
            said.Append(scoped != 0 ? ", no signals or abstract sockets outside" : "");
            return said.ToString();
        }
    }

    private static class Seccomp
    {
        private const uint AuditArchX8664 = 0xC000003E;
        private const uint AuditArchAarch64 = 0xC00000B7;
        private const uint X32SyscallBit = 0x40000000;

        private const ushort LoadWordAbsolute = 0x20; // BPF_LD | BPF_W | BPF_ABS
        private const ushort JumpIfEqual = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
        private const ushort JumpIfGreaterOrEqual = 0x35; // BPF_JMP | BPF_JGE | BPF_K
        private const ushort Return = 0x06; // BPF_RET | BPF_K
        private const uint RetAllow = 0x7FFF0000;
        private const uint RetErrno = 0x00050000;
        private const uint RetKillProcess = 0x80000000;

        private const int SetModeFilter = 1;
        private const nint FlagTsync = 1;

        // The calls refused, by name, with their numbers on x86-64 and arm64.
        private static readonly (string Name, uint X64, uint Arm64)[] Refused =
        [
            ("socket", 41, 198), ("socketpair", 53, 199),
            ("execve", 59, 221), ("execveat", 322, 281),
            ("ptrace", 101, 117), ("process_vm_readv", 310, 270), ("process_vm_writev", 311, 271),
            ("io_uring_setup", 425, 425), ("io_uring_enter", 426, 426), ("io_uring_register", 427, 427),
            ("mount", 165, 40), ("umount2", 166, 39), ("pivot_root", 155, 41), ("chroot", 161, 51),
            ("open_tree", 428, 428), ("move_mount", 429, 429), ("fsopen", 430, 430), ("fsmount", 432, 432),
            ("unshare", 272, 97), ("setns", 308, 268),
            ("name_to_handle_at", 303, 264), ("open_by_handle_at", 304, 265),
            ("bpf", 321, 280), ("perf_event_open", 298, 241), ("userfaultfd", 323, 282),
            ("init_module", 175, 105), ("finit_module", 313, 273), ("delete_module", 176, 106),
            ("kexec_load", 246, 104), ("kexec_file_load", 320, 294), ("reboot", 169, 142),
            ("keyctl", 250, 219), ("add_key", 248, 217), ("request_key", 249, 218),
        ];

        public static unsafe string Apply(out bool applied)
        {
            applied = false;
            if (!OperatingSystem.IsLinux())
            {
                return "seccomp: not Linux";
            }

            (uint arch, bool x64) = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => (AuditArchX8664, true),
                Architecture.Arm64 => (AuditArchAarch64, false),
                _ => (0u, false),
            };
            if (arch == 0)
            {
                return $"seccomp: no filter for {RuntimeInformation.ProcessArchitecture}";
            }

            SockFilter[] program = Program(arch, x64);
            if (Native.Prctl(Native.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
            {
                return $"seccomp: no_new_privs was refused ({Native.Describe(Marshal.GetLastPInvokeError())})";
            }

            fixed (SockFilter* filter = program)
            {
                var prog = new SockFprog { Length = (ushort)program.Length, Filter = filter };
                long seccompCall = x64 ? 317 : 277;
                if (Native.Syscall(seccompCall, SetModeFilter, FlagTsync, (nint)(&prog)) != 0)
                {
                    return $"seccomp unavailable ({Native.Describe(Marshal.GetLastPInvokeError())})";
                }
            }

            applied = true;
            return $"seccomp: {Refused.Length} system calls refused (sockets, exec, ptrace, io_uring, mount, namespaces, modules, BPF, keys) on every thread";
        }

        private static SockFilter[] Program(uint arch, bool x64)
        {
            var code = new List<SockFilter>
            {
                new(LoadWordAbsolute, 0, 0, 4), // seccomp_data.arch
                new(JumpIfEqual, 1, 0, arch),
                new(Return, 0, 0, RetKillProcess), // another architecture's calling convention: end the process
                new(LoadWordAbsolute, 0, 0, 0), // seccomp_data.nr
            };

            // Jumps are relative: each refused call jumps to the last instruction (refuse), past the allow.
            int count = Refused.Length + (x64 ? 1 : 0);
            if (x64)
            {
                code.Add(new(JumpIfGreaterOrEqual, (byte)count, 0, X32SyscallBit)); // the x32 table
            }

            for (int i = 0; i < Refused.Length; i++)
            {
                int remaining = Refused.Length - i - 1;
                code.Add(new(JumpIfEqual, (byte)(remaining + 1), 0, x64 ? Refused[i].X64 : Refused[i].Arm64));
            }

            code.Add(new(Return, 0, 0, RetAllow));
            code.Add(new(Return, 0, 0, RetErrno | EACCES));
            return [.. code];
        }

        [StructLayout(LayoutKind.Sequential)]
        private readonly record struct SockFilter(ushort Code, byte JumpTrue, byte JumpFalse, uint K);

        [StructLayout(LayoutKind.Sequential)]
        private unsafe struct SockFprog
        {
            public ushort Length;
            public SockFilter* Filter;
        }
    }

    private static partial class Native
    {
        public const int PrSetNoNewPrivs = 38;

        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        public static partial long Syscall(long number, nint arg1, nint arg2, nint arg3);

        [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
        public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);

        public static void Execve(string path, string[] argv, string[] environment)
        {
            nint[] args = Strings(argv);
            nint[] env = Strings(environment);
            try
            {
                ExecveNative(path, args, env);
            }
            finally
            {
                Array.ForEach(args, Marshal.FreeCoTaskMem);
                Array.ForEach(env, Marshal.FreeCoTaskMem);
            }
        }

        public static string Describe(int errno) => $"errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}";

        // A NULL-terminated array of UTF-8 strings (the last element stays zero).
        private static nint[] Strings(string[] values)
        {
            var pointers = new nint[values.Length + 1];
            for (int i = 0; i < values.Length; i++)
            {
                pointers[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            }

            return pointers;
        }

        [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int ExecveNative(string path, nint[] argv, nint[] envp);
    }
}
