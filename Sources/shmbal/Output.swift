import Glibc
import ShmBalance
import ShmBalanceJSON

// Everything the CLI writes passes through this file: `print` (stdout), `printRaw` (a frame
// whose cells are already terminal-safe) and `printError` (stderr). Paths, arguments and names
// echoed in a line come from outside and may hold escape sequences or newlines (SPEC §4, "Text
// from the segment is untrusted"): `TerminalText.safe` writes them out escaped (`\x1b`, `\n`).

/// The CLI's `print`. It shadows the standard library's inside this module on purpose, so that
/// no command (those in files added later included) can print untrusted text raw: every line is
/// made terminal-safe, and a newline inside an echoed path cannot split it in two. JSON lines
/// pass unchanged (`JSON.text` is printable ASCII).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let line = items.map { String(describing: $0) }.joined(separator: separator)
    Swift.print(TerminalText.safe(line), terminator: terminator)
}

/// Text that must reach stdout as it is: a dashboard frame, several lines long, whose cells hold
/// only terminal-safe characters (`Grid` escapes on the way in), with SGR codes for `--color ansi`.
func printRaw(_ text: String) {
    Swift.print(text)
}

/// One line on stderr, terminal-safe (Swift 6 forbids touching C's `stderr` global).
func printError(_ line: String) {
    fflush(nil)
    let text = TerminalText.safe(line) + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}
