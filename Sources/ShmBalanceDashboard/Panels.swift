import ShmBalance

// The three panels: currencies, the selected currency's slots, the activity ring.

extension Canvas {
    /// `order`: the listed records as positions in `world.records`; `selectedIndex`: the
    /// selection's place in `order`.
    mutating func currencies(_ world: World, _ order: [Int], _ ui: UIState, _ selectedIndex: Int, _ plan: PanelPlan) {
        let y = plan.currencyY
        let rows = plan.currencyRows
        let first = scrollStart(selected: selectedIndex, count: order.count, visible: rows)
        box(x: 0, y: y, width: width, height: rows + 3,
            title: Canvas.currencyTitle(ui, listed: order.count, of: world.records.count, first: first, rows: rows, glyphs))
        guard !order.isEmpty else {
            let none = world.records.isEmpty
                ? "no records yet: shmbal reset CURRENCY BALANCE --exchange NAME creates one"
                : "no currency matches '\(TerminalText.safe(ui.filter.text))' (Esc clears the filter)"
            put(none, x: 2, y: y + 1, .dim, limit: width - 4)
            return
        }
        // Whether to name the exchange on each row: more than one in the books, filtered or not.
        let manyExchanges = world.records.first.map { f in world.records.contains { $0.key.exchange != f.key.exchange } } ?? false
        var name: [TableCell] = [], total: [TableCell] = [], pool: [TableCell] = [], allocated: [TableCell] = []
        var credit: [TableCell] = [], headroom: [TableCell] = [], identity: [TableCell] = [], drift: [TableCell] = []
        var age: [TableCell] = []
        let visible = Array(first..<min(order.count, first + rows))
        for i in visible {
            let r = world.records[order[i]]
            let h = health(r)
            let label = manyExchanges ? "\(r.key.exchange) \(r.key.currency)" : r.key.currency.description
            name.append(TableCell(label, h == .broken ? .broken : i == selectedIndex ? .selected : .normal))
            total.append(TableCell(money(r.state.total)))
            pool.append(TableCell(money(r.state.pool), r.state.pool.raw < 0 ? .warning : .normal))
            allocated.append(TableCell(money(r.state.allocated)))
            credit.append(TableCell(money(r.creditLimit)))
            headroom.append(TableCell(money(r.headroom), h.style))
            identity.append(r.identityHolds ? TableCell(glyphs.ok, .healthy)
                                            : TableCell("\(glyphs.broken) \(signedMoney(r.state.identityDifference))", .broken))
            if let exchange = world.exchangeBalance(r.key), let d = exchange.subtracting(r.state.total) {
                drift.append(TableCell(signedMoney(d), d.raw == 0 ? .healthy : .warning))
            } else {
                drift.append(TableCell(glyphs.none, .dim))
            }
            age.append(TableCell(ageText(micros: r.state.lastChangeMicros, now: world.nowMicros), .dim))
        }
        let columns = [
            Column(header: "CUR", align: .left, rank: 0, cells: name),
            Column(header: "TOTAL", align: .right, rank: 1, cells: total),
            Column(header: "POOL", align: .right, rank: 4, cells: pool),
            Column(header: "ALLOCATED", align: .right, rank: 5, cells: allocated),
            Column(header: "CREDIT", align: .right, rank: 7, cells: credit),
            Column(header: "HEADROOM", align: .right, rank: 2, cells: headroom),
            Column(header: "IDENTITY", align: .left, rank: 3, cells: identity),
            Column(header: glyphs.driftHeader, align: .right, rank: 6, cells: drift),
            Column(header: "LAST CHANGE", align: .left, rank: 8, cells: age),
        ]
        let inner = width - 4
        let layout = TableLayout(columns.map { fold($0) }, width: inner)
        layout.draw(into: &grid, x: 2, y: y + 1, rows: Array(0..<visible.count), limit: inner)
        if let line = visible.firstIndex(of: selectedIndex) {
            grid.put(String(glyphs.marker), x: 1, y: y + 2 + line, .selected)
        }
    }

