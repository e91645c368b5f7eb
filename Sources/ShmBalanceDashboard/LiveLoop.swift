import Glibc
import ShmBalance

/// Runs the dashboard in the terminal until `q`, Ctrl-C or a stop signal. The books are re-read
/// every `ui.refreshMs`; a frame is rendered only when the books, the UI, the size or the
/// clock's second changed, and only its changed rows are copied to the screen.
public func runLive(_ controller: inout Controller, color: Bool) throws(TerminalError) {
    let terminal = try Terminal(color: color)
    defer { terminal.stop() }
    var last: (world: World, ui: UIState, size: Size, second: Int64)?
    var nextTick = monotonicMs() + Int64(controller.ui.refreshMs)
    while !controller.quit && !terminal.stopRequested {
        let size = terminal.size
        let world = controller.world
        let second = world.nowMicros / 1_000_000
        let stale = last.map { $0.ui != controller.ui || $0.size != size || $0.second != second || world.booksDiffer(from: $0.world) } ?? true
        if stale {
            terminal.draw(Render.frame(world, controller.ui, size))
            last = (world, controller.ui, size, second)
        }
        let now = monotonicMs()
        if now >= nextTick {
            controller.refresh()
            // Ticks stay on a steady grid; after a stall the next one is a full period away,
            // counted from the end of this refresh: a refresh slower than the period (a loaded
            // machine, 500 currencies in a debug build) must still leave time to read keys.
            nextTick += Int64(controller.ui.refreshMs)
            let after = monotonicMs()
            if nextTick <= after { nextTick = after + Int64(controller.ui.refreshMs) }
            continue
        }
        guard let key = terminal.readKey(timeoutMs: Int(nextTick - now)) else { continue }
        if key == .resize {
            terminal.invalidate()
            last = nil
            continue
        }
        // A page is what this frame shows of the currency list.
        controller.currencyPage = Render.currencyRows(controller.world, controller.ui, size)
        controller.holdsPage = Render.holdRows(size)
        controller.handle(key)
        if controller.redrawRequested {
            controller.redrawRequested = false
            terminal.invalidate()
            last = nil
        }
    }
}

/// Milliseconds on the monotonic clock (wall-clock jumps must not stall or rush the refresh).
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Wall-clock µs since the epoch, as the core stamps its changes (the header clock, the ages).
public func wallClockMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
