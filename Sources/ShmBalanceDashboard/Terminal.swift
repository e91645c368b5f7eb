import CNcurses
import CShmBalanceSys
import Glibc
import Synchronization

// The only file that calls ncurses: set-up, tear-down (on every exit path, signals included),
// key decoding, and copying a `Grid` to the screen one changed row at a time.

/// Why the terminal could not be used.
public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
}

/// Set by SIGINT, SIGTERM, SIGHUP, SIGQUIT: the live loop sees it and returns normally, so the
/// terminal is restored and the caller's cleanup (the demo's segment) runs.
private let stopRequest = Atomic<Int32>(0)
/// Whether curses owns the terminal (for the signal handlers and the exit hook).
private let cursesActive = Atomic<Bool>(false)
/// The actions that were installed before ours, for the signals we pass on (indexed by number).
nonisolated(unsafe) private let previousActions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)

/// Signals that end the dashboard the way `q` does: the loop returns, the terminal is restored,
/// the caller cleans up, and the process exits normally.
private let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

/// Every other signal whose default action ends the process (Linux's standard ones and the
/// real-time signals): the terminal is restored at once, then the signal takes the action it had
/// before we started (the default, so the exit status shows the signal, or Swift's crash reporter
/// for a fault). SIGKILL cannot be caught; nothing can restore the terminal after it.
private var terminatingSignals: [Int32] {
    [SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGSTKFLT,
     SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS]
        // glibc keeps the first real-time signals for itself; SIGRTMIN is the first free one.
        + Array(__libc_current_sigrtmin()...__libc_current_sigrtmax())
}

// What a signal handler needs to give the terminal back, prepared while curses starts: `endwin`
// is not async-signal-safe, but `write` and `tcsetattr` are. The bytes are the terminal's own
// sequences for leaving curses (attributes off, cursor shown, keypad off, the normal screen back).
private let undoCapacity = 512
nonisolated(unsafe) private let undoBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: undoCapacity)
nonisolated(unsafe) private var undoCount = 0
/// The terminal's modes as the shell had them (canonical input, echo), read before curses changed them.
nonisolated(unsafe) private let shellModes = UnsafeMutablePointer<termios>.allocate(capacity: 1)
nonisolated(unsafe) private var shellModesSaved = false

/// Files removed on a terminating signal (the demo's own segment and folder), C strings.
nonisolated(unsafe) private let removeOnSignal = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 2)
private let removeArmed = Atomic<Bool>(false)

/// Gives the terminal back from inside a signal handler: async-signal-safe calls only.
private func restoreTerminalFromSignal() {
    guard cursesActive.exchange(false, ordering: .sequentiallyConsistent) else { return }
    var done = 0
    while done < undoCount {
        let n = write(1, undoBytes + done, undoCount - done)
        if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { break }
    }
    if shellModesSaved { tcsetattr(1, TCSADRAIN, shellModes) }
}

/// A terminating signal: the terminal back, the demo's files removed, then the signal taken as if
/// we had not been there: the earlier action is put back and the signal raised again (pending
/// until this handler returns; a fault would recur on return anyway).
private func restoreAndPassOn(_ signal: Int32) {
    restoreTerminalFromSignal()
    if removeArmed.exchange(false, ordering: .sequentiallyConsistent) {
        if let file = removeOnSignal[0] { unlink(file) }
        if let folder = removeOnSignal[1] { rmdir(folder) }
    }
    sigaction(signal, previousActions + Int(signal), nil)
    raise(signal)
}

/// Appends one byte of a terminfo string to the undo sequence (`tputs` calls it).
private func appendUndoByte(_ c: Int32) -> Int32 {
    if undoCount < undoCapacity {
        undoBytes[undoCount] = UInt8(truncatingIfNeeded: c)
        undoCount += 1
    }
    return c
}