    /// `Currencies · sort total ↓ · filter 'us' 37 of 500 · 12–30 of 37`: what is listed, in what
    /// order, and which part of it the panel shows.
    static func currencyTitle(_ ui: UIState, listed: Int, of all: Int, first: Int, rows: Int, _ glyphs: Glyphs) -> String {
        let d = glyphs.dot
        var title = "Currencies"
        // The order is named whenever it matters: a list that scrolls, a filter, or a sort asked for.
        if ui.sort != .name || !ui.filter.isEmpty || listed > rows { title += " \(d) sort \(ui.sort.label)" }
        if !ui.filter.isEmpty { title += " \(d) filter '\(TerminalText.safe(ui.filter.text))' \(listed) of \(all)" }
        if listed > rows { title += " \(d) \(first + 1)–\(first + rows) of \(listed)" }
        return glyphs.fold(title)
    }

    mutating func slots(_ world: World, _ ui: UIState, _ record: BalanceRecord?, _ plan: PanelPlan) {
        let y = plan.slotsY
        let height = plan.slotRows + 3 + plan.summaryLines
        guard let r = record else {
            box(x: 0, y: y, width: width, height: height, title: "Slots")
            put("select a currency to see its slots", x: 2, y: y + 1, .dim, limit: width - 4)
            return
        }
        let selected = ui.slot(of: r)
        let count = r.strategyCount
        let rows = plan.slotRows
        let first = scrollStart(selected: selected, count: count, visible: rows)
        let shown = count > rows ? " (\(first)–\(first + rows - 1) shown)" : ""
        let keyText = world.records.contains { $0.key.exchange != r.key.exchange } ? r.key.description : r.key.currency.description
        box(x: 0, y: y, width: width, height: height,
            // The expired mark's note before the credit: on a narrow terminal the title's end is cut.
            title: "\(keyText) \(glyphs.dot) \(count) slots\(shown)\(expiredNote(r, world)) \(glyphs.dot) credit \(money(r.creditLimit)) \(glyphs.dot) epoch \(r.epoch)")
        let total = r.state.total
        var index: [TableCell] = [], name: [TableCell] = [], amount: [TableCell] = [], share: [TableCell] = []
        var age: [TableCell] = []
        for i in 0..<count {
            let a = r.state.slots[i]
            index.append(TableCell(String(i), i == selected ? .selected : .dim))
            name.append(TableCell(r.names[i].description, i == selected ? .selected : .normal))
            amount.append(TableCell(money(a), i == 1 && r.headroom.raw < 0 ? .broken : i == selected ? .selected : .normal))
            share.append(TableCell(shareText(a, of: total)))
            age.append(TableCell(ageText(micros: r.slotChangedMicros[i], now: world.nowMicros), .dim))
        }
        let columns = [
            Column(header: "#", align: .right, rank: 0, cells: index, minimumWidth: 2),
            Column(header: "NAME", align: .left, rank: 1, cells: name, minimumWidth: 8),
            Column(header: "AMOUNT", align: .right, rank: 0, cells: amount),
        ] + holdColumns(r, world, selected: selected) + [
            Column(header: "SHARE", align: .right, rank: 2, cells: share),
            Column(header: "", align: .left, rank: 4, cells: [], flexible: true, minimumWidth: 10, maximumWidth: 60),
            Column(header: "LAST CHANGE", align: .left, rank: 3, cells: age),
        ]
        let inner = width - 4
        let layout = TableLayout(columns.map { fold($0) }, width: inner)
        let visible = Array(first..<min(count, first + rows))
        layout.draw(into: &grid, x: 2, y: y + 1, rows: visible, limit: inner)
        if let bar = layout.columns.first(where: { $0.column.flexible }) {
            for (line, i) in visible.enumerated() where i >= 1 {
                let cells = barCells(r.state.slots[i], of: total, width: bar.width)
                grid.put(String(repeating: glyphs.barFull, count: cells), x: 2 + bar.x, y: y + 2 + line, .bar)
            }
        }
        if let line = visible.firstIndex(of: selected) {
            grid.put(String(glyphs.marker), x: 1, y: y + 2 + line, .selected)
        }
        // The identity written out, then the headroom: on one line, or two when narrow.
        let sy = y + 2 + rows
        var x = 2
        for (i, part) in plan.summary.enumerated() {
            if i == 2 {
                if plan.summaryLines == 2 { x = 2 } else { x += 4 }
            }
            x = put(part.0, x: x, y: i >= 2 && plan.summaryLines == 2 ? sy + 1 : sy, part.1, limit: width - 2 - x)
        }
    }

