import PostgresNIO
import ShmBalance

/// Where the ledger is: a PostgreSQL URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (`postgresql://` too), from `--db` or `$SHMBAL_DB`. `?sslmode=require` asks for TLS (the
/// system's trust roots); without it the connection is plain, as on loopback or a private network.
public struct LedgerURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: Bool

    /// The text without the password, for messages.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)\(tls ? "?sslmode=require" : "")" }

    public init(parsing text: String) throws(LedgerError) {
        func bad(_ why: String) -> LedgerError {
            .badInput("--db \(TerminalText.safe(String(text.prefix(80)))): \(why) (expected postgres://USER@HOST:PORT/DATABASE)")
        }
        var rest = Substring(text)
        if rest.hasPrefix("postgres://") { rest = rest.dropFirst(11) } else if rest.hasPrefix("postgresql://") { rest = rest.dropFirst(13) } else {
            throw bad("not a postgres:// URL")
        }
        var query = ""
        if let q = rest.firstIndex(of: "?") { query = String(rest[rest.index(after: q)...]); rest = rest[..<q] }
        var path = "postgres"
        if let s = rest.firstIndex(of: "/") { path = String(rest[rest.index(after: s)...]); rest = rest[..<s] }
        var userPart = "postgres"
        if let at = rest.lastIndex(of: "@") { userPart = String(rest[..<at]); rest = rest[rest.index(after: at)...] }
        if let colon = userPart.firstIndex(of: ":") {
            password = String(userPart[userPart.index(after: colon)...])
            user = String(userPart[..<colon])
        } else {
            password = nil
            user = userPart
        }
        port = 5432
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw bad("the port is not a number from 1 to 65535") }
            port = p
            rest = rest[..<colon]
        }
        host = rest.isEmpty ? "127.0.0.1" : String(rest)
        database = path.isEmpty ? "postgres" : path
        tls = false
        for pair in query.split(separator: "&") where !pair.isEmpty {
            switch pair {
            case "sslmode=disable": tls = false
            case "sslmode=require": tls = true
            default: throw bad("unknown parameter \(TerminalText.safe(String(pair))) (only sslmode=disable or sslmode=require)")
            }
        }
        guard !user.isEmpty else { throw bad("no user") }
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "._-".contains(c)) }
        guard host.allSatisfy({ allowed($0) || $0 == ":" }), database.allSatisfy(allowed), user.allSatisfy(allowed) else {
            throw bad("the host, user and database are letters, digits, '.', '_' and '-'")
        }
    }

    /// `--db`, else `$SHMBAL_DB`; an error naming both when neither is set.
    public static func resolve(_ explicit: String?, environment: (String) -> String?) throws(LedgerError) -> LedgerURL {
        if let explicit { return try LedgerURL(parsing: explicit) }
        if let env = environment("SHMBAL_DB"), !env.isEmpty { return try LedgerURL(parsing: env) }
        throw .badInput("no ledger: give --db postgres://USER@HOST:PORT/DATABASE or set SHMBAL_DB")
    }

    func configuration() throws(LedgerError) -> PostgresConnection.Configuration {
        var tlsMode = PostgresConnection.Configuration.TLS.disable
        if tls {
            do { tlsMode = .require(try NIOSSLContext(configuration: .makeClientConfiguration())) } catch {
                throw .unreachable("\(self): cannot set up TLS: \(error)")
            }
        }
        var c = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tlsMode)
        c.options.connectTimeout = .seconds(5)
        // A ledger operation is a few rows under one row lock: never minutes. A statement that
        // waits that long is a stuck peer, and failing lets the agent retry.
        c.options.additionalStartupParameters = [("statement_timeout", "10000"), ("idle_in_transaction_session_timeout", "30000"),
                                                 ("application_name", "shmbal")]
        return c
    }
}
