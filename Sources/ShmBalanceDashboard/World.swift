import ShmBalance
import ShmBalanceConfig

/// Everything the dashboard shows about the books at one moment: a plain value, so rendering is
/// a pure function of it and the tests can build one by hand with a fixed clock.
public struct World: Equatable, Sendable {
    /// The segment's path as the header shows it: terminal-safe (`TerminalText.safe`), since a
    /// path may hold escape sequences or newlines, and the frame's layout counts its characters.
    public var segmentPath: String {
        get { shownPath }
        set { shownPath = TerminalText.safe(newValue) }
    }
    private var shownPath: String
    public var readOnly: Bool
    /// Wall-clock time of the snapshot, µs since the epoch (the header's clock, the ages).
    public var nowMicros: Int64
    /// By exchange, then currency.
    public var records: [BalanceRecord] { didSet { counts = BooksCounts(records, balanceQuotes) } }
    /// The exchange's `BALANCE` quote per record, where one was written.
    public var balanceQuotes: [BookKey: SingleQuote] { didSet { counts = BooksCounts(records, balanceQuotes) } }
    /// How many records are broken, low or off the exchange: counted once per snapshot, not per
    /// frame (the status line's summary; with 500 currencies the count was most of a frame).
    public private(set) var counts: BooksCounts
    /// The newest activity entries, oldest first.
    public var activity: [ActivityEntry]
    /// The ring's head when `activity` was read: when it has not moved, nothing was appended.
    public var activityHead: UInt64
    public var defaultExchange: ShortName?
    /// What has become of the segment file (SPEC §4 "the file's own life"): anything but `.intact`
    /// is a banner over the panels, since what is drawn is no longer the books others see.
    public var fileState: Segment.FileState = .intact
    /// When the books were last read whole (µs since the epoch): `nowMicros` unless the last
    /// read failed, and then the numbers shown are that old.
    public var lastReadMicros: Int64
    /// Why the last read failed (terminal-safe); nil when the picture is this tick's.
    public private(set) var readFailure: String?
    /// The selected slot's history while its view is open (the controller fills it).
    public var history: SlotHistory?
    /// The selected currency's open holds (the controller fills it; nil before the first read).
    public var holds: RecordHolds?
    /// The currencies seen with open holds since the dashboard started: their slot panel keeps
    /// its hold columns when the last order closes, rather than jumping between two layouts.
    public var seenWithHolds: Set<BookKey> = []
    /// What the agents beside the segment last said (SPEC §10): their state and each lease.
    public var agents: [AgentStatus] = []
    /// When `agents` was read: the folder beside the segment is listed at most twice a second,
    /// not on every refresh (an agent rewrites its file once a second, or on a change).
    public var agentsReadMicros: Int64 = 0

    /// The numbers are not this tick's: the header says STALE instead of showing them as live.
    public var isStale: Bool { readFailure != nil }

    /// Marks the picture stale at `now`: it is kept, with its read time, under the marker.
    public mutating func markStale(_ why: String, now: Int64) {
        readFailure = TerminalText.safe(why)
        nowMicros = now
    }

    public init(segmentPath: String, readOnly: Bool, nowMicros: Int64, records: [BalanceRecord],
                balanceQuotes: [BookKey: SingleQuote] = [:], activity: [ActivityEntry] = [], activityHead: UInt64 = 0,
                defaultExchange: ShortName? = nil) {
        self.shownPath = TerminalText.safe(segmentPath)
        self.readOnly = readOnly
        self.nowMicros = nowMicros
        self.records = records
        self.balanceQuotes = balanceQuotes
        self.activity = activity
        self.activityHead = activityHead
        self.defaultExchange = defaultExchange
        self.lastReadMicros = nowMicros
        self.counts = BooksCounts(records, balanceQuotes)
    }

    /// How many activity entries a snapshot keeps: more than the tallest activity panel shows.
    public static let activityLimit = 100

