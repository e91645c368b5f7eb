import NIOConcurrencyHelpers
import Prometheus
import ShmBalance
import ShmBalanceDashboard

// `shmbal metrics`' content: the books as Prometheus metrics. A scrape is the dashboard's read
// (`World.capture`: seqlock copies, no lock, never a write), so it cannot slow a writer down.

/// Follows the activity ring between scrapes (for the counters the segment does not keep) and
/// renders the exposition text on each scrape. The follower thread and the HTTP event loop share
/// it: one lock around the follower (a scrape takes microseconds).
final class MetricsExporter: @unchecked Sendable {
    let books: Books
    let exchange: ShortName?
    private let lock = NIOLock()
    private var follower: ActivityFollower
    /// Counted from the activity ring since this exporter started: they live across scrapes.
    /// Gauges are made anew for every scrape, so a renamed slot or a shrunk count leaves no stale series.
    private let counters = PrometheusCollectorRegistry()
    private var seeded: Set<BookKey> = []
    private var counterCache: [Series: Counter] = [:]
    private let unread: Counter

    /// The operations whose counters exist (at 0) from the first scrape that sees a record, so
    /// that `increase()` sees their first event too.
    static let countedOperations: [Operation] = [.reset, .set, .adjust, .allocate, .release, .reconcile]

    init(_ books: Books, exchange: ShortName?) {
        self.books = books
        self.exchange = exchange
        follower = ActivityFollower(books, newest: 0)
        unread = counters.makeCounter(descriptor: M.unread, labels: [])
    }

    /// Counts what the activity ring gained since the last call; the segment file's error once it
    /// was removed, replaced or truncated (nothing more can be read from it).
    func follow() -> SegmentError? {
        lock.withLock { followLocked() }
    }

    private func followLocked() -> SegmentError? {
        if let gone = books.segment.fileError { return gone }
        // Tallied first, then one increment per series: a writer going flat out puts a whole
        // ring (thousands of entries) in every poll, and a counter lookup per entry made that
        // writer 1.27× slower beside the exporter (Benchmarks/run --only scrape; 1.01× now).
        var tally: [Series: Int64] = [:]
        for event in follower.poll(nowMs: monotonicMs()) {
            switch event {
            case .entry(let e):
                guard let op = e.operation, exchange == nil || e.key.exchange == exchange else { continue }
                tally[Series(key: e.key, operation: op, applied: op == .recoverLock || e.applied), default: 0] += 1
            case .overwritten(let first, let last): unread.increment(by: Int64(last - first + 1))
            case .unfinished: unread.increment()
            }
        }
        for (series, n) in tally { counter(series).increment(by: n) }
        return nil
    }

    /// One scrape: the text exposition format (version 0.0.4).
    func exposition() throws(BooksError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        _ = followLocked()
        let world = try World.capture(books, exchange: exchange, nowMicros: 0)
        let g = PrometheusCollectorRegistry()
        let geometry = books.segment.geometry
        g.makeGauge(descriptor: M.records, labels: []).set(Double(books.keys().count))
        g.makeGauge(descriptor: M.recordCapacity, labels: []).set(Double(geometry.recordCapacity))
        g.makeGauge(descriptor: M.ringHead, labels: []).set(Double(world.activityHead))
        g.makeGauge(descriptor: M.ringCapacity, labels: []).set(Double(geometry.ringCapacity))
        for r in world.records {
            seed(r.key)
            let l = Self.labels(r.key)
            let s = r.state
            g.makeGauge(descriptor: M.total, labels: l).set(s.total.doubleValue)
            g.makeGauge(descriptor: M.pool, labels: l).set(s.pool.doubleValue)
            g.makeGauge(descriptor: M.allocated, labels: l).set(s.allocated.doubleValue)
            g.makeGauge(descriptor: M.credit, labels: l).set(s.creditLimit.doubleValue)
            g.makeGauge(descriptor: M.headroom, labels: l).set(s.headroom.doubleValue)
            g.makeGauge(descriptor: M.identity, labels: l).set(r.identityHolds ? 1.0 : 0.0)
            g.makeGauge(descriptor: M.problems, labels: l).set(Double(r.problems.count))
            g.makeGauge(descriptor: M.epoch, labels: l).set(Double(r.epoch))
            g.makeGauge(descriptor: M.strategies, labels: l).set(Double(r.strategyCount))
            // The same drift the dashboard shows: the exchange's BALANCE quote − the local total.
            if let exchange = world.exchangeBalance(r.key), let d = exchange.subtracting(s.total) {
                g.makeGauge(descriptor: M.drift, labels: l).set(d.doubleValue)
            }
            // Kept by the segment itself: exact, and it survives an exporter restart.
            g.makeCounter(descriptor: M.recordOperations, labels: l)
                .increment(by: Int64(truncatingIfNeeded: s.opCount))
            for i in 2..<r.strategyCount {
                let sl = l + [("slot", String(i)), ("name", r.names[i].description)]
                g.makeGauge(descriptor: M.budget, labels: sl).set(s.slots[i].doubleValue)
            }
        }
        var out: [UInt8] = []
        g.emit(into: &out)
        counters.emit(into: &out)
        return out
    }

