// Our own reader of the TOML a ShmBalance config uses, in place of TOMLKit (toml++ 3), because:
//   - toml++ keeps its assertions in release builds, so some malformed files abort the process
//     (`a = 1\x01X------- 1`: SIGABRT), and its recursive descent overflows the stack on a deep
//     dotted header (200,000 parts: SIGSEGV); no guard in front of it can know every such input;
//   - TOMLKit keeps no source position for values, so an error about a value that parses had to
//     be placed by rescanning the file per key: quadratic (1,000 currencies 8 s, 2,000 33 s);
//   - TOMLKit hands numbers over as Double, so `1234567890.123456789` arrived rounded and an
//     exponent could not be told from the digits a person wrote.
// This reader makes one pass over the bytes, keeps each value's line and its written text, and
// has no recursion at all: inline tables nest on an explicit stack bounded by TOMLLimits.depth.
//
// The subset (TOML 1.0 where it is supported; everything else is refused with its line):
//   comments, blank lines, LF or CRLF line ends, a UTF-8 byte order mark at the start;
//   `key = value`; bare keys (A-Z a-z 0-9 _ -), "basic" and 'literal' quoted keys; dotted keys;
//   table headers `[a.b]`; inline tables `{ k = v, … }` on one line;
//   basic strings with TOML's escapes (\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX), literal strings;
//   integers and decimals as written (`5000`, `-3`, `5000.5`), `inf`/`nan` (for the schema to
//   refuse), `true`/`false`.
// Refused: arrays and arrays of tables, multi-line strings, dates and times, exponents,
// hexadecimal/octal/binary, digit separators (`5_000`: SPEC §2 refuses separators in amounts,
// so a count refuses them too), leading zeros, control characters other than tab anywhere
// (in strings and comments too, as TOML says), a carriage return not followed by a line feed,
// bytes that are not UTF-8, a key or table defined twice, and anything beyond TOMLLimits.
// Lines are counted by line feeds, so LF and CRLF files number their lines alike; a lone CR is
// not a TOML line end and is refused on the line where it stands.

struct TOMLReader {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var line = 1
    private var doc = TOMLDocument()
    /// The table that `key = value` lines go into: the last header's.
    private var section = TOMLDocument.root

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws(TOMLError) -> TOMLDocument {
        var r = TOMLReader(bytes)
        try r.run()
        return r.doc
    }

    // MARK: Bytes

