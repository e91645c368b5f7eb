import ShmBalance

// Which currencies the list shows and in what order: the filter typed after `/` and the sort
// `o` cycles. One function, used by the render and by the controller's navigation, so the row a
// key moves to is the row drawn.

/// The currency list's order. Amounts sort largest first; ties (and the name sort) go by
/// exchange, then currency, as SPEC §7 lists them.
public enum SortKey: String, CaseIterable, Equatable, Sendable {
    case name, total, headroom, drift

    /// The next key `o` moves to.
    public var next: SortKey {
        let all = SortKey.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }

    /// How the panel's title names it.
    var label: String {
        switch self {
        case .name: return "name"
        case .total: return "total ↓"
        case .headroom: return "headroom ↓"
        // The size of the gap either way: the currency furthest from the exchange first.
        case .drift: return "|drift| ↓"
        }
    }
}

/// The filter: case-insensitive substring match on the currency, or `EXCHANGE:CURRENCY` with
/// either side partial or empty (`krak:`, `:usd`, `kr:us`). ASCII case folding only: names are
/// printable ASCII (SPEC §2).
public struct CurrencyFilter: Equatable, Sendable {
    public var text: String

    public init(_ text: String) { self.text = text }

    public var isEmpty: Bool { text.isEmpty }

    /// Whether `key` is listed under this filter.
    public func matches(_ key: BookKey) -> Bool {
        guard !text.isEmpty else { return true }
        let needle = Array(text.utf8)
        guard let colon = needle.firstIndex(of: UInt8(ascii: ":")) else {
            return contains(key.currency.description, needle[...])
        }
        return contains(key.exchange.description, needle[..<colon]) && contains(key.currency.description, needle[(colon + 1)...])
    }

    private func contains(_ haystack: String, _ needle: ArraySlice<UInt8>) -> Bool {
        guard !needle.isEmpty else { return true }
        let h = Array(haystack.utf8)
        guard h.count >= needle.count else { return false }
        let n = needle.map(lower)
        for start in 0...(h.count - n.count) {
            var i = 0
            while i < n.count && lower(h[start + i]) == n[i] { i += 1 }
            if i == n.count { return true }
        }
        return false
    }

    private func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }
}

extension World {
    /// The records the currency list shows, filtered and sorted as `ui` asks.
    public func listed(_ ui: UIState) -> [BalanceRecord] {
        if ui.filter.isEmpty && ui.sort == .name { return records }
        return listedIndices(ui).map { records[$0] }
    }

    /// The same as positions in `records`: the render works on these, since a record is over a
    /// kilobyte and copying 500 of them per frame cost more than drawing it.
    public func listedIndices(_ ui: UIState) -> [Int] {
        let shown = ui.filter.isEmpty ? Array(records.indices) : records.indices.filter { ui.filter.matches(records[$0].key) }
        switch ui.sort {
        case .name:
            return shown  // the snapshot is already by exchange, then currency
        case .total:
            return sortedDescending(shown) { records[$0].state.total.raw }
        case .headroom:
            return sortedDescending(shown) { records[$0].headroom.raw }
        case .drift:
            // No BALANCE quote: no drift to rank, so those come after every currency that has one.
            return sortedDescending(shown) { i in
                guard let e = exchangeBalance(records[i].key), let d = e.subtracting(records[i].state.total) else { return nil }
                return d.raw.magnitude > UInt128(Int128.max) ? Int128.max : Int128(d.raw.magnitude)
            }
        }
    }

    /// Largest first; nil after every value; ties keep the snapshot's order (exchange, currency).
    private func sortedDescending(_ indices: [Int], _ value: (Int) -> Int128?) -> [Int] {
        // The value is computed once per record, not once per comparison.
        let keyed = indices.map { (value($0), $0) }
        return keyed.sorted { a, b in
            switch (a.0, b.0) {
            case let (x?, y?) where x != y: return x > y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.1 < b.1
            }
        }.map(\.1)
    }
}
