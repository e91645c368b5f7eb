import ShmBalance

// What is drawn over the panels: a prompt, the help, or (instead of everything) "too small".

extension Canvas {
    mutating func tooSmall() {
        let lines = [
            "Terminal too small: \(width)\(glyphs.times)\(height).",
            "ShmBalance needs at least \(Render.minimumSize.width)\(glyphs.times)\(Render.minimumSize.height).",
            "q quits.",
        ].flatMap { wrap(glyphs.fold($0), width: max(1, width)) }
        let top = max(0, (height - lines.count) / 2)
        for (i, line) in lines.prefix(height).enumerated() {
            put(line, x: max(0, (width - line.count) / 2), y: top + i, i < lines.count - 1 ? .warning : .dim)
        }
    }

    /// A centred box `w` wide holding `lines`; returns its top-left corner.
    @discardableResult
    mutating func dialog(title: String, lines: [(String, Style)], width w: Int) -> (x: Int, y: Int) {
        let h = min(height - 2, lines.count + 2)
        let x = max(0, (width - w) / 2)
        let y = max(1, (height - h) / 2)
        box(x: x, y: y, width: w, height: h, title: title)
        for (i, line) in lines.prefix(h - 2).enumerated() {
            put(line.0, x: x + 2, y: y + 1 + i, line.1, limit: w - 4)
        }
        return (x, y)
    }

    mutating func prompt(_ p: Prompt, _ world: World) {
        let w = min(width - 4, 72)
        let text = promptText(p, world)
        var lines: [(String, Style)] = text.info.flatMap { info in wrap(glyphs.fold(info.0), width: w - 4).map { ($0, info.1) } }
        lines.append(("", .normal))
        let fieldLine = lines.count
        lines.append(("", .normal))
        lines.append(("", .normal))
        lines.append(("Enter \(text.verb) \(glyphs.dot) Esc cancel", .dim))
        let (x, y) = dialog(title: text.title, lines: lines, width: w)
        // The input field: its label, then the typed text on an inverse field with a cursor.
        let fy = y + 1 + fieldLine
        let fx = put(text.field + " ", x: x + 2, y: fy, .title)
        let fieldWidth = max(1, x + w - 2 - fx)
        grid.fill(x: fx, y: fy, width: fieldWidth, height: 1, " ", .input)
        // The end of what was typed, as drawn (escaped where it must be), so the cursor follows it.
        let shown = String(glyphs.fold(TerminalText.safe(p.input)).suffix(fieldWidth - 1))
        let end = put(shown, x: fx, y: fy, .input)
        put("_", x: end, y: fy, .input)
    }

