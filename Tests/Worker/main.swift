// shmbal-worker: a process the multi-process, crash and race tests spawn.
//
//   shmbal-worker ops  SEGMENT LOG CURRENCIES OPS SEED [pause]
//       OPS random allocate / release / adjust operations on the KRAKEN records CURRENCIES
//       (comma-separated; slots 2…8 of a 9-slot record). Before each operation it appends
//       "I seq op currency index amountRaw" to LOG, after it "A seq applied" or "A seq refused code".
//       Each line is one write(2), so what a SIGKILL leaves in LOG is exactly what the process had
//       done. OPS = 0 runs until killed. `pause` makes every fault point inside a commit sleep a
//       random 0–300 µs after logging "P point", so kills land inside the lock.
//   shmbal-worker read SEGMENT CURRENCIES STOPFILE
//       Takes consistent copies of the records until STOPFILE exists; prints
//       "reads N violations M" where a violation is a copy whose identity does not hold exactly.
//   shmbal-worker read-slot SEGMENT CURRENCY READS INDEX=RAW,RAW… [INDEX=…]
//       On a read-only mapping, reads single slots READS times in all (the named indices in turn,
//       through `RecordRef.readSlot` and `Books.balance`); every value must be one of the raw
//       amounts listed for its index. Prints "reads N illegal M", then up to 5 "illegal I RAW".
//   shmbal-worker read-record SEGMENT CURRENCY READS INDEX=RAW,RAW… [INDEX=…]
//       The same for whole copies (`RecordRef.read(into:)`): every listed slot of every copy must
//       hold a listed value, and the identity must hold.
//   shmbal-worker read-quote SEGMENT EXCHANGE DATATYPE CURRENCY READS T:L:MIDBITS[,T:L:MIDBITS…]
//       Reads the quote READS times on a read-only mapping; each must be one of those listed.
//   shmbal-worker create SEGMENT GOFILE OPERATION BALANCE COUNT CURRENCIES
//       Prints "ready", waits (up to 60 s) until GOFILE exists, then `reset`s (OPERATION reset, with COUNT slots)
//       or `reconcile`s the KRAKEN records CURRENCIES (comma-separated) to BALANCE, in order, as
//       fast as it can: racing other creators of the same new keys. Prints "created N".
//   shmbal-worker holds SEGMENT LOG CURRENCY SEED
//       Random hold / fill / void / receive until killed, pausing at fault points (Holds.swift).
import Glibc
import ShmBalance
import ShmBalanceTestKit

func fail(_ message: String) -> Never {
    printLine("shmbal-worker: \(message)", toStandardError: true)
    exit(2)
}

nonisolated(unsafe) var pauseLog: LineLog?

func openBooks(_ path: String, _ access: Segment.AccessMode) -> Books {
    do { return try Books.open(path, access) } catch { fail("\(error)") }
}

func bookKey(_ currency: String, _ exchange: String = "KRAKEN") -> BookKey {
    guard let k = try? BookKey(exchange, currency) else { fail("bad key \(exchange) \(currency)") }
    return k
}

func runOps(_ args: [String]) {
    guard args.count >= 5, let opCount = Int(args[3]), let seed = UInt64(args[4]) else {
        fail("usage: ops SEGMENT LOG CURRENCIES OPS SEED [pause]")
    }
    let books = openBooks(args[0], .readWrite)
    guard let log = LineLog(args[1]) else { fail("cannot open \(args[1])") }
    let currencies = args[2].split(separator: ",").map(String.init)
    let records = currencies.map { c -> RecordRef in
        guard let r = books.record(bookKey(c)) else { fail("no record KRAKEN \(c)") }
        return r
    }
    #if DEBUG
    if args.count > 5 && args[5] == "pause" {
        pauseLog = log
        faultPointHook = { point in
            pauseLog?.line("P \(point.rawValue)")
            usleep(UInt32.random(in: 0...300))
        }
    }
    #endif
    var rng = SplitMix64(seed: seed)
    var seq = 0
    while opCount == 0 || seq < opCount {
        seq += 1
        let r = rng.below(records.count)
        let rec = records[r]
        let index = 2 + rng.below(7)
        // Amounts up to 100.00 with 2 decimals; a few with 18 decimals to exercise the low digits.
        var raw = Int128(1 + rng.below(10_000)) * (Amount.scale / 100)
        if rng.below(10) == 0 { raw += Int128(rng.below(1_000_000)) }
        let kind = rng.below(6)
        let op: String
        let amount: Amount
        switch kind {
        case 0, 1: op = "allocate"; amount = Amount(raw: raw)
        case 2, 3: op = "release"; amount = Amount(raw: raw)
        case 4: op = "adjust"; amount = Amount(raw: rng.below(2) == 0 ? raw : -raw)
        default: op = "adjust0"; amount = Amount(raw: rng.below(2) == 0 ? raw : -raw)
        }
        log.line("I \(seq) \(op) \(currencies[r]) \(op == "adjust0" ? 0 : index) \(amount.raw)")
        do {
            switch op {
            case "allocate": try books.allocate(rec, index: index, amount)
            case "release": try books.release(rec, index: index, amount)
            case "adjust": try books.adjust(rec.key, amount, index: index)
            default: try books.adjust(rec.key, amount, index: 0)
            }
            log.line("A \(seq) applied")
        } catch {
            if case .refused(let refusal) = error {
                log.line("A \(seq) refused \(refusal.code.rawValue)")
            } else {
                log.line("E \(seq) \(error)")
                fail("\(error)")
            }
        }
    }
}