    private static let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), tab = UInt8(ascii: "\t"), space = UInt8(ascii: " ")

    // The byte classes are plain comparisons against ASCII codes: range patterns and
    // `UInt8(ascii:)` are calls in a debug build, and these run once per byte of the file.

    /// A-Z a-z 0-9 _ -
    static func isBareKeyByte(_ c: UInt8) -> Bool {
        let letter = c | 0x20  // folds A-Z onto a-z
        return (letter >= 0x61 && letter <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    /// The characters an unquoted value is made of (numbers, booleans, and the dates, hex and
    /// exponents that are read whole so that the refusal can name them): a bare-key byte or + . :
    private static func isWordByte(_ c: UInt8) -> Bool {
        isBareKeyByte(c) || c == 0x2B || c == 0x2E || c == 0x3A
    }

    /// C0 controls but tab, and DEL: TOML allows them nowhere, not even in strings and comments.
    private static func isControl(_ c: UInt8) -> Bool { (c < 0x20 && c != 0x09) || c == 0x7F }

    private var atEnd: Bool { i >= b.count }

    private func peek(_ k: Int = 0) -> UInt8? { i + k < b.count ? b[i + k] : nil }

    /// True at a line feed, a CRLF, or the end of the file.
    private var atLineEnd: Bool { atEnd || b[i] == TOMLReader.lf || (b[i] == TOMLReader.cr && peek(1) == TOMLReader.lf) }

    private mutating func skipBlanks() {
        var j = i
        let n = b.count
        while j < n && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
        i = j
    }

    private func fail(_ message: String, key: [String]? = nil) -> TOMLError { TOMLError(line: line, key: key, message: message) }

    /// Names what stands at `at` for a message, never raw: `'x'`, `U+00E9`, "control character U+0001" …
    private func found(_ at: Int) -> String {
        guard at < b.count else { return "the end of the file" }
        let c = b[at]
        if c == TOMLReader.lf || (c == TOMLReader.cr && at + 1 < b.count && b[at + 1] == TOMLReader.lf) { return "the end of the line" }
        if c == TOMLReader.cr { return "a carriage return (\\r) without a line feed" }
        if TOMLReader.isControl(c) { return "control character \(SafeText.codePoint(UInt32(c)))" }
        if c < 0x80 { return c == UInt8(ascii: "'") ? "\"'\"" : "'\(Character(Unicode.Scalar(c)))'" }
        guard let n = SafeText.utf8Length(b, at: at) else { return "a byte that is not UTF-8 (0x\(String(c, radix: 16, uppercase: true)))" }
        return "the character \(SafeText.codePoint(SafeText.scalar(b, at: at, length: n)))"
    }

    // MARK: Lines

    private mutating func run() throws(TOMLError) {
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3 }
        while !atEnd {
            skipBlanks()
            guard let c = peek() else { break }
            switch c {
            case 0x0A:  // LF: blank lines are counted in one tight loop
                var j = i + 1
                var l = line + 1
                let n = b.count
                while j < n && b[j] == 0x0A {
                    j += 1
                    l += 1
                }
                i = j
                line = l
            case 0x0D:  // CR: CRLF, or refused
                try newline()
            case 0x23:  // #
                try comment()
            case 0x5B:  // [
                try header()
                try endOfLine(after: "the table header")
            default:
                try keyValue()
                try endOfLine(after: "the value")
            }
        }
    }

    /// Consumes LF or CRLF; a lone CR is refused.
    private mutating func newline() throws(TOMLError) {
        if b[i] == TOMLReader.cr {
            guard peek(1) == TOMLReader.lf else {
                throw fail("a carriage return (\\r) without a line feed: TOML lines end with LF or CRLF")
            }
            i += 1
        }
        i += 1
        line += 1
    }

    /// After a header or a value: blanks, an optional comment, then the line's end.
    private mutating func endOfLine(after what: String) throws(TOMLError) {
        skipBlanks()
        if peek() == UInt8(ascii: "#") { try comment() }
        guard atLineEnd else { throw fail("expected the end of the line after \(what), found \(found(i))") }
    }

    /// `# …` up to (not including) the line's end; TOML allows no control character but tab in it.
    private mutating func comment() throws(TOMLError) {
        var j = i + 1
        let n = b.count
        defer { i = j }
        while j < n {
            let c = b[j]
            if c >= 0x20 && c < 0x7F {
                j += 1
            } else if c == 0x0A || (c == 0x0D && j + 1 < n && b[j + 1] == 0x0A) {
                return
            } else if c < 0x80 {
                if TOMLReader.isControl(c) {
                    i = j
                    throw fail("\(found(j)) in a comment")
                }
                j += 1
            } else {
                guard let k = SafeText.utf8Length(b, at: j) else {
                    i = j
                    throw notUTF8()
                }
                j += k
            }
        }
    }

    private func notUTF8() -> TOMLError {
        fail("the file is not valid UTF-8 here (byte 0x\(String(b[i], radix: 16, uppercase: true)))")
    }

    // MARK: Headers and keys

    private mutating func header() throws(TOMLError) {
        i += 1
        let arrayOfTables = peek() == UInt8(ascii: "[")
        if arrayOfTables { i += 1 }
        skipBlanks()
        if atLineEnd || b[i] == TOMLReader.cr || b[i] == UInt8(ascii: "]") {
            throw fail("a table header needs a name (e.g. [KRAKEN.USDC])")
        }
        let parts = try key(what: "table name")
        guard peek() == UInt8(ascii: "]") else {
            throw fail("expected '.' or ']' in the table header, found \(found(i))")
        }
        i += 1
        if arrayOfTables { throw fail("arrays of tables ([[…]]) are not part of a ShmBalance config", key: parts) }
        section = try doc.defineHeader(parts, line: line)
    }

    /// A key: parts separated by `.` with optional blanks around them; stops at the first byte after it.
    private mutating func key(what: String) throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipBlanks()
            guard let c = peek() else { throw fail("a \(what) is missing before the end of the file") }
            if TOMLReader.isBareKeyByte(c) {
                let start = i
                let stop = min(b.count, start + TOMLLimits.keyBytes + 1)
                var j = start
                while j < stop && TOMLReader.isBareKeyByte(b[j]) { j += 1 }
                i = j
                if j - start > TOMLLimits.keyBytes { throw keyTooLong() }
                parts.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<j]), as: UTF8.self))
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                let bytes = try quoted(limit: TOMLLimits.keyBytes, what: "key")
                parts.append(String(decoding: bytes, as: UTF8.self))
            } else {
                throw fail("a \(what) must start with a letter, a digit, _ or -, or be quoted (found \(found(i)))")
            }
            if parts.count > TOMLLimits.depth {
                throw fail("a \(what) has at most \(TOMLLimits.depth) dotted parts in a ShmBalance config")
            }
            skipBlanks()
            guard peek() == UInt8(ascii: ".") else { return parts }
            i += 1
        }
    }

    private func keyTooLong() -> TOMLError {
        fail("a key part is at most \(TOMLLimits.keyBytes) bytes long in a ShmBalance config")
    }

    /// `key =`, leaving `i` at the value.
    private mutating func keyAndEquals() throws(TOMLError) -> [String] {
        let parts = try key(what: "key")
        guard peek() == UInt8(ascii: "=") else {
            throw fail("expected '=' after the key, found \(found(i))", key: parts)
        }
        i += 1
        skipBlanks()
        return parts
    }

    // MARK: Values

    /// `key = value`, where the value may be an inline table holding more of them. Inline tables
    /// nest on `open` (never by recursion), at most TOMLLimits.depth deep.
    private mutating func keyValue() throws(TOMLError) {
        var open: [Int] = []
        var into = section
        var parts = try keyAndEquals()
        next: while true {
            let holder = try doc.descend(parts.dropLast(), from: into, line: line)
            let name = parts[parts.count - 1]
            if peek() == UInt8(ascii: "{") {
                i += 1
                let t = try doc.inlineTable(name, in: holder, line: line)
                open.append(t)
                skipBlanks()
                if peek() == UInt8(ascii: "}") {
                    i += 1
                    open.removeLast()
                } else {
                    if atLineEnd { throw unclosed() }
                    into = t
                    parts = try keyAndEquals()
                    continue next
                }
            } else {
                let v = try value(under: holder, name)
                try doc.set(name, v, in: holder, line: line)
            }
            // After a value inside inline tables: the next key, or close them.
            while let top = open.last {
                skipBlanks()
                if peek() == UInt8(ascii: ",") {
                    i += 1
                    skipBlanks()
                    if peek() == UInt8(ascii: "}") { throw fail("a comma before '}' is not allowed in an inline table") }
                    if atLineEnd { throw unclosed() }
                    into = top
                    parts = try keyAndEquals()
                    continue next
                }
                if peek() == UInt8(ascii: "}") {
                    i += 1
                    open.removeLast()
                    continue
                }
                if atLineEnd { throw unclosed() }
                throw fail("expected ',' or '}' in the inline table, found \(found(i))")
            }
            return
        }
    }

    private func unclosed() -> TOMLError {
        fail("an inline table must close ('}') on the line it opens")
    }

    /// A value that is not a table: a string or an unquoted word, for key `name` of table `holder`.
    private mutating func value(under holder: Int, _ name: String) throws(TOMLError) -> TOMLDocument.Value {
        do { return try value() } catch {
            var e = error
            if e.key == nil { e.key = doc.path(holder) + [name] }  // the key is built only for a message
            throw e
        }
    }

    private mutating func value() throws(TOMLError) -> TOMLDocument.Value {
        guard let c = peek(), !atLineEnd else { throw fail("a value is missing after '='") }
        switch c {
        case 0x22, 0x27:  // " '
            let bytes = try quoted(limit: TOMLLimits.stringBytes, what: "string")
            return .string(String(decoding: bytes, as: UTF8.self))
        case 0x5B:  // [
            throw fail("arrays ([…]) are not part of a ShmBalance config")
        default:
            guard TOMLReader.isWordByte(c) else {
                throw fail("expected a value (quoted text, a number, true or false), found \(found(i))")
            }
            let start = i
            let stop = min(b.count, start + TOMLLimits.wordBytes + 1)
            var j = start
            while j < stop && TOMLReader.isWordByte(b[j]) { j += 1 }
            i = j
            if j - start > TOMLLimits.wordBytes {
                throw fail("an unquoted value is at most \(TOMLLimits.wordBytes) characters long")
            }
            switch TOMLWord.classify(UnsafeBufferPointer(rebasing: b[start..<j])) {
            case .value(let v): return v
            case .refused(let why): throw fail(why)
            }
        }
    }

    /// A basic ("…") or literal ('…') string on one line, decoded; `i` is at its opening quote.
    private mutating func quoted(limit: Int, what: String) throws(TOMLError) -> [UInt8] {
        let q = b[i]
        if peek(1) == q && peek(2) == q {
            throw fail("multi-line strings are not part of a ShmBalance config")
        }
        let basic = q == UInt8(ascii: "\"")
        func unterminated() -> TOMLError {
            fail("this \(what) does not end on its line (a closing \(basic ? "\"" : "'") is missing)")
        }
        i += 1
        var out: [UInt8] = []
        let n = b.count
        while i < n {
            let c = b[i]
            if c == q {
                i += 1
                return out
            }
            if c >= 0x20 && c < 0x7F && (c != 0x5C || !basic) {  // printable ASCII; a backslash is itself in a 'literal'
                out.append(c)
                i += 1
            } else if c == 0x5C {
                try escape(into: &out)
            } else if atLineEnd {
                throw unterminated()
            } else if c < 0x80 {
                throw fail("\(found(i)) in a \(what): write it as \(SafeText.escape(UInt32(c)))\(basic ? "" : " in a \"basic\" string")")
            } else {
                guard let k = SafeText.utf8Length(b, at: i) else { throw notUTF8() }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<(i + k)]))
                i += k
            }
            if out.count > limit {
                throw what == "key" ? keyTooLong() : fail("a \(what) is at most \(limit) bytes long in a ShmBalance config")
            }
        }
        throw unterminated()
    }

    /// One escape of a basic string; `i` is at the backslash.
    private mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        i += 1
        guard let c = peek(), !atLineEnd else { throw fail("a backslash ends the line inside a string") }
        i += 1
        switch c {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(c)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let digits = c == UInt8(ascii: "u") ? 4 : 8
            var v: UInt32 = 0
            for _ in 0..<digits {
                guard let h = peek(), let d = TOMLReader.hexValue(h) else {
                    throw fail("\\\(Character(Unicode.Scalar(c))) needs \(digits) hexadecimal digits, found \(found(i))")
                }
                v = v << 4 | d
                i += 1
            }
            guard let s = Unicode.Scalar(v) else {
                throw fail("\(SafeText.escape(v)) is not a Unicode character (a surrogate, or above U+10FFFF)")
            }
            out.append(contentsOf: String(Character(s)).utf8)
        default:
            i -= 1
            throw fail("unknown escape \\ followed by \(found(i)); TOML has \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX")
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
