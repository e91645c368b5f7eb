/// `--name value` options and bare `--flag`s, for the campaign's roles (no dependency needed).
struct Args {
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init(_ argv: ArraySlice<String>) {
        var i = argv.startIndex
        while i < argv.endIndex {
            let a = argv[i]
            guard a.hasPrefix("--") else { fail("unexpected argument '\(a)'") }
            let name = String(a.dropFirst(2))
            if i + 1 < argv.endIndex, !argv[i + 1].hasPrefix("--") {
                values[name] = argv[i + 1]
                i += 2
            } else {
                flags.insert(name)
                i += 1
            }
        }
    }

    func string(_ name: String) -> String {
        guard let v = values[name] else { fail("--\(name) is required") }
        return v
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }

    func int(_ name: String, _ fallback: Int? = nil) -> Int {
        guard let text = values[name] else {
            if let fallback { return fallback }
            fail("--\(name) is required")
        }
        guard let v = Int(text) else { fail("--\(name) '\(text)' is not an integer") }
        return v
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }
}
