import ShmBalance

// The dashboard's frame as a pure function of (books snapshot, UI state, terminal size): no
// terminal, no segment, no clock but the snapshot's. ncurses copies the result; `top --once`
// prints it; the golden tests compare it.

public enum Render {
    /// Below this the frame is a "too small" message: header, three panels of one row each,
    /// status and key line need 15 rows; the essential columns need 60.
    public static let minimumSize = Size(width: 60, height: 15)

    public static func frame(_ world: World, _ ui: UIState, _ size: Size) -> Grid {
        var c = Canvas(grid: Grid(size), glyphs: ui.glyphs)
        guard size.width >= minimumSize.width && size.height >= minimumSize.height else {
            c.tooSmall()
            return c.grid
        }
        // Filtered and sorted once: the list, the selection and the plan all use this.
        let order = world.listedIndices(ui)
        let position = ui.selectedPosition(in: order, of: world)
        let record = position.map { world.records[order[$0]] }
        c.header(world, ui, record)
        // The segment file was removed, replaced or truncated (SPEC §4, "the file's own life"):
        // one line under the header, before anything else is believed.
        if let banner = Canvas.fileBanner(world) { c.banner(banner, y: 1) }
        let plan = PanelPlan(world: world, listedCount: order.count, record: record, ui: ui, size: size)
        c.currencies(world, order, ui, position ?? 0, plan)
        c.slots(world, ui, record, plan)
        c.activity(world, plan)
        if ui.editingFilter {
            c.filterPrompt(ui, y: size.height - 2)
        } else {
            c.statusLine(world, ui, y: size.height - 2)
        }
        // The holds view has keys of its own: the key line shows them while it is open.
        c.keyLine(ui.holdsView == nil ? Keys.table : Keys.holdsView, readOnly: world.readOnly,
                  holds: record.map(world.showsHolds) ?? false, y: size.height - 1)
        if ui.showHelp { c.help(readOnly: world.readOnly) }
        if ui.showHistory, let h = world.history { c.history(h, world) }
        if let v = ui.holdsView { c.holdsView(v, world) }
        if let prompt = ui.prompt { c.prompt(prompt, world) }
        return c.grid
    }

    /// How many currency rows a frame of `size` shows: a page for PgUp/PgDn.
    public static func currencyRows(_ world: World, _ ui: UIState, _ size: Size) -> Int {
        let order = world.listedIndices(ui)
        let record = ui.selectedPosition(in: order, of: world).map { world.records[order[$0]] }
        return PanelPlan(world: world, listedCount: order.count, record: record, ui: ui, size: size).currencyRows
    }
}

/// How tall each panel is: every currency and slot when they fit, else the longer list scrolls.
struct PanelPlan {
    var currencyY = 1, currencyRows = 1
    var slotsY = 0, slotRows = 1, summaryLines = 1
    var activityY = 0, activityRows = 1
    var summary: [(String, Style)] = []

    init(world: World, listedCount: Int, record: BalanceRecord?, ui: UIState, size: Size) {
        let bannerRows = Canvas.fileBanner(world) == nil ? 0 : 1
        currencyY += bannerRows
        let available = size.height - 3 - bannerRows  // header (and banner), status line, key line
        let inner = size.width - 4
        summary = record.map { Canvas.summary($0, ui.glyphs) } ?? []
        // The identity and the headroom share a line when it is wide enough.
        let oneLine = summary.map(\.0.count).reduce(0, +) + 4 <= inner
        summaryLines = record == nil || oneLine ? 1 : 2
        var cur = max(1, listedCount)
        var slots = max(1, record?.strategyCount ?? 1)
        func used() -> Int { (3 + cur) + (3 + slots + summaryLines) + 3 }
        while used() > available && (cur > 1 || slots > 1) {
            if slots >= cur && slots > 1 { slots -= 1 } else { cur -= 1 }
        }
        if used() > available { summaryLines = 1 }
        currencyRows = cur
        slotRows = slots
        slotsY = currencyY + 3 + cur
        activityY = slotsY + 3 + slots + summaryLines
        activityRows = max(1, size.height - 2 - activityY - 2)
    }
}