    /// Title, explanation lines, the field's label and the Enter key's verb for each prompt.
    func promptText(_ p: Prompt, _ world: World) -> (title: String, info: [(String, Style)], field: String, verb: String) {
        let r = world.record(p.key)
        let d = glyphs.dot
        func slotName(_ i: Int) -> String {
            guard let r, i < r.names.count, !r.names[i].isEmpty else { return "#\(i)" }
            return "#\(i) \(r.names[i])"
        }
        let s = r?.state
        switch p.kind {
        case .allocate(let i):
            return ("Allocate \(d) \(p.key) \(slotName(i))",
                    [("From the pool to \(slotName(i)), which holds \(s.map { money($0.slots[i]) } ?? "?").", .normal),
                     ("Headroom \(r.map { money($0.headroom) } ?? "?") (pool \(s.map { money($0.pool) } ?? "?") + credit \(r.map { money($0.creditLimit) } ?? "?")): the most an allocation may take.", .dim)],
                    "amount", "allocate")
        case .release(let i):
            return ("Release \(d) \(p.key) \(slotName(i))",
                    [("From \(slotName(i)) back to the pool.", .normal),
                     // Open orders keep theirs: a release never takes a budget below its held part (SPEC §9).
                     r.flatMap { r in i < r.held.count && i < r.holdCounts.count && r.held[i].raw != 0 ? r : nil }.map { r in
                         ("Its budget is \(money(r.slots[i])), \(money(r.held[i])) of it held by \(r.holdCounts[i]) open "
                          + "\(r.holdCounts[i] == 1 ? "hold" : "holds"): the most it can release is its free \(money(r.free[i])).", .dim)
                     } ?? ("Its budget is \(s.map { money($0.slots[i]) } ?? "?"): the most it can release.", .dim)],
                    "amount", "release")
        case .resetBalance:
            var info: [(String, Style)] = [
                ("Now: total \(s.map { money($0.total) } ?? "?") \(d) pool \(s.map { money($0.pool) } ?? "?") \(d) budgets \(s.map { money($0.allocated) } ?? "?").", .normal),
                // Holds are kept (their orders are still open on the exchange, SPEC §9).
                r.map { $0.hasHolds } ?? false
                    ? ("A reset sets total = the balance and each budget to what its open holds keep (\(r.map { money($0.heldTotal) } ?? "?") in all); "
                       + "the rest is dropped and the pool gets the balance minus the holds.", .warning)
                    : ("A reset sets total = pool = the balance and drops every budget; strategies must ask again.", .warning),
            ]
            if let e = world.exchangeBalance(p.key) { info.append(("The exchange's BALANCE quote says \(money(e)).", .dim)) }
            return ("Reset \(d) \(p.key)", info, "balance", "next")
        case .resetConfirm(let balance):
            return ("Reset \(d) \(p.key) \(d) confirm",
                    [r.map { $0.hasHolds } ?? false
                        ? ("Reset \(p.key) to \(money(balance)): total = \(money(balance)), the budgets (\(s.map { money($0.allocated) } ?? "?")) dropped "
                           + "to what their open holds keep (\(r.map { money($0.heldTotal) } ?? "?")), the pool gets the rest.", .warning)
                        : ("Reset \(p.key) to \(money(balance)): total = pool = \(money(balance)), every budget (\(s.map { money($0.allocated) } ?? "?")) dropped.", .warning),
                     ("Type \(p.key.currency) to confirm.", .normal)],
                    "type \(p.key.currency)", "reset")
        case .reconcile:
            var info: [(String, Style)] = []
            if let e = world.exchangeBalance(p.key), let total = s?.total {
                let delta = e.subtracting(total).map(signedMoney) ?? "?"
                info.append(("Local total \(money(total)) \(d) exchange's BALANCE quote \(money(e)) (Δ \(delta)).", .normal))
            } else {
                info.append(("Local total \(s.map { money($0.total) } ?? "?") \(d) no BALANCE quote: type the exchange's balance.", .normal))
            }
            info.append(("The pool absorbs the difference; if pool + credit would go below 0, the currency is reset.", .dim))
            return ("Reconcile \(d) \(p.key)", info, "exchange balance", "reconcile")
        case .setTotal:
            return ("Set total \(d) \(p.key)",
                    [("Total now \(s.map { money($0.total) } ?? "?"); the pool (\(s.map { money($0.pool) } ?? "?")) absorbs the difference.", .normal)],
                    "new total", "set")
        case .name(let i):
            return ("Name \(d) \(p.key) #\(i)",
                    [("Slot #\(i) is \(r.flatMap { i < $0.names.count && !$0.names[i].isEmpty ? "named \($0.names[i])" : nil } ?? "unnamed").", .normal),
                     ("Printable ASCII without spaces, up to 15 characters; empty clears it.", .dim)],
                    "name", "name")
        case .voidHold(let id, let i, let amount):
            // The id as the holds view shows it (terminal-safe): what the operator must type.
            let shown = TerminalText.safe(id.description)
            let hold = world.holds.flatMap { $0.key == p.key ? $0.holds.first { $0.id == id } : nil }
            let opened = hold.map { ageText(micros: $0.createdMicros, now: world.nowMicros) } ?? "?"
            let expiry = hold.map { h in
                h.isExpired(at: world.nowMicros) ? ", EXPIRED" : h.expiresMicros.map { ", expires \(timeLeftText(until: $0, now: world.nowMicros))" } ?? ", no ttl"
            } ?? ""
            return ("Void hold \(d) \(p.key) \(slotName(i))",
                    [("Hold \(shown) keeps \(money(amount)) of \(slotName(i))'s budget (opened \(opened)\(expiry)).", .normal),
                     ("Voiding returns it to the slot's free budget: only for an order no longer open on the exchange.", .warning),
                     ("Type the hold's id to confirm; anything else cancels.", .normal)],
                    "hold id", "void")
        }
    }

