// What the TOML reader (TOMLReader.swift) makes of a file: tables in an arena, each value with
// the line it was written on, numbers kept as their written text. TOML's rules about which
// table may be defined or extended where (TOML 1.0, "Table" and "Inline Table") live here.

/// The limits a ShmBalance config never comes near; each one is said in the refusal.
enum TOMLLimits {
    /// Parts of one dotted key or table header, and tables nested in one another (the deepest
    /// a config needs is `KRAKEN.USDC.names.2`: 4).
    static let depth = 8
    /// Bytes of one key part once decoded (an exchange or currency name has at most 15).
    static let keyBytes = 64
    /// Bytes of one string value once decoded (a slot name has at most 15, an amount ~40).
    static let stringBytes = 256
    /// Characters of one unquoted value (a number, `true`, `false`).
    static let wordBytes = 64
    /// The whole file: read no further than this.
    static let fileBytes = 64 << 20
}

/// A syntax error: where, under which key when one is known, and why.
struct TOMLError: Error, Sendable {
    var line: Int
    var key: [String]?
    var message: String
}

struct TOMLDocument: Sendable {
    /// A value as written: strings decoded, numbers as their text (never through a Double).
    enum Value: Sendable, Equatable {
        case string(String)
        /// `[+-]?` digits, no leading zero: `5000`, `-3`, `+0`.
        case integer(String)
        /// An integer, a point and digits, no exponent: `5000.5`.
        case decimal(String)
        /// `inf`, `nan` with an optional sign: parsed so the schema can say what is wrong with them.
        case special(String)
        case bool(Bool)
        case table(Int)
    }

    struct Entry: Sendable {
        var key: String
        var line: Int
        var value: Value
    }

    enum Kind: Sendable {
        /// Named only as a prefix of a header (`KRAKEN` in `[KRAKEN.USDC]`): a later `[KRAKEN]` may define it.
        case implicit
        /// Defined by its own `[header]`.
        case header
        /// Made by a dotted key (`USDC.credit = …`): more dotted keys may add to it, a header may not define it.
        case dotted
        /// `{ … }`: complete where it is written; nothing may add to it afterwards.
        case inline
    }

    struct Table: Sendable {
        var parent: Int
        var name: String
        var depth: Int
        var kind: Kind
        /// Where it was defined (its header or key), or first named for an implicit table.
        var line: Int
        var entries: [Entry] = []
        /// Key → entry, built only once a table outgrows a linear scan (most tables hold 1–4
        /// keys; one per currency is two allocations saved, 14,000 times in a 1 MB file).
        var index: [String: Int]? = nil
    }

    /// Tables up to this many entries are searched linearly.
    private static let scanLimit = 8

    static let root = 0
    private(set) var tables = [Table(parent: -1, name: "", depth: 0, kind: .header, line: 1)]

    /// The table's dotted key from the root (bounded by `TOMLLimits.depth`).
    func path(_ t: Int) -> [String] {
        var parts: [String] = []
        var t = t
        while t != TOMLDocument.root {
            parts.append(tables[t].name)
            t = tables[t].parent
        }
        return parts.reversed()
    }

    private func existing(_ name: String, in t: Int) -> Entry? {
        if let index = tables[t].index { return index[name].map { tables[t].entries[$0] } }
        for e in tables[t].entries where e.key == name { return e }
        return nil
    }

    private mutating func add(_ name: String, _ value: Value, in t: Int, line: Int) {
        let n = tables[t].entries.count
        tables[t].entries.append(Entry(key: name, line: line, value: value))
        if tables[t].index != nil {
            tables[t].index![name] = n
        } else if n + 1 > TOMLDocument.scanLimit {
            var index = [String: Int](minimumCapacity: 2 * (n + 1))
            for (k, e) in tables[t].entries.enumerated() { index[e.key] = k }
            tables[t].index = index
        }
    }

