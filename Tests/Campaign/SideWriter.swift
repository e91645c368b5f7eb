import Glibc
import ShmBalance
import ShmBalanceTestKit

// The side writer: everything other processes read besides a record's money state, written by
// one process the killer also kills parked inside every kind of publish — quotes (new and
// rewritten), slot names, `config apply` (record states, names, new records, the default
// exchange) and `snapshot restore` (new records, new quotes, the default exchange). Every value it
// writes checks itself, so the reader can tell from any single copy whether it was completely
// written; its log (intent, ack) lets the killer decide each cut-off operation exactly.
//
//   quotes   SIDE BALANCE Q<k>: timestamp = seq, localTimestamp = seq ^ stamp, mid = seq
//   names    SIDE NAMES slot i (2…7) = "s<seq>"
//   config   SIDE CFG<k>: credit = seq whole units, names 2 and 3 = "c<seq>"; every apply rewrites
//            all of them (and now and then creates the next CFG<k>); default exchange SIDE or CAMPAIGN
//   restore  a scratch segment, emptied, then the campaign's snapshot restored into it

enum Side {
    static let exchange = "SIDE"
    static let stamp: Int64 = 0x5A5A_5A5A
    static let namesKey = try! BookKey(exchange, "NAMES")
    static func quoteKey(_ k: Int) -> QuoteKey { try! QuoteKey(exchange, "BALANCE", "Q\(k)") }
    static func configKey(_ k: Int) -> BookKey { try! BookKey(exchange, "CFG\(k)") }
    static let firstConfigs = 3
    static let maxConfigs = 60
    static let maxQuotes = 400
    static let defaults = [try! ShortName("SIDE"), try! ShortName("CAMPAIGN")]

    static func quote(_ seq: Int) -> SingleQuote { SingleQuote(timestamp: Int64(seq), localTimestamp: Int64(seq) ^ stamp, mid: Double(seq)) }

    /// The config the side writer applies at `seq` over `count` CFG records.
    static func config(_ seq: Int, count: Int) -> [RecordConfig] {
        let name = try! ShortName("c\(seq)", kind: .label)
        return (0..<count).map { RecordConfig(key: configKey($0), creditLimit: Amount(whole: Int64(seq))!, names: [2: name, 3: name]) }
    }

    /// The seq a CFG record's (credit, names) say it was last configured with; nil when the two disagree
    /// (a copy that mixes two applies: a value not completely written).
    static func configSeq(_ r: BalanceRecord) -> Int? {
        let credit = r.creditLimit
        guard credit.raw % Amount.scale == 0, let n = Int(exactly: credit.raw / Amount.scale), r.names.count > 3 else { return nil }
        return r.names[2].description == "c\(n)" && r.names[3].description == "c\(n)" ? n : nil
    }

    /// The seq in a slot name "s<seq>", 0 for an empty name, nil for anything else.
    static func nameSeq(_ n: ShortName) -> Int? {
        let s = n.description
        if s.isEmpty { return 0 }
        guard s.hasPrefix("s") else { return nil }
        return Int(s.dropFirst())
    }

    /// Every side value any reader can see, checked for being whole. Returns what is wrong.
    static func check(_ books: Books) -> [String] {
        var problems: [String] = []
        do {
            for (key, q) in try books.allQuotes() where key.exchange.description == exchange {
                if q.timestamp <= 0 || q.localTimestamp != q.timestamp ^ stamp || q.mid != Double(q.timestamp) {
                    problems.append("quote \(key) was read incompletely written: \(q)")
                }
            }
            if let r = books.record(namesKey) {
                let rec = try books.get(r)
                for i in 2..<min(8, rec.names.count) where nameSeq(rec.names[i]) == nil {
                    problems.append("\(namesKey) slot \(i) name '\(rec.names[i])' was read incompletely written")
                }
            }
            for k in 0..<maxConfigs {
                guard let r = books.record(configKey(k)) else { break }
                let rec = try books.get(r)
                if configSeq(rec) == nil { problems.append("\(configKey(k)): credit \(rec.creditLimit) and names \(rec.names.prefix(4)) disagree") }
                if !rec.identityHolds { problems.append("\(configKey(k)): identity broken") }
            }
            if let d = try books.defaultExchange, !defaults.contains(d) { problems.append("default exchange '\(d)' was never written") }
        } catch {
            problems.append("side values cannot be read: \(error)")
        }
        return problems
    }
}

/// The side writer's operations (the log's words).
enum SideOp: String {
    case quote, newQuote = "newquote", name, config, restore
}

