import ShmBalance

/// The dashboard's behaviour without a terminal: it turns key presses into UI changes and into
/// calls on the same `Books` every other client uses, and keeps the latest snapshot. The live
/// loop feeds it keys and ticks; the tests do the same with no terminal at all.
public struct Controller {
    public let books: Books
    public let exchange: ShortName?
    public internal(set) var world: World
    /// Whatever changes it (a key, or the caller choosing a currency before `top --once` draws)
    /// brings the selected currency's holds along, so the frame never shows another's.
    public var ui: UIState { didSet { readHolds(into: &world) } }
    public internal(set) var quit = false
    /// Set when the screen must be repainted from scratch (Ctrl-L).
    public var redrawRequested = false
    /// How many currency rows a page is (PgUp/PgDn): the live loop sets it from the frame's plan.
    public var currencyPage = 10
    /// How many holds a page is in the holds view: the live loop sets it from the frame.
    public var holdsPage = 10

    public init(books: Books, exchange: ShortName? = nil, ui: UIState) throws(BooksError) {
        self.books = books
        self.exchange = exchange
        self.ui = ui
        self.world = try World.capture(books, exchange: exchange, nowMicros: wallClockMicros())
        readHolds(into: &world)
    }

    /// Re-reads the books (unless paused, or `force`). Returns whether anything shown changed.
    @discardableResult
    public mutating func refresh(force: Bool = false) -> Bool {
        let now = wallClockMicros()
        guard !ui.paused || force else {
            world.nowMicros = now
            return false
        }
        do {
            var next = try World.capture(books, exchange: exchange, previous: world, nowMicros: now)
            readHistory(into: &next)
            readHolds(into: &next)
            let changed = next.booksDiffer(from: world)
            world = next
            return changed
        } catch {
            // Keep the last picture, but say how old it is (the header's STALE marker) rather than
            // show it as live; a file cut short also gets its banner.
            world.markStale(error.description, now: now)
            world.fileState = books.segment.fileState
            ui.status = Status(.error, "reading the books failed: \(error.description)")
            return true
        }
    }

    public mutating func handle(_ key: Key) {
        if ui.prompt != nil { return promptKey(key) }
        if ui.showHelp {
            switch key {
            case .escape, .char("?"): ui.showHelp = false
            case .char("q"), .ctrl("c"): quit = true
            default: break
            }
            return
        }
        if ui.showHistory {
            switch key {
            case .escape, .enter: closeHistory()
            case .char("q"), .ctrl("c"): quit = true
            default: break
            }
            return
        }
        if ui.holdsView != nil { return holdsKey(key) }
        if ui.editingFilter && filterKey(key) { return }
        // Esc does nothing on the main screen (SPEC §7): it only ever closes something, here the
        // filter still applied after its prompt was closed with Enter.
        if key == .escape {
            if !ui.filter.isEmpty { setFilter("") }
            return
        }
        guard let binding = Keys.binding(for: key) else { return }
        if binding.writes && world.readOnly {
            ui.status = Status(.error, "read-only: \(binding.label) is off (attached with --read-only)")
            return
        }
        perform(binding.action)
    }

    mutating func perform(_ action: Action) {
        let record = ui.selectedRecord(in: world)
        switch action {
        case .quit: quit = true
        case .help: ui.showHelp = true
        case .redraw: redrawRequested = true
        case .pause:
            ui.paused.toggle()
            ui.status = Status(.info, ui.paused ? "paused: p resumes" : "resumed")
            if !ui.paused { refresh() }
        case .nextCurrency, .previousCurrency, .pageDown, .pageUp, .firstCurrency, .lastCurrency:
            moveCurrency(action)
        case .filter:
            ui.editingFilter = true
            ui.status = nil
        case .sort:
            ui.sort = ui.sort.next
            ui.status = Status(.info, "sorted by \(ui.sort.rawValue)\(ui.sort == .name ? "" : ", largest first")")
            settleSelection()
        case .history:
            guard let r = record else { return noRecord() }
            ui.selectedKey = r.key
            openHistory(r.key, slot: ui.slot(of: r))
        case .holds:
            guard let r = record else { return noRecord() }
            openHolds(r, slot: ui.slot(of: r))
        case .holdUp, .holdDown, .holdPageUp, .holdPageDown, .firstHold, .lastHold, .voidHold, .closeHolds:
            break  // the holds view's own keys (`holdsKey`)
        case .slotUp, .slotDown:
            guard let r = record else { return }
            let current = ui.slot(of: r)
            ui.selectedSlot = action == .slotUp ? max(0, current - 1) : min(r.strategyCount - 1, current + 1)
        case .allocate, .release, .name:
            guard let r = record else { return noRecord() }
            let slot = ui.slot(of: r)
            if action != .name && slot < 2 {
                ui.status = Status(.error, "\(action == .allocate ? "allocate" : "release") needs a sub-strategy: select slot #2 or later (\(ui.glyphs.upDown))")
                return
            }
            ui.selectedKey = r.key
            ui.prompt = Prompt(action == .allocate ? .allocate(index: slot) : action == .release ? .release(index: slot) : .name(index: slot),
                               key: r.key, input: action == .name ? r.names[slot].description : "")
        case .reset:
            guard let r = record else { return noRecord() }
            ui.selectedKey = r.key
            ui.prompt = Prompt(.resetBalance, key: r.key)
        case .reconcile:
            guard let r = record else { return noRecord() }
            ui.selectedKey = r.key
            // Offer the exchange's own figure when it published one.
            ui.prompt = Prompt(.reconcile, key: r.key, input: world.exchangeBalance(r.key)?.exactText ?? "")
        case .setTotal:
            guard let r = record else { return noRecord() }
            ui.selectedKey = r.key
            ui.prompt = Prompt(.setTotal, key: r.key)
        }
    }