public final class Terminal {
    let window: UnsafeMutablePointer<WINDOW>
    public let usesColor: Bool
    private var shown: Grid?
    private var stopped = false

    /// Takes over the terminal. Call `setlocale(LC_ALL, "")` first (UTF-8 box lines need it).
    public init(color: Bool) throws(TerminalError) {
        guard isatty(0) == 1 && isatty(1) == 1 else {
            throw TerminalError(description: "the dashboard needs a terminal; use 'shmbal top --once' to print one frame")
        }
        Terminal.installSignalHandlers()
        shellModesSaved = tcgetattr(1, shellModes) == 0
        guard let screen = newterm(nil, fdopen(1, "w"), fdopen(0, "r")) else {
            let term = getenv("TERM").map { String(cString: $0) } ?? ""
            throw TerminalError(description: "cannot drive this terminal (TERM=\(term.isEmpty ? "unset" : term)): no terminfo entry")
        }
        _ = set_term(screen)
        window = shmbal_stdscr()
        Terminal.prepareUndo()
        cursesActive.store(true, ordering: .sequentiallyConsistent)
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        curs_set(0)
        // Esc alone must close a prompt at once, not after the default second of waiting for a sequence.
        set_escdelay(25)
        var color = color && has_colors()
        if color {
            start_color()
            use_default_colors()
            for style in Style.allCases {
                let look = style.look(color: true)
                if init_pair(Int16(style.rawValue) + 1, Int16(look.fg ?? -1), Int16(look.bg ?? -1)) == ERR { color = false }
            }
        }
        usesColor = color
    }

    deinit { stop() }

