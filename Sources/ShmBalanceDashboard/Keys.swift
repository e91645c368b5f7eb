// One table of keys: it dispatches key presses, and the key line and the help overlay are drawn
// from it, so what the screen says a key does is what the key does.

/// A key press, as the terminal backend decodes it.
public enum Key: Equatable, Hashable, Sendable {
    case char(Character)
    case left, right, up, down
    case pageUp, pageDown, home, end
    case tab, backTab
    case enter, escape, backspace
    case ctrl(Character)
    case resize
}

/// What a key on the main screen does.
public enum Action: Equatable, Sendable {
    case nextCurrency, previousCurrency, slotUp, slotDown
    case pageDown, pageUp, firstCurrency, lastCurrency
    case filter, sort, history, holds
    case allocate, release, reset, reconcile, setTotal, name
    case pause, help, quit, redraw
    // The holds view's own keys (`Keys.holdsView`).
    case holdUp, holdDown, holdPageUp, holdPageDown, firstHold, lastHold, voidHold, closeHolds
}

/// One row of the table.
public struct Binding: Sendable {
    public var keys: [Key]
    /// How the key is written on screen (`a`, `←→`), in Unicode and in ASCII.
    public var keyText: String
    public var asciiKeyText: String
    /// The key line's word for it (`allocate`).
    public var label: String
    /// The help overlay's sentence.
    public var help: String
    public var action: Action
    /// Changes the books: refused with a message when attached read-only.
    public var writes: Bool
    /// Lower shows first; on a narrow terminal the key line drops the highest. nil: help only.
    public var keyLineRank: Int?
    /// On the key line only while the selected currency has open holds (the key works anyway):
    /// books without holds keep the key line they had.
    public var onlyWithHolds = false

    public func keyText(_ glyphs: Glyphs) -> String { glyphs.isUnicode ? keyText : asciiKeyText }
}

public enum Keys {
    public static let table: [Binding] = [
        Binding(keys: [.char("a")], keyText: "a", asciiKeyText: "a", label: "allocate",
                help: "allocate to the selected slot from the pool (asks the amount)", action: .allocate, writes: true, keyLineRank: 1),
        Binding(keys: [.char("r")], keyText: "r", asciiKeyText: "r", label: "release",
                help: "release from the selected slot back to the pool (asks the amount)", action: .release, writes: true, keyLineRank: 2),
        Binding(keys: [.char("R")], keyText: "R", asciiKeyText: "R", label: "reset",
                help: "reset the currency to a balance: every budget dropped but what open holds keep (asks the balance, then its name to confirm)",
                action: .reset, writes: true, keyLineRank: 6),
        Binding(keys: [.char("c")], keyText: "c", asciiKeyText: "c", label: "reconcile",
                help: "reconcile with the exchange's balance (offers its BALANCE quote)", action: .reconcile, writes: true, keyLineRank: 5),
        Binding(keys: [.char("s")], keyText: "s", asciiKeyText: "s", label: "set total",
                help: "set the total; the pool absorbs the difference (asks the amount)", action: .setTotal, writes: true, keyLineRank: 7),
        Binding(keys: [.char("n")], keyText: "n", asciiKeyText: "n", label: "name",
                help: "name the selected slot", action: .name, writes: true, keyLineRank: 12),
        Binding(keys: [.right, .tab], keyText: "←→", asciiKeyText: "<- ->", label: "currency",
                help: "next / previous currency (Tab, Shift-Tab too)", action: .nextCurrency, writes: false, keyLineRank: 8),
        Binding(keys: [.pageDown], keyText: "PgDn", asciiKeyText: "PgDn", label: "page",
                help: "page down / up the currencies (PgUp); Home / End: first / last", action: .pageDown, writes: false, keyLineRank: nil),
        Binding(keys: [.pageUp], keyText: "", asciiKeyText: "", label: "", help: "", action: .pageUp, writes: false, keyLineRank: nil),
        Binding(keys: [.home], keyText: "", asciiKeyText: "", label: "", help: "", action: .firstCurrency, writes: false, keyLineRank: nil),
        Binding(keys: [.end], keyText: "", asciiKeyText: "", label: "", help: "", action: .lastCurrency, writes: false, keyLineRank: nil),
        Binding(keys: [.char("/")], keyText: "/", asciiKeyText: "/", label: "filter",
                help: "filter: part of a name (usd) or EXCHANGE:CURRENCY (krak:us), any case; Esc clears it",
                action: .filter, writes: false, keyLineRank: 9),
        Binding(keys: [.char("o")], keyText: "o", asciiKeyText: "o", label: "sort",
                help: "sort: name, total, headroom, |drift| (largest first)",
                action: .sort, writes: false, keyLineRank: 11),
        Binding(keys: [.enter], keyText: "Enter", asciiKeyText: "Enter", label: "history",
                help: "the selected slot's recent history (Esc closes it)", action: .history, writes: false, keyLineRank: 14),
        Binding(keys: [.char("h")], keyText: "h", asciiKeyText: "h", label: "holds",
                help: "the selected slot's open holds; v voids one (asks its id)", action: .holds, writes: false, keyLineRank: 4,
                onlyWithHolds: true),
        Binding(keys: [.left, .backTab], keyText: "", asciiKeyText: "", label: "",
                help: "", action: .previousCurrency, writes: false, keyLineRank: nil),
        Binding(keys: [.down, .char("j")], keyText: "↑↓", asciiKeyText: "Up/Dn", label: "slot",
                help: "select a slot (k / j too)", action: .slotDown, writes: false, keyLineRank: 10),
        Binding(keys: [.up, .char("k")], keyText: "", asciiKeyText: "", label: "",
                help: "", action: .slotUp, writes: false, keyLineRank: nil),
        Binding(keys: [.char("p")], keyText: "p", asciiKeyText: "p", label: "pause",
                help: "pause / resume the live refresh", action: .pause, writes: false, keyLineRank: 13),
        Binding(keys: [.char("?")], keyText: "?", asciiKeyText: "?", label: "help",
                help: "this help (Esc closes it)", action: .help, writes: false, keyLineRank: 3),
        Binding(keys: [.ctrl("l")], keyText: "^L", asciiKeyText: "^L", label: "redraw",
                help: "redraw the whole screen", action: .redraw, writes: false, keyLineRank: nil),
        Binding(keys: [.char("q"), .ctrl("c")], keyText: "q", asciiKeyText: "q", label: "quit",
                help: "quit (Ctrl-C too)", action: .quit, writes: false, keyLineRank: 0),
    ]

