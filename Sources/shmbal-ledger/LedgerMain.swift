import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceLedger

// `shmbal-ledger ledger …` and `shmbal-ledger agent …`; `shmbal ledger …` and `shmbal agent …`
// run this program (it links the PostgreSQL client, which `shmbal` itself never does). Every
// failure is one line on stderr and an exit code: 2 bad input, 3 refused, 4 unreachable, 5 no
// or another schema, 6 the local books.
func printError(_ line: String) {
    let text = TerminalText.safe(line) + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

/// Opens the existential so the async `run` is the one called.
func runAsync(_ command: inout some AsyncParsableCommand) async throws { try await command.run() }

@main
enum LedgerMain {
    static func main() async {
        do {
            var command = try LedgerRoot.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await runAsync(&asyncCommand)
            } else {
                try command.run()
            }
        } catch let error as LedgerError {
            printError("shmbal: \(error.description)")
            exit(error.exitCode)
        } catch {
            let code = LedgerRoot.exitCode(for: error)
            if code == .success { LedgerRoot.exit(withError: error) }
            let line = LedgerRoot.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("shmbal: \(line) (see 'shmbal ledger --help')")
            exit(2)
        }
    }
}
