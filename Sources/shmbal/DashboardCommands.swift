import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceDashboard

// `top` (the live dashboard, or one frame with --once) and `demo` (the dashboard on a private
// demo segment with simulated strategies), SPEC §7.

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, never, ansi
}

/// Display options `top` and `demo` share.
struct DisplayOptions: ParsableArguments {
    @Option(help: "Refresh period in milliseconds (20…10000; 100 is 10 Hz).") var refreshMs = 100
    @Option(help: ArgumentHelp("Colour: auto (the terminal's when live, unless NO_COLOR is set; none for --once), never, or ansi (SGR codes in --once output).", valueName: "when"))
    var color: ColorChoice = .auto
    @Flag(help: "ASCII only (OK/BROKEN, +-| boxes), whatever the locale says.") var ascii = false

    func validate() throws {
        guard (20...10_000).contains(refreshMs) else { throw ValidationError("--refresh-ms must be within 20…10000 (got \(refreshMs))") }
    }

    /// Colour in the live dashboard: unless `--color never`, or NO_COLOR is set (no-color.org).
    var liveColor: Bool { color != .never && environment("NO_COLOR") == nil }

    /// The glyph set: ASCII when asked or when the locale is not UTF-8 (after setlocale).
    var glyphs: Glyphs {
        setlocale(LC_ALL, "")
        return ascii ? .ascii : Glyphs.forCurrentLocale()
    }
}

struct Top: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "The live dashboard: every currency, the selected one's slots, the activity; keys act through the core (? lists them).",
        discussion: "With --once it prints one frame to stdout and exits, no terminal needed (for scripts and tests).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var display: DisplayOptions
    @Flag(help: "Attach read-only (the memory is mapped read-only): watch only, every action is off.") var readOnly = false
    @Flag(help: "Print one frame and exit.") var once = false
    @Option(help: "Frame width for --once (default: the terminal's, else 80).") var width: Int?
    @Option(help: "Frame height for --once (default: the terminal's, else 24).") var height: Int?
    @Option(help: "Currency to select at start (default: the first).") var currency: String?

    func validate() throws {
        if !once && (width != nil || height != nil) { throw ValidationError("--width and --height go with --once") }
        if let w = width, w < 1 { throw ValidationError("--width must be at least 1") }
        if let h = height, h < 1 { throw ValidationError("--height must be at least 1") }
    }

    /// `top` never creates a segment.
    var access: Segment.AccessMode { readOnly ? .readOnly : .readWrite }

    func open(_ target: Target) throws -> Books {
        do { return try Books.open(target.path, access) } catch {
            // Someone allowed to read but not write still gets to watch.
            guard !readOnly, case .segment(.system(_, _, let e)) = error, e == EACCES || e == EROFS || e == EPERM else { throw CLIError(error) }
            return try target.open(.readOnly)
        }
    }

    func prepare() throws -> Work {
        let selected = try currency.map { try CLIError.name($0) }
        return { books, target in
            let glyphs = display.glyphs
            var ui = UIState(refreshMs: display.refreshMs, glyphs: glyphs)
            if books.isReadOnly && !readOnly { ui.status = Status(.info, "no write permission on the segment: attached read-only") }
            var controller = try core { () throws(BooksError) in try Controller(books: books, exchange: target.exchange, ui: ui) }
            if let selected {
                guard let r = controller.world.records.first(where: { $0.key.currency == selected }) else {
                    throw CLIError(.refused, "no record for \(selected)\(target.exchange.map { " on \($0)" } ?? "") in \(books.segment.path)")
                }
                controller.ui.selectedKey = r.key
            }
            if once {
                let tty = terminalSize()
                let size = Size(width: width ?? tty?.width ?? 80, height: height ?? tty?.height ?? 24)
                let grid = Render.frame(controller.world, controller.ui, size)
                printRaw(display.color == .ansi ? grid.ansi() : grid.text)
                return
            }
            do throws(TerminalError) { try runLive(&controller, color: display.liveColor) } catch { throw CLIError(.badInput, error.description) }
        }
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The dashboard on a private demo segment with simulated strategies; quitting removes everything it created.",
        discussion: """
            The segment goes in a new temporary folder (under /dev/shm when there is one) unless --segment names a path
            that does not exist yet. It is seeded like the seed's example (KRAKEN: USDC 10,000 with credit 5,000 and
            slots grid-bot, arb, mm; USD 5,000; BTC 2.5 whose exchange BALANCE quote drifts), and strategies are simulated
            on a background thread through the core library until you quit (q, Ctrl-C, or SIGTERM).
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var display: DisplayOptions
    @Option(help: "Seed for the simulated strategies (default: a random one).") var seed: UInt64?
    @Flag(help: "Seed the books but simulate nothing (for screenshots and tests).") var noSimulation = false

    func run() throws {
        // Its input is checked before anything is created: a blank --segment is bad input (it
        // never means a temporary folder or the default), and so is a malformed --exchange.
        let path = try global.segment.map { _ in try global.segmentPath() }
        _ = try global.target()
        let glyphs = display.glyphs
        // Stop signals must end the loop (and so run the cleanup below) from the start.
        Terminal.installSignalHandlers()
        let demo = try core { () throws(BooksError) in try DemoSegment(path: path) }
        // Any other signal that ends the process removes them too (after giving the terminal back).
        Terminal.removeOnTerminatingSignal(file: demo.path, folder: demo.folder)
        defer {
            Terminal.removeOnTerminatingSignal(file: nil)
            demo.remove()
            print("shmbal demo: removed \(demo.folder ?? demo.path)")
        }
        try core { () throws(BooksError) in try demo.seed() }
        let simulation = DemoSimulation(books: demo.books, seed: seed ?? UInt64.random(in: 1...UInt64.max))
        if !noSimulation { simulation.start() }
        defer { simulation.stop() }
        var controller = try core { () throws(BooksError) in
            // The seed's own example currency first.
            try Controller(books: demo.books, ui: UIState(selectedKey: BookKey(exchange: DemoSegment.exchange, currency: try! ShortName("USDC")),
                                                          refreshMs: display.refreshMs, glyphs: glyphs))
        }
        do { try runLive(&controller, color: display.liveColor) } catch { throw CLIError(.badInput, error.description) }
    }
}

/// The terminal's size when stdout is one.
func terminalSize() -> Size? {
    var ws = winsize()
    guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return nil }
    return Size(width: Int(ws.ws_col), height: Int(ws.ws_row))
}
