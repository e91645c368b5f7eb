import ArgumentParser
import ShmBalance
import ShmBalanceConfig

// `config apply FILE` / `config check FILE` (SPEC §5). Both read the file through the one
// function below, so they accept and refuse the same files (SPEC §4); apply then hands the
// records to the core, which checks them again under the records' locks against their money.

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a TOML config (credit limits, strategy counts, slot names, default exchange) into the segment.",
        subcommands: [ConfigApply.self, ConfigCheck.self])
}

/// The file's TOML and types, then the rules shared with the core (`RecordConfig.problems`).
/// `segment` opens the segment the file is meant for, when it exists; it is called only once the
/// file has parsed, so an unreadable or malformed file never touches a segment. A record already
/// there keeps its slot count unless the file sets one, so its names are checked against that
/// count; without a segment every record is taken as new (8 slots unless `strategies` says).
func validatedConfig(_ file: String, segment: () throws -> Books? = { nil }) throws -> (ConfigFile, Books?) {
    let config: ConfigFile
    do { config = try ConfigFile.load(path: file) } catch { throw CLIError(.unusable, error.description) }
    let books = try segment()
    do {
        try config.validate { key in
            guard let books, books.record(key) != nil else { return nil }
            return try? books.get(key).strategyCount
        }
    } catch {
        throw CLIError(.unusable, error.description)
    }
    return (config, books)
}

struct ConfigApply: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Check FILE, then apply all of it (or nothing).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The TOML file.") var file: String

    func run() throws {
        // A file refused by the rules creates no segment (SPEC §4: a command that fails on bad
        // input creates no segment file): the segment is created only after validation.
        let target = try global.target()  // --segment and --exchange checked before anything
        let (config, existing) = try validatedConfig(file) { try existingBooks(target) }
        let books: Books
        if let existing { books = existing } else { books = try target.open(.readWriteCreating()) }
        let report: ConfigReport
        do { report = try books.applyConfiguration(config.records, defaultExchange: config.defaultExchange) } catch {
            // The core's refusals name a record; place them at its table in the file.
            let place = error.refusal.flatMap { config.place(of: $0.key) }
            throw CLIError(CLIError(error).status, ConfigError(file: file, line: place?.line, key: nil, message: error.description).description)
        }
        print("\(config.shownFile): \(report.created.count) records created, \(report.updated.count) updated\(report.defaultExchange.map { ", default exchange \($0)" } ?? "")")
    }

    /// The segment when there is one; nil when the path is free (apply will create it).
    private func existingBooks(_ target: Target) throws -> Books? {
        do { return try Books.open(target.path, .readWrite) } catch {
            if case .segment(.notFound) = error { return nil }
            throw CLIError(error)
        }
    }
}

struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check FILE without touching any segment.")
    @Argument(help: "The TOML file.") var file: String

    func run() throws {
        // Segment-free for now: every record is taken as new. Checking against a segment when
        // one is named is `validatedConfig(file) { try Books.open(path, .readOnly) }`.
        let (config, _) = try validatedConfig(file)
        print("\(config.shownFile): ok, \(config.records.count) records\(config.defaultExchange.map { ", default exchange \($0)" } ?? "")")
    }
}
