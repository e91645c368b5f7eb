import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// The dashboard's keys without a terminal: a real segment, the same `Controller` the live loop
/// drives, and the books checked through the core after every action.
final class ControllerTests: XCTestCase {
    var segment: TempSegment!
    var books: Books!

    override func setUp() {
        super.setUp()
        segment = TempSegment()
        books = try! segment.books()
        try! seedExample(books)
    }

    override func tearDown() {
        books = nil
        segment = nil
        super.tearDown()
    }

    func controller(readOnly: Bool = false) throws -> Controller {
        let b = readOnly ? try segment.books(.readOnly) : books!
        return try Controller(books: b, ui: UIState(selectedKey: key("USDC"), selectedSlot: 2))
    }

    func type(_ c: inout Controller, _ text: String) {
        for ch in text { c.handle(.char(ch)) }
    }

    func slot(_ i: Int) throws -> Amount { try books.balance(key("USDC"), index: i) }

    func testAllocateAndReleaseGoThroughTheCore() throws {
        var c = try controller()
        c.handle(.char("a"))
        XCTAssertEqual(c.ui.prompt?.kind, .allocate(index: 2))
        type(&c, "500")
        c.handle(.enter)
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.kind, .ok)
        XCTAssertEqual(try slot(2), Amount("2500"))
        XCTAssertEqual(try slot(1), Amount("3500"))
        XCTAssertEqual(c.world.record(key("USDC"))?.state.slots[2], Amount("2500"), "the snapshot is re-read after an action")

