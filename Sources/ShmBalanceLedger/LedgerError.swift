import PostgresNIO
import ShmBalance

/// Why a ledger command or an agent step did not happen, in one line a person can act on.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bad input (a URL, an amount, a host name): nothing was sent.
    case badInput(String)
    /// The ledger refused: a missing account, too little in the pool, an evicted host, an op id reused.
    case refused(String)
    /// The server could not be reached or the connection broke: the outcome of an operation in
    /// flight is unknown, and the op id (or the agent's journal) decides it on the next try.
    case unreachable(String)
    /// The database holds something this build cannot use (no schema, another schema version).
    case schema(String)
    /// The local segment refused or failed.
    case books(String)

    public var description: String {
        switch self {
        case .badInput(let m), .refused(let m), .unreachable(let m), .schema(let m), .books(let m): return m
        }
    }

    /// The exit code of the CLI: 2 bad input, 3 refused, 4 unreachable, 5 schema, 6 books.
    public var exitCode: Int32 {
        switch self {
        case .badInput: return 2
        case .refused: return 3
        case .unreachable: return 4
        case .schema: return 5
        case .books: return 6
        }
    }

    /// A driver error as one line: the server's own message when it sent one (a refusal raised
    /// by the schema's checks among them), else what broke.
    static func from(_ error: any Error, _ url: String) -> LedgerError {
        if let e = error as? LedgerError { return e }
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let state = e.serverInfo?[.sqlState] ?? ""
                // 42P01 undefined table: the schema was never made.
                if state == "42P01" { return .schema("\(url): no ledger schema here: run `shmbal ledger init` first") }
                if state.hasPrefix("23") || state == "P0001" { return .refused(TerminalText.safe(message)) }
                return .unreachable("\(url): \(TerminalText.safe(message)) (SQLSTATE \(state))")
            }
            return .unreachable("\(url): \(e.code) — the server could not be reached or the connection broke")
        }
        if let e = error as? PostgresTransactionError {
            if let inner = e.closureError ?? e.commitError ?? e.beginError { return from(inner, url) }
        }
        return .unreachable("\(url): \(TerminalText.safe(String(describing: error)))")
    }
}
