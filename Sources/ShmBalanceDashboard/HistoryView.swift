import ShmBalance

// The history view (Enter on a slot): a sparkline of the slot's value over the last entries that
// touched it, then those entries, newest first. Drawn from `World.history`, like every panel.

extension Canvas {
    mutating func history(_ h: SlotHistory, _ world: World) {
        let w = min(width - 4, 100)
        let inner = w - 4
        let r = world.record(h.key)
        let name = r.flatMap { h.slot < $0.names.count && !$0.names[h.slot].isEmpty ? " \($0.names[h.slot])" : nil } ?? ""
        var lines: [(String, Style)] = []
        let values = h.values
        if values.isEmpty {
            lines.append(("no change to this slot in the activity ring (it keeps the last \(SlotHistory.limit) here)", .dim))
        } else {
            let shown = Array(values.suffix(inner))
            lines.append((Spark.line(shown, glyphs: glyphs), .bar))
            let lo = shown.min()!, hi = shown.max()!
            lines.append((glyphs.fold("last \(shown.count) values \(glyphs.dot) low \(money(lo)) \(glyphs.dot) high \(money(hi)) \(glyphs.dot) now \(money(shown.last!))"), .dim))
        }
        lines.append(("", .normal))
        let listRows = max(1, min(height - 2, 33) - 2 - lines.count - 2)
        let entries = Array(h.entries.suffix(listRows).reversed())
        for e in entries {
            let after = h.value(after: e).map { "\(glyphs.fold("→")) \(money($0))" } ?? ""
            let text = [clockText(micros: e.timeMicros), "pid \(e.pid)", pad(right: e.operation?.description ?? "?", 9),
                        pad(left: e.amountText(grouping: true), 12), pad(right: after, 14), e.outcomeText(grouping: true)].joined(separator: "  ")
            lines.append((glyphs.fold(text), e.applied ? .normal : .warning))
        }
        if entries.isEmpty { lines.append(("no entries", .dim)) }
        lines.append(("", .normal))
        lines.append(("Esc closes", .dim))
        dialog(title: "History \(glyphs.dot) \(h.key) #\(h.slot)\(name) \(glyphs.dot) \(h.entries.count) entries", lines: lines, width: w)
    }
}
