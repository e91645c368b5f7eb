import ShmBalance

// The controller's side of holds: reading the selected currency's open holds, the holds view
// (`h`) and voiding a stuck hold from it, confirmed by typing the hold's id.

/// The holds view: which slot's holds it lists, and which one is selected.
public struct HoldsViewState: Equatable, Sendable {
    public var key: BookKey
    public var slot: Int
    /// A position in the slot's list (clamped to it when used: holds come and go under it).
    public var selected: Int = 0
    /// The selected hold: the selection stays on it while others open and close around it.
    public var selectedId: HoldId?

    public init(key: BookKey, slot: Int, selected: Int = 0) {
        self.key = key
        self.slot = slot
        self.selected = selected
    }

    /// Where the selection is in `list`: on its hold while that is listed, else at its position
    /// (clamped); nil for an empty list.
    public func position(in list: [OpenHold]) -> Int? {
        guard !list.isEmpty else { return nil }
        if let id = selectedId, let i = list.firstIndex(where: { $0.id == id }) { return i }
        return min(max(0, selected), list.count - 1)
    }

    mutating func select(_ i: Int, in list: [OpenHold]) {
        selected = i
        selectedId = i < list.count ? list[i].id : nil
    }
}

extension Controller {
    /// Reads the selected record's open holds into `w` unless what it has is current (the same
    /// record, its op count and epoch unmoved). A record without open holds is not scanned.
    func readHolds(into w: inout World) {
        guard let r = ui.selectedRecord(in: w) else {
            w.holds = nil
            return
        }
        if let h = w.holds, h.current(for: r) { return }
        guard r.hasHolds else {
            w.holds = RecordHolds(key: r.key, opCount: r.state.opCount, epoch: r.epoch, holds: [])
            return
        }
        do {
            w.holds = RecordHolds(key: r.key, opCount: r.state.opCount, epoch: r.epoch, holds: try books.holds(r.key))
        } catch {
            // Keep what was read of this record (the next tick tries again); never another record's.
            if w.holds?.key != r.key { w.holds = nil }
        }
    }

    /// The open holds the view lists now, and the selection within them.
    var shownHolds: (holds: [OpenHold], selected: Int?) {
        guard let v = ui.holdsView, let h = world.holds, h.key == v.key else { return ([], nil) }
        let list = h.of(slot: v.slot)
        return (list, v.position(in: list))
    }

    mutating func openHolds(_ r: BalanceRecord, slot: Int) {
        guard slot >= 2 else {
            ui.status = Status(.error, "holds are kept by sub-strategies: select slot #2 or later (\(ui.glyphs.upDown))")
            return
        }
        ui.selectedKey = r.key
        ui.holdsView = HoldsViewState(key: r.key, slot: slot)
        ui.status = nil
    }

    /// A key while the holds view is open: its own table (`Keys.holdsView`) dispatches it.
    mutating func holdsKey(_ key: Key) {
        guard var view = ui.holdsView, let binding = Keys.binding(for: key, in: Keys.holdsView) else { return }
        if binding.writes && world.readOnly {
            ui.status = Status(.error, "read-only: \(binding.label) is off (attached with --read-only)")
            return
        }
        let (list, selected) = shownHolds
        let last = max(0, list.count - 1)
        let current = selected ?? 0
        let page = max(1, holdsPage)
        switch binding.action {
        case .quit:
            quit = true
            return
        case .closeHolds:
            ui.holdsView = nil
            return
        case .holdUp: view.select(max(0, current - 1), in: list)
        case .holdDown: view.select(min(last, current + 1), in: list)
        case .holdPageUp: view.select(max(0, current - page), in: list)
        case .holdPageDown: view.select(min(last, current + page), in: list)
        case .firstHold: view.select(0, in: list)
        case .lastHold: view.select(last, in: list)
        case .voidHold:
            guard let i = selected else {
                ui.status = Status(.error, "no open hold on \(view.key) #\(view.slot) to void")
                return
            }
            let hold = list[i]
            ui.prompt = Prompt(.voidHold(id: hold.id, index: hold.index, amount: hold.amount), key: view.key)
            ui.status = nil
            return
        default:
            return
        }
        ui.holdsView = view
    }

    /// Enter in the void prompt: only the hold's exact id, as the view shows it, voids it;
    /// anything else closes the prompt having changed nothing.
    mutating func submitVoid(_ prompt: Prompt, id: HoldId, index: Int, amount: Amount) {
        let books = self.books  // the closure must not capture `self` while `act` mutates it
        let key = prompt.key
        let typed = prompt.submittedText
        guard typed == id.description else {
            ui.prompt = nil
            ui.status = Status(.error, typed.isEmpty ? "void cancelled: no id typed; nothing changed"
                                                     : "void cancelled: typed '\(typed)', not the hold's id; nothing changed")
            return
        }
        act(closing: true) { () throws(BooksError) in
            try books.void(key, id: id)
            let done = "voided hold \(id) (\(money(amount))) on \(key) #\(index)"
            let slots = try books.slotHolds(key)
            return index < slots.count ? done + ": free now \(money(slots[index].free))" : done
        }
    }
}