func runReader(_ args: [String]) {
    guard args.count >= 3 else { fail("usage: read SEGMENT CURRENCIES STOPFILE") }
    let books = openBooks(args[0], .readOnly)
    let records = args[1].split(separator: ",").compactMap { c in books.record(bookKey(String(c))) }
    var state = RecordState()
    var reads = 0, violations = 0
    while access(args[2], F_OK) != 0 {
        for rec in records {
            do { try rec.read(into: &state) } catch { fail("\(error)") }
            reads += 1
            if !state.identityHolds { violations += 1 }
        }
    }
    printLine("reads \(reads) violations \(violations)")
}

/// `INDEX=RAW,RAW…` arguments: the values each slot may legally hold.
func legalSlots(_ specs: ArraySlice<String>) -> [(index: Int, values: Set<Int128>)] {
    specs.map { spec in
        let parts = spec.split(separator: "=")
        guard parts.count == 2, let i = Int(parts[0]) else { fail("bad slot spec '\(spec)' (INDEX=RAW,RAW…)") }
        let values = parts[1].split(separator: ",").map { v -> Int128 in
            guard let raw = Int128(String(v)) else { fail("bad raw amount '\(v)'") }
            return raw
        }
        return (i, Set(values))
    }
}

/// Reports a reader's findings: "reads N illegal M", then up to 5 of the illegal values.
func report(reads: Int, illegal: [String], count: Int) {
    printLine("reads \(reads) illegal \(count)")
    for line in illegal { printLine("illegal \(line)") }
}

func runSlotReader(_ args: [String], wholeRecord: Bool) {
    guard args.count >= 4, let reads = Int(args[2]) else { fail("usage: read-slot|read-record SEGMENT CURRENCY READS INDEX=RAW,… …") }
    let books = openBooks(args[0], .readOnly)
    let key = bookKey(args[1])
    guard let rec = books.record(key) else { fail("no record \(key)") }
    let legal = legalSlots(args[3...])
    var illegal: [String] = []
    var count = 0
    var state = RecordState()
    for n in 0..<reads {
        do {
            if wholeRecord {
                try rec.read(into: &state)
                if !state.identityHolds {
                    count += 1
                    if illegal.count < 5 { illegal.append("identity \(state.identityDifference.raw)") }
                }
                for (i, values) in legal where !values.contains(state.slots[i].raw) {
                    count += 1
                    if illegal.count < 5 { illegal.append("\(i) \(state.slots[i].raw)") }
                }
            } else {
                let (i, values) = legal[n % legal.count]
                let v = n & 1 == 0 ? try rec.readSlot(i) : try books.balance(key, index: i)
                if !values.contains(v.raw) {
                    count += 1
                    if illegal.count < 5 { illegal.append("\(i) \(v.raw)") }
                }
            }
        } catch { fail("read \(n): \(error)") }
    }
    report(reads: reads, illegal: illegal, count: count)
}

func runQuoteReader(_ args: [String]) {
    guard args.count == 6, let reads = Int(args[4]) else { fail("usage: read-quote SEGMENT EXCHANGE DATATYPE CURRENCY READS T:L:MIDBITS,…") }
    let books = openBooks(args[0], .readOnly)
    guard let key = try? QuoteKey(args[1], args[2], args[3]) else { fail("bad quote key") }
    let legal = args[5].split(separator: ",").map { spec -> SingleQuote in
        let f = spec.split(separator: ":").compactMap { UInt64(String($0)) }
        guard f.count == 3 else { fail("bad quote spec '\(spec)'") }
        return SingleQuote(timestamp: Int64(bitPattern: f[0]), localTimestamp: Int64(bitPattern: f[1]), mid: Double(bitPattern: f[2]))
    }
    var illegal: [String] = []
    var count = 0
    for n in 0..<reads {
        let q: SingleQuote?
        do { q = try books.quote(key) } catch { fail("read \(n): \(error)") }
        guard let q, legal.contains(q) else {
            count += 1
            if illegal.count < 5 { illegal.append(q.map { "\($0.timestamp):\($0.localTimestamp):\($0.mid.bitPattern)" } ?? "missing") }
            continue
        }
    }
    report(reads: reads, illegal: illegal, count: count)
}

func runCreator(_ args: [String]) {
    guard args.count == 6, let balance = try? Amount(parsing: args[3]), let count = Int(args[4]) else {
        fail("usage: create SEGMENT GOFILE reset|reconcile BALANCE COUNT CURRENCIES")
    }
    let books = openBooks(args[0], .readWrite)
    let keys = args[5].split(separator: ",").map { bookKey(String($0)) }
    // Spin on the go file so that every creator starts within microseconds of the others.
    printLine("ready")
    let deadline = Deadline(seconds: 60)
    while access(args[1], F_OK) != 0 {
        if deadline.hasPassed { fail("\(args[1]) never appeared") }
        sched_yield()
    }
    for key in keys {
        do {
            if args[2] == "reset" { try books.reset(key, balance: balance, strategyCount: count) } else {
                _ = try books.reconcile(key, exchangeBalance: balance)
            }
        } catch { fail("\(args[2]) \(key): \(error)") }
    }
    printLine("created \(keys.count)")
}

let argv = Array(CommandLine.arguments.dropFirst())
switch argv.first {
case "ops": runOps(Array(argv.dropFirst()))
case "read": runReader(Array(argv.dropFirst()))
case "read-slot": runSlotReader(Array(argv.dropFirst()), wholeRecord: false)
case "read-record": runSlotReader(Array(argv.dropFirst()), wholeRecord: true)
case "read-quote": runQuoteReader(Array(argv.dropFirst()))
case "create": runCreator(Array(argv.dropFirst()))
case "holds": runHolds(Array(argv.dropFirst()))
default: fail("usage: shmbal-worker ops|read|read-slot|read-record|read-quote|create|holds …")
}