    /// One counter series fed from the activity ring.
    private struct Series: Hashable {
        var key: BookKey
        var operation: Operation
        var applied: Bool
    }

    private func counter(_ s: Series) -> Counter {
        if let c = counterCache[s] { return c }
        let l = Self.labels(s.key)
        let c = s.operation == .recoverLock
            ? counters.makeCounter(descriptor: M.recoveries, labels: l)
            : counters.makeCounter(descriptor: s.applied ? M.applied : M.refused, labels: l + [("operation", s.operation.description)])
        counterCache[s] = c
        return c
    }

    private func seed(_ key: BookKey) {
        guard seeded.insert(key).inserted else { return }
        _ = counter(Series(key: key, operation: .recoverLock, applied: true))
        for op in Self.countedOperations {
            _ = counter(Series(key: key, operation: op, applied: true))
            _ = counter(Series(key: key, operation: op, applied: false))
        }
    }

    static func labels(_ key: BookKey) -> [(String, String)] {
        [("exchange", key.exchange.description), ("currency", key.currency.description)]
    }

    /// The metrics served, each with its HELP text. Amounts are float64 (Prometheus has no other
    /// number): exact values come from `shmbal get --json`.
    enum M {
        static let float = " As a float64: exact values are in `shmbal get --json`."
        static func d(_ name: String, _ unit: String = "", _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "shmbal", metricName: name, unitName: unit, helpText: help)
        }
        static var total: MetricNameDescriptor { d("total", "", "The account's total in this currency (slot 0)." + float) }
        static var pool: MetricNameDescriptor { d("pool", "", "Money not allocated to any sub-strategy (slot 1)." + float) }
        static var allocated: MetricNameDescriptor { d("allocated", "", "The sum of the sub-strategy budgets (slots 2 and up)." + float) }
        static var credit: MetricNameDescriptor { d("credit", "", "The currency's credit limit." + float) }
        static var headroom: MetricNameDescriptor {
            d("headroom", "", "pool + credit: what allocate may still hand out; below 0 the books are broken." + float)
        }
        static var identity: MetricNameDescriptor { d("identity", "", "1 when total == pool + budgets exactly, 0 when the identity is broken.") }
        static var problems: MetricNameDescriptor { d("problems", "", "How many problems `shmbal check` finds in the record (0: sound books).") }
        static var epoch: MetricNameDescriptor { d("epoch", "", "The record's reset epoch (every reset adds 1).") }
        static var strategies: MetricNameDescriptor { d("strategies", "", "The record's strategy count (slots in use, 2…64).") }
        static var drift: MetricNameDescriptor {
            d("drift", "", "The exchange's BALANCE quote minus the local total; present only where a quote exists." + float)
        }
        static var budget: MetricNameDescriptor { d("budget", "", "A sub-strategy's budget." + float) }
        static var recordOperations: MetricNameDescriptor {
            d("record_operations", "total", "Applied mutations of the record since it was created (kept in the segment).")
        }
        static var applied: MetricNameDescriptor {
            d("operations_applied", "total", "Applied operations seen in the activity ring since this exporter started.")
        }
        static var refused: MetricNameDescriptor {
            d("operations_refused", "total", "Refused operations seen in the activity ring since this exporter started.")
        }
        static var recoveries: MetricNameDescriptor {
            d("lock_recoveries", "total", "Record locks recovered from a dead holder, seen in the activity ring since this exporter started.")
        }
        static var unread: MetricNameDescriptor {
            d("activity_unread", "total", "Activity entries the exporter could not count (overwritten before it read them, or never finished).")
        }
        static var records: MetricNameDescriptor { d("records", "", "Records in the segment.") }
        static var recordCapacity: MetricNameDescriptor { d("record_capacity", "", "Records the segment can hold (set at init).") }
        static var ringHead: MetricNameDescriptor { d("activity_ring_head", "", "The activity ring's newest sequence number.") }
        static var ringCapacity: MetricNameDescriptor { d("activity_ring_capacity", "", "Entries the activity ring holds.") }
    }
}
