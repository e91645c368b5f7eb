import Glibc
import Synchronization
import ShmBalance
import ShmBalanceConfig

/// `shmbal agent --host NAME`: keeps one host's books supplied from the ledger (SPEC §10).
///
/// Each round, per currency of the config that has lease marks: renew the lease (joining the first
/// time); wipe the local record when the ledger took the lease back (a central reset, an eviction);
/// finish any transfer a previous run left half done; report what strategies did to the local
/// total (fills, receipts, adjusts); return what a reconcile recalls; then lease chunks when the
/// local pool is under `lease_low`, or return the excess over `lease_high`.
///
/// Restartable anywhere: the state is in the ledger (its journal) and the segment (op ids), never
/// in the agent. When the ledger cannot be reached for longer than the lease's time-to-live the
/// agent says so (`fenced`) and keeps retrying.
public final class Agent {
    public struct Options: Sendable {
        public var host: String
        public var marks: [LeaseMarks]
        /// The lease's time-to-live: how long the host may go without renewing.
        public var ttlMs: Int64 = 10_000
        /// Time between rounds.
        public var intervalMs: Int = 200
        /// Stop after this many rounds (tests, the walkthrough's one-shot); nil runs for ever.
        public var rounds: Int?
        /// One line per transfer on standard output.
        public var verbose = true
        /// Called (from another task) when a round has not finished within its deadline even after
        /// its connection was closed: the driver is stuck, and the caller should start afresh
        /// (`shmbal agent` execs itself). The served records are fenced first if the ttl passed.
        public var onStuck: (@Sendable (_ lastContactMs: Int64) -> Void)?
        /// When the ledger last answered (monotonic ms), carried across such a restart so that
        /// the ttl keeps counting; nil: now.
        public var lastContactMs: Int64?
        /// Where the agent says what it is and what it leases (`AgentStatus`); nil: nowhere.
        public var statusPath: String?
        public init(host: String, marks: [LeaseMarks]) {
            self.host = host
            self.marks = marks
        }
    }

    public enum State: String, Sendable { case connecting, connected, retrying, fenced }

    let books: Books
    let url: LedgerURL
    let options: Options
    var ledger: Ledger?
    public private(set) var state: State = .connecting
    var lastContact = Agent.nowMs()

    public init(books: Books, url: LedgerURL, options: Options) throws(LedgerError) {
        try LedgerHost.check(options.host)
        if let t = options.lastContactMs { lastContact = t }
        guard !options.marks.isEmpty else { throw LedgerError.badInput("the config names no leased currency: give lease_low, lease_high and lease_chunk in a [EXCHANGE.CURRENCY] table") }
        self.books = books
        self.url = url
        self.options = options
    }

    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    func say(_ line: String) {
        guard options.verbose else { return }
        // One write per line, unbuffered: a log read while the agent runs (or after a SIGKILL) is whole.
        Agent.write("agent \(options.host): \(line)")
    }

    /// Runs rounds until `options.rounds` (or for ever). Fails only on what retrying cannot mend:
    /// the local books refusing what the ledger already did (see `Agent.finishLocal`).
    ///
    /// Each round has a deadline (`roundDeadlineMs`): a ledger that does not answer (a partition
    /// drops packets, and TCP would wait minutes) gets its connection closed, which fails whatever
    /// query was waiting. Past the lease's time-to-live without a round that reached the ledger,
    /// every served record is fenced: allocate is refused there until the ledger answers again,
    /// so a host that is cut off stops spending its pool before an operator may evict it.
    public func run() async throws {
        var round = 0
        while options.rounds.map({ round < $0 }) ?? true {
            round += 1
            do {
                try await roundWithDeadline()
                lastContact = Agent.nowMs()
                if fenced != false, try setFence(false) > 0 { say("the ledger answers again: the fence is lifted") }
                lastContactWall = Agent.wallMicros()
                if state != .connected { say("connected to \(url)"); state = .connected }
            } catch {
                if let l = ledger { await l.close(); ledger = nil }
                switch LedgerError.from(error, url.description) {
                case .books, .schema, .badInput: throw LedgerError.from(error, url.description)
                case .refused(let why): say("refused: \(why)")
                case .unreachable(let why):
                    if Agent.nowMs() - lastContact > options.ttlMs {
                        // Every round, not once: a record unfenced meanwhile (a snapshot restored
                        // over it, a record made anew) is fenced again within one interval.
                        if try setFence(true) > 0, state == .fenced { say("fenced again: a served record was unfenced while the ledger stays unreachable") }
                        if state != .fenced {
                            say("fenced: no answer from the ledger for over \(options.ttlMs) ms, allocations refused here (\(why))")
                            state = .fenced
                        }
                    } else if state != .retrying {
                        say("retrying: \(why)")
                        state = .retrying
                    }
                }
            }
            writeStatus()
            try? await Task.sleep(for: .milliseconds(options.intervalMs))
        }
        if let l = ledger { await l.close() }
    }

