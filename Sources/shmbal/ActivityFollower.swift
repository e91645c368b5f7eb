import Glibc
import ShmBalance

// `log --follow`'s reader of the activity ring.

/// Reads the activity ring by sequence number, so that every entry is shown once and in order
/// however fast writers append (jumping to the ring's head instead skipped entries appended
/// while a batch was printed, and for good any entry still being written when it was read).
///
/// A writer claims a sequence number with one atomic add and publishes the entry by storing that
/// number into the entry's stamp (ActivityRing.swift). So for the next number to show, `n ≤ head`:
/// - the entry reads back complete: show it;
/// - the ring's head has moved a whole capacity past it: its slot was claimed again, the entry is
///   overwritten and can never be read (counted, reported);
/// - else it is being written: wait, at most `unfinishedWaitMs`, then report it once and move
///   on (its writer died between claiming and publishing, or is stopped there).
struct ActivityFollower {
    /// How long an entry that was claimed but not published is waited for: far longer than a
    /// writer takes (a few stores), as long as a record's lock is waited for by default.
    static let unfinishedWaitMs: Int64 = 1000

    enum Event: Equatable {
        case entry(ActivityEntry)
        /// Entries `first…last` were overwritten before they could be read.
        case overwritten(first: UInt64, last: UInt64)
        /// Entry `n` was claimed but not published within the wait.
        case unfinished(UInt64)
    }

    let books: Books
    let capacity: UInt64
    /// The next sequence number to show.
    private(set) var next: UInt64
    /// When `next` was first found unfinished (monotonic ms), while waiting for it.
    private var waitingSince: Int64?

    /// Starts with the newest `newest` entries the ring still holds (0: only what comes next).
    init(_ books: Books, newest: Int) {
        self.books = books
        capacity = UInt64(books.segment.geometry.ringCapacity)
        let head = books.activityHead
        let oldestHeld = head >= capacity ? head - capacity + 1 : 1
        let wanted = head >= UInt64(newest) ? head - UInt64(newest) + 1 : 1
        next = max(oldestHeld, wanted)
    }

    /// Waiting for an entry that is being written.
    var isWaiting: Bool { waitingSince != nil }

    /// Everything from `next` on that can be decided now, in sequence order; empty when nothing new.
    mutating func poll(nowMs: Int64) -> [Event] {
        var events: [Event] = []
        var head = books.activityHead
        guard head >= next else { return events }
        let oldestHeld = head >= capacity ? head - capacity + 1 : 1
        if next < oldestHeld {
            events.append(.overwritten(first: next, last: oldestHeld - 1))
            next = oldestHeld
            waitingSince = nil
        }
        var complete: [UInt64: ActivityEntry] = [:]
        for e in books.activity(after: next - 1) { complete[e.sequence] = e }
        head = max(head, complete.keys.max() ?? 0)
        while next <= head {
            if let e = complete[next] {
                events.append(.entry(e))
                advance()
                continue
            }
            // Not readable: overwritten since it was claimed (its slot taken by a later number),
            // or not finished yet. The head is read again: it only grows.
            if books.activityHead >= next + capacity {
                if case .overwritten(let first, let last)? = events.last, last + 1 == next {
                    events[events.count - 1] = .overwritten(first: first, last: next)
                } else {
                    events.append(.overwritten(first: next, last: next))
                }
                advance()
                continue
            }
            let since = waitingSince ?? nowMs
            waitingSince = since
            guard nowMs - since >= ActivityFollower.unfinishedWaitMs else { break }
            events.append(.unfinished(next))
            advance()
        }
        return events
    }

    private mutating func advance() {
        next += 1
        waitingSince = nil
    }
}

/// Milliseconds on the monotonic clock (waits must not depend on the wall clock).
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