    private mutating func newTable(_ name: String, in t: Int, kind: Kind, line: Int) throws(TOMLError) -> Int {
        let depth = tables[t].depth + 1
        guard depth <= TOMLLimits.depth else {
            throw TOMLError(line: line, key: nil, message: "tables nest at most \(TOMLLimits.depth) deep in a ShmBalance config")
        }
        tables.append(Table(parent: t, name: name, depth: depth, kind: kind, line: line))
        add(name, .table(tables.count - 1), in: t, line: line)
        return tables.count - 1
    }

    /// `[a.b.c]`: walks or makes `a` and `b`, then defines `c`; returns the table keys go into.
    mutating func defineHeader(_ parts: [String], line: Int) throws(TOMLError) -> Int {
        var t = TOMLDocument.root
        for n in parts.indices {
            let name = parts[n]
            func fail(_ why: String) -> TOMLError { TOMLError(line: line, key: Array(parts[...n]), message: why) }
            guard let e = existing(name, in: t) else {
                t = try newTable(name, in: t, kind: n == parts.count - 1 ? .header : .implicit, line: line)
                continue
            }
            guard case .table(let child) = e.value else {
                throw fail("already a value (line \(e.line)), so it cannot be a table")
            }
            let last = n == parts.count - 1
            switch tables[child].kind {
            case .inline:
                throw fail("an inline table (line \(e.line)): nothing can be added to it afterwards")
            case .implicit where last:
                tables[child].kind = .header
                tables[child].line = line
            case .header where last:
                throw fail("the table is defined twice (first at line \(tables[child].line))")
            case .dotted where last:
                throw fail("the table was already defined by dotted keys (line \(tables[child].line))")
            case .implicit, .header, .dotted:
                break  // a header may add a sub-table to any table but an inline one
            }
            t = child
        }
        return t
    }

    /// The `a.b` of `a.b.c = …` under table `t`: walks or makes dotted tables; returns the table `c` goes into.
    mutating func descend(_ parts: ArraySlice<String>, from t: Int, line: Int) throws(TOMLError) -> Int {
        var t = t
        for name in parts {
            guard let e = existing(name, in: t) else {
                t = try newTable(name, in: t, kind: .dotted, line: line)
                continue
            }
            var here: [String] { path(t) + [name] }
            guard case .table(let child) = e.value else {
                throw TOMLError(line: line, key: here, message: "already a value (line \(e.line)), so it cannot hold keys")
            }
            switch tables[child].kind {
            case .dotted: t = child
            case .inline:
                throw TOMLError(line: line, key: here, message: "an inline table (line \(e.line)): nothing can be added to it afterwards")
            case .header, .implicit:
                throw TOMLError(line: line, key: here,
                                message: "a table with its own header (line \(tables[child].line)): write this key under [\(TOMLKey.display(here))]")
            }
        }
        return t
    }

    /// `name = value` in table `t`.
    mutating func set(_ name: String, _ value: Value, in t: Int, line: Int) throws(TOMLError) {
        if let e = existing(name, in: t) { throw twice(name, e, in: t, line: line) }
        add(name, value, in: t, line: line)
    }

    /// `name = { … }` in table `t`: the new, empty inline table.
    mutating func inlineTable(_ name: String, in t: Int, line: Int) throws(TOMLError) -> Int {
        if let e = existing(name, in: t) { throw twice(name, e, in: t, line: line) }
        return try newTable(name, in: t, kind: .inline, line: line)
    }

    private func twice(_ name: String, _ e: Entry, in t: Int, line: Int) -> TOMLError {
        TOMLError(line: line, key: path(t) + [name], message: "defined twice (first at line \(e.line))")
    }
}

/// Keys as a person reads them in a message.
enum TOMLKey {
    /// `KRAKEN.USDC.credit`; a part that is not a bare key is quoted, with control characters escaped.
    static func display(_ parts: [String]) -> String {
        parts.map { part in
            let bare = !part.isEmpty && part.utf8.allSatisfy(TOMLReader.isBareKeyByte)
            return bare ? part : "\"" + part.escapedForTerminal(quote: true) + "\""
        }.joined(separator: ".")
    }
}
