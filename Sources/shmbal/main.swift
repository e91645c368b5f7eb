import ArgumentParser
import Glibc
import ShmBalance

// Parse, run, and turn every failure into one line on stderr and a documented exit code.
do {
    var command = try Shmbal.parseAsRoot()
    try command.run()
} catch let error as CLIError {
    printError("shmbal: \(error.description)")
    exit(error.status.rawValue)
} catch {
    let code = Shmbal.exitCode(for: error)
    if code == .success { Shmbal.exit(withError: error) }  // --help, --version
    // The parser's message may echo an argument holding a newline or an escape sequence: each
    // such argument is escaped inside the message first, so the message is cut at the parser's
    // own line break, not inside the argument (printError escapes whatever else is left).
    var message = Shmbal.message(for: error)
    for arg in CommandLine.arguments.dropFirst().sorted(by: { $0.utf8.count > $1.utf8.count })
    where arg.unicodeScalars.count > 1 && TerminalText.safe(arg) != arg {
        message = message.replacing(arg, with: TerminalText.safe(arg))
    }
    let line = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
    printError("shmbal: \(line) (see 'shmbal help')")
    exit(code.rawValue == 1 ? ExitStatus.internalError.rawValue : ExitStatus.badInput.rawValue)
}
