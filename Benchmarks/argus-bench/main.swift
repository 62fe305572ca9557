import Foundation

// argus-bench: a dispatcher over benchmark suites, one file each.
// Add a suite by writing a `Benchmark` type in its own file and listing it here.
let suites: [any Benchmark.Type] = [
    CryptoBenchmark.self,
    LogBenchmark.self,
    APIBenchmark.self,
    DeliverBenchmark.self,
    ArchiveBenchmark.self,
    EngineBenchmark.self,
    WriterBenchmark.self,
]

func printUsage(to handle: FileHandle) {
    var text = "usage: argus-bench <suite> [options]\n\nsuites:\n"
    for suite in suites { text += "  \(suite.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(suite.summary)\n" }
    text += "\nEvery suite prints a table, then one JSON object per row (lines starting with {).\n"
    handle.write(Data(text.utf8))
}

let words = Array(CommandLine.arguments.dropFirst())
if let name = words.first, ["help", "--help", "-h"].contains(name) {
    printUsage(to: .standardOutput)
    exit(0)
}
guard let name = words.first, let suite = suites.first(where: { $0.name == name }) else {
    if let name = words.first { FileHandle.standardError.write(Data("argus-bench: unknown suite '\(name)'\n".utf8)) }
    printUsage(to: .standardError)
    exit(2)
}
do {
    exit(try await suite.run(Array(words.dropFirst())))
} catch let error as BenchmarkUsageError {
    FileHandle.standardError.write(Data("argus-bench \(name): \(error.message)\nusage: argus-bench \(suite.usage)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("argus-bench \(name): \(error)\n".utf8))
    exit(1)
}