    /// The holds view's keys (`h`): its dispatch and, while it is open, the key line.
    public static let holdsView: [Binding] = [
        Binding(keys: [.down, .char("j")], keyText: "↑↓", asciiKeyText: "Up/Dn", label: "hold",
                help: "select a hold (k / j too; PgUp / PgDn, Home / End)", action: .holdDown, writes: false, keyLineRank: 2),
        Binding(keys: [.up, .char("k")], keyText: "", asciiKeyText: "", label: "", help: "", action: .holdUp, writes: false, keyLineRank: nil),
        Binding(keys: [.pageDown], keyText: "", asciiKeyText: "", label: "", help: "", action: .holdPageDown, writes: false, keyLineRank: nil),
        Binding(keys: [.pageUp], keyText: "", asciiKeyText: "", label: "", help: "", action: .holdPageUp, writes: false, keyLineRank: nil),
        Binding(keys: [.home], keyText: "", asciiKeyText: "", label: "", help: "", action: .firstHold, writes: false, keyLineRank: nil),
        Binding(keys: [.end], keyText: "", asciiKeyText: "", label: "", help: "", action: .lastHold, writes: false, keyLineRank: nil),
        Binding(keys: [.char("v")], keyText: "v", asciiKeyText: "v", label: "void",
                help: "void the selected hold: its money returns to the slot's free budget (asks its id to confirm)",
                action: .voidHold, writes: true, keyLineRank: 1),
        Binding(keys: [.escape, .char("h")], keyText: "Esc", asciiKeyText: "Esc", label: "close",
                help: "close the holds view (h too)", action: .closeHolds, writes: false, keyLineRank: 3),
        Binding(keys: [.char("q"), .ctrl("c")], keyText: "q", asciiKeyText: "q", label: "quit",
                help: "quit (Ctrl-C too)", action: .quit, writes: false, keyLineRank: 0),
    ]

    /// The binding `key` triggers in `bindings` (the main screen's by default), if any.
    public static func binding(for key: Key, in bindings: [Binding] = table) -> Binding? {
        bindings.first { $0.keys.contains(key) }
    }

    /// The bindings the help overlay lists (the secondary rows of a pair are folded into the first).
    public static var documented: [Binding] { table.filter { !$0.help.isEmpty } }

    /// The key line's items in screen order, as many as fit in `width` (dropping the highest
    /// ranks first); write actions are left out when attached read-only, and the holds key
    /// unless the selected currency has open holds.
    public static func keyLine(_ bindings: [Binding] = table, width: Int, glyphs: Glyphs, readOnly: Bool,
                               holds: Bool = false) -> [(key: String, label: String)] {
        var items = bindings.filter { $0.keyLineRank != nil && !(readOnly && $0.writes) && (holds || !$0.onlyWithHolds) }
        func length(_ list: [Binding]) -> Int {
            list.reduce(0) { $0 + $1.keyText(glyphs).count + 1 + $1.label.count } + 2 * max(0, list.count - 1) + 1
        }
        while !items.isEmpty && length(items) > width {
            let worst = items.indices.max { items[$0].keyLineRank! < items[$1].keyLineRank! }!
            items.remove(at: worst)
        }
        return items.map { ($0.keyText(glyphs), $0.label) }
    }
}
