import CShmBalanceSys
import Glibc

/// How long a writer waits for a lock before failing with "busy".
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
    /// The previous holder died holding it (or a lock word copied while held named a holder that
    /// holds nothing): the lock is ours and marked consistent again.
    case recoveredFromDeadHolder
}

extension Books {
    /// The one way any robust mutex of the segment is taken (records, the record table, the quote
    /// table): fair, every wait bounded by the handle's timeout, a dead holder's lock recovered.
    ///
    /// Uncontended it is one `pthread_mutex_trylock` plus one load of the slot's waiting hint (same
    /// cache line). Contended, a futex sleep is what makes tails long here (a wake-up between the two
    /// cores costs ~80 µs, a spin hand-off ~135 ns), and glibc's mutex is unfair: a process that
    /// unlocks and locks again at once keeps winning against one that waits. So a waiter spins (up to
    /// ~100 µs, yielding the CPU now and then in case the holder was preempted) watching the lock word
    /// without writing it, and announces itself in the waiting hint; a locker that finds the hint set
    /// lets the waiter go first (for at most ~2 µs: a waiter that died or went to sleep leaves the hint
    /// set, and that locker then clears it). Two processes locking flat out thus alternate. After the
    /// spin, CLOCK_MONOTONIC timed futex waits take the rest of the bound.
    ///
    /// A holder that died (SIGKILL, OOM) is detected by the kernel's robust list: we get EOWNERDEAD,
    /// call `pthread_mutex_consistent` at once (never unlock without it, or the mutex becomes
    /// unrecoverable for good) and return `.recoveredFromDeadHolder`; the caller repairs what the
    /// lock protects. A lock word that names a holder that holds nothing (copied while held, restored
    /// from disk, left by a reboot) is recognised while waiting and recovered the same way (mapping.c).
    @inlinable @inline(__always)
    func acquire(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, _ what: @autoclosure () -> String) throws(BooksError) -> LockResult {
        if UnsafeMutableRawPointer(mutex).loadRelaxed(Layout.mutexWaitingHint) != 0 { yieldToWaiter(mutex) }
        let rc = pthread_mutex_trylock(mutex)
        if _fastPath(rc == 0) { return .acquired }
        return try acquireSlow(mutex, rc, what())
    }

    @usableFromInline @inline(never)
    func acquireSlow(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, _ first: Int32, _ what: String) throws(BooksError) -> LockResult {
        let rc = first == EBUSY ? waitForLock(mutex) : first
        switch rc {
        case 0:
            return .acquired
        case EOWNERDEAD:
            pthread_mutex_consistent(mutex)
            return .recoveredFromDeadHolder
        case ETIMEDOUT:
            throw .busy(what: what, ownerTid: shmbal_mutex_owner_tid(mutex), waitedMs: Int(lockTimeoutNs / 1_000_000))
        case ENOTRECOVERABLE:
            throw .corrupt("\(what): its lock is unrecoverable (a holder unlocked it without repairing it); recreate the segment from a snapshot")
        default:
            throw .corrupt("\(what): locking failed (errno \(rc))")
        }
    }

    /// Spins for the mutex with the waiting hint set, then sleeps in timed waits of at most
    /// `staleCheckNs`, looking after each whether the holder named in the lock word holds anything.
    func waitForLock(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) -> Int32 {
        let hint = UnsafeMutableRawPointer(mutex)
        let deadline = shmbal_monotonic_ns() + lockTimeoutNs
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
        // A holder that no longer exists (or is us) is cheap to recognise: do it before sleeping.
        var checkMaps: Int32 = 0
        while true {
            if shmbal_mutex_mark_owner_dead(mutex, checkMaps, segment.mappingId) != 0 {
                let rc = pthread_mutex_trylock(mutex)
                if rc != EBUSY {
                    hint.storeRelaxed(0, Layout.mutexWaitingHint)
                    return rc
                }
            }
            let left = deadline - shmbal_monotonic_ns()
            if left <= 0 { return ETIMEDOUT }
            let rc = shmbal_mutex_lock_monotonic(mutex, min(left, Books.staleCheckNs))
            if rc != ETIMEDOUT {
                if rc == 0 || rc == EOWNERDEAD { hint.storeRelaxed(0, Layout.mutexWaitingHint) }
                return rc
            }
            // A live process may hold it a long while; one that does not map this file holds nothing.
            checkMaps = 1
        }
    }

    /// How long a waiter sleeps before it looks again at who holds the lock (a stale lock word
    /// costs a writer about this much once; a live holder costs a /proc read per interval).
    static let staleCheckNs: Int64 = 50_000_000

    /// Takes `rec`'s lock within the bound, repairing the record if its holder died.
    @inlinable @inline(__always)
    func lock(_ rec: RecordRef) throws(BooksError) {
        if try acquire(rec.mutex, "\(rec.key): record") == .recoveredFromDeadHolder { recovered(rec) }
    }

    /// Nothing to undo after a dead holder: it only ever wrote unpublished copies and hold entries
    /// tagged with the generation it never published. Refresh those copies in full (the next
    /// allocate/release copies into the state's only what the last one changed), undo those tags
    /// (the next publish would make them true: docs/holds.md), and say that it happened.
    @usableFromInline @inline(never)
    func recovered(_ rec: RecordRef) {
        rec.stateLatch.refreshUnpublished()
        let table = holdTable(rec)
        _ = table.scrub(published: rec.stateLatch.lockedGeneration)
        table.rebuildIndex(published: rec.stateLatch.lockedGeneration)
        opLog(rec).rebuild(opSeq: rec.stateLatch.lockedCurrent.loadRelaxed(Layout.State.opSeq))
        appendActivity(.recoverLock, rec.key, index: -1, outcome: 0, epoch: 0, amount: .zero, detail: .zero,
                       after: .zero, now: shmbal_now_micros())
    }

    @inlinable @inline(__always)
    func unlock(_ rec: RecordRef) { pthread_mutex_unlock(rec.mutex) }

    /// Takes one of the header's robust mutexes (record table, quote table). Nothing to repair after
    /// a dead holder: the tables' unpublished entries are rewritten whole by the next append.
    func lockHeaderMutex(_ offset: Int, what: String) throws(BooksError) -> UnsafeMutablePointer<pthread_mutex_t> {
        let m = (base + offset).assumingMemoryBound(to: pthread_mutex_t.self)
        _ = try acquire(m, "\(segment.path): \(what)")
        return m
    }
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