    /// Gives the terminal back. Safe to call more than once.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        if cursesActive.exchange(false, ordering: .sequentiallyConsistent) { endwin() }
    }

    /// Whether a stop signal arrived since the terminal was set up.
    public var stopRequested: Bool { stopRequest.load(ordering: .relaxed) != 0 }

    public var size: Size { Size(width: Int(getmaxx(window)), height: Int(getmaxy(window))) }

    /// Waits up to `timeoutMs` for a key; nil when none came (or on a signal). Characters are
    /// read whole (`wget_wch`), so a non-ASCII character typed into a prompt arrives as itself
    /// and the prompt can say why it is refused, instead of losing it byte by byte.
    public func readKey(timeoutMs: Int) -> Key? {
        wtimeout(window, Int32(max(0, min(timeoutMs, 60_000))))
        var wc: wint_t = 0
        let rc = wget_wch(window, &wc)
        if rc == KEY_CODE_YES {
            switch Int32(bitPattern: wc) {
            case KEY_RESIZE: return .resize
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_BTAB: return .backTab
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            default: return nil
            }
        }
        guard rc == OK else { return nil }
        switch wc {
        case 10, 13: return .enter
        case 127, 8: return .backspace
        case 9: return .tab
        case 27: return .escape
        case 1...26: return .ctrl(Character(Unicode.Scalar(UInt8(wc) + 96)))
        case 0..<32: return nil
        default: return Unicode.Scalar(UInt32(wc)).map { .char(Character($0)) }
        }
    }

    /// Forgets what is on the screen, so the next `draw` repaints every cell (resize, Ctrl-L).
    public func invalidate() {
        shown = nil
        clearok(window, true)
    }

    /// Copies `grid` to the screen: only rows that differ from the last frame are written, and
    /// ncurses sends only the cells that changed, so nothing flickers.
    public func draw(_ grid: Grid) {
        if let shown, shown.size != grid.size { invalidate() }
        if shown == nil { werase(window) }
        for y in 0..<grid.height {
            if let shown, rowEqual(shown, grid, y) { continue }
            var x = 0
            while x < grid.width {
                let style = grid[x, y].style
                var run = ""
                let start = x
                while x < grid.width && grid[x, y].style == style {
                    run.append(grid[x, y].character)
                    x += 1
                }
                let look = style.look(color: usesColor)
                var attrs = shmbal_a_normal()
                if look.bold { attrs |= shmbal_a_bold() }
                if look.dim { attrs |= shmbal_a_dim() }
                if look.reverse { attrs |= shmbal_a_reverse() }
                if look.underline { attrs |= shmbal_a_underline() }
                _ = shmbal_set_style(window, attrs, usesColor ? Int16(style.rawValue) + 1 : 0)
                // The bottom-right cell reports ERR (the cursor cannot move past it) but is drawn.
                _ = mvwaddnstr(window, Int32(y), Int32(start), run, -1)
            }
        }
        _ = shmbal_set_style(window, shmbal_a_normal(), 0)
        shown = grid
        wnoutrefresh(window)
        doupdate()
    }

    private func rowEqual(_ a: Grid, _ b: Grid, _ y: Int) -> Bool {
        for x in 0..<a.width where a[x, y] != b[x, y] { return false }
        return true
    }

    /// The terminal's sequences that undo curses' set-up, as `endwin` would send them.
    private static func prepareUndo() {
        undoCount = 0
        for capability in ["sgr0", "cnorm", "rmkx", "rmcup"] {
            guard let s = tigetstr(capability), Int(bitPattern: s) != -1 else { continue }
            _ = tputs(s, 1) { appendUndoByte($0) }
        }
    }

    private static let installOnce: Void = {
        // Touch every global the handlers use now: Swift initialises globals lazily, and a first
        // use inside a signal handler would allocate.
        _ = stopRequest.load(ordering: .relaxed)
        _ = cursesActive.load(ordering: .relaxed)
        _ = removeArmed.load(ordering: .relaxed)
        removeOnSignal[0] = nil
        removeOnSignal[1] = nil
        _ = undoBytes
        _ = shellModes
        for s in stopSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in stopRequest.store(1, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            // No SA_RESTART: the wait for a key returns at once and the loop sees the request.
            action.sa_flags = 0
            sigaction(s, &action, previousActions + Int(s))
        }
        for s in terminatingSignals {
            // A signal ignored when we started (nohup, a parent's choice) cannot end us: leave it so.
            sigaction(s, nil, previousActions + Int(s))
            if unsafeBitCast(previousActions[Int(s)].__sigaction_handler.sa_handler, to: Int.self) == 1 { continue }  // SIG_IGN
            var action = sigaction()
            if s == SIGBUS {
                // A truncated segment's missing page is the core's to handle (its operations then
                // fail with a message, and the banner says so); any other bus error ends us.
                action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                    if shmbal_segment_fault(info) != 0 { return }
                    restoreAndPassOn(signal)
                }
                action.sa_flags = SA_SIGINFO
            } else {
                action.__sigaction_handler.sa_handler = { signal in restoreAndPassOn(signal) }
                action.sa_flags = 0
            }
            sigemptyset(&action.sa_mask)
            sigaction(s, &action, nil)
        }
        // Any exit() while curses owns the terminal gives it back first.
        atexit { if cursesActive.exchange(false, ordering: .sequentiallyConsistent) { endwin() } }
    }()

    /// Removes `file` (and then the `folder` holding it) if a terminating signal ends the process
    /// (the demo's private segment); `nil` forgets them. Call it from one thread only.
    public static func removeOnTerminatingSignal(file: String?, folder: String? = nil) {
        installSignalHandlers()
        removeArmed.store(false, ordering: .sequentiallyConsistent)
        for i in 0..<2 {
            free(removeOnSignal[i])
            removeOnSignal[i] = nil
        }
        guard let file else { return }
        removeOnSignal[0] = strdup(file)
        removeOnSignal[1] = folder.flatMap { strdup($0) }
        removeArmed.store(true, ordering: .sequentiallyConsistent)
    }

    /// Catches the stop signals (and restores the terminal on fatal ones) from now on; idempotent.
    public static func installSignalHandlers() { _ = installOnce }
}
