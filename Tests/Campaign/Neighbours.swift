import Glibc
import ShmBalance
import ShmBalanceTestKit

// The stuck and the hostile neighbour of the reliability tests.

/// Takes a lock and parks inside a publish at fault point `--point` (a `FaultPoint.rawValue`:
/// 1…3 for a record's state), printing "parked PID" once there: the test then SIGSTOPs or SIGKILLs
/// it. `--op` says what it is doing meanwhile: `adjust` (the total by +1, the default), `create`
/// (a reset of the new record `--currency`: parks holding the record table's lock), `quote`
/// (a BALANCE quote of 1), `name` (slot 0's name). Bounded: after `--seconds` it finishes and exits.
func runPark(_ a: Args) -> Never {
    #if DEBUG
    let key: BookKey
    do { key = try BookKey(a.string("exchange", "KRAKEN"), a.string("currency")) } catch { fail("\(error)") }
    let point = UInt32(a.int("point", 1))
    let seconds = a.int("seconds", 60)
    let books: Books
    do { books = try Books.open(a.string("segment"), .readWrite) } catch { fail("park: \(error)") }
    faultPointHook = { reached in
        guard reached.rawValue == point else { return }
        printOut("parked \(getpid()) at \(reached)")
        for _ in 0..<(seconds * 100) { usleep(10_000) }
    }
    do {
        switch a.string("op", "adjust") {
        case "adjust": try books.adjust(key, Amount(whole: 1)!, index: 0)
        case "create": try books.reset(key, balance: Amount(whole: 1)!)
        case "quote": try books.writeQuote(QuoteKey(exchange: key.exchange, dataType: QuoteKey.balanceType, currency: key.currency),
                                           SingleQuote(timestamp: 1, localTimestamp: 1, mid: 1))
        case "name": try books.setName(key, index: 0, try ShortName("parked", kind: .label))
        case let op: fail("park: unknown --op \(op)")
        }
    } catch { fail("park: \(error)") }
    printOut("done")
    exit(0)
    #else
    fail("park needs a debug build (fault points exist only there)")
    #endif
}

/// Allocates and releases a tiny amount on slot `--index` as fast as it can for `--seconds`,
/// then prints how many operations it did and how many found the record busy.
func runHammer(_ a: Args) -> Never {
    let key: BookKey
    do { key = try BookKey(a.string("exchange", "KRAKEN"), a.string("currency")) } catch { fail("\(error)") }
    let index = a.int("index", 2)
    let books: Books
    do { books = try Books.open(a.string("segment"), .readWrite) } catch { fail("hammer: \(error)") }
    guard let rec = books.record(key) else { fail("hammer: no record \(key)") }
    let parent = getppid()
    let end = monotonicNs() + Int64(a.int("seconds", 10)) * 1_000_000_000
    let tiny = Amount(raw: 1)
    var ops = 0, busy = 0
    printOut("hammering \(getpid())")
    while monotonicNs() < end && getppid() == parent {
        for _ in 0..<256 {
            do {
                try books.allocate(rec, index: index, tiny)
                try books.release(rec, index: index, tiny)
                ops += 2
            } catch .busy {
                busy += 1
            } catch {
                fail("hammer: \(error)")
            }
        }
    }
    printOut("hammer ops \(ops) busy \(busy)")
    exit(0)
}
