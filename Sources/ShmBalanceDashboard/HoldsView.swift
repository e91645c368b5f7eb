import ShmBalance

// The holds view (`h` on a slot): the slot's open holds, one a row — id, what it still keeps,
// what it was opened with, age, time left or EXPIRED — with a selection `v` voids. Drawn from
// `World.holds`, like every panel; it scrolls as the panels do (`scrollStart`).

extension Render {
    /// How many holds the view lists at `size`: a page for PgUp/PgDn.
    public static func holdRows(_ size: Size) -> Int {
        // The dialog's borders, the column header, a blank line and the hint under the list.
        max(1, min(size.height - 2, 33) - 2 - 3)
    }
}

extension Canvas {
    mutating func holdsView(_ v: HoldsViewState, _ world: World) {
        let w = min(width - 4, 100)
        let inner = w - 4
        let r = world.record(v.key)
        let list = world.holds.flatMap { $0.key == v.key ? $0.of(slot: v.slot) : nil } ?? []
        let rows = Render.holdRows(grid.size)
        let selected = v.position(in: list)
        let first = scrollStart(selected: selected ?? 0, count: list.count, visible: rows)
        let visible = Array(first..<min(list.count, first + rows))

        let d = glyphs.dot
        let name = r.flatMap { v.slot < $0.names.count && !$0.names[v.slot].isEmpty ? " \($0.names[v.slot])" : nil } ?? ""
        var title = "Holds \(d) \(v.key) #\(v.slot)\(name) \(d) \(list.count) open"
        if let r, v.slot < r.held.count { title += " \(d) held \(money(r.held[v.slot])) \(d) free \(money(r.free[v.slot]))" }
        if list.count > rows { title += " \(d) \(first + 1)–\(first + rows) of \(list.count)" }

        // Placeholder lines: the table is drawn over them, in columns that fit the dialog.
        var lines: [(String, Style)] = Array(repeating: ("", .normal), count: 1 + max(1, visible.count))
        if list.isEmpty { lines[1] = ("no open holds on this slot", .dim) }
        lines.append(("", .normal))
        lines.append((glyphs.fold("v voids the selected hold (you type its id to confirm) \(d) Esc closes"), .dim))
        let (x, y) = dialog(title: glyphs.fold(title), lines: lines, width: w)
        guard !list.isEmpty else { return }

        var id: [TableCell] = [], amount: [TableCell] = [], original: [TableCell] = [], age: [TableCell] = []
        var expiry: [TableCell] = []
        for (i, h) in list.enumerated() {
            // Ids come from other processes: only terminal-safe text is drawn.
            id.append(TableCell(TerminalText.safe(h.id.description), i == selected ? .selected : .normal))
            amount.append(TableCell(money(h.amount), i == selected ? .selected : .normal))
            original.append(TableCell(money(h.original), .dim))
            age.append(TableCell(ageText(micros: h.createdMicros, now: world.nowMicros), .dim))
            if h.isExpired(at: world.nowMicros) {
                expiry.append(TableCell("EXPIRED", .warning))
            } else if let t = h.expiresMicros {
                expiry.append(TableCell(timeLeftText(until: t, now: world.nowMicros)))
            } else {
                expiry.append(TableCell("no ttl", .dim))
            }
        }
        let columns = [
            Column(header: "ID", align: .left, rank: 0, cells: id),
            Column(header: "AMOUNT", align: .right, rank: 0, cells: amount),
            Column(header: "OPENED WITH", align: .right, rank: 3, cells: original),
            Column(header: "AGE", align: .left, rank: 2, cells: age),
            Column(header: "EXPIRES", align: .left, rank: 1, cells: expiry),
        ]
        let layout = TableLayout(columns.map { fold($0) }, width: inner)
        layout.draw(into: &grid, x: x + 2, y: y + 1, rows: visible, limit: inner)
        if let selected, let line = visible.firstIndex(of: selected) {
            grid.put(String(glyphs.marker), x: x + 1, y: y + 2 + line, .selected)
        }
    }
}

/// `in 12 s`, `in 4 min`, `in 2 h`, `in 3 d`: a ttl's time left (rounded down, as ages are).
func timeLeftText(until micros: Int64, now: Int64) -> String {
    let s = max(0, (micros - now) / 1_000_000)
    if s < 60 { return "in \(s) s" }
    if s < 3600 { return "in \(s / 60) min" }
    if s < 86_400 { return "in \(s / 3600) h" }
    return "in \(s / 86_400) d"
}
