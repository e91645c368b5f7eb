import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Every signal that ends `shmbal top` gives the terminal back first (SPEC §7: "q (and Ctrl-C)
/// quits and restores the terminal"; FACTS: restore on every exit path, signals included). Each
/// signal goes to a live dashboard in its own tmux pane; afterwards the pane's shell prints
/// `stty -a`, and tmux says whether the alternate screen and the hidden cursor are still on.
final class TerminalRestoreTests: XCTestCase {
    /// The signals that end the dashboard as `q` does (exit 0).
    static let stopSignals: [(Int32, String)] = [(SIGINT, "INT"), (SIGTERM, "TERM"), (SIGHUP, "HUP"), (SIGQUIT, "QUIT")]

    /// Every other signal whose default action ends a process, the real-time ones at both ends of
    /// their range: each must end it with that signal (the shell sees 128 + N), terminal restored.
    static let terminatingSignals: [(Int32, String)] = [
        (SIGILL, "ILL"), (SIGTRAP, "TRAP"), (SIGABRT, "ABRT"), (SIGBUS, "BUS"), (SIGFPE, "FPE"), (SIGUSR1, "USR1"),
        (SIGSEGV, "SEGV"), (SIGUSR2, "USR2"), (SIGPIPE, "PIPE"), (SIGALRM, "ALRM"), (SIGSTKFLT, "STKFLT"),
        (SIGXCPU, "XCPU"), (SIGXFSZ, "XFSZ"), (SIGVTALRM, "VTALRM"), (SIGPROF, "PROF"), (SIGIO, "IO"), (SIGPWR, "PWR"),
        (SIGSYS, "SYS"), (__libc_current_sigrtmin(), "RTMIN"), (__libc_current_sigrtmin() + 1, "RTMIN+1"),
        (__libc_current_sigrtmax(), "RTMAX"),
    ]

    var segment: TempSegment!
    var sessions: [TmuxSession] = []

    override func setUp() {
        super.setUp()
        segment = TempSegment()
        try! seedExample(try! segment.books())
    }

    override func tearDown() {
        sessions.forEach { $0.close() }
        sessions = []
        segment = nil
        super.tearDown()
    }

    func testEverySignalThatEndsTheDashboardRestoresTheTerminal() throws {
        let all = TerminalRestoreTests.stopSignals.map { ($0.0, $0.1, Int32(0)) }
            + TerminalRestoreTests.terminatingSignals.map { ($0.0, $0.1, 128 + $0.0) }
        // All the dashboards at once (each waits for its own screen): the run takes as long as one.
        for _ in all {
            sessions.append(try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC", "--refresh-ms", "1000"], width: 100, height: 30,
                                             afterExit: "stty -a"))
        }
        for ((signal, name, _), t) in zip(all, sessions) {
            t.waitFor("USDC · 5 slots")
            // The dashboard owns the terminal now: what follows can only pass if it is given back.
            XCTAssertEqual(t.display("#{alternate_on}"), "1", "SIG\(name): curses is on the alternate screen")
            XCTAssertEqual(t.display("#{cursor_flag}"), "0", "SIG\(name): curses hid the cursor")
            let pid = try XCTUnwrap(t.pid, "SIG\(name): shmbal's pid")
            XCTAssertEqual(kill(pid, signal), 0, "SIG\(name)")
        }
        for ((_, name, expected), t) in zip(all, sessions) {
            XCTAssertEqual(t.waitForExit(), expected, "SIG\(name): the exit status shows how it ended")
            let screen = t.waitFor("[after exit done]")
            assertRestored(t, screen, "SIG\(name)")
        }
    }

    /// The terminal as a shell needs it: line editing and echo on (from `stty -a` in the pane),
    /// the normal screen back, the cursor shown, the keypad back in its normal mode.
    func assertRestored(_ t: TmuxSession, _ screen: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let modes = Set(screen.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        for mode in ["icanon", "echo", "icrnl"] {
            XCTAssert(modes.contains(mode) && !modes.contains("-" + mode), "\(what): \(mode) is off after exit:\n\(screen)", file: file, line: line)
        }
        XCTAssertEqual(t.display("#{alternate_on}"), "0", "\(what): the alternate screen was left", file: file, line: line)
        XCTAssertEqual(t.display("#{cursor_flag}"), "1", "\(what): the cursor is shown again", file: file, line: line)
        XCTAssertEqual(t.display("#{keypad_cursor_flag}"), "0", "\(what): the cursor keys are back in normal mode", file: file, line: line)
    }

    /// `q` restores the same things (the reference the signals are held to).
    func testQuitRestoresTheTerminal() throws {
        let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC"], width: 100, height: 30, afterExit: "stty -a")
        sessions.append(t)
        t.waitFor("USDC · 5 slots")
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
        assertRestored(t, t.waitFor("[after exit done]"), "q")
    }

    /// The demo removes its private segment on such a signal too, after giving the terminal back.
    func testDemoRemovesItsSegmentOnATerminatingSignal() throws {
        let t = try TmuxSession(["demo", "--no-simulation"], width: 100, height: 30, afterExit: "stty -a")
        sessions.append(t)
        let screen = t.waitFor("USDC", "grid-bot")
        let header = try XCTUnwrap(screen.split(separator: "\n").first)
        let path = try XCTUnwrap(header.split(separator: " ").map(String.init).first { $0.hasPrefix("/") })
        XCTAssert(FileManager.default.fileExists(atPath: path), path)
        XCTAssertEqual(kill(try XCTUnwrap(t.pid), SIGUSR1), 0)
        XCTAssertEqual(t.waitForExit(), 128 + SIGUSR1)
        assertRestored(t, t.waitFor("[after exit done]"), "demo SIGUSR1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "segment removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent), "its folder removed")
    }
}
