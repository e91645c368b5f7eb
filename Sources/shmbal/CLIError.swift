import ShmBalance
import Glibc

/// The exit codes documented in `shmbal --help`.
enum ExitStatus: Int32 {
    case internalError = 1
    case badInput = 2
    case refused = 3
    case unusable = 4
    case busy = 5
    case broken = 6
}

/// A failure with its exit status and a one-line reason for stderr.
struct CLIError: Error, CustomStringConvertible {
    var status: ExitStatus
    var description: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.description = message
    }

    init(_ error: BooksError) {
        switch error {
        case .refused: status = .refused
        case .badInput: status = .badInput
        case .segment(.badPath): status = .badInput
        case .segment: status = .unusable
        case .busy, .contended: status = .busy
        case .corrupt: status = .unusable
        }
        description = error.description
    }

    /// An amount; the refusal names `option` when the amount is an option's value (`--fee: …`).
    static func amount(_ text: String, option: String? = nil) throws -> Amount {
        do { return try Amount(parsing: text) } catch { throw CLIError(.badInput, (option.map { "\($0): " } ?? "") + error.message) }
    }

    /// An octal file mode for a new segment (`--mode`), refused unless `Segment.modeProblem` accepts it.
    static func mode(_ text: String) throws -> UInt32 {
        guard let m = UInt32(text, radix: 8) else { throw CLIError(.badInput, "--mode '\(text)' is not an octal file mode like 0600 or 0660") }
        if let why = Segment.modeProblem(m) { throw CLIError(.badInput, "--mode: \(why)") }
        return m
    }

    static func name(_ text: String, kind: ShortName.Kind = .symbol) throws -> ShortName {
        do { return try ShortName(text, kind: kind) } catch { throw CLIError(.badInput, error.message) }
    }

    /// A strategy count outside 2…64 is bad input, decided without the segment: no record can
    /// have it (as the Python and C++ managers refuse such a count when they are made).
    static func count(_ n: Int) throws -> Int {
        guard (Layout.minStrategyCount...Layout.slotCount).contains(n) else {
            throw CLIError(.badInput, "strategy count \(n) is outside \(Layout.minStrategyCount)…\(Layout.slotCount)")
        }
        return n
    }
}

/// Runs a core call, turning its typed error into a `CLIError`.
func core<T>(_ body: () throws(BooksError) -> T) throws -> T {
    do { return try body() } catch { throw CLIError(error) }
}

func environment(_ name: String) -> String? {
    guard let v = getenv(name), v.pointee != 0 else { return nil }
    return String(cString: v)
}

/// The one amount in an `.allUnrecognized` capture (how a bare negative amount such as `-1000` gets
/// past the argument parser); anything else there is refused by name.
func singleAmount(_ rest: [String], what: String) throws -> Amount {
    guard let first = rest.first else { throw CLIError(.badInput, "missing \(what)") }
    if rest.count > 1 { throw CLIError(.badInput, "unexpected argument '\(rest[1])'") }
    if first.hasPrefix("--") { throw CLIError(.badInput, "unknown option '\(first)'") }
    return try CLIError.amount(first)
}