/// A grid being drawn, with the glyph set every piece of text passes through.
struct Canvas {
    var grid: Grid
    let glyphs: Glyphs

    var width: Int { grid.width }
    var height: Int { grid.height }

    /// Writes text folded to the glyph set; returns the column after it.
    @discardableResult
    mutating func put(_ text: String, x: Int, y: Int, _ style: Style = .normal, limit: Int = .max) -> Int {
        grid.put(glyphs.fold(text), x: x, y: y, style, limit: limit)
    }

    /// A box with its title in the top border; the inside is cleared.
    mutating func box(x: Int, y: Int, width w: Int, height h: Int, title: String) {
        guard w >= 2 && h >= 2 else { return }
        grid.fill(x: x + 1, y: y + 1, width: w - 2, height: h - 2)
        let hline = String(repeating: glyphs.horizontal, count: w - 2)
        grid.put(String(glyphs.topLeft) + hline + String(glyphs.topRight), x: x, y: y, .border)
        grid.put(String(glyphs.bottomLeft) + hline + String(glyphs.bottomRight), x: x, y: y + h - 1, .border)
        for row in (y + 1)..<(y + h - 1) {
            grid.put(String(glyphs.vertical), x: x, y: row, .border)
            grid.put(String(glyphs.vertical), x: x + w - 1, y: row, .border)
        }
        if !title.isEmpty { put(" \(title) ", x: x + 1, y: y, .title, limit: w - 3) }
    }

    // MARK: header, banner, status, keys

    /// The banner's text when the segment file is not what this process maps any more.
    static func fileBanner(_ world: World) -> String? {
        switch world.fileState {
        case .intact: return nil
        case .removed: return "SEGMENT FILE REMOVED: these books are seen by nobody else; writes are refused. Restore them into a new segment (shmbal snapshot restore) and reopen."
        case .replaced: return "SEGMENT FILE REPLACED: another file is at this path now; this view is of the old one and writes are refused. Reopen."
        case .truncated: return "SEGMENT FILE TRUNCATED: its missing part reads as zeros; nothing shown or written counts. Restore it from a snapshot and reopen."
        }
    }

    mutating func banner(_ text: String, y: Int) {
        grid.fill(x: 0, y: y, width: width, height: 1, " ", .broken)
        put(" " + text, x: 0, y: y, .broken, limit: width)
    }

    mutating func header(_ world: World, _ ui: UIState, _ record: BalanceRecord?) {
        grid.fill(x: 0, y: 0, width: width, height: 1, " ", .headerBar)
        let exchange = record?.key.exchange.description ?? world.defaultExchange?.description ?? glyphs.none
        let rate = ui.refreshMs > 0 && 1000 % ui.refreshMs == 0 ? "\(1000 / ui.refreshMs) Hz" : "every \(ui.refreshMs) ms"
        let right = "? help "
        let tail = "  \(exchange)  \(world.readOnly ? "RO" : "RW")  \(clockText(micros: world.nowMicros, millis: false))  \(rate)\(ui.paused ? "  PAUSED" : "")"
        // The numbers below are from the last read that worked, not this tick's: said first, and loudly.
        let stale = world.isStale ? " STALE \(glyphs.none) last read \(ageText(micros: world.lastReadMicros, now: world.nowMicros)) " : ""
        let lead = " ShmBalance  "
        let room = width - lead.count - tail.count - right.count - (stale.isEmpty ? 1 : stale.count + 2)
        var path = world.segmentPath
        if path.count > room { path = room > 1 ? "…" + String(path.suffix(room - 1)) : "" }
        let end = put(lead + path + tail, x: 0, y: 0, .headerBar)
        if !stale.isEmpty { put(stale, x: end + 2, y: 0, .broken, limit: max(0, width - right.count - end - 2)) }
        put(right, x: width - right.count, y: 0, .headerBar)
    }