        c.handle(.char("r"))
        type(&c, "2500")
        c.handle(.enter)
        XCTAssertEqual(try slot(2), .zero)
        XCTAssertEqual(c.ui.status?.text, "released 2,500.00 from KRAKEN USDC #2: it holds 0.00")
    }

    func testARefusalShowsTheCoresMessageAndChangesNothing() throws {
        var c = try controller()
        let before = try books.get(key("USDC"))
        c.handle(.char("a"))
        type(&c, "9000.01")
        c.handle(.enter)
        XCTAssertEqual(c.ui.status?.kind, .error)
        XCTAssertEqual(c.ui.status?.text, "KRAKEN USDC #2: allocate 9000.01 exceeds the headroom 9000.00 (pool + credit)")
        XCTAssertEqual(try books.get(key("USDC")), before)
        XCTAssertEqual(books.activity(limit: 1).last?.refusal, .insufficientHeadroom, "the refusal is in the ring")
    }

    func testPromptInputEditingAndBadAmounts() throws {
        var c = try controller()
        c.handle(.char("a"))
        type(&c, "1x2,3e")  // every character typed is kept: nothing is dropped behind the operator's back
        XCTAssertEqual(c.ui.prompt?.input, "1x2,3e")
        c.handle(.backspace)
        XCTAssertEqual(c.ui.prompt?.input, "1x2,3")
        c.handle(.enter)
        XCTAssertNotNil(c.ui.prompt, "a malformed amount keeps the prompt open to be fixed")
        XCTAssertEqual(c.ui.status, Status(.error, "'1x2,3' is not an amount: unexpected character 'x'; use digits, an optional sign and one point"))
        c.handle(.ctrl("u"))
        XCTAssertEqual(c.ui.prompt?.input, "")
        c.handle(.enter)
        XCTAssertEqual(c.ui.status?.text, "type an amount, or Esc to cancel")
        type(&c, " 250 ")  // spaces around the text are dropped as a shell drops them around an argument
        c.handle(.enter)
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(try slot(2), Amount("2250"))
    }

    /// Every prompt that takes an amount refuses exactly what the core's parser (the CLI's) refuses,
    /// with its message, and changes nothing; a slot name is refused as `shmbal name` refuses it.
    func testEveryPromptRefusesBadTextWithTheParsersMessage() throws {
        var c = try controller()
        let before = try books.allRecords()
        let head = books.activityHead
        for text in ["1e3", "1,000", "12.5abc", "1.2.3", "--5", "é5", "0.0000000000000000001", "99999999999999999999"] {
            let expected: String
            do { _ = try Amount(parsing: text); XCTFail("\(text) parses"); continue } catch { expected = error.message }
            for key in ["a", "r", "s", "c", "R"] {
                c.handle(.char(Character(key)))
                XCTAssertNotNil(c.ui.prompt, key)
                type(&c, text)
                XCTAssertEqual(c.ui.prompt?.input, text, "\(key): every character is in the field")
                c.handle(.enter)
                XCTAssertEqual(c.ui.status, Status(.error, expected), "\(key) \(text)")
                XCTAssertNotNil(c.ui.prompt, "\(key): the prompt stays open to be fixed")
                c.handle(.escape)
            }
        }
        c.handle(.down)
        c.handle(.char("n"))
        c.handle(.ctrl("u"))
        type(&c, "arb 2")
        c.handle(.enter)
        XCTAssertEqual(c.ui.status, Status(.error, "slot name 'arb 2' has a character that is not allowed: use printable ASCII without spaces"))
        c.handle(.escape)
        XCTAssertEqual(try books.allRecords(), before)
        XCTAssertEqual(books.activityHead, head, "nothing reached the core")
    }

    func testAFullPromptSaysSoInsteadOfDroppingCharacters() throws {
        var c = try controller()
        c.handle(.char("a"))
        type(&c, String(repeating: "9", count: Prompt.maxInput))
        c.handle(.char("1"))
        XCTAssertEqual(c.ui.prompt?.input.count, Prompt.maxInput)
        XCTAssertEqual(c.ui.status, Status(.error, "the field holds at most \(Prompt.maxInput) characters; '1' was not added"))
    }

    func testEscClosesPromptsAndHelpAndDoesNothingOnTheMainScreen() throws {
        var c = try controller()
        let start = c.ui
        c.handle(.escape)
        XCTAssertEqual(c.ui, start)
        XCTAssertFalse(c.quit)
        c.handle(.char("?"))
        XCTAssertTrue(c.ui.showHelp)
        c.handle(.char("a"))
        XCTAssertNil(c.ui.prompt, "keys other than Esc, ? and q do nothing under the help")
        c.handle(.escape)
        XCTAssertFalse(c.ui.showHelp)
        c.handle(.char("s"))
        XCTAssertEqual(c.ui.prompt?.kind, .setTotal)
        c.handle(.escape)
        XCTAssertNil(c.ui.prompt)
        c.handle(.char("q"))
        XCTAssertTrue(c.quit)
    }

    func testResetNeedsTheCurrencyTypedToConfirm() throws {
        var c = try controller()
        let before = try books.get(key("USDC"))
        c.handle(.char("R"))
        type(&c, "12000")
        c.handle(.enter)
        XCTAssertEqual(c.ui.prompt?.kind, .resetConfirm(balance: Amount("12000")))
        XCTAssertEqual(try books.get(key("USDC")), before, "nothing changes before the confirmation")
        type(&c, "USD")
        c.handle(.enter)
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.text, "reset cancelled: typed 'USD', not USDC; nothing changed")
        XCTAssertEqual(try books.get(key("USDC")), before)

        c.handle(.char("R"))
        type(&c, "12000")
        c.handle(.enter)
        type(&c, "USDC")
        c.handle(.enter)
        let after = try books.get(key("USDC"))
        XCTAssertEqual(after.slots, [Amount("12000"), Amount("12000"), .zero, .zero, .zero])
        XCTAssertEqual(after.epoch, before.epoch + 1)
        XCTAssertEqual(after.names[2], label("grid-bot"), "a reset keeps the names")
    }

    func testReconcileOffersTheExchangesBalanceQuote() throws {
        let now = wallClockMicros()
        try books.writeQuote(QuoteKey("KRAKEN", "BALANCE", "USDC"), SingleQuote(timestamp: now, localTimestamp: now, mid: 10250.5))
        var c = try controller()
        c.handle(.char("c"))
        XCTAssertEqual(c.ui.prompt?.input, "10250.5")
        c.handle(.enter)
        XCTAssertEqual(try slot(0), Amount("10250.5"))
        XCTAssertEqual(try slot(1), Amount("4250.5"))
        XCTAssertEqual(c.ui.status?.text, "KRAKEN USDC: repaired by +250.50: the pool absorbed it and is now 4250.50")
    }

    func testSetTotalAndName() throws {
        var c = try controller()
        c.handle(.char("s"))
        type(&c, "9000")
        c.handle(.enter)
        XCTAssertEqual(try slot(0), Amount("9000"))
        XCTAssertEqual(try slot(1), Amount("3000"))
        c.handle(.down)
        c.handle(.char("n"))
        XCTAssertEqual(c.ui.prompt?.input, "arb", "the prompt starts from the current name")
        c.handle(.ctrl("u"))
        type(&c, "arb-2")
        c.handle(.enter)
        XCTAssertEqual(try books.get(key("USDC")).names[3], label("arb-2"))
    }

    func testAllocateNeedsASubStrategy() throws {
        var c = try controller()
        c.handle(.up)
        c.handle(.char("k"))
        XCTAssertEqual(c.ui.selectedSlot, 0)
        c.handle(.char("a"))
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.kind, .error)
        XCTAssert(c.ui.status?.text.contains("select slot #2") == true)
    }

    func testNavigationWrapsAndClamps() throws {
        var c = try controller()
        c.handle(.right)  // USDC is last: wraps to USD
        XCTAssertEqual(c.ui.selectedKey, key("USD"))
        XCTAssertEqual(c.ui.selectedSlot, 2)
        for _ in 0..<10 { c.handle(.char("j")) }
        XCTAssertEqual(c.ui.selectedSlot, 3, "USD has 4 slots")
        c.handle(.tab)
        XCTAssertEqual(c.ui.selectedKey, key("USDC"))
        c.handle(.backTab)
        c.handle(.left)
        XCTAssertEqual(c.ui.selectedKey, key("USDC"))
    }

    func testReadOnlyRefusesEveryWriteKey() throws {
        var c = try controller(readOnly: true)
        XCTAssertTrue(c.world.readOnly)
        let before = try books.get(key("USDC"))
        for b in Keys.table where b.writes {
            c.handle(b.keys[0])
            XCTAssertNil(c.ui.prompt, b.label)
            XCTAssertEqual(c.ui.status?.text, "read-only: \(b.label) is off (attached with --read-only)")
        }
        XCTAssertEqual(try books.get(key("USDC")), before)
    }

    func testPauseFreezesTheSnapshot() throws {
        var c = try controller()
        c.handle(.char("p"))
        XCTAssertTrue(c.ui.paused)
        try books.allocate(key("USDC"), index: 4, Amount("1"))
        XCTAssertFalse(c.refresh())
        XCTAssertEqual(c.world.record(key("USDC"))?.state.slots[4], Amount("1000"))
        c.handle(.char("p"))
        XCTAssertEqual(c.world.record(key("USDC"))?.state.slots[4], Amount("1001"), "resuming re-reads at once")
    }

    /// The key table is the single source: each binding's keys dispatch to it, and the key line
    /// shows nothing the table does not hold.
    func testKeyTableDrivesDispatchAndKeyLine() {
        var seen = Set<Key>()
        for b in Keys.table {
            for k in b.keys {
                XCTAssert(seen.insert(k).inserted, "\(k) is bound twice")
                XCTAssertEqual(Keys.binding(for: k)?.action, b.action)
            }
        }
        for width in [40, 80, 120, 200] {
            for readOnly in [false, true] {
                let items = Keys.keyLine(width: width, glyphs: .unicode, readOnly: readOnly)
                let text = items.map { "\($0.key) \($0.label)" }.joined(separator: "  ")
                XCTAssertLessThanOrEqual(text.count + 1, width)
                for item in items {
                    let b = Keys.table.first { $0.label == item.label }
                    XCTAssertNotNil(b)
                    XCTAssertFalse(readOnly && b!.writes)
                }
                XCTAssert(items.contains { $0.label == "quit" }, "quit always shows")
            }
        }
    }
}
