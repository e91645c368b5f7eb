// Column layout for the panels: each column as wide as its widest cell; when the panel is too
// narrow, the columns that matter least are dropped whole (never a number cut in half).

struct TableCell {
    var text: String
    var style: Style

    init(_ text: String, _ style: Style = .normal) {
        self.text = text
        self.style = style
    }
}

struct Column {
    enum Align { case left, right }
    var header: String
    var align: Align
    /// Lower is kept longer; the highest is dropped first when the panel is too narrow.
    var rank: Int
    var cells: [TableCell]
    /// A column that takes whatever width is left (the share bar); its cells are drawn by the caller.
    var flexible = false
    var minimumWidth = 0
    /// The most a flexible column grows to (a share bar wider than this reads no better).
    var maximumWidth = Int.max

    var naturalWidth: Int { max(minimumWidth, header.count, cells.map(\.text.count).max() ?? 0) }
}

/// The columns that fit in `width`, each with its x offset and width.
struct TableLayout {
    var columns: [(column: Column, x: Int, width: Int)]

    init(_ all: [Column], width: Int, maxGap: Int = 4) {
        var kept = all
        func needed(_ cols: [Column], gap: Int) -> Int {
            cols.reduce(0) { $0 + $1.naturalWidth } + gap * max(0, cols.count - 1)
        }
        while kept.count > 1 && needed(kept, gap: 1) > width {
            let worst = kept.indices.max { kept[$0].rank < kept[$1].rank }!
            kept.remove(at: worst)
        }
        // Spread what is left over the gaps (2 to 4 columns), and the rest to a flexible column.
        let slack = width - needed(kept, gap: 1)
        let gaps = max(1, kept.count - 1)
        let hasFlex = kept.contains { $0.flexible }
        let gap = min(hasFlex ? 2 : maxGap, 1 + max(0, slack) / gaps)
        let flex = kept.first { $0.flexible }
        let flexExtra = min(max(0, width - needed(kept, gap: gap)), max(0, (flex?.maximumWidth ?? 0) - (flex?.naturalWidth ?? 0)))
        var x = 0
        columns = []
        for c in kept {
            let w = c.naturalWidth + (c.flexible ? flexExtra : 0)
            columns.append((c, x, w))
            x += w + gap
        }
    }

    /// Draws the header row (unless `header` is false) and `rows` (indices into each column's cells) at (x, y).
    func draw(into grid: inout Grid, x: Int, y: Int, rows: [Int], limit: Int, header: Bool = true) {
        if header {
            for (c, cx, w) in columns where !c.flexible {
                let text = c.align == .right ? pad(left: c.header, w) : c.header
                grid.put(text, x: x + cx, y: y, .columnHeader, limit: min(w, limit - cx))
            }
        }
        let top = header ? y + 1 : y
        for (line, row) in rows.enumerated() {
            for (c, cx, w) in columns where !c.flexible && row < c.cells.count {
                let cell = c.cells[row]
                let text = c.align == .right ? pad(left: cell.text, w) : cell.text
                grid.put(text, x: x + cx, y: top + line, cell.style, limit: min(w, limit - cx))
            }
        }
    }
}

func pad(left s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : String(repeating: " ", count: width - n) + s
}

func pad(right s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : s + String(repeating: " ", count: width - n)
}
