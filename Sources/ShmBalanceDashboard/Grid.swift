// The frame the dashboard draws: a grid of cells, each one character and one style. Render
// fills it; the terminal backend only copies it; tests compare it with golden files.

import ShmBalance

/// What a cell means, not how it looks: the palette below maps each role to colours and
/// attributes, with a colour-free variant, so the frame reads the same with or without colour.
public enum Style: UInt8, CaseIterable, Sendable {
    case normal
    case border
    case title
    case headerBar
    case columnHeader
    case selected
    case healthy
    case warning
    case broken
    case bar
    case keyCap
    case dim
    case statusOK
    case statusError
    case input

    /// One letter per style for the golden style masks (` ` for normal, so plain text stays blank).
    public var maskLetter: Character {
        switch self {
        case .normal: return " "
        case .border: return "b"
        case .title: return "t"
        case .headerBar: return "H"
        case .columnHeader: return "c"
        case .selected: return "s"
        case .healthy: return "g"
        case .warning: return "y"
        case .broken: return "r"
        case .bar: return "m"
        case .keyCap: return "k"
        case .dim: return "d"
        case .statusOK: return "o"
        case .statusError: return "e"
        case .input: return "i"
        }
    }

    /// The legend printed at the top of every style mask.
    public static var legend: String {
        allCases.map { "\($0.maskLetter == " " ? "' '" : String($0.maskLetter))=\($0)" }.joined(separator: " ")
    }

    /// How the role looks: a foreground/background colour (ANSI 0–7, nil for the terminal's
    /// default) and attributes, with colour, and without it.
    public func look(color: Bool) -> Look {
        if color {
            switch self {
            case .normal: return Look()
            case .border: return Look(fg: 4)
            case .title: return Look(bold: true)
            case .headerBar: return Look(fg: 7, bg: 4, bold: true)
            case .columnHeader: return Look(bold: true)
            case .selected: return Look(bold: true)
            case .healthy: return Look(fg: 2)
            case .warning: return Look(fg: 3, bold: true)
            case .broken: return Look(fg: 1, bold: true)
            case .bar: return Look(fg: 6)
            case .keyCap: return Look(fg: 0, bg: 6)
            case .dim: return Look(dim: true)
            case .statusOK: return Look(fg: 2, bold: true)
            case .statusError: return Look(fg: 1, bold: true)
            case .input: return Look(reverse: true)
            }
        }
        switch self {
        case .normal, .border, .healthy, .bar: return Look()
        case .title, .columnHeader, .selected, .warning, .statusOK: return Look(bold: true)
        case .headerBar, .keyCap, .input: return Look(reverse: true)
        case .broken, .statusError: return Look(bold: true, reverse: true)
        case .dim: return Look(dim: true)
        }
    }
}

/// Colours and attributes of one style.
public struct Look: Equatable, Sendable {
    public var fg: Int? = nil
    public var bg: Int? = nil
    public var bold = false
    public var dim = false
    public var reverse = false
    public var underline = false

    /// The SGR parameters that select this look from a reset state (`1;31`), empty for none.
    public var sgr: String {
        var p: [String] = []
        if bold { p.append("1") }
        if dim { p.append("2") }
        if underline { p.append("4") }
        if reverse { p.append("7") }
        if let fg { p.append("3\(fg)") }
        if let bg { p.append("4\(bg)") }
        return p.joined(separator: ";")
    }
}

/// One cell: a character that takes one column, and its style.
public struct Cell: Equatable, Sendable {
    /// Never a control character or one that is not exactly one column wide, whatever the
    /// caller passed: such a character is stored as `?` (text written with `Grid.put` shows it
    /// escaped instead, `\x1b`, over as many cells as the escape takes).
    public private(set) var character: Character
    public var style: Style

    public init(_ character: Character = " ", _ style: Style = .normal) {
        self.character = TerminalText.isShownAsIs(character) ? character : "?"
        self.style = style
    }

