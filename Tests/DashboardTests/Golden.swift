import Foundation
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

// Golden frames: for each case two files in Goldens/, `NAME.txt` (the frame as text) and
// `NAME.style.txt` (one letter per cell for its style, legend on the first line).
//
// Re-record after an intended change of the dashboard's look:
//     SHMBAL_RECORD_GOLDENS=1 swift test --filter DashboardTests.GoldenFrameTests
// then read the diff of Tests/DashboardTests/Goldens/ before committing it.

let goldensDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")
let recordingGoldens = ProcessInfo.processInfo.environment["SHMBAL_RECORD_GOLDENS"] == "1"

/// The style file's content: the legend, then the mask.
func styleFile(_ grid: Grid) -> String {
    "# styles: " + Style.legend + "\n" + grid.styleMask + "\n"
}

/// Compares `grid` with the golden files `name`; a difference fails with a line-by-line diff.
func assertGolden(_ grid: Grid, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let textURL = goldensDirectory.appendingPathComponent(name + ".txt")
    let styleURL = goldensDirectory.appendingPathComponent(name + ".style.txt")
    let text = grid.text + "\n"
    let style = styleFile(grid)
    if recordingGoldens {
        try! FileManager.default.createDirectory(at: goldensDirectory, withIntermediateDirectories: true)
        try! text.write(to: textURL, atomically: true, encoding: .utf8)
        try! style.write(to: styleURL, atomically: true, encoding: .utf8)
        XCTFail("recorded \(name): run again without SHMBAL_RECORD_GOLDENS to check it", file: file, line: line)
        return
    }
    guard let expectedText = try? String(contentsOf: textURL, encoding: .utf8),
          let expectedStyle = try? String(contentsOf: styleURL, encoding: .utf8) else {
        XCTFail("no golden frame \(name) in \(goldensDirectory.path): record it with SHMBAL_RECORD_GOLDENS=1", file: file, line: line)
        return
    }
    if let diff = frameDiff(expected: expectedText, actual: text) {
        XCTFail("frame \(name) changed (text):\n\(diff)", file: file, line: line)
    }
    if let diff = frameDiff(expected: expectedStyle, actual: style) {
        XCTFail("frame \(name) changed (styles; \(Style.legend)):\n\(diff)", file: file, line: line)
    }
}

/// A readable diff of two frames: each differing line, expected over actual, with a caret under
/// the first differing column. nil when they are equal.
func frameDiff(expected: String, actual: String, maxLines: Int = 12) -> String? {
    guard expected != actual else { return nil }
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var out: [String] = []
    var shown = 0
    var differing = 0
    for i in 0..<max(e.count, a.count) {
        let el = i < e.count ? e[i] : nil
        let al = i < a.count ? a[i] : nil
        guard el != al else { continue }
        differing += 1
        guard shown < maxLines else { continue }
        shown += 1
        let ec = Array(el ?? ""), ac = Array(al ?? "")
        var col = 0
        while col < min(ec.count, ac.count) && ec[col] == ac[col] { col += 1 }
        out.append("line \(i + 1), column \(col + 1):")
        out.append("  expected |\(el ?? "<no line>")|")
        out.append("  actual   |\(al ?? "<no line>")|")
        out.append("            " + String(repeating: " ", count: col) + "^")
    }
    if differing > shown { out.append("… and \(differing - shown) more differing lines") }
    if e.count != a.count { out.append("(expected \(e.count) lines, got \(a.count))") }
    return out.joined(separator: "\n")
}

/// The text inside the dialog titled `title`, its lines joined with spaces (wrapped sentences read whole).
func dialogText(_ grid: Grid, _ title: String) -> String {
    let lines = (0..<grid.height).map { Array(grid.line($0)) }
    guard let top = lines.firstIndex(where: { String($0).contains("┌ \(title)") }) else { return "" }
    let x = lines[top].firstIndex(of: "┌")!
    let right = lines[top][(x + 1)...].firstIndex(of: "┐")!
    var out: [String] = []
    for line in lines[(top + 1)...] {
        guard line[x] != "└" else { break }
        out.append(String(line[(x + 2)..<(right - 1)]).trimmingCharacters(in: .whitespaces))
    }
    return out.filter { !$0.isEmpty }.joined(separator: " ")
}
