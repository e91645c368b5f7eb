import ShmBalance

// The selected currency's open holds, as the frame draws them: the slot panel's expired marks
// and the holds view (`h`). Only the selected record's are read: listing holds scans its whole
// hold table, which is not worth doing for every currency on every tick.

/// The open holds of one record, with the record's op count and epoch they were read beside:
/// when either moves (every hold, fill, void and expiry counts as an operation), they are read again.
public struct RecordHolds: Equatable, Sendable {
    public var key: BookKey
    public var opCount: UInt64
    public var epoch: UInt64
    /// Every slot's, by slot, then oldest first (the core's order).
    public var holds: [OpenHold]

    public init(key: BookKey, opCount: UInt64, epoch: UInt64, holds: [OpenHold]) {
        self.key = key
        self.opCount = opCount
        self.epoch = epoch
        self.holds = holds
    }

    /// Whether these were read beside `r` as it is now.
    func current(for r: BalanceRecord) -> Bool {
        key == r.key && opCount == r.state.opCount && epoch == r.epoch
    }

    public func of(slot: Int) -> [OpenHold] { holds.filter { $0.index == slot } }

    /// How many of slot `slot`'s holds (all slots' when nil) are past their ttl at `now`.
    func expiredCount(slot: Int? = nil, at now: Int64) -> Int {
        holds.reduce(0) { $0 + (($1.index == slot || slot == nil) && $1.isExpired(at: now) ? 1 : 0) }
    }
}

extension OpenHold {
    /// Its ttl has passed: by the core's read, or by the frame's clock since (a hold expires
    /// with no write to the record; the next writer voids it).
    func isExpired(at now: Int64) -> Bool {
        expired || expiresMicros.map { $0 <= now } ?? false
    }
}

extension World {
    /// Whether `r`'s slot panel shows the hold columns (and the key line offers `h`).
    func showsHolds(_ r: BalanceRecord) -> Bool { r.hasHolds || seenWithHolds.contains(r.key) }
}

extension BalanceRecord {
    /// Any hold open on any slot (the held sums and counts come with the record's own read).
    var hasHolds: Bool { holdCounts.contains { $0 > 0 } || held.contains { $0.raw != 0 } }

    /// What every open hold keeps, together (display only: wraps rather than trap on a damaged record).
    var heldTotal: Amount { Amount(raw: held.reduce(Int128(0)) { $0 &+ $1.raw }) }
}
