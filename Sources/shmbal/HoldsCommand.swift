import ArgumentParser
import ShmBalance
import ShmBalanceJSON

// `shmbal holds CURRENCY [--index I] [--json]` (SPEC §9): the open holds, as one consistent read
// of the record gives them (the core reads the table and the sums in one latch read).

struct Holds: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "The open holds of a record (of one slot with --index): id, slot, amount, age, expiry.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Option(help: "Only this sub-strategy's holds.") var index: Int?
    @Flag(help: "A JSON array: id, index, amount, original, createdMicros, expiresMicros (null without a ttl), expired.") var json = false

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        let (index, json) = (self.index, self.json)
        return { books, target in
            let key = try target.key(books, currency)
            let r = try core { () throws(BooksError) in try books.get(key) }
            // A slot the record does not have is the same refusal `balance --index` gives.
            if let index, !(0..<r.strategyCount).contains(index) {
                throw CLIError(.refused(Refusal(.indexOutOfRange, .get, key, index: index, amount: .zero, detail: Amount(raw: Int128(r.strategyCount)))))
            }
            let holds = try core { () throws(BooksError) in try books.holds(key, index: index) }
            if json { print(JSON.array(holds.map(\.json)).text); return }
            let at = index.map { " \(slotLabel($0, r))" } ?? ""
            if holds.isEmpty { print("\(key)\(at): no open holds"); return }
            let held = holds.reduce(Int128(0)) { $0 + $1.amount.raw }
            print("\(key)\(at): \(holds.count) open \(holds.count == 1 ? "hold" : "holds"), \(Amount(raw: held)) held")
            let now = wallMicros()
            let rows = holds.map { h in
                [h.id.description, slotLabel(h.index, r), h.amount.description, ageText(micros: h.createdMicros, now: now), expiryText(h, now: now)]
            }
            printTable(["ID", "SLOT", "AMOUNT", "OPENED", "EXPIRES"], rows, rightAligned: 2...2)
        }
    }
}

/// `—` without a ttl, `in 48 s`, or `EXPIRED 3 s ago` (the next writer of the record voids it).
func expiryText(_ h: OpenHold, now: Int64) -> String {
    guard let expires = h.expiresMicros else { return "—" }
    if h.expired || expires <= now { return "EXPIRED " + ageText(micros: expires, now: now) }
    let s = (expires - now + 999_999) / 1_000_000
    return s < 120 ? "in \(s) s" : s < 7200 ? "in \(s / 60) min" : s < 172_800 ? "in \(s / 3600) h" : "in \(s / 86_400) d"
}

extension OpenHold {
    /// One element of `holds --json`.
    var json: JSON {
        .object([
            ("id", .string(id.description)),
            ("index", .int(Int64(index))),
            ("amount", .amount(amount)),
            ("original", .amount(original)),
            ("createdMicros", .int(createdMicros)),
            ("expiresMicros", expiresMicros.map { .int($0) } ?? .null),
            ("expired", .bool(expired)),
        ])
    }
}
