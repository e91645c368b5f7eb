import ArgumentParser
import Glibc

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
    let message = Shmbal.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    printError("shmbal: \(message) (see 'shmbal help')")
    exit(code.rawValue == 1 ? ExitStatus.internalError.rawValue : ExitStatus.badInput.rawValue)
}
