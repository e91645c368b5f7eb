import ShmBalance

/// One slot's recent history from the activity ring (Enter on a slot): the entries that touched
/// it, oldest first. The controller reads it (only while the view is open); the render draws it.
public struct SlotHistory: Equatable, Sendable {
    public var key: BookKey
    public var slot: Int
    /// Oldest first, at most `limit`.
    public var entries: [ActivityEntry]
    /// The ring's head when last read: the next read starts after it.
    public var scannedHead: UInt64

    /// More than the widest sparkline and the tallest list use.
    public static let limit = 240

    public init(key: BookKey, slot: Int, entries: [ActivityEntry] = [], scannedHead: UInt64 = 0) {
        self.key = key
        self.slot = slot
        self.entries = entries
        self.scannedHead = scannedHead
    }

    /// Adds the entries of `newer` (oldest first) that touch this slot, keeping the newest `limit`.
    public mutating func append(_ newer: [ActivityEntry], head: UInt64) {
        entries += newer.filter { SlotHistory.touches($0, key: key, slot: slot) }
        if entries.count > SlotHistory.limit { entries.removeFirst(entries.count - SlotHistory.limit) }
        scannedHead = head
    }

    /// Whether `e` is about this slot: an operation on its index (refusals included), a reset
    /// (every slot), or an applied reconcile (the total). A sub-strategy's allocate moves the pool
    /// too, but its entry carries only the sub-strategy's value, so it is not in the pool's history;
    /// so do a fill and a receipt for the total (SPEC §9). A hold's and a void's entries carry the
    /// budget they leave unchanged: they show when its money was kept and given back.
    public static func touches(_ e: ActivityEntry, key: BookKey, slot: Int) -> Bool {
        guard e.key == key, let op = e.operation else { return false }
        switch op {
        case .set, .adjust, .allocate, .release, .hold, .fill, .void, .receive: return e.index == slot
        case .reset: return true
        case .reconcile: return slot == 0 && e.applied
        default: return false
        }
    }

    /// The slot's value after `e`, when the entry says it: nil for a refusal.
    public func value(after e: ActivityEntry) -> Amount? {
        guard e.applied else { return nil }
        // A reset sets total = pool = the balance and every sub-strategy to 0.
        if e.operation == .reset { return slot <= 1 ? e.after : .zero }
        return e.after
    }

    /// The values the sparkline draws, oldest first.
    public var values: [Amount] { entries.compactMap { value(after: $0) } }
}

/// Eight heights of a sparkline, lowest first, in Unicode and in ASCII.
enum Spark {
    static let unicode: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let ascii: [Character] = ["_", ".", "-", "~", "=", "+", "*", "#"]

    /// One character per value, scaled between the smallest and the largest (all equal: the middle).
    static func line(_ values: [Amount], glyphs: Glyphs) -> String {
        let set = glyphs.isUnicode ? unicode : ascii
        guard let lo = values.min(), let hi = values.max() else { return "" }
        // Display only (never money): a Double ratio is exact enough for eight heights.
        let span = hi.doubleValue - lo.doubleValue
        return String(values.map { v in
            guard span > 0 else { return set[3] }
            let level = Int(((v.doubleValue - lo.doubleValue) / span * 7).rounded())
            return set[min(7, max(0, level))]
        })
    }
}
