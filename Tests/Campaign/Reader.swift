import Glibc
import ShmBalance
import ShmBalanceTestKit

// The reader: takes consistent copies of every record as fast as it can, through a read-only
// mapping (as the dashboard does), and checks each copy exactly: the identity, the shape, that
// no op count ever goes back, that the total is a clean sum of the writers' digits.

func runReader(_ a: Args) -> Never {
    let writers = a.int("writers"), recordCount = a.int("records"), epoch = UInt64(a.int("epoch"))
    let parent = pid_t(a.int("parent"))
    let status = StatusPage.attach(a.string("status"))
    let books: Books
    do { books = try Books.open(a.string("segment"), .readOnly) } catch { fail("reader: \(error)") }
    status.global(StatusPage.Field.readerPid).store(UInt64(getpid()), ordering: .releasing)
    let recs = (0..<recordCount).map { r -> RecordRef in
        guard let rec = books.record(Plan.key(r)) else { fail("reader: no record \(Plan.key(r))") }
        return rec
    }
    let count = 2 + writers
    let names = (0..<count).map { Plan.name($0) }
    var lastOps = [UInt64](repeating: 0, count: recordCount)
    var printed = 0
    func violation(_ what: String) {
        status.global(StatusPage.Field.readerViolations).wrappingIncrement(ordering: .relaxed)
        if printed < 20 { printErr("VIOLATION reader: \(what)") }
        printed += 1
    }
    var s = RecordState()
    var round = 0
    while !status.stopped {
        if getppid() != parent { exit(3) }
        for r in 0..<recordCount {
            let t0 = monotonicNs()
            do { try recs[r].read(into: &s) } catch {
                violation("\(recs[r].key): read failed: \(error)")
                continue
            }
            let dt = UInt64(monotonicNs() - t0)
            let maxRead = status.global(StatusPage.Field.readerMaxReadNs)
            if dt > maxRead.load(ordering: .relaxed) { maxRead.store(dt, ordering: .relaxed) }
            let key = recs[r].key
            if !s.identityHolds { violation("\(key): identity broken by \(s.identityDifference) in a copy (total \(s.total), pool \(s.pool))") }
            if s.strategyCount != count { violation("\(key): strategy count \(s.strategyCount), expected \(count)") }
            if s.epoch != epoch { violation("\(key): epoch \(s.epoch), expected \(epoch)") }
            if s.creditLimit != Plan.credit { violation("\(key): credit \(s.creditLimit), expected \(Plan.credit)") }
            for i in 2..<count where s.slots[i].raw < 0 { violation("\(key): budget #\(i) is negative: \(s.slots[i])") }
            for i in count..<64 where s.slots[i].raw != 0 { violation("\(key): unused slot #\(i) holds \(s.slots[i])") }
            if s.opCount < lastOps[r] { violation("\(key): op count went back from \(lastOps[r]) to \(s.opCount)") }
            lastOps[r] = s.opCount
            if Plan.digits(of: s.total, writers: writers) == nil { violation("\(key): total \(s.total) is not T0 + a sum of the writers' digits") }
        }
        status.global(StatusPage.Field.snapshots).wrappingIncrement(by: UInt64(recordCount), ordering: .relaxed)
        round += 1
        if round % 64 == 0 {
            // The whole record as `get` and the dashboard take it: state and names.
            for r in 0..<recordCount {
                do {
                    let full = try books.get(recs[r])
                    if full.names.map(\.description) != names { violation("\(recs[r].key): names \(full.names) , expected \(names)") }
                    if !full.identityHolds { violation("\(recs[r].key): identity broken in get()") }
                } catch { violation("\(recs[r].key): get failed: \(error)") }
            }
            status.global(StatusPage.Field.snapshots).wrappingIncrement(by: UInt64(recordCount), ordering: .relaxed)
        }
        if round % 8 == 0 {
            // Every other published value: quotes, names, config-applied records, the default exchange.
            for v in Side.check(books) { violation(v) }
            status.global(StatusPage.Field.sideChecks).wrappingIncrement(ordering: .relaxed)
        }
    }
    exit(0)
}
