/// A parsed command line: flags with values, repeated flags, boolean switches (no positional arguments).
///
/// Usage errors are thrown as `UsageError` and end the process with exit code 2.
struct Arguments {
    private var values: [String: [String]] = [:]
    private var switches: Set<String> = []

    /// Parses `words` (without the program and command names).
    /// - Throws: `UsageError` for an unknown option, a flag without its value, or any positional argument.
    /// - Parameters:
    ///   - valueFlags: flags that take a value, such as `--data-dir`; `--flag=value` also works.
    ///   - switchFlags: flags without a value, such as `--follow`; aliases map to their canonical name.
    init(_ words: [String], valueFlags: Set<String>, switchFlags: [String: String] = [:]) throws(UsageError) {
        var index = 0
        var positionals: [String] = []
        while index < words.count {
            let word = words[index]
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                let name = String(word[..<equals])
                guard valueFlags.contains(name) else { throw UsageError("unknown option \(name)") }
                values[name, default: []].append(String(word[word.index(after: equals)...]))
            } else if valueFlags.contains(word) {
                guard index + 1 < words.count else { throw UsageError("\(word) needs a value") }
                values[word, default: []].append(words[index + 1])
                index += 1
            } else if let canonical = switchFlags[word] {
                switches.insert(canonical)
            } else if word.hasPrefix("-") && word != "-" && !(Int(word) != nil) {
                throw UsageError("unknown option \(word)")
            } else {
                positionals.append(word)
            }
            index += 1
        }
        if let first = positionals.first { throw UsageError("unexpected argument \(first)") }
    }

    /// The last value given for `flag`, or nil.
    func value(_ flag: String) -> String? { values[flag]?.last }

    /// Every value given for a repeatable `flag`, in order.
    func allValues(_ flag: String) -> [String] { values[flag] ?? [] }

    /// True when the switch was given.
    func isSet(_ flag: String) -> Bool { switches.contains(flag) }

    /// The value of `flag` parsed as an integer within `range`.
    func integer(_ flag: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = value(flag) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("\(flag) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// The value of `flag`, one of `choices` (`defaultChoice` when absent).
    func choice(_ flag: String, among choices: [String], default defaultChoice: String) throws(UsageError) -> String {
        let text = value(flag) ?? defaultChoice
        guard choices.contains(text) else { throw UsageError("\(flag) must be \(choices.joined(separator: " or "))") }
        return text
    }

    /// The value of a required `flag`.
    func required(_ flag: String) throws(UsageError) -> String {
        guard let text = value(flag) else { throw UsageError("\(flag) is required") }
        return text
    }
}

/// A mistake on the command line; printed with the usage and exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// The usage error for an `--engine` server list the engine refused (`problem`: what is wrong with it).
    static func engineServers(_ problem: String) -> UsageError {
        UsageError("--engine must be local or nats://HOST:PORT[,nats://HOST:PORT...]: \(problem)")
    }
}