    /// The identity and headroom text: `10,000.00 = 4,000.00 + 6,000.00 ✓`, `headroom 9,000.00 = pool … + credit …`.
    static func summary(_ r: BalanceRecord, _ glyphs: Glyphs) -> [(String, Style)] {
        let s = r.state
        var parts: [(String, Style)] = []
        if r.identityHolds {
            parts.append(("\(money(s.total)) = \(money(s.pool)) + \(money(s.allocated))", .normal))
            parts.append((" \(glyphs.ok)", .healthy))
        } else {
            parts.append(("\(money(s.total)) \(glyphs.notEqual) \(money(s.pool)) + \(money(s.allocated))", .broken))
            parts.append((" \(glyphs.broken) off by \(signedMoney(s.identityDifference))", .broken))
        }
        let h = health(r)
        let headroom = "headroom \(money(r.headroom)) = pool \(money(s.pool)) + credit \(money(r.creditLimit))"
        switch h {
        case .broken where r.headroom.raw < 0:
            parts.append((headroom + " < 0: reconcile (c) or reset (R)", .broken))
        case .warning:
            parts.append((headroom + ": under 10% of the total", .warning))
        default:
            parts.append((headroom, .normal))
        }
        return parts.map { (glyphs.fold($0.0), $0.1) }
    }

    mutating func activity(_ world: World, _ plan: PanelPlan) {
        let y = plan.activityY
        let rows = plan.activityRows
        box(x: 0, y: y, width: width, height: rows + 2, title: "Activity \(glyphs.dot) newest first")
        let entries = Array(world.activity.suffix(rows).reversed())
        guard !entries.isEmpty else {
            put("no activity yet", x: 2, y: y + 1, .dim)
            return
        }
        var time: [TableCell] = [], pid: [TableCell] = [], op: [TableCell] = [], target: [TableCell] = []
        var amount: [TableCell] = [], outcome: [TableCell] = []
        for e in entries {
            time.append(TableCell(clockText(micros: e.timeMicros), .dim))
            pid.append(TableCell("pid \(e.pid)", .dim))
            op.append(TableCell(e.operation?.description ?? "?"))
            target.append(TableCell(e.target))
            amount.append(TableCell(e.amountText(grouping: true)))
            outcome.append(TableCell(e.outcomeText(grouping: true), e.applied ? .healthy : .warning))
        }
        let columns = [
            Column(header: "", align: .left, rank: 0, cells: time),
            Column(header: "", align: .left, rank: 5, cells: pid),
            Column(header: "", align: .left, rank: 1, cells: op),
            Column(header: "", align: .left, rank: 2, cells: target),
            Column(header: "", align: .right, rank: 3, cells: amount),
            Column(header: "", align: .left, rank: 4, cells: outcome),
        ]
        let inner = width - 4
        let layout = TableLayout(columns.map { fold($0) }, width: inner, maxGap: 2)
        layout.draw(into: &grid, x: 2, y: y + 1, rows: Array(0..<entries.count), limit: inner, header: false)
    }

    /// A column with every text folded to the glyph set (so widths are counted as drawn).
    func fold(_ c: Column) -> Column {
        var c = c
        c.header = glyphs.fold(c.header)
        c.cells = c.cells.map { TableCell(glyphs.fold($0.text), $0.style) }
        return c
    }
}

/// The first row to show so that `selected` is visible, centred when the list scrolls.
func scrollStart(selected: Int, count: Int, visible: Int) -> Int {
    guard count > visible else { return 0 }
    return min(max(0, selected - visible / 2), count - visible)
}

/// `40%`, `<1%` for a small non-zero share, `—`-free: a total at or below 0 has no shares.
func shareText(_ a: Amount, of total: Amount) -> String {
    guard total.raw > 0 else { return "" }
    // A ratio for display only (never money): Double is exact enough for a whole percent.
    let pct = a.doubleValue / total.doubleValue * 100
    if a.raw != 0 && pct.magnitude < 1 { return a.raw < 0 ? "-<1%" : "<1%" }
    return "\(Int(pct.rounded()))%"
}

/// Cells of the share bar: `width` for the whole total, none for a zero or negative amount.
func barCells(_ a: Amount, of total: Amount, width: Int) -> Int {
    guard total.raw > 0, a.raw > 0 else { return 0 }
    let ratio = min(1, a.doubleValue / total.doubleValue)
    return max(1, Int((ratio * Double(width)).rounded()))
}
