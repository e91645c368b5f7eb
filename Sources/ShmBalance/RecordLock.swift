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

/// Takes a robust, process-shared mutex, fairly and with every wait bounded by `timeoutNs`.
///
/// Uncontended it is one `pthread_mutex_trylock` plus one load of the slot's waiting hint (same
/// cache line). Contended, a futex sleep is what makes tails long here (a wake-up between the two
/// cores costs ~80 µs, a spin hand-off ~135 ns), and glibc's mutex is unfair: a process that
/// unlocks and locks again at once keeps winning against one that waits. So a waiter spins (up to
/// ~100 µs, yielding the CPU now and then in case the holder was preempted) watching the lock word
/// without writing it, and announces itself in the waiting hint; a locker that finds the hint set
/// lets the waiter go first (for at most ~2 µs: a waiter that died or went to sleep leaves the hint
/// set, and that locker then clears it). Two processes locking flat out thus alternate. After the
/// spin, a CLOCK_MONOTONIC timed futex wait takes the rest of the bound.
///
/// A holder that died (SIGKILL, OOM) is detected by the kernel's robust list: we get EOWNERDEAD,
/// call `pthread_mutex_consistent` at once (never unlock without it, or the mutex becomes
/// unrecoverable for good) and go on. What the dead holder was writing was the unpublished copy
/// (see `RecordRef`), which the caller refreshes.
@inlinable @inline(__always)
func lockRobust(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, timeoutNs: Int64) -> Int32 {
    if UnsafeMutableRawPointer(mutex).loadRelaxed(Layout.mutexWaitingHint) != 0 { yieldToWaiter(mutex) }
    let rc = pthread_mutex_trylock(mutex)
    if rc != EBUSY { return rc }
    return lockRobustSlow(mutex, timeoutNs: timeoutNs)
}

/// Spins for the mutex with the waiting hint set, then sleeps in a timed wait.
@usableFromInline
func lockRobustSlow(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, timeoutNs: Int64) -> Int32 {
    let hint = UnsafeMutableRawPointer(mutex)
    // ~30 ns per turn (one `pause` here): ~100 µs in all, a sched_yield every ~8 µs.
    for turn in 0..<3_200 {
        if hint.loadRelaxed(Layout.mutexWaitingHint) == 0 { hint.storeRelaxed(1, Layout.mutexWaitingHint) }
        if shmbal_mutex_is_locked(mutex) == 0 {
            let rc = pthread_mutex_trylock(mutex)
            if rc != EBUSY {
                hint.storeRelaxed(0, Layout.mutexWaitingHint)
                return rc
            }
        }
        shmbal_cpu_relax()
        if turn & 255 == 255 { sched_yield() }
    }
    let rc = shmbal_mutex_lock_monotonic(mutex, timeoutNs)
    if rc == 0 || rc == EOWNERDEAD { hint.storeRelaxed(0, Layout.mutexWaitingHint) }
    return rc
}

/// A waiter announced itself: let it take the mutex first, for at most ~2 µs.
@usableFromInline @inline(never)
func yieldToWaiter(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    let hint = UnsafeMutableRawPointer(mutex)
    for _ in 0..<64 {
        shmbal_cpu_relax()
        if hint.loadRelaxed(Layout.mutexWaitingHint) == 0 { return }
    }
    // Nobody took it up (the waiter sleeps, or died announcing itself): clear the stale hint.
    hint.storeRelaxed(0, Layout.mutexWaitingHint)
}

/// What a non-zero `lockRobust` result means: a lock recovered from a dead holder (held now), or
/// the error to throw (busy after the bound, unrecoverable, other).
@usableFromInline
func lockOutcome(_ rc: Int32, _ mutex: UnsafeMutablePointer<pthread_mutex_t>, key: BookKey, timeoutNs: Int64) -> (LockResult, BooksError?) {
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
