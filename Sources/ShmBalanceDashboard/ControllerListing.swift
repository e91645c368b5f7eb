import ShmBalance

// The controller's side of a long currency list: moving the selection through what is listed,
// the filter prompt, and the slot history view.

extension Controller {
    /// The longest filter: longer than any `EXCHANGE:CURRENCY` pair of short names.
    public static let maxFilter = 40

    mutating func moveCurrency(_ action: Action) {
        let order = world.listedIndices(ui)
        guard let i = ui.selectedPosition(in: order, of: world) else { return }
        let last = order.count - 1
        let page = max(1, currencyPage)
        let target: Int
        switch action {
        case .nextCurrency: target = i == last ? 0 : i + 1       // ←→ wrap round, as before
        case .previousCurrency: target = i == 0 ? last : i - 1
        case .pageDown: target = min(last, i + page)              // a page stops at the ends
        case .pageUp: target = max(0, i - page)
        case .firstCurrency: target = 0
        default: target = last
        }
        let next = world.records[order[target]]
        ui.selectedKey = next.key
        ui.selectedSlot = min(ui.selectedSlot, next.strategyCount - 1)
    }

    /// After the filter or the sort changed: the selection stays on its currency when that is
    /// still listed, else it moves to the first one listed (so what is highlighted is what acts).
    mutating func settleSelection() {
        let order = world.listedIndices(ui)
        if let key = ui.selectedKey, order.contains(where: { world.records[$0].key == key }) { return }
        ui.selectedKey = order.first.map { world.records[$0].key } ?? ui.selectedKey
    }

    mutating func setFilter(_ text: String) {
        ui.filter = CurrencyFilter(text)
        if text.isEmpty { ui.editingFilter = false }
        settleSelection()
    }

    /// A key while the filter prompt is open; false when it is not the prompt's (the arrows, the
    /// page keys: they still move through the list being filtered).
    mutating func filterKey(_ key: Key) -> Bool {
        switch key {
        case .escape:
            setFilter("")
            ui.editingFilter = false
        case .enter:
            ui.editingFilter = false
        case .ctrl("c"):
            quit = true
        case .backspace:
            setFilter(String(ui.filter.text.dropLast()))
            ui.editingFilter = true
        case .ctrl("u"):
            setFilter("")
            ui.editingFilter = true
        case .char(let c):
            guard ui.filter.text.count < Controller.maxFilter else {
                ui.status = Status(.error, "the filter holds at most \(Controller.maxFilter) characters; '\(c)' was not added")
                return true
            }
            setFilter(ui.filter.text + String(c))
        default:
            return false
        }
        return true
    }

    mutating func openHistory(_ key: BookKey, slot: Int) {
        ui.showHistory = true
        world.history = SlotHistory(key: key, slot: slot)
        readHistory(into: &world)
    }

    mutating func closeHistory() {
        ui.showHistory = false
        world.history = nil
    }

    /// Brings the open history up to the ring's head: only the entries appended since the last read.
    func readHistory(into w: inout World) {
        guard ui.showHistory, var h = w.history else { return }
        guard books.activityHead != h.scannedHead else { return }
        let newer = books.activity(after: h.scannedHead)
        let head = max(h.scannedHead, newer.last?.sequence ?? h.scannedHead)
        h.append(newer, head: head)
        w.history = h
    }
}
