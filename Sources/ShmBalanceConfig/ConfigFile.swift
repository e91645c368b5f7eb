import ShmBalance

/// A parsed config file (SPEC §5): per (exchange, currency) credit, strategy count and slot
/// names, and optionally the default exchange, each with the line it was written on.
///
/// ```toml
/// default_exchange = "KRAKEN"
///
/// [KRAKEN.USDC]
/// credit = "5000"          # exact decimal text; a bare number is read exactly as written
/// strategies = 5
/// names = { 2 = "grid-bot", 3 = "arb", 4 = "mm" }
/// ```
///
/// Reading a file is two steps that `config check` and `config apply` both take: `load` (or
/// `parse`) reads the TOML and the types of the values; `validate` applies the rules shared with
/// the core (`RecordConfig.problems`).
public struct ConfigFile: Sendable, Equatable {
    /// The name used in errors.
    public var file: String
    public var defaultExchange: ShortName?
    public var records: [RecordConfig]
    /// Where each record was written, in the same order as `records`.
    public var places: [RecordPlace]
    /// The currencies a host's agent leases from the ledger (SPEC §10), in file order.
    public var leases: [LeaseMarks] = []

    /// Reads and parses the file at `path`; nothing is checked against any segment.
    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        switch ConfigFileBytes.read(path) {
        case .failure(let why): throw ConfigError(file: path, line: nil, key: nil, message: why.message)
        case .success(let bytes): return try parse(bytes, file: path)
        }
    }

    /// Parses config bytes (UTF-8 is checked, not assumed); `file` only names them in errors.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) throws(ConfigError) -> ConfigFile {
        let doc: TOMLDocument
        do { doc = try TOMLReader.read(bytes) } catch {
            // A refusal under a known key reads as one about that key; the rest say what kind it is.
            throw ConfigError(file: file, line: error.line, key: error.key.map(TOMLKey.display),
                              message: error.key == nil ? "TOML syntax: " + error.message : error.message)
        }
        return try ConfigFile(document: doc, file: file)
    }

    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> ConfigFile {
        let outcome = bytes.withUnsafeBufferPointer { b in Result { () throws(ConfigError) in try parse(b, file: file) } }
        return try outcome.get()
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigFile {
        try parse(Array(text.utf8), file: file)
    }

    /// `parse`, then `validate` as for a segment that has none of the file's records.
    public static func check(_ text: String, file: String) throws(ConfigError) -> ConfigFile {
        let config = try parse(text, file: file)
        try config.validate()
        return config
    }

    /// The rules of `RecordConfig.problems`, reported at the line of the first problem in the file.
    /// `existingStrategyCount` gives the slot count of a record that already exists (nil: a new one).
    public func validate(existingStrategyCount: (BookKey) -> Int? = { _ in nil }) throws(ConfigError) {
        let problems = RecordConfig.problems(records, existingStrategyCount: existingStrategyCount)
        var first: ConfigError?
        for p in problems {
            let e = error(for: p)
            if first == nil || (e.line ?? 0) < (first!.line ?? 0) { first = e }
        }
        if let first { throw first }
    }

    /// A problem with one of `records`, placed at the line and key it was written with.
    public func error(for problem: ConfigProblem) -> ConfigError {
        let place = places[problem.entry]
        var line = place.line
        var key = place.path
        var message = problem.message
        switch problem.field {
        case .record:
            if let f = problem.firstEntry {
                message = "configured twice: this is \(problem.key), first configured at line \(places[f].line) "
                    + "(exchange and currency names fold to upper case)"
            }
        case .credit:
            line = place.credit ?? line
            key.append("credit")
        case .strategies:
            line = place.strategies ?? line
            key.append("strategies")
        case .name(let i):
            line = place.nameLines[i] ?? place.names ?? line
            key += ["names", String(i)]
        }
        return ConfigError(file: file, line: line, key: TOMLKey.display(key), message: message)
    }

    /// The file's name as a message shows it: control characters escaped (a path is input too).
    public var shownFile: String { file.escapedForTerminal() }

    /// Where the record for `key` was written (the first time, if more than once).
    public func place(of key: BookKey) -> RecordPlace? {
        records.firstIndex { $0.key == key }.map { places[$0] }
    }
}

/// Where a record and its fields were written: 1-based lines.
public struct RecordPlace: Sendable, Equatable {
    /// The record's table as written in the file (`["KRAKEN", "usdc"]`), before names fold to upper case.
    public var path: [String]
    /// Its header, or the line that first named it (a dotted key, an inline table).
    public var line: Int
    public var credit: Int?
    public var strategies: Int?
    public var names: Int?
    /// Each slot name's line.
    public var nameLines: [Int: Int] = [:]

    /// `KRAKEN.usdc`, as a key in a message.
    public var key: String { TOMLKey.display(path) }
}

/// Why a config file is refused: file, line, key, reason.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `FILE:LINE: KEY: reason; nothing was applied`, on one line, with every control character escaped.
    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        let k = key.map { " \($0):" } ?? ""
        return "\(place):\(k) \(message); nothing was applied".escapedForTerminal()
    }
}
