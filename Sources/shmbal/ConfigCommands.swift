import ArgumentParser
import ShmBalance
import ShmBalanceConfig

// `config apply FILE` / `config check FILE` (SPEC §5).

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a TOML config (credit limits, strategy counts, slot names, default exchange) into the segment.",
        subcommands: [ConfigApply.self, ConfigCheck.self])
}

struct ConfigApply: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Check FILE, then apply all of it (or nothing).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The TOML file.") var file: String

    func run() throws {
        let config: ConfigFile
        do { config = try ConfigFile.load(path: file) } catch { throw CLIError(.unusable, error.description) }
        let books = try global.books(.readWriteCreating())
        let report: ConfigReport
        do { report = try books.applyConfiguration(config.records, defaultExchange: config.defaultExchange) } catch {
            throw CLIError(CLIError(error).status, "\(file): \(error.description); nothing was applied")
        }
        print("\(file): \(report.created.count) records created, \(report.updated.count) updated\(report.defaultExchange.map { ", default exchange \($0)" } ?? "")")
    }
}

struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check FILE without touching any segment.")
    @Argument(help: "The TOML file.") var file: String

    func run() throws {
        do {
            let config = try ConfigFile.load(path: file)
            print("\(file): ok, \(config.records.count) records\(config.defaultExchange.map { ", default exchange \($0)" } ?? "")")
        } catch { throw CLIError(.unusable, error.description) }
    }
}
