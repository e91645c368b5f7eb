#if DEBUG
@testable import ShmBalance
#else
import ShmBalance
#endif
import Glibc
import ShmBalanceTestKit

// The holds campaign's reader, on a read-only mapping: on every copy it takes, the identity and
// 0 ≤ held ≤ budget per slot (`slotHolds`: budgets and held sums from one published copy), and
// the listing of open holds against the held sums and counts of the copy it was read with (one
// latch read covers the listing and the sums: `readHolds`, what `holds(key)` returns), ids unique,
// 0 ≤ remaining ≤ original; op counts never go back.

/// Global status fields of the holds campaign (after the first campaign's).
enum HoldsStatus {
    static let listings = 6
}

func runHoldsReader(_ a: Args) -> Never {
    let writers = a.int("writers"), recordCount = a.int("records")
    let parent = pid_t(a.int("parent"))
    let status = StatusPage.attach(a.string("status"))
    let books: Books
    do { books = try Books.open(a.string("segment"), .readOnly) } catch { fail("holds reader: \(error)") }
    status.global(StatusPage.Field.readerPid).store(UInt64(getpid()), ordering: .releasing)
    let recs = (0..<recordCount).map { r -> RecordRef in
        guard let rec = books.record(Plan.key(r)) else { fail("holds reader: no record \(Plan.key(r))") }
        return rec
    }
    let count = 2 + writers
    var lastOps = [UInt64](repeating: 0, count: recordCount)
    var printed = 0
    func violation(_ what: String) {
        status.global(StatusPage.Field.readerViolations).wrappingIncrement(ordering: .relaxed)
        if printed < 20 { printErr("VIOLATION holds reader: \(what)") }
        printed += 1
    }
    while !status.stopped {
        if getppid() != parent { exit(3) }
        for r in 0..<recordCount {
            let key = recs[r].key
            let t0 = monotonicNs()
            let sums: [SlotHolds]
            do { sums = try books.slotHolds(key) } catch {
                violation("\(key): slotHolds failed: \(error)")
                continue
            }
            let dt = UInt64(monotonicNs() - t0)
            let maxRead = status.global(StatusPage.Field.readerMaxReadNs)
            if dt > maxRead.load(ordering: .relaxed) { maxRead.store(dt, ordering: .relaxed) }
            if sums.count != count { violation("\(key): \(sums.count) slots, expected \(count)") }
            var rest: Int128 = 0
            for i in 1..<sums.count { rest += sums[i].budget.raw }
            if sums.count > 1 && sums[0].budget.raw != rest { violation("\(key): identity broken by \(Amount(raw: sums[0].budget.raw - rest)) in a copy") }
            for i in 0..<sums.count {
                let s = sums[i]
                if i < 2 && (s.held.raw != 0 || s.count != 0) { violation("\(key) #\(i): holds on the total or the pool: \(s.held) in \(s.count)") }
                if i >= 2 && (s.held.raw < 0 || s.held.raw > s.budget.raw) { violation("\(key) #\(i): held \(s.held) outside 0…budget \(s.budget)") }
                if i >= 2 && s.held.raw != 0 && s.count == 0 { violation("\(key) #\(i): held \(s.held) in \(s.count) holds") }
            }
            status.global(StatusPage.Field.snapshots).wrappingIncrement(ordering: .relaxed)

            #if DEBUG
            // The listing and the sums of one copy.
            do {
                let (holds, hb, opCount) = try books.readHolds(recs[r])
                var held = [Int128](repeating: 0, count: 64), counts = [Int](repeating: 0, count: 64)
                var ids = Set<HoldId>()
                for h in holds {
                    held[h.index] += h.amount.raw
                    counts[h.index] += 1
                    if !ids.insert(h.id).inserted { violation("\(key): hold \(h.id) listed twice") }
                    if h.amount.raw < 0 || h.amount.raw > h.original.raw { violation("\(key): hold \(h.id) covers \(h.amount) of \(h.original)") }
                    if h.index < 2 || h.index >= count { violation("\(key): hold \(h.id) on slot \(h.index)") }
                }
                for i in 0..<64 where held[i] != hb.held[i].raw || counts[i] != Int(hb.counts[i]) {
                    violation("\(key) #\(i): the listing sums to \(Amount(raw: held[i])) in \(counts[i]) holds, its copy says \(hb.held[i]) in \(hb.counts[i])")
                }
                if opCount < lastOps[r] { violation("\(key): op count went back from \(lastOps[r]) to \(opCount)") }
                lastOps[r] = opCount
                status.global(HoldsStatus.listings).wrappingIncrement(ordering: .relaxed)
            } catch { violation("\(key): listing failed: \(error)") }
            #else
            // Release builds: a listing between two equal copies of the sums (no internal access).
            do {
                let before = try books.slotHolds(key)
                let holds = try books.holds(key)
                let after = try books.slotHolds(key)
                if before == after {
                    var held = [Int128](repeating: 0, count: count)
                    for h in holds where h.index < count { held[h.index] += h.amount.raw }
                    for i in 0..<count where held[i] != after[i].held.raw { violation("\(key) #\(i): the listing sums to \(Amount(raw: held[i])), the copy says \(after[i].held)") }
                    status.global(HoldsStatus.listings).wrappingIncrement(ordering: .relaxed)
                }
            } catch { violation("\(key): listing failed: \(error)") }
            #endif
        }
    }
    exit(0)
}
