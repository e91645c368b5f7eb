// shmbal-worker: a process the multi-process and crash tests spawn.
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
import Glibc
import ShmBalance

func fail(_ message: String) -> Never {
    let text = "shmbal-worker: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

/// Appends one line with a single write(2): it survives the process being killed right after.
struct LineLog {
    let fd: Int32

    init(_ path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { fail("cannot open \(path)") }
    }

    func line(_ s: String) {
        let text = s + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}

nonisolated(unsafe) var pauseLog: LineLog?

func runOps(_ args: [String]) {
    guard args.count >= 5, let opCount = Int(args[3]), let seed = UInt64(args[4]) else {
        fail("usage: ops SEGMENT LOG CURRENCIES OPS SEED [pause]")
    }
    let books: Books
    do { books = try Books.open(args[0], .readWrite) } catch { fail("\(error)") }
    let log = LineLog(args[1])
    let currencies = args[2].split(separator: ",").map(String.init)
    let records = currencies.map { c -> RecordRef in
        guard let k = try? BookKey("KRAKEN", c), let r = books.record(k) else { fail("no record KRAKEN \(c)") }
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
    let books: Books
    do { books = try Books.open(args[0], .readOnly) } catch { fail("\(error)") }
    let records = args[1].split(separator: ",").compactMap { c in (try? BookKey("KRAKEN", c)).flatMap { books.record($0) } }
    var state = RecordState()
    var reads = 0, violations = 0
    while access(args[2], F_OK) != 0 {
        for rec in records {
            do { try rec.read(into: &state) } catch { fail("\(error)") }
            reads += 1
            if !state.identityHolds { violations += 1 }
        }
    }
    print("reads \(reads) violations \(violations)")
}

let argv = Array(CommandLine.arguments.dropFirst())
switch argv.first {
case "ops": runOps(Array(argv.dropFirst()))
case "read": runReader(Array(argv.dropFirst()))
default: fail("usage: shmbal-worker ops|read …")
}
