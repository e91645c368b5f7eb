import ShmBalance

// The slot panel's HELD, FREE and HOLDS columns (SPEC §9: held = Σ open holds, free = budget −
// held). Drawn only for a currency with open holds (or seen with some since the dashboard
// started): books without holds keep the panel they had, and a narrow terminal keeps its share
// bar and ages for them.

extension Canvas {
    /// The three columns for `r`, beside AMOUNT; none for a currency never seen holding anything. `!` after a
    /// count marks a slot with a hold past its ttl (the help's legend says so).
    func holdColumns(_ r: BalanceRecord, _ world: World, selected: Int) -> [Column] {
        guard world.showsHolds(r) else { return [] }
        let holds = world.holds.flatMap { $0.key == r.key ? $0 : nil }
        var held: [TableCell] = [], free: [TableCell] = [], count: [TableCell] = []
        let anyExpired = (holds?.expiredCount(at: world.nowMicros) ?? 0) > 0
        for i in 0..<r.strategyCount {
            // The total and the pool hold nothing: holds are on sub-strategies only.
            guard i >= 2, i < r.held.count, i < r.holdCounts.count else {
                held.append(TableCell(""))
                free.append(TableCell(""))
                count.append(TableCell(""))
                continue
            }
            let h = r.held[i], f = r.free[i], n = r.holdCounts[i]
            held.append(TableCell(money(h), h.raw == 0 ? .dim : i == selected ? .selected : .normal))
            free.append(TableCell(money(f), f.raw < 0 ? .broken : i == selected ? .selected : .normal))
            let expired = holds?.expiredCount(slot: i, at: world.nowMicros) ?? 0
            // The counts stay in one column of digits when some carry the mark.
            let mark = expired > 0 ? " !" : anyExpired ? "  " : ""
            count.append(TableCell(String(n) + mark, expired > 0 ? .warning : n == 0 ? .dim : .normal))
        }
        // Kept before the share and the ages: what a strategy may still spend matters more.
        return [
            Column(header: "HELD", align: .right, rank: 1, cells: held),
            Column(header: "FREE", align: .right, rank: 1, cells: free),
            Column(header: "HOLDS", align: .right, rank: 1, cells: count),
        ]
    }

    /// ` · ! 2 holds expired` for the slot panel's title, when any of `r`'s are.
    func expiredNote(_ r: BalanceRecord, _ world: World) -> String {
        guard let h = world.holds, h.key == r.key else { return "" }
        let n = h.expiredCount(at: world.nowMicros)
        return n == 0 ? "" : " \(glyphs.dot) ! \(n) \(n == 1 ? "hold" : "holds") expired"
    }
}
