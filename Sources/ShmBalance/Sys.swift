import Glibc
import SystemPackage

// System calls go through these, as swift-system's own `valueOrErrno(retryOnInterrupt:)` does:
// EINTR retried in one place, a failure carried as a typed `Errno`, never a stray global read late.

/// Runs `call` until it returns something other than −1 with `EINTR`; −1 becomes the errno.
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let e = Errno(rawValue: errno)
        if retryOnInterrupt && e == .interrupted { continue }
        throw e
    }
}

/// For the calls that return their error instead of setting errno (posix_fallocate, pthread_*).
@inline(__always)
func errorCodeOrErrno(retryOnInterrupt: Bool = true, _ call: () -> Int32) throws(Errno) {
    while true {
        let rc = call()
        if rc == 0 { return }
        if retryOnInterrupt && rc == EINTR { continue }
        throw Errno(rawValue: rc)
    }
}

extension SegmentError {
    /// A failed system call on the segment at `path`.
    static func system(_ path: String, _ call: String, _ error: Errno) -> SegmentError {
        .system(path: path, call: call, errno: error.rawValue)
    }
}