func runSideWriter(_ a: Args) -> Never {
    let slotId = a.int("id")
    let parent = pid_t(a.int("parent"))
    let status = StatusPage.attach(a.string("status"))
    let books: Books
    do { books = try Books.open(a.string("segment"), .readWrite) } catch { fail("side writer: \(error)") }
    let scratch = a.string("scratch"), snapshot = a.string("snapshot")
    let logFd = open(a.string("log"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard logFd >= 0 else { fail("side writer: cannot open its log: errno \(errno)") }
    let me = getpid()
    status.writer(slotId, .pid).store(UInt64(me), ordering: .releasing)
    installFaultHook(status, writer: slotId, pausePermille: UInt64(a.int("pause-permille", 125)))
    var rng = SplitMix64(seed: UInt64(a.int("seed", 1)) &* 0x100_0000 ^ UInt64(me))
    var seq = a.int("start-seq")
    var quotes = 0
    while quotes < Side.maxQuotes, (try? books.quote(Side.quoteKey(quotes))) ?? nil != nil { quotes += 1 }
    var configs = 0
    while configs < Side.maxConfigs, books.record(Side.configKey(configs)) != nil { configs += 1 }

    while !status.stopped {
        if getppid() != parent { exit(3) }
        seq += 1
        let roll = Int.random(in: 0..<100, using: &rng)
        let op: SideOp = roll < 30 ? .quote : roll < 40 ? (quotes < Side.maxQuotes ? .newQuote : .quote) : roll < 65 ? .name : roll < 92 ? .config : .restore
        var arg = 0
        switch op {
        case .quote: arg = quotes == 0 ? 0 : Int.random(in: 0..<quotes, using: &rng)
        case .newQuote: arg = quotes
        case .name: arg = Int.random(in: 2..<8, using: &rng)
        case .config: arg = configs < Side.maxConfigs && Int.random(in: 0..<4, using: &rng) == 0 ? configs + 1 : configs
        case .restore: arg = 0
        }
        appendLine(logFd, "I \(me) \(seq) \(op.rawValue) \(arg)")
        do {
            switch op {
            case .quote, .newQuote:
                try books.writeQuote(Side.quoteKey(arg), Side.quote(seq))
                if op == .newQuote { quotes += 1 }
            case .name:
                try books.setName(Side.namesKey, index: arg, try ShortName("s\(seq)", kind: .label))
            case .config:
                _ = try books.applyConfiguration(Side.config(seq, count: arg), defaultExchange: Side.defaults[seq & 1])
                configs = arg
            case .restore:
                unlink(scratch)
                _ = try Segment.create(scratch)
                _ = try SnapshotFile.restore(from: snapshot, toSegment: scratch)
            }
        } catch {
            appendLine(logFd, "E \(me) \(seq) \(error)")
            printErr("VIOLATION side writer op \(seq) \(op.rawValue) \(arg) failed: \(error)")
            status.writer(slotId, .violations).wrappingIncrement(ordering: .relaxed)
        }
        status.writer(slotId, .phase).store(0, ordering: .releasing)
        appendLine(logFd, "A \(me) \(seq)")
        status.writer(slotId, .ops).wrappingIncrement(ordering: .relaxed)
    }
    exit(0)
}

/// The killer's view of the side writer: the last acknowledged value of everything it wrote, and
/// the decision of each operation a kill cut off.
final class SideLedger {
    var tail: LogTail
    var path: String { tail.path }
    var lastSeq = 0
    var pending: (seq: Int, op: SideOp, arg: Int)?
    var quoteSeq: [Int: Int] = [:]      // quote k → seq of its last acknowledged write
    var nameSeq: [Int: Int] = [:]       // slot → seq
    var configSeq = 0, configCount = Side.firstConfigs
    var acked = 0
    var cutOff: [SideOp: (applied: Int, not: Int)] = [:]
    var restoreReruns = 0

    init(path: String) { tail = LogTail(path: path) }

    /// Reads the complete lines appended since the last call.
    func consume() -> [String] {
        var problems: [String] = []
        let lines: [ArraySlice<UInt8>]
        switch tail.read() {
        case .success(let l): lines = l
        case .failure(let e): return ["side writer: cannot read its log: errno \(e.errno)"]
        }
        for line in lines {
            let w = line.split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
            guard w.count >= 3, let seq = Int(w[2]) else { problems.append("side writer: unreadable log line"); continue }
            lastSeq = max(lastSeq, seq)
            switch w[0] {
            case "I":
                guard w.count == 5, let op = SideOp(rawValue: w[3]), let arg = Int(w[4]) else { problems.append("side writer: bad intent line"); continue }
                pending = (seq, op, arg)
            case "A":
                guard let p = pending, p.seq == seq else { problems.append("side writer: ack \(seq) without its intent"); continue }
                record(p)
                acked += 1
                pending = nil
            case "E":
                problems.append("side writer op \(seq) failed: \(w.dropFirst(3).joined(separator: " "))")
            default:
                problems.append("side writer: unknown log line")
            }
        }
        return problems
    }

    private func record(_ p: (seq: Int, op: SideOp, arg: Int)) {
        switch p.op {
        case .quote, .newQuote: quoteSeq[p.arg] = p.seq
        case .name: nameSeq[p.arg] = p.seq
        case .config:
            configSeq = p.seq
            configCount = p.arg
        case .restore: break
        }
    }

    /// After a kill: the operation in flight is applied wholly or not at all; then what it would
    /// leave unfinished (a config apply, a restore) is finished by running it again, as an operator would.
    func resolveInFlight(_ books: Books, scratch: String, snapshot: String) -> [String] {
        guard let p = pending else { return [] }
        pending = nil
        var problems: [String] = []
        var applied = false
        do {
            switch p.op {
            case .quote, .newQuote:
                let now = try books.quote(Side.quoteKey(p.arg)).map { Int($0.timestamp) }
                let before = quoteSeq[p.arg]
                if now == p.seq { applied = true } else if now != before {
                    problems.append("in-flight quote \(p.arg) at \(p.seq): the books hold \(now.map(String.init) ?? "none"), before it \(before.map(String.init) ?? "none")")
                }
            case .name:
                let names = try books.get(Side.namesKey).names
                let now = Side.nameSeq(names[p.arg])
                if now == p.seq { applied = true } else if now != (nameSeq[p.arg] ?? 0) {
                    problems.append("in-flight name of slot \(p.arg) at \(p.seq): the books say \(names[p.arg])")
                }
            case .config:
                // Each record wholly old or wholly new; new records complete or absent.
                var new = 0, old = 0
                for k in 0..<p.arg {
                    guard let r = books.record(Side.configKey(k)) else {
                        if k < configCount { problems.append("in-flight config: \(Side.configKey(k)) disappeared") }
                        continue
                    }
                    switch Side.configSeq(try books.get(r)) {
                    case p.seq?: new += 1
                    case configSeq?: old += 1
                    case let other: problems.append("in-flight config \(p.seq): \(Side.configKey(k)) holds \(other.map(String.init) ?? "a mix")")
                    }
                }
                applied = new > 0 && old == 0
                // Running the same apply again finishes the job.
                _ = try books.applyConfiguration(Side.config(p.seq, count: p.arg), defaultExchange: Side.defaults[p.seq & 1])
                configSeq = p.seq
                configCount = p.arg
                for k in 0..<p.arg where Side.configSeq(try books.get(Side.configKey(k))) != p.seq {
                    problems.append("config applied again did not finish the job: \(Side.configKey(k))")
                }
            case .restore:
                problems += checkInterruptedRestore(scratch: scratch, snapshot: snapshot)
                applied = true
            }
        } catch {
            problems.append("side in-flight \(p.op.rawValue) \(p.seq): \(error)")
        }
        var c = cutOff[p.op] ?? (0, 0)
        if applied { c.applied += 1 } else { c.not += 1 }
        cutOff[p.op] = c
        if applied { record(p) }
        return problems
    }

    /// What a killed restore left is nothing, or records without quotes, or all of it; a second
    /// restore finishes it and the result is the snapshot exactly.
    func checkInterruptedRestore(scratch: String, snapshot: String) -> [String] {
        var problems: [String] = []
        do {
            let snap = try SnapshotFile.read(snapshot)
            if let seg = try? Segment.open(scratch, .readOnly) {
                let b = Books(seg)
                let records = b.keys().count, quotes = try b.allQuotes().count
                if !(records == 0 || records == snap.records.count) { problems.append("a killed restore left \(records) of \(snap.records.count) records") }
                if quotes != 0 && (quotes != snap.quotes.count || records != snap.records.count) {
                    problems.append("a killed restore left \(quotes) quotes with \(records) records")
                }
            }
            _ = try SnapshotFile.restore(from: snapshot, toSegment: scratch)
            restoreReruns += 1
            let done = try Books.open(scratch, .readOnly).takeSnapshot()
            if done.records != snap.records || done.quotes != snap.quotes || done.defaultExchange != snap.defaultExchange {
                problems.append("restore run again did not give the snapshot's books")
            }
        } catch {
            problems.append("restoring again after a killed restore failed: \(error)")
        }
        return problems
    }

    /// The books hold every acknowledged side write.
    func verify(_ books: Books) -> [String] {
        var problems: [String] = []
        for (k, seq) in quoteSeq {
            let now = (try? books.quote(Side.quoteKey(k)))?.map { Int($0.timestamp) }
            if now != seq { problems.append("quote Q\(k): acknowledged \(seq), the books hold \(now.map(String.init) ?? "none")") }
        }
        if let names = try? books.get(Side.namesKey).names {
            for (i, seq) in nameSeq where Side.nameSeq(names[i]) != seq {
                problems.append("\(Side.namesKey) slot \(i): acknowledged s\(seq), the books say \(names[i])")
            }
        }
        if configSeq > 0 {
            for k in 0..<configCount {
                let now = (try? books.get(Side.configKey(k))).flatMap(Side.configSeq)
                if now != configSeq { problems.append("\(Side.configKey(k)): acknowledged config \(configSeq), the books hold \(now.map(String.init) ?? "a mix or nothing")") }
            }
        }
        return problems
    }
}