    mutating func help(readOnly: Bool) {
        let w = min(width - 4, 84)
        let keyWidth = 7
        var lines: [(String, Style)] = []
        var keyCaps: [(line: Int, length: Int)] = []
        for b in Keys.documented {
            let keys = glyphs.fold(b.keyText(glyphs))
            let off = readOnly && b.writes ? " (off: attached read-only)" : ""
            let wrapped = wrap(glyphs.fold(b.help + off), width: w - 4 - keyWidth)
            keyCaps.append((lines.count, keys.count))
            for (i, line) in wrapped.enumerated() {
                lines.append(((i == 0 ? pad(right: keys, keyWidth) : String(repeating: " ", count: keyWidth)) + line,
                              readOnly && b.writes ? .dim : .normal))
            }
        }
        // What `health` and the drift cell really do: a drift never changes a currency's colour.
        let colours = "green healthy \(glyphs.dot) yellow headroom under 10% of the total \(glyphs.dot) red broken: identity "
            + "\(glyphs.broken) or headroom below 0. A drift from the exchange's BALANCE quote only highlights its "
            + "\(glyphs.driftHeader) cell (yellow; green when equal) and counts as off the exchange in the status line. "
            + "! after a slot's HOLDS count: a hold's ttl has passed (the next writer voids it; h lists them)."
        let colourLines = wrap(glyphs.fold(colours), width: w - 4)
        // Every key first: on a short terminal (80×24) the colours give way, not the keys, and
        // then the KEYS heading (alone, the list needs none).
        let room = height - 4
        if lines.count + colourLines.count + 5 <= room || lines.count + 2 <= room {
            lines.insert(("KEYS", .columnHeader), at: 0)
            keyCaps = keyCaps.map { ($0.line + 1, $0.length) }
        }
        if lines.count + colourLines.count + 4 <= room {
            lines.append(("", .normal))
            lines.append(("COLOURS AND MARKS", .columnHeader))
            for l in colourLines { lines.append((l, .normal)) }
        }
        if lines.count + 2 <= room { lines.append(("", .normal)) }
        lines.append(("Esc or ? closes this help.", .dim))
        let (x, y) = dialog(title: "Help", lines: lines, width: w)
        // Key names stand out as they do on the key line.
        for cap in keyCaps where cap.line + 2 < min(height - 2, lines.count + 2) {
            grid.restyle(x: x + 2, y: y + 1 + cap.line, count: cap.length, .keyCap)
        }
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (a longer word is cut).
func wrap(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
        var word = String(word)
        while word.count > width {
            if !current.isEmpty { lines.append(current); current = "" }
            lines.append(String(word.prefix(width)))
            word = String(word.dropFirst(width))
        }
        if current.isEmpty {
            current = word
        } else if current.count + 1 + word.count <= width {
            current += " " + word
        } else {
            lines.append(current)
            current = word
        }
    }
    if !current.isEmpty || lines.isEmpty { lines.append(current) }
    return lines
}

extension Canvas {
    /// The filter prompt, on the status line as htop and k9s have it: `/` and what was typed
    /// (escaped where it must be), with the keys that end it.
    mutating func filterPrompt(_ ui: UIState, y: Int) {
        // A refusal (the field is full) takes the hint's place: the status line is the prompt's now.
        let refusal = ui.status.flatMap { $0.kind == .error ? "  " + $0.text : nil }
        let hint = glyphs.fold(refusal ?? "  Enter keep \(glyphs.dot) Esc clear")
        let x = put("/", x: 1, y: y, .keyCap)
        let fieldWidth = max(2, min(width - x - hint.count - 2, max(Controller.maxFilter + 1, width / 2)))
        grid.fill(x: x, y: y, width: fieldWidth, height: 1, " ", .input)
        let shown = String(glyphs.fold(TerminalText.safe(ui.filter.text)).suffix(fieldWidth - 1))
        let end = put(shown, x: x, y: y, .input)
        put("_", x: end, y: y, .input)
        put(hint, x: x + fieldWidth, y: y, refusal == nil ? .dim : .statusError, limit: max(0, width - x - fieldWidth - 1))
    }
}