    mutating func statusLine(_ world: World, _ ui: UIState, y: Int) {
        let broken = world.counts.broken, low = world.counts.low, drifting = world.counts.drifting
        let n = world.records.count
        var parts = ["\(n) \(n == 1 ? "currency" : "currencies")"]
        if broken > 0 { parts.append("\(broken) broken") }
        if low > 0 { parts.append("\(low) low on headroom") }
        if drifting > 0 { parts.append("\(drifting) off the exchange") }
        if parts.count == 1 { parts.append("all healthy") }
        let summary = (parts.joined(separator: " \(glyphs.dot) "), broken > 0 ? Style.broken : low + drifting > 0 ? .warning : .healthy)
        let right = glyphs.fold(summary.0)
        let x = width - right.count - 1
        put(right, x: x, y: y, summary.1)
        let left: (String, Style)
        if ui.status == nil, !ui.paused, let agent = Canvas.agentLine(world, record: selectedRecord(world, ui)) {
            left = agent
        } else if let s = ui.status {
            left = (s.text, s.kind == .error ? .statusError : s.kind == .ok ? .statusOK : .normal)
        } else if ui.paused {
            left = ("paused: the books are not being re-read; p resumes", .warning)
        } else if world.readOnly {
            left = ("read-only: watching; actions are off", .dim)
        } else {
            left = ("", .normal)
        }
        put(left.0, x: 1, y: y, left.1, limit: max(0, x - 2))
    }

    func selectedRecord(_ world: World, _ ui: UIState) -> BalanceRecord? {
        let order = world.listedIndices(ui)
        return ui.selectedPosition(in: order, of: world).map { world.records[order[$0]] }
    }

    /// On a host with an agent (SPEC §10): the agent's state, the selected currency's lease and
    /// how long since the ledger answered. Fenced and silent are said loudly.
    static func agentLine(_ world: World, record: BalanceRecord?) -> (String, Style)? {
        guard let record, let a = world.agents.first(where: { $0.leases.contains { $0.key == record.key } }),
              let lease = a.leases.first(where: { $0.key == record.key }) else { return nil }
        let age = ageText(micros: a.contactMicros, now: world.nowMicros)
        let silent = world.nowMicros - a.updatedMicros > a.ttlMs * 1000
        let unreported = Amount(raw: record.state.total.raw - lease.amount.raw)
        let diff = unreported.raw == 0 ? "" : " (\(signedMoney(unreported)) not yet reported)"
        if silent {
            return ("agent \(a.host) SILENT (last wrote \(ageText(micros: a.updatedMicros, now: world.nowMicros))): lease \(money(lease.amount))\(diff), nobody renews it", .broken)
        }
        if record.state.fenced || a.state == "fenced" {
            return ("agent \(a.host) FENCED: allocate refused, the ledger last answered \(age); lease \(money(lease.amount))\(diff)", .broken)
        }
        return ("agent \(a.host) \(a.state) · lease \(money(lease.amount))\(diff) · the ledger answered \(age)", a.state == "connected" ? .dim : .warning)
    }

    mutating func keyLine(_ bindings: [Binding], readOnly: Bool, holds: Bool, y: Int) {
        var x = 1
        for (i, item) in Keys.keyLine(bindings, width: width - 1, glyphs: glyphs, readOnly: readOnly, holds: holds).enumerated() {
            if i > 0 { x += 2 }
            x = put(item.key, x: x, y: y, .keyCap)
            x = put(" " + item.label, x: x, y: y)
        }
    }
}

// MARK: - shared text

/// Public for `shmbal watch`, which reports the same three states (one classification, here).
public enum Health: String, Sendable { case healthy, warning, broken }

/// Broken: identity ✗ or headroom < 0. Warning: headroom under 10% of the total.
public func health(_ r: BalanceRecord) -> Health {
    if r.isBroken { return .broken }
    let total = r.state.total.raw
    if total > 0 && r.headroom.raw < total / 10 { return .warning }
    return .healthy
}

func money(_ a: Amount) -> String { a.formatted(grouping: true) }

/// `+12.50`, `-3.00`, `0.00`.
func signedMoney(_ a: Amount) -> String { (a.raw > 0 ? "+" : "") + money(a) }

extension Health {
    var style: Style {
        switch self {
        case .healthy: return .healthy
        case .warning: return .warning
        case .broken: return .broken
        }
    }
}
