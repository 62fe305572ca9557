/// The flags and output of the listing commands (`segments`, `cursors`): `--data-dir D` and
/// `--format table|json`; rows print as an aligned table or as one JSON object a line.
struct ListingArguments {
    /// The usage words the listing commands share.
    static let usage = "[--data-dir D] [--format table|json]"

    /// The data directory listed.
    let dataDirectory: DataDirectory
    /// True for `--format json`, false for `table` (the default).
    let printsJSON: Bool

    /// - Throws: `UsageError` for an unknown flag or format.
    init(_ words: [String]) throws(UsageError) {
        let arguments = try Arguments(words, valueFlags: [DataDirectory.valueFlag, "--format"])
        printsJSON = try arguments.choice("--format", among: ["table", "json"], default: "table") == "json"
        dataDirectory = DataDirectory(arguments)
    }

    /// Prints `rows`: `jsonLine` of each, or a table of their `cells` under `header`.
    func print<Row>(_ rows: [Row], header: [String], cells: (Row) -> [String], jsonLine: (Row) -> String) {
        if printsJSON {
            for row in rows { Console.print(jsonLine(row)) }
        } else {
            Console.printTable(header: header, rows: rows.map(cells))
        }
    }
}
