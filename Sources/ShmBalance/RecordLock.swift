import CShmBalanceSys
import Glibc

/// How long a writer waits for a record's lock before failing with "record busy".
/// 1 s unless `$SHMBAL_LOCK_TIMEOUT_MS` says otherwise (read once per handle).
public enum LockTimeout {
    public static let defaultMs = 1000

    public static func fromEnvironment() -> Int {
        if let v = getenv("SHMBAL_LOCK_TIMEOUT_MS"), let ms = Int(String(cString: v)), ms > 0, ms <= 3_600_000 { return ms }
        return defaultMs
    }
}

/// The result of taking a robust lock.
@frozen public enum LockResult {
    case acquired
    /// The previous holder died holding it; the lock is ours and marked consistent again.
    case recoveredFromDeadHolder
}

/// Takes a robust, process-shared mutex: a short spin (a hand-off between two cores costs ~135 ns,
/// a futex sleep ~80 µs), then a CLOCK_MONOTONIC timed wait. Every wait is bounded by `timeoutNs`.
///
/// A holder that died (SIGKILL, OOM) is detected by the kernel's robust list: we get EOWNERDEAD,
/// call `pthread_mutex_consistent` at once (never unlock without it, or the mutex becomes
/// unrecoverable for good) and go on. What the dead holder was writing was the unpublished copy
/// (see `RecordRef`), so there is nothing to undo.
@inlinable @inline(__always)
func lockRobust(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, timeoutNs: Int64) -> Int32 {
    let rc = pthread_mutex_trylock(mutex)
    if rc != EBUSY { return rc }
    return lockRobustSlow(mutex, timeoutNs: timeoutNs)
}

@usableFromInline
func lockRobustSlow(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, timeoutNs: Int64) -> Int32 {
    // Bounded spin: an uncontended critical section is ~100 ns, so a few hundred pauses catch most
    // hand-offs without sleeping.
    for _ in 0..<200 {
        for _ in 0..<4 { shmbal_cpu_relax() }
        let rc = pthread_mutex_trylock(mutex)
        if rc != EBUSY { return rc }
    }
    return shmbal_mutex_lock_monotonic(mutex, timeoutNs)
}

/// Interprets `lockRobust`'s result: nil when the lock is held, else the error to throw.
@inlinable @inline(__always)
func lockOutcome(_ rc: Int32, _ mutex: UnsafeMutablePointer<pthread_mutex_t>, key: @autoclosure () -> BookKey, timeoutNs: Int64) -> (LockResult, BooksError?) {
    if rc == 0 { return (.acquired, nil) }
    return lockOutcomeSlow(rc, mutex, key: key(), timeoutNs: timeoutNs)
}

@usableFromInline
func lockOutcomeSlow(_ rc: Int32, _ mutex: UnsafeMutablePointer<pthread_mutex_t>, key: BookKey, timeoutNs: Int64) -> (LockResult, BooksError?) {
    switch rc {
    case EOWNERDEAD:
        pthread_mutex_consistent(mutex)
        return (.recoveredFromDeadHolder, nil)
    case ETIMEDOUT:
        return (.acquired, .busy(what: "\(key): record", ownerTid: shmbal_mutex_owner_tid(mutex), waitedMs: Int(timeoutNs / 1_000_000)))
    case ENOTRECOVERABLE:
        return (.acquired, .corrupt("\(key): the record's lock is unrecoverable (a holder unlocked it without repairing it); recreate the segment from a snapshot"))
    default:
        return (.acquired, .corrupt("\(key): locking the record failed (errno \(rc))"))
    }
}