    /// For a character the caller has just checked (printable ASCII in `Grid.put`).
    init(checked character: Character, _ style: Style) {
        self.character = character
        self.style = style
    }
}

public struct Size: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height)" }
}

/// A frame: `height` rows of `width` cells. Writes outside it are clipped, never wrapped.
public struct Grid: Equatable, Sendable {
    public let size: Size
    public private(set) var cells: [Cell]

    public init(_ size: Size) {
        self.size = Size(width: max(0, size.width), height: max(0, size.height))
        cells = Array(repeating: Cell(), count: self.size.width * self.size.height)
    }

    public var width: Int { size.width }
    public var height: Int { size.height }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Writes `text` from column `x` of row `y`, at most `limit` cells (and never past the edge);
    /// returns the column after the last cell written. Text a terminal would act on (controls,
    /// escape sequences) or draw wider or narrower than one cell is written escaped
    /// (`TerminalText.safe`), so what reaches the screen is exactly what the grid holds.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, _ style: Style = .normal, limit: Int = .max) -> Int {
        guard y >= 0 && y < height else { return x }
        var col = x
        let end = min(width, limit == .max ? width : x + max(0, limit))
        // Most text is printable ASCII: one byte per cell, no grapheme breaking, no second check.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            for b in text.utf8 {
                if col >= end { break }
                if col >= 0 { cells[y * width + col] = Cell(checked: Character(Unicode.Scalar(b)), style) }
                col += 1
            }
            return col
        }
        for ch in TerminalText.safe(text) {
            if col >= end { break }
            if col >= 0 { self[col, y] = Cell(ch, style) }
            col += 1
        }
        return col
    }

    /// Sets the style of `count` cells from (x, y) without changing their characters.
    public mutating func restyle(x: Int, y: Int, count: Int, _ style: Style) {
        guard y >= 0 && y < height else { return }
        for col in max(0, x)..<max(max(0, x), min(width, x + count)) { self[col, y].style = style }
    }

    /// Fills a rectangle with one character and style.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ character: Character = " ", _ style: Style = .normal) {
        let cell = Cell(character, style)
        for row in max(0, y)..<max(max(0, y), min(height, y + h)) {
            for col in max(0, x)..<max(max(0, x), min(width, x + w)) { self[col, row] = cell }
        }
    }

    /// Row `y` as text, trailing blanks kept.
    public func line(_ y: Int) -> String {
        String(cells[(y * width)..<((y + 1) * width)].map(\.character))
    }

    /// The frame as text, one line per row, trailing blanks trimmed (as `top --once` prints it).
    public var text: String {
        (0..<height).map { trimmedRight(line($0)) }.joined(separator: "\n")
    }

    /// The style of every cell as one letter (see `Style.legend`), trailing blanks trimmed.
    public var styleMask: String {
        (0..<height).map { y in
            trimmedRight(String(cells[(y * width)..<((y + 1) * width)].map(\.style.maskLetter)))
        }.joined(separator: "\n")
    }

    /// The frame as text with ANSI SGR colours, each line ending in a reset.
    public func ansi(color: Bool = true) -> String {
        var out = ""
        for y in 0..<height {
            var current: Style? = nil
            var line = ""
            // Trailing blanks of normal style carry nothing: drop them as the plain text does.
            var last = width - 1
            while last >= 0 && self[last, y].character == " " && self[last, y].style == .normal { last -= 1 }
            if last >= 0 {
                for x in 0...last {
                    let cell = self[x, y]
                    if cell.style != current {
                        let sgr = cell.style.look(color: color).sgr
                        line += "\u{1B}[0" + (sgr.isEmpty ? "" : ";" + sgr) + "m"
                        current = cell.style
                    }
                    line.append(cell.character)
                }
                line += "\u{1B}[0m"
            }
            out += line
            if y < height - 1 { out += "\n" }
        }
        return out
    }
}

func trimmedRight(_ s: String) -> String {
    var s = Substring(s)
    while s.last == " " { s = s.dropLast() }
    return String(s)
}