    /// Reads a snapshot from the books through the core's reader calls (no locks). With
    /// `exchange`, only that exchange's records, quotes and activity. The activity ring is read
    /// again only when its head moved since `previous`.
    public static func capture(_ books: Books, exchange: ShortName? = nil, previous: World? = nil, nowMicros: Int64) throws(BooksError) -> World {
        var records = try books.allRecords()
        if let exchange { records = records.filter { $0.key.exchange == exchange } }
        var quotes: [BookKey: SingleQuote] = [:]
        for (key, quote) in try books.allQuotes() where key.dataType == QuoteKey.balanceType {
            if let exchange, key.exchange != exchange { continue }
            quotes[BookKey(exchange: key.exchange, currency: key.currency)] = quote
        }
        let head = books.activityHead
        var activity: [ActivityEntry]
        if let previous, previous.activityHead == head {
            activity = previous.activity
        } else {
            activity = books.activity(limit: activityLimit)
            if let exchange { activity = activity.filter { $0.key.exchange == exchange } }
        }
        var world = World(segmentPath: books.segment.path, readOnly: books.isReadOnly, nowMicros: nowMicros, records: records,
                          balanceQuotes: quotes, activity: activity, activityHead: head, defaultExchange: try books.defaultExchange)
        world.fileState = books.segment.fileState
        world.history = previous?.history
        world.holds = previous?.holds
        world.seenWithHolds = previous?.seenWithHolds ?? []
        for r in records where r.hasHolds { world.seenWithHolds.insert(r.key) }
        if let previous, nowMicros >= previous.agentsReadMicros, nowMicros - previous.agentsReadMicros < 500_000 {
            world.agents = previous.agents
            world.agentsReadMicros = previous.agentsReadMicros
        } else {
            world.agents = AgentStatus.all(beside: books.segment.path).statuses
            world.agentsReadMicros = nowMicros
        }
        return world
    }

    /// Whether the books differ from `other`'s (the clock aside): the live loop redraws on this.
    public func booksDiffer(from other: World) -> Bool {
        // Every stored field but the two clocks (`counts` follows from the records and quotes).
        // Add a new field here too: `WorldDiffTests` changes each one.
        if shownPath != other.shownPath || readOnly != other.readOnly || activityHead != other.activityHead
            || defaultExchange != other.defaultExchange || fileState != other.fileState || readFailure != other.readFailure
            || balanceQuotes != other.balanceQuotes || history != other.history || holds != other.holds || seenWithHolds != other.seenWithHolds
            || activity != other.activity || agents != other.agents {
            return true
        }
        return !World.sameRecords(records, other.records)
    }

    /// `a == b` without copying the records: a record is over a kilobyte, and comparing 500 of
    /// them by value (`==` takes copies) was more than half of an idle tick's CPU.
    static func sameRecords(_ a: [BalanceRecord], _ b: [BalanceRecord]) -> Bool {
        guard a.count == b.count else { return false }
        for i in a.indices {
            guard a[i].key == b[i].key, a[i].storedStrategyCount == b[i].storedStrategyCount, a[i].names == b[i].names,
                  a[i].slotChangedMicros == b[i].slotChangedMicros,
                  a[i].state.strategyCount == b[i].state.strategyCount, a[i].state.lastIndex == b[i].state.lastIndex,
                  a[i].state.epoch == b[i].state.epoch, a[i].state.opCount == b[i].state.opCount,
                  a[i].state.lastChangeMicros == b[i].state.lastChangeMicros, a[i].state.lastChangePid == b[i].state.lastChangePid,
                  a[i].state.creditLimit == b[i].state.creditLimit,
                  a[i].held == b[i].held, a[i].holdCounts == b[i].holdCounts else { return false }
            // Spans borrow the slots in place; subscripting the InlineArray through the array copied it.
            let sa = a[i].state.slots.span, sb = b[i].state.slots.span
            for k in 0..<sa.count where sa[k] != sb[k] { return false }
        }
        return true
    }

    public func record(_ key: BookKey?) -> BalanceRecord? {
        guard let key else { return nil }
        return records.first { $0.key == key }
    }

    /// The exchange's figure for `key`'s balance as an exact amount, when a `BALANCE` quote exists.
    public func exchangeBalance(_ key: BookKey) -> Amount? {
        guard let q = balanceQuotes[key] else { return nil }
        return try? Amount(exactly: q.mid)
    }
}

/// The status line's summary of the books.
public struct BooksCounts: Equatable, Sendable {
    public var broken = 0, low = 0, drifting = 0

    init(_ records: [BalanceRecord], _ quotes: [BookKey: SingleQuote]) {
        for i in records.indices {
            switch health(records[i]) {
            case .broken: broken += 1
            case .warning: low += 1
            case .healthy: break
            }
            if let q = quotes[records[i].key], let e = try? Amount(exactly: q.mid), e != records[i].state.total { drifting += 1 }
        }
    }
}
