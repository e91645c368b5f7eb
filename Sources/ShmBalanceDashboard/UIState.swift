import ShmBalance

/// What the person at the dashboard has chosen: selection, open prompt or overlay, the last
/// status message, display settings. A plain value; the render reads it, the controller changes it.
public struct UIState: Equatable, Sendable {
    /// The selected currency; nil (or a key no longer shown) selects the first.
    public var selectedKey: BookKey?
    /// The selected slot of the selected currency (clamped to its count when drawn).
    public var selectedSlot: Int = 2
    public var paused = false
    public var showHelp = false
    public var prompt: Prompt?
    public var status: Status?
    public var refreshMs: Int = 100
    public var glyphs: Glyphs = .unicode
    /// The currency list's filter (`/`), and whether its prompt is open for typing.
    public var filter = CurrencyFilter("")
    public var editingFilter = false
    /// The currency list's order (`o`).
    public var sort: SortKey = .name
    /// The selected slot's recent history (Enter) is open.
    public var showHistory = false
    /// The holds view (`h`) is open: which slot's holds, and which one is selected.
    public var holdsView: HoldsViewState?

    public init(selectedKey: BookKey? = nil, selectedSlot: Int = 2, refreshMs: Int = 100, glyphs: Glyphs = .unicode) {
        self.selectedKey = selectedKey
        self.selectedSlot = selectedSlot
        self.refreshMs = refreshMs
        self.glyphs = glyphs
    }

    /// The selected record in `world` (the first listed when the selection is unset, gone or
    /// filtered out; nil when nothing is listed).
    public func selectedRecord(in world: World) -> BalanceRecord? {
        let order = world.listedIndices(self)
        return selectedPosition(in: order, of: world).map { world.records[order[$0]] }
    }

    /// Where the selection is in `order` (`World.listedIndices`): the first when it is unset,
    /// gone or filtered out; nil when nothing is listed.
    public func selectedPosition(in order: [Int], of world: World) -> Int? {
        if let key = selectedKey, let p = order.firstIndex(where: { world.records[$0].key == key }) { return p }
        return order.isEmpty ? nil : 0
    }

    /// The selected slot, within the record's count.
    public func slot(of record: BalanceRecord) -> Int {
        min(max(0, selectedSlot), record.strategyCount - 1)
    }
}

/// A one-line message under the panels: the result of the last action or the core's error.
public struct Status: Equatable, Sendable {
    public enum Kind: Sendable { case info, ok, error }
    public var kind: Kind
    /// Terminal-safe: the core's messages echo paths and typed text (`TerminalText.safe`).
    public private(set) var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = TerminalText.safe(text)
    }
}

/// An open prompt: what it asks for, about which record, and the text typed so far.
public struct Prompt: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case allocate(index: Int)
        case release(index: Int)
        case resetBalance
        /// The second step of a reset: the balance is chosen, the currency's name must be typed.
        case resetConfirm(balance: Amount)
        case reconcile
        case setTotal
        case name(index: Int)
        /// Void a hold: the operator types its id (as the holds view shows it) to confirm.
        case voidHold(id: HoldId, index: Int, amount: Amount)
    }

    public var kind: Kind
    public var key: BookKey
    public var input: String

    public init(_ kind: Kind, key: BookKey, input: String = "") {
        self.kind = kind
        self.key = key
        self.input = input
    }

    /// The longest input a prompt takes: an amount's 18 decimals and its whole part fit with room
    /// to spare. A character typed beyond it is refused with a message, never dropped silently.
    public static let maxInput = 64

    /// What Enter parses: the input without the spaces around it, as a shell drops them around
    /// an argument, so the prompt and the CLI see the same text.
    public var submittedText: String { input.trimmingSpaces }
}
