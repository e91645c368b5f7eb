import ShmBalance

// From a TOML document to the config's records: which keys exist and what type each value has.
// The rules about the values themselves (counts in range, credit ≥ 0, names within the count,
// each record once) are the core's `RecordConfig.problems`, shared with `apply`; this file only
// turns text into typed values, keeping every line. Of several errors, the first in the file is
// reported, whatever order the tables were filled in.

extension ConfigFile {
    init(document doc: TOMLDocument, file: String) throws(ConfigError) {
        var earliest: ConfigError?
        // The key of a message is built only when the message is kept.
        func note(_ line: Int, _ key: @autoclosure () -> [String], _ message: @autoclosure () -> String) {
            if earliest == nil || line < earliest!.line! {
                earliest = ConfigError(file: file, line: line, key: TOMLKey.display(key()), message: message())
            }
        }
        self.init(file: file, defaultExchange: nil, records: [], places: [], leases: [])
        for top in doc.tables[TOMLDocument.root].entries {
            if top.key == "default_exchange" {
                guard case .string(let s) = top.value else {
                    note(top.line, [top.key], "must be a quoted exchange name, e.g. \"KRAKEN\"")
                    continue
                }
                do { defaultExchange = try ShortName(s) } catch { note(top.line, [top.key], error.message) }
                continue
            }
            guard case .table(let x) = top.value else {
                note(top.line, [top.key], "unknown key (expected default_exchange, or a table [EXCHANGE.CURRENCY])")
                continue
            }
            let exchange: ShortName
            do { exchange = try ShortName(top.key) } catch {
                note(doc.tables[x].line, [top.key], error.message)
                continue
            }
            for cur in doc.tables[x].entries {
                let path = [top.key, cur.key]
                guard case .table(let c) = cur.value else {
                    note(cur.line, path, "expected a table [\(TOMLKey.display(path))] with credit, strategies and names")
                    continue
                }
                let currency: ShortName
                do { currency = try ShortName(cur.key) } catch {
                    note(doc.tables[c].line, path, error.message)
                    continue
                }
                var entry = RecordConfig(key: BookKey(exchange: exchange, currency: currency))
                var place = RecordPlace(path: path, line: doc.tables[c].line)
                var marks: [String: (Amount, Int)] = [:]
                for field in doc.tables[c].entries {
                    var key: [String] { path + [field.key] }
                    switch field.key {
                    case "credit":
                        place.credit = field.line
                        switch ConfigFile.amount(field.value) {
                        case .success(let a): entry.creditLimit = a
                        case .failure(let why): note(field.line, key, why.message)
                        }
                    case "strategies":
                        place.strategies = field.line
                        guard case .integer(let text) = field.value, let n = Int(text) else {
                            note(field.line, key, "must be an integer from \(Layout.minStrategyCount) to \(Layout.slotCount) (found \(field.value.shown))")
                            continue
                        }
                        entry.strategyCount = n
                    case "names":
                        place.names = field.line
                        guard case .table(let n) = field.value else {
                            note(field.line, key, "must be a table of slot index to name, e.g. { 2 = \"grid-bot\" }")
                            continue
                        }
                        for slot in doc.tables[n].entries {
                            var slotKey: [String] { key + [slot.key] }
                            guard let i = ConfigFile.slotIndex(slot.key) else {
                                note(slot.line, slotKey, "a slot index is a number from 0 to \(Layout.slotCount - 1), written without leading zeros")
                                continue
                            }
                            place.nameLines[i] = slot.line
                            guard case .string(let s) = slot.value else {
                                note(slot.line, slotKey, "the name of slot \(i) must be quoted text")
                                continue
                            }
                            do { entry.names[i] = try ShortName(s, kind: .label) } catch { note(slot.line, slotKey, error.message) }
                        }
                    case "lease_low", "lease_high", "lease_chunk":
                        switch ConfigFile.amount(field.value) {
                        case .success(let a): marks[field.key] = (a, field.line)
                        case .failure(let why): note(field.line, key, why.message)
                        }
                    default:
                        note(field.line, key, "unknown key (expected credit, strategies, names, lease_low, lease_high or lease_chunk)")
                    }
                }
                if !marks.isEmpty {
                    switch LeaseMarks.make(entry.key, marks, credit: entry.creditLimit, line: doc.tables[c].line) {
                    case .success(let m): leases.append(m)
                    case .failure(let why): note(why.line, path + [why.field], why.message)
                    }
                }
                records.append(entry)
                places.append(place)
            }
        }
        if let earliest { throw earliest }
    }

    struct AmountProblem: Error {
        var message: String
    }

    /// A credit: quoted decimal text, or a bare number, both read exactly by the core's parser.
    static func amount(_ value: TOMLDocument.Value) -> Result<Amount, AmountProblem> {
        switch value {
        case .string(let text), .integer(let text), .decimal(let text):
            do { return .success(try Amount(parsing: text)) } catch { return .failure(AmountProblem(message: error.message)) }
        case .special(let text):
            return .failure(AmountProblem(message: "\(text) is not an amount (neither NaN nor infinity is)"))
        case .bool, .table:
            return .failure(AmountProblem(message: "must be an amount: quoted decimal text (\"5000.00\") or a plain number (5000.00)"))
        }
    }

    /// `0`…`999` without leading zeros; beyond 63 it is still an index, for the core's rule to refuse.
    static func slotIndex(_ key: String) -> Int? {
        let u = Array(key.utf8)
        guard !u.isEmpty, u.count <= 3, u.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              u.count == 1 || u[0] != UInt8(ascii: "0") else { return nil }
        return Int(key)
    }
}

extension TOMLDocument.Value {
    /// The value as a message shows it: numbers as written, text quoted and cut short.
    var shown: String {
        switch self {
        case .integer(let t), .decimal(let t), .special(let t): return t
        case .string(let t): return "\"" + SafeText.excerpt(t) + "\""
        case .bool(let b): return b ? "true" : "false"
        case .table: return "a table"
        }
    }
}
