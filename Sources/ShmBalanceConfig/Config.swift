import Foundation
import ShmBalance
import TOMLKit

/// A parsed config file (SPEC §5): per (exchange, currency) credit, strategy count and slot
/// names, and optionally the default exchange.
///
/// ```toml
/// default_exchange = "KRAKEN"
///
/// [KRAKEN.USDC]
/// credit = "5000"          # exact decimal text; a bare integer works too
/// strategies = 5
/// names = { 2 = "grid-bot", 3 = "arb", 4 = "mm" }
/// ```
public struct ConfigFile: Sendable, Equatable {
    public var defaultExchange: ShortName?
    public var records: [RecordConfig]

    /// Reads and checks the file at `path`; nothing is applied anywhere.
    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the file (\((error as NSError).localizedDescription))")
        }
        return try parse(text, file: path)
    }

    /// Parses config text; `file` only names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigFile {
        let source = SourceLines(text)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(file: file, line: e.source.begin.line, key: nil, message: "TOML syntax: \(e.description)")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "TOML syntax: \(error)")
        }
        func fail(_ table: [String], _ key: String?, _ message: String) -> ConfigError {
            ConfigError(file: file, line: source.line(of: key, in: table), key: (table + [key].compactMap { $0 }).joined(separator: "."), message: message)
        }

        var config = ConfigFile(defaultExchange: nil, records: [])
        for top in table.keys.sorted() {
            guard let value = table[top] else { continue }
            if top == "default_exchange" {
                guard let s = value.string else { throw fail([], top, "must be a quoted exchange name, e.g. \"KRAKEN\"") }
                do { config.defaultExchange = try ShortName(s) } catch { throw fail([], top, error.message) }
                continue
            }
            guard let exchangeTable = value.table else {
                throw fail([], top, "unknown key (expected default_exchange, or a table [EXCHANGE.CURRENCY])")
            }
            let exchange: ShortName
            do { exchange = try ShortName(top) } catch { throw fail([top], nil, error.message) }
            for cur in exchangeTable.keys.sorted() {
                guard let curTable = exchangeTable[cur]?.table else {
                    throw fail([top], cur, "expected a table [\(top).\(cur)] with credit, strategies and names")
                }
                let currency: ShortName
                do { currency = try ShortName(cur) } catch { throw fail([top, cur], nil, error.message) }
                var entry = RecordConfig(key: BookKey(exchange: exchange, currency: currency))
                let path = [top, cur]
                for field in curTable.keys.sorted() {
                    guard let v = curTable[field] else { continue }
                    switch field {
                    case "credit":
                        entry.creditLimit = try amount(v, written: source.valueText(of: field, in: path)) { fail(path, field, $0) }
                        if entry.creditLimit!.raw < 0 { throw fail(path, field, "a credit limit cannot be negative") }
                    case "strategies":
                        guard let n = v.int, n >= 2, n <= 64 else { throw fail(path, field, "must be an integer from 2 to 64") }
                        entry.strategyCount = n
                    case "names":
                        guard let names = v.table else {
                            throw fail(path, field, "must be a table of slot index to name, e.g. { 2 = \"grid-bot\" }")
                        }
                        for k in names.keys {
                            guard let i = Int(k), i >= 0, i < 64 else { throw fail(path, field, "slot index '\(k)' is not 0…63") }
                            guard let s = names[k]?.string else { throw fail(path, field, "the name of slot \(i) must be quoted text") }
                            do { entry.names[i] = try ShortName(s, kind: .label) } catch { throw fail(path, field, error.message) }
                        }
                    default:
                        throw fail(path, field, "unknown key (expected credit, strategies or names)")
                    }
                }
                let count = entry.strategyCount ?? Layout.defaultStrategyCount
                if entry.strategyCount != nil, let i = entry.names.keys.sorted().first(where: { $0 >= count }) {
                    throw fail(path, "names", "slot \(i) is named but the record has only \(count) slots (0…\(count - 1))")
                }
                config.records.append(entry)
            }
        }
        return config
    }

    /// An amount from a TOML value: quoted decimal text, an integer, or a float only when it
    /// means exactly what was written (`5000.5` yes; `123456789012.12345678` no: it reads back rounded).
    static func amount(_ v: any TOMLValueConvertible, written: String?, fail: (String) -> ConfigError) throws(ConfigError) -> Amount {
        do {
            if let s = v.string { return try Amount(parsing: s) }
            if let i = v.int { return try Amount(parsing: String(i)) }
            if let d = v.double {
                let fromDouble = try Amount(exactly: d)
                guard let w = written?.replacingOccurrences(of: "_", with: ""), let asWritten = try? Amount(parsingTOMLFloat: w),
                      asWritten == fromDouble else {
                    throw fail("\(written ?? String(d)) is not exact as a TOML float (it reads back as \(d)); write it as quoted text, e.g. \"\(written ?? String(d))\"")
                }
                return fromDouble
            }
        } catch let e as AmountError {
            throw fail(e.message)
        } catch let e as ConfigError {
            throw e
        } catch {
            throw fail("\(error)")
        }
        throw fail("must be an amount as quoted decimal text, e.g. \"5000.00\"")
    }
}

