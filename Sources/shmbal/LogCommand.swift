import ArgumentParser
import Glibc
import ShmBalance

// `log [--follow] [--json]`: the activity ring, once or as it grows.

struct Log: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "The activity ring: recent mutations, applied and refused.",
        discussion: """
            With --follow it keeps printing, by sequence number: every entry once and in order. An entry still being \
            written is waited for (at most \(ActivityFollower.unfinishedWaitMs) ms); one its writer never finished (it died \
            or is stopped) is reported once on stderr and skipped. Entries the ring overwrote before they could be shown \
            are counted on stderr ("N entries were overwritten before they could be shown"); stdout holds entries only.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Keep printing new entries (Ctrl-C stops).") var follow = false
    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Show at most this many of the newest entries first.") var limit = 50

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        guard limit >= 0 else { throw CLIError(.badInput, "--limit must be 0 or more (got \(limit))") }
        return { books, _ in
            guard follow else {
                for e in books.activity(limit: limit) { emit(e) }
                return
            }
            var follower = ActivityFollower(books, newest: limit)
            while true {
                let events = follower.poll(nowMs: monotonicMs())
                for event in events {
                    switch event {
                    case .entry(let e): emit(e)
                    case .overwritten(let first, let last):
                        fflush(nil)
                        let n = last - first + 1
                        printError("shmbal log: \(n) \(n == 1 ? "entry was" : "entries were") overwritten before they could be shown (#\(first)\(n > 1 ? "…#\(last)" : ""))")
                    case .unfinished(let seq):
                        fflush(nil)
                        printError("shmbal log: entry #\(seq) was not finished by its writer within \(ActivityFollower.unfinishedWaitMs) ms (it died or is stopped); skipped")
                    }
                }
                fflush(nil)
                // Waiting for an entry being written: look again soon. Otherwise, when nothing
                // came, at the dashboard's rate; when something did, at once (more may follow).
                if follower.isWaiting { usleep(1_000) } else if events.isEmpty { usleep(100_000) }
            }
        }
    }

    func emit(_ e: ActivityEntry) {
        if json {
            print(JSON.object([
                ("sequence", .int(Int64(bitPattern: e.sequence))), ("timeMicros", .int(e.timeMicros)), ("pid", .int(Int64(e.pid))),
                ("operation", .string(e.operation?.description ?? "?")), ("exchange", .string(e.key.exchange.description)),
                ("currency", .string(e.key.currency.description)), ("index", e.index.map { .int(Int64($0)) } ?? .null),
                ("amount", .amount(e.amount)), ("applied", .bool(e.applied)),
                ("outcome", .string(e.outcomeText())), ("detail", .amount(e.detail)), ("after", .amount(e.after)),
                ("message", e.refusalMessage.map { .string($0) } ?? .null),
            ]).text)
        } else {
            let op = (e.operation?.description ?? "?").rightPadded(9)
            print("\(e.sequence)  \(clockText(micros: e.timeMicros, date: true))  pid \(e.pid)  \(op) \(e.target.rightPadded(20)) \(e.amountText().leftPadded(14))  \(e.outcomeText())")
        }
    }
}

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
