#if canImport(Glibc)
import Glibc
#endif

/// Processes inherit their parent's blocked-signal mask (e.g. from a test runner or a supervisor);
/// a daemon must see SIGTERM/SIGHUP, so executables clear the mask at start.
public enum SignalMask {
    public static func unblockAll() {
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
    }
}
