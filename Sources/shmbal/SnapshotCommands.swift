import ArgumentParser
import ShmBalance

// `snapshot save FILE` / `snapshot restore FILE` / `snapshot verify FILE` (SPEC §4): the books
// across a reboot or to another machine. The format and its guarantees: Sources/ShmBalance/SnapshotFormat.swift.

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save the books to a file, or restore them into a fresh or empty segment (e.g. after a reboot).",
        subcommands: [SnapshotSave.self, SnapshotRestore.self, SnapshotVerify.self])
}

struct SnapshotSave: BooksCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write every record, slot name, quote and the default exchange to FILE (atomically: FILE is the old or the complete new snapshot).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The snapshot file to write (mode 0600; replaced if it exists).") var file: String

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        guard !file.isEmpty else { throw CLIError(.badInput, "the snapshot file's path is empty") }
        return { books, _ in
            let snap: BooksSnapshot
            do throws(SnapshotError) { snap = try SnapshotFile.save(books, to: file) } catch { throw CLIError(error) }
            print("saved \(snap.records.count) records and \(snap.quotes.count) quotes from \(books.segment.path) to \(file)")
            // A damaged record is left out (restore would refuse it) and never stops the others.
            for s in snap.skipped {
                printError("shmbal: \(s.key): not saved: \(s.problems.map(\.description).joined(separator: "; ")); repair it (reconcile or reset), then save again")
            }
            if !snap.skipped.isEmpty { throw CLIError(.broken, "\(snap.skipped.count) damaged records were left out of \(file)") }
        }
    }
}

struct SnapshotRestore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Check FILE completely, then write it into the segment: a new one (created like init), or an existing one with no records and no quotes. Refuses anything else; nothing is changed on any error.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The snapshot file.") var file: String
    @Option(help: "File mode of a segment that restore creates, octal: 0600 or 0660.") var mode = "0600"

    func run() throws {
        // Everything is checked before anything is created: the mode and the path here, the whole
        // snapshot file inside `restore`.
        let m = try CLIError.mode(mode)
        let report: RestoreReport
        let segmentPath = try global.segmentPath()
        do { report = try SnapshotFile.restore(from: file, toSegment: segmentPath, mode: m) } catch { throw CLIError(error) }
        let s = report.snapshot
        print("restored \(s.records.count) records and \(s.quotes.count) quotes from \(file) into \(report.createdSegment ? "new" : "empty") segment \(segmentPath)")
    }
}

struct SnapshotVerify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check FILE (format, version, checksum, every record's identity) without touching any segment.")
    @Argument(help: "The snapshot file.") var file: String

    func run() throws {
        let s: BooksSnapshot
        do { s = try SnapshotFile.read(file) } catch { throw CLIError(error) }
        print("\(file): ok, snapshot format \(BooksSnapshot.formatVersion), \(s.records.count) records, \(s.quotes.count) quotes, taken from \(s.source)")
    }
}

extension CLIError {
    init(_ error: SnapshotError) {
        switch error {
        case .books(let e): self.init(e)
        default: self.init(.unusable, error.description)
        }
    }
}
