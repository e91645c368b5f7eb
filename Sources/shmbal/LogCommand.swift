import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceJSON

// `log [--follow] [--json]`: the activity ring, once or as it grows.

struct Log: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "The activity ring: recent mutations, applied and refused.",
        discussion: """
            With --follow it keeps printing, by sequence number: every entry once and in order. An entry still being \
            written is waited for (at most \(ActivityFollower.unfinishedWaitMs) ms); one its writer never finished (it died \
            or is stopped) is reported once on stderr and skipped. Entries the ring overwrote before they could be shown \
            are counted on stderr ("N entries were overwritten before they could be shown"); stdout holds entries only. \
            When the segment file is removed, replaced or truncated, it says so and ends with exit 4.
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
                // A segment removed, replaced or truncated meanwhile will never show another entry
                // (and a truncated one would read as zeros): say so and stop (exit 4).
                if let gone = books.segment.fileError { fflush(nil); throw CLIError(.segment(gone)) }
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