extension Amount {
    /// A TOML float's text (exponent allowed) parsed exactly, for comparing with what the Double holds.
    init(parsingTOMLFloat text: String) throws {
        let parts = text.lowercased().split(separator: "e", maxSplits: 1)
        guard parts.count == 2, let exp = Int(parts[1]), abs(exp) <= 40 else {
            self = try Amount(parsing: text)
            return
        }
        // Move the point by hand, then parse as plain decimal.
        var mantissa = String(parts[0])
        let negative = mantissa.hasPrefix("-")
        if negative || mantissa.hasPrefix("+") { mantissa.removeFirst() }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(pieces[0]) + (pieces.count > 1 ? String(pieces[1]) : "")
        var point = pieces[0].count + exp
        if point < 0 { digits = String(repeating: "0", count: -point) + digits; point = 0 }
        if point > digits.count { digits += String(repeating: "0", count: point - digits.count) }
        let i = digits.index(digits.startIndex, offsetBy: point)
        let plain = String(digits[..<i]) + "." + String(digits[i...])
        self = try Amount(parsing: (negative ? "-" : "") + (plain.hasSuffix(".") ? plain + "0" : plain))
    }
}

/// Why a config file is refused: file, line (when it can be found), key, reason.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        let k = key.map { " \($0):" } ?? ""
        return "\(place):\(k) \(message); nothing was applied"
    }
}

/// The file's lines, to find where a key was written: TOMLKit keeps positions only for syntax
/// errors, so a value that parses but is wrong is located by scanning for its table and key.
struct SourceLines {
    let lines: [String]

    init(_ text: String) { lines = text.components(separatedBy: "\n") }

    private func stripped(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: " ", with: "")
    }

    /// 1-based line of `key` inside table `path` (or of the table's first header when `key` is nil).
    func line(of key: String?, in path: [String]) -> Int? {
        let header = stripped("[" + path.joined(separator: "."))
        var inTable = path.isEmpty
        var headerLine: Int?
        for (n, raw) in lines.enumerated() {
            let s = stripped(raw)
            if s.hasPrefix("[") {
                inTable = s.hasPrefix(header + "]")
                // `[A.B]` also names table A, for an error about A itself.
                if headerLine == nil && (inTable || s.hasPrefix(header + ".")) { headerLine = n + 1 }
                continue
            }
            guard let key else { continue }
            let dotted = (path + [key]).joined(separator: ".") + "="
            if (inTable && s.hasPrefix(key + "=")) || s.hasPrefix(dotted) { return n + 1 }
        }
        if key == nil || headerLine != nil { return headerLine }
        // A key written inline (`USDC = { credit = "x" }`): the first line that mentions it.
        return lines.firstIndex { stripped($0).contains(key! + "=") }.map { $0 + 1 }
    }

    /// The text after `key =` on its line, without a trailing comment.
    func valueText(of key: String, in path: [String]) -> String? {
        guard let n = line(of: key, in: path) else { return nil }
        let raw = lines[n - 1]
        guard let eq = raw.range(of: key), let assign = raw[eq.upperBound...].firstIndex(of: "=") else { return nil }
        var value = String(raw[raw.index(after: assign)...])
        if let hash = value.firstIndex(of: "#") { value = String(value[..<hash]) }
        if let comma = value.firstIndex(where: { $0 == "," || $0 == "}" }) { value = String(value[..<comma]) }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