    mutating func noRecord() {
        if !ui.filter.isEmpty && !world.records.isEmpty {
            ui.status = Status(.error, "no currency matches the filter: Esc clears it")
        } else {
            ui.status = Status(.error, "no currency to act on: the segment has no records yet")
        }
    }

    mutating func promptKey(_ key: Key) {
        guard var prompt = ui.prompt else { return }
        switch key {
        case .escape:
            ui.prompt = nil
            ui.status = Status(.info, "cancelled")
        case .ctrl("c"):
            quit = true
        case .backspace:
            if !prompt.input.isEmpty { prompt.input.removeLast() }
            ui.prompt = prompt
        case .ctrl("u"):
            prompt.input = ""
            ui.prompt = prompt
        case .enter:
            submit(prompt)
        case .char(let c):
            // Every character typed goes into the field, whatever it is: Enter parses the text as
            // the CLI parses an argument and shows the CLI's refusal (SPEC §4 "Operators type money").
            guard prompt.input.count < Prompt.maxInput else {
                ui.status = Status(.error, "the field holds at most \(Prompt.maxInput) characters; '\(c)' was not added")
                return
            }
            prompt.input.append(c)
            ui.prompt = prompt
        default:
            break
        }
    }

    /// Enter in a prompt: parse the input, then call the core; its answer goes to the status line.
    mutating func submit(_ prompt: Prompt) {
        let books = self.books  // the closures below must not capture `self` while `act` mutates it
        let key = prompt.key
        let text = prompt.submittedText
        if case .name(let index) = prompt.kind {
            let name: ShortName
            do { name = try ShortName(text, kind: .label) } catch {
                ui.status = Status(.error, error.message)
                return
            }
            act(closing: true) { () throws(BooksError) in
                try books.setName(key, index: index, name)
                return "\(key) #\(index) is now named \(name.isEmpty ? "(nothing)" : name.description)"
            }
            return
        }
        if case .voidHold(let id, let index, let amount) = prompt.kind {
            return submitVoid(prompt, id: id, index: index, amount: amount)
        }
        if case .resetConfirm(let balance) = prompt.kind {
            guard text == key.currency.description else {
                ui.prompt = nil
                ui.status = Status(.error, "reset cancelled: typed '\(text)', not \(key.currency); nothing changed")
                return
            }
            act(closing: true) { () throws(BooksError) in
                try books.reset(key, balance: balance)
                let after = try books.get(key)
                return after.hasHolds ? "\(key) reset to \(money(balance)): budgets dropped but \(money(after.heldTotal)) kept by open holds"
                                      : "\(key) reset to \(money(balance)): every budget dropped"
            }
            return
        }
        // The CLI's own parser (`shmbal allocate … TEXT` calls exactly this), so the prompt
        // accepts what the CLI accepts and refuses the rest with the CLI's message.
        let amount: Amount
        do { amount = try Amount(parsing: text) } catch {
            ui.status = Status(.error, text.isEmpty ? "type an amount, or Esc to cancel" : error.message)
            return
        }
        switch prompt.kind {
        case .allocate(let index):
            act(closing: true) { () throws(BooksError) in
                try books.allocate(key, index: index, amount)
                return "allocated \(money(amount)) to \(key) #\(index): it holds \(money(try books.balance(key, index: index)))"
            }
        case .release(let index):
            act(closing: true) { () throws(BooksError) in
                try books.release(key, index: index, amount)
                return "released \(money(amount)) from \(key) #\(index): it holds \(money(try books.balance(key, index: index)))"
            }
        case .resetBalance:
            // Nothing changes yet: the second step asks for the currency's name.
            ui.prompt = Prompt(.resetConfirm(balance: amount), key: key)
            ui.status = nil
        case .reconcile:
            act(closing: true) { () throws(BooksError) in
                "\(key): \(try books.reconcile(key, exchangeBalance: amount))"
            }
        case .setTotal:
            act(closing: true) { () throws(BooksError) in
                try books.set(key, amount, index: 0)
                return "\(key) total set to \(money(amount))"
            }
        case .name, .resetConfirm, .voidHold:
            break
        }
    }

    /// Runs one core call; success or the core's error becomes the status line, and the books
    /// are re-read at once so the result shows without waiting for the next tick.
    mutating func act(closing: Bool, _ body: () throws(BooksError) -> String) {
        do {
            let message = try body()
            ui.status = Status(.ok, message)
        } catch {
            ui.status = Status(.error, error.description)
        }
        if closing { ui.prompt = nil }
        refresh(force: true)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