    // MARK: - The status file

    /// The lease of each served currency as the ledger last said, and its generation.
    var known: [BookKey: (lease: Wide, generation: Int64)] = [:]
    var lastContactWall: Int64 = 0
    var lastStatus = ""
    var lastStatusWrite: Int64 = 0

    func noteLease(_ key: BookKey, _ lease: Wide, generation: Int64) { known[key] = (lease, generation) }

    static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Rewrites the status file when what it says changed, and at least once a second (its
    /// `updated_us` tells a reader the agent is alive).
    func writeStatus() {
        guard let path = options.statusPath else { return }
        let leases = options.marks.compactMap { m in known[m.key].map { AgentStatus.Lease(key: m.key, amount: $0.lease.amount, generation: $0.generation) } }
        var status = AgentStatus(host: options.host, pid: getpid(), state: state.rawValue, updatedMicros: 0,
                                 contactMicros: lastContactWall, ttlMs: options.ttlMs, leases: leases)
        let now = Agent.nowMs(), body = status.text
        guard body != lastStatus || now - lastStatusWrite >= 1000 else { return }
        status.updatedMicros = Agent.wallMicros()
        if status.write(to: path) {
            lastStatus = body
            lastStatusWrite = now
        }
    }

    /// Whether this agent fenced the served records; nil at start: a fence an earlier run left
    /// is lifted after the first round that reaches the ledger.
    var fenced: Bool?

    /// Fences (or unfences) every served record (one not made yet is skipped); how many changed.
    func setFence(_ on: Bool) throws(LedgerError) -> Int {
        var changed = 0
        for m in options.marks where books.record(m.key) != nil {
            try local("fencing \(m.key)") { () throws(BooksError) in
                if try books.get(m.key).state.fenced != on {
                    try books.setFenced(m.key, on)
                    changed += 1
                }
            }
        }
        fenced = on
        return changed
    }

    /// Half the time-to-live, at most 3 s: several tries fit in one ttl.
    var roundDeadlineMs: Int64 { min(options.ttlMs / 2, 3000) }

    func roundWithDeadline() async throws {
        let ms = roundDeadlineMs
        let finished = Flag(), connection = LedgerBox(ledger)
        let stuck = StuckRound(books: books, keys: options.marks.map(\.key), fence: Agent.nowMs() - lastContact > options.ttlMs - 2 * ms,
                               lastContact: lastContact,
                               onStuck: options.onStuck, say: { [host = options.host, verbose = options.verbose] line in
                                   if verbose { Agent.write("agent \(host): \(line)") } })
        // The watchdog closes the connection when the round (connecting included) outlives its
        // deadline, which fails whatever query waits on it. A round still not done a deadline
        // later is stuck in the driver (seen with postgres-nio when the server died mid-query):
        // `onStuck` starts afresh.
        let watchdog = Task {
            try? await Task.sleep(for: .milliseconds(ms))
            guard !finished.isSet else { return }
            if let l = connection.value { Task { await l.close() } }
            try? await Task.sleep(for: .milliseconds(ms))
            guard !finished.isSet else { return }
            stuck.handle(after: 2 * ms)
        }
        defer {
            finished.set()
            watchdog.cancel()
        }
        if ledger == nil {
            ledger = try await Ledger.connect(url)
            connection.value = ledger
        }
        try await round()
    }

    /// One round over every leased currency.
    public func round() async throws {
        if ledger == nil { ledger = try await Ledger.connect(url) }
        // By index: a LeaseMarks (amounts inside) is never an async argument (see `Wide`).
        for i in options.marks.indices { try await serve(i, ledger!) }
    }

    func local<T>(_ what: String, _ body: () throws(BooksError) -> T) throws(LedgerError) -> T {
        do { return try body() } catch { throw LedgerError.books("\(what): \(error)") }
    }

    /// What one currency needs after its report: nothing, a return, or a lease.
    enum Move {
        case none
        case giveBack(Wide, opSeq: UInt64)
        case lease(Wide, opSeq: UInt64)
    }

    // The async part keeps only small values (Wide, ints, the lease) across its awaits: what reads
    // the books and decides is synchronous (`drift`, `nextMove`), so no `BalanceRecord` or
    // `LeaseMarks` (Int128 inside) lives in an async frame (see `Wide`).
    func serve(_ which: Int, _ ledger: Ledger) async throws {
        let key = options.marks[which].key, host = options.host
        var lease = try await ledger.renew(key, host: host, ttlMs: options.ttlMs, agentState: State.connected.rawValue)
        noteLease(key, lease.amount.wide, generation: lease.generation)
        if lease.evicted || lease.hostGeneration < lease.generation {
            try wipe(key, generation: lease.generation, instance: ledger.instance)
            try await ledger.rejoin(key, host: host, generation: lease.generation)
            say("\(key): the ledger took the lease back (generation \(lease.generation)): local books wiped, leasing anew")
            return
        }
        if books.record(key) == nil { try local("creating \(key)") { () throws(BooksError) in try books.reset(key, balance: .zero) } }
        let open = try await ledger.unfinished(key, host: host)
        for t in open where t.generation == lease.generation {
            let applied = try finishLocal(key, t, ledger)
            try await ledger.finish(key, host: host, seq: t.seq, kind: t.kind, amount: t.amount.wide, applied: applied)
            say("\(key): finished \(t.kind.rawValue) \(t.amount) left by an earlier run (\(applied ? "applied" : "refused locally"))")
        }
        if !open.isEmpty {
            lease = try await ledger.renew(key, host: host, ttlMs: options.ttlMs, agentState: State.connected.rawValue)
            noteLease(key, lease.amount.wide, generation: lease.generation)
        }

        // What strategies did to the local total since the last report (fills, receipts, adjusts).
        let drift = try drift(key, lease: lease.amount.wide)
        if drift.amount.raw != 0 {
            guard try await ledger.report(key, host: host, expected: lease.amount.wide, delta: drift, generation: lease.generation) else { return }
            lease.amount = Amount(raw: lease.amount.raw + drift.amount.raw)
            noteLease(key, lease.amount.wide, generation: lease.generation)
        }
        switch try nextMove(which, recall: lease.recall.wide) {
        case .none:
            return
        case .giveBack(let amount, let opSeq):
            let t = try await ledger.beginReturn(key, host: host, amount: amount, generation: lease.generation, localOpSeq: opSeq)
            let applied = try finishLocal(key, t, ledger)
            try await ledger.finish(key, host: host, seq: t.seq, kind: t.kind, amount: t.amount.wide, applied: applied)
            if applied { noteLease(key, Amount(raw: lease.amount.raw - t.amount.raw).wide, generation: lease.generation) }
            say("\(key): returned \(t.amount)\(applied ? "" : " — refused locally (strategies took it first)")")
        case .lease(let want, let opSeq):
            guard let t = try await ledger.grant(key, host: host, want: want, generation: lease.generation, localOpSeq: opSeq) else { return }
            _ = try finishLocal(key, t, ledger)
            try await ledger.finish(key, host: host, seq: t.seq, kind: t.kind, amount: t.amount.wide, applied: true)
            noteLease(key, Amount(raw: lease.amount.raw + t.amount.raw).wide, generation: lease.generation)
            say("\(key): leased \(t.amount) (pool \(try poolText(key)))")
        }
    }

    /// The ledger took this lease back: the local books of this currency go to 0 (holds and budgets
    /// with them: a new epoch, strategies ask again) under an op id, so a retry wipes once.
    func wipe(_ key: BookKey, generation: Int64, instance: String) throws(LedgerError) {
        try local("wiping \(key)") { () throws(BooksError) in
            try books.reset(key, balance: .zero, dropHolds: true, opId: try OperationId("\(instance)-w\(generation)"))
            if try books.get(key).creditLimit.raw != 0 { try books.setCreditLimit(key, .zero) }
        }
    }

    /// local total − lease.
    func drift(_ key: BookKey, lease: Wide) throws(LedgerError) -> Wide {
        let r = try local("reading \(key)") { () throws(BooksError) in try books.get(key) }
        return Amount(raw: r.state.total.raw - lease.amount.raw).wide
    }

    func poolText(_ key: BookKey) throws(LedgerError) -> String {
        try local("reading \(key)") { () throws(BooksError) in try books.get(key) }.state.pool.description
    }

    /// A recall first (what the free pool has of it), then the water marks: above `high`, return
    /// down to the middle of the marks; below `low`, lease whole chunks until at least `low`.
    func nextMove(_ which: Int, recall: Wide) throws(LedgerError) -> Move {
        let m = options.marks[which]
        let r = try local("reading \(m.key)") { () throws(BooksError) in try books.get(m.key) }
        let headroom = r.state.headroom.raw, recall = recall.amount.raw
        if recall > 0 && headroom > 0 { return .giveBack(Amount(raw: min(recall, headroom)).wide, opSeq: r.opIdSequence) }
        if headroom > m.high.raw { return .giveBack(Amount(raw: headroom - m.target.raw).wide, opSeq: r.opIdSequence) }
        if headroom < m.low.raw {
            let chunks = (m.low.raw - headroom + m.chunk.raw - 1) / m.chunk.raw
            return .lease(Amount(raw: min(chunks * m.chunk.raw, Amount.limit)).wide, opSeq: r.opIdSequence)
        }
        return .none
    }

    /// The local step of a transfer, under its op id: a grant adds to the pool, a return withdraws
    /// (refused when strategies hold the pool). A retry gets the first result. Refuses to guess
    /// when the record has published more op ids since than its window remembers: the ledger's row
    /// stays unfinished and the operator decides (`shmbal ledger list` shows it).
    func finishLocal(_ key: BookKey, _ t: LedgerTransfer, _ ledger: Ledger) throws(LedgerError) -> Bool {
        let r = try local("reading \(key)") { () throws(BooksError) in try books.get(key) }
        if Int64(truncatingIfNeeded: r.opIdSequence) - t.localOpSeq >= Int64(r.opIdWindow) {
            throw LedgerError.books("\(key): transfer \(t.seq) (\(t.kind.rawValue) \(t.amount)) was left unfinished and the record has since published more op ids than its window of \(r.opIdWindow) remembers: whether it was applied here cannot be told; reconcile this host's books by hand")
        }
        let id: OperationId
        do { id = try OperationId(ledger.localOpId(t.seq)) } catch { throw LedgerError.books("\(error)") }
        do {
            switch t.kind {
            case .grant: try books.adjust(key, t.amount, index: 1, opId: id)
            case .return: try books.withdraw(key, t.amount, opId: id)
            }
            return true
        } catch {
            if case .refused(let why) = error, t.kind == .return, why.code == .insufficientHeadroom { return false }
            throw LedgerError.books("\(key): the local step of \(t.kind.rawValue) \(t.amount) failed: \(error)")
        }
    }
}


extension Agent {
    /// One line on standard output in one write, unbuffered: a log read while the agent runs (or
    /// after a SIGKILL) is whole.
    static func write(_ line: String) {
        let text = TerminalText.safe(line) + "\n"
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(1, $0.baseAddress, $0.count - 1) }
    }
}

/// What the watchdog does with a round stuck in the driver: fence the served records when the
/// ttl is (about to be) past, say so, and hand over to `onStuck`.
struct StuckRound: Sendable {
    let books: Books
    let keys: [BookKey]
    let fence: Bool
    let lastContact: Int64
    let onStuck: (@Sendable (Int64) -> Void)?
    let say: @Sendable (String) -> Void

    func handle(after ms: Int64) {
        if fence {
            for k in keys where books.record(k) != nil { try? books.setFenced(k, true) }
        }
        say("no answer from the ledger within \(ms) ms, even with its connection closed: starting afresh\(fence ? " (records fenced)" : "")")
        onStuck?(lastContact)
    }
}

/// The round's connection, for its watchdog to close.
final class LedgerBox: Sendable {
    private let ledger: Mutex<Ledger?>
    init(_ l: Ledger?) { ledger = Mutex(l) }
    var value: Ledger? {
        get { ledger.withLock { $0 } }
        set { ledger.withLock { $0 = newValue } }
    }
}

/// A flag two tasks share (the round and its watchdog).
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
